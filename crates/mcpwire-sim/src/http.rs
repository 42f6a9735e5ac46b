//! The HTTP side shared by both vendors' handlers: JSON and SSE responses, the channel that feeds
//! a streamed body ([`Sink`]), the loopback check on server URLs, and serving a router with
//! `TCP_NODELAY`.

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// Where SSE events go: nowhere (whole response) or a channel feeding the HTTP body.
pub(crate) struct Sink {
    tx: Option<mpsc::Sender<Bytes>>,
}

impl Sink {
    pub(crate) fn none() -> Self {
        Sink { tx: None }
    }

    pub(crate) fn channel(tx: mpsc::Sender<Bytes>) -> Self {
        Sink { tx: Some(tx) }
    }

    pub(crate) fn is_streaming(&self) -> bool {
        self.tx.is_some()
    }

    /// Writes `event: <name>` and `data: <json>`. A client that went away is ignored.
    pub(crate) async fn send(&self, name: &str, data: &Value) {
        self.send_padded(name, data, 0).await;
    }

    /// Like [`send`](Self::send), with `pad` spaces before the final `}` of the JSON, as
    /// Anthropic's API pads its stream payloads (recorded 2025-10).
    pub(crate) async fn send_padded(&self, name: &str, data: &Value, pad: usize) {
        if let Some(tx) = &self.tx {
            let mut json = data.to_string();
            if pad > 0 && json.ends_with('}') {
                json.insert_str(json.len() - 1, &" ".repeat(pad));
            }
            let frame = format!("event: {name}\ndata: {json}\n\n");
            let _ = tx.send(Bytes::from(frame)).await;
        }
    }
}

/// A streaming body fed by a channel.
pub(crate) fn body_from(rx: mpsc::Receiver<Bytes>) -> axum::body::Body {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<Bytes, std::io::Error>(chunk), rx))
    });
    axum::body::Body::from_stream(stream)
}

/// A request the simulator refuses: the vendor's error response, ready to send (boxed, so a
/// `Result<_, Refusal>` stays small).
pub(crate) struct Refusal(Box<axum::response::Response>);

impl Refusal {
    pub(crate) fn new(response: axum::response::Response) -> Self {
        Refusal(Box::new(response))
    }

    pub(crate) fn into_response(self) -> axum::response::Response {
        *self.0
    }
}

/// A JSON response.
pub(crate) fn json_response(status: u16, body: &Value) -> axum::response::Response {
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = axum::response::Response::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// An SSE response around a body.
pub(crate) fn sse_response(body: axum::body::Body) -> axum::response::Response {
    let mut response = axum::response::Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    response
}

/// Whether a URL's host is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Serves `router` on `listener` in the background until the returned sender is used or
/// dropped. Every accepted connection gets `TCP_NODELAY`: a streamed body is many small writes,
/// and with Nagle's algorithm each one after the response head would wait for the client's
/// delayed ACK (about 40 ms) on a kept-alive connection.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
) -> oneshot::Sender<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on an accepted connection: {e}");
        }
    });
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}
