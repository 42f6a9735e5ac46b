//! Streams are relayed as they arrive, a client that goes away cancels the upstream request,
//! SIGTERM-style shutdown drains open streams, per-tenant stream limits hold, and the first
//! event on a kept-alive connection is not held back by delayed ACKs (TCP_NODELAY).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::response::Response;
use bytes::Bytes;
use common::*;
use futures_util::StreamExt as _;

const DEMO_URL: &str = "https://mcp.example.com/mcp";

#[derive(Clone, Default)]
struct Upstream {
    cancelled: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

/// An OpenAI-like SSE upstream: one event at once, then `n` more every `every`.
async fn stub(n: usize, every: Duration) -> (String, Upstream) {
    let state = Upstream::default();
    let s = state.clone();
    let handler = move || {
        let s = s.clone();
        async move {
            s.requests.fetch_add(1, Ordering::SeqCst);
            let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
            tokio::spawn(async move {
                // Headers go out first, the first event a moment later (as a model would).
                tokio::time::sleep(Duration::from_millis(2)).await;
                let created = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n";
                if tx.send(Bytes::from(created)).await.is_err() {
                    s.cancelled.store(true, Ordering::SeqCst);
                    return;
                }
                for i in 0..n {
                    tokio::time::sleep(every).await;
                    let ev = format!(
                        "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"sequence_number\":{},\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"x\"}}\n\n",
                        i + 1
                    );
                    if tx.send(Bytes::from(ev)).await.is_err() {
                        s.cancelled.store(true, Ordering::SeqCst);
                        return;
                    }
                }
                let done = "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":999,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"output\":[]}}\n\n";
                let _ = tx.send(Bytes::from(done)).await;
            });
            let body = axum::body::Body::from_stream(futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx)) },
            ));
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .unwrap()
        }
    };
    let router = axum::Router::new().route("/v1/responses", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use axum::serve::ListenerExt as _;
        let listener = listener.tap_io(|t| {
            let _ = t.set_nodelay(true);
        });
        axum::serve(listener, router).await.unwrap();
    });
    (format!("http://{addr}"), state)
}

fn body() -> serde_json::Value {
    openai_body(DEMO_URL, "x", true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_flow_as_they_arrive_and_disconnect_cancels_upstream() {
    let (base, up) = stub(100, Duration::from_millis(50)).await;
    let gw = start(&config_text(&base, DEMO_URL, DEMO_BEARER, "", "")).await;
    let started = Instant::now();
    let r = post_openai(&gw, GATEWAY_KEY, &body()).await;
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("event: response.created\n"));
    // The whole upstream stream takes 5 s; the first event came long before.
    assert!(started.elapsed() < Duration::from_secs(2));
    let _second = stream.next().await.unwrap().unwrap();
    drop(stream);
    for _ in 0..100 {
        if up.cancelled.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        up.cancelled.load(Ordering::SeqCst),
        "upstream still streaming after the client left"
    );
    assert_metric(&gw, "mcpwire_gateway_open_streams{tenant=\"team-a\"} 0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_stream_limit_is_enforced() {
    let (base, up) = stub(20, Duration::from_millis(50)).await;
    let text = config_text(&base, DEMO_URL, DEMO_BEARER, "", "").replacen(
        "connectors = [",
        "max_concurrent_streams = 1\nconnectors = [",
        1,
    );
    let gw = start(&text).await;
    let first = post_openai(&gw, GATEWAY_KEY, &body()).await;
    assert_eq!(first.status(), 200);
    let second = post_openai(&gw, GATEWAY_KEY, &body()).await;
    assert_eq!(second.status(), 429);
    let err: serde_json::Value = second.json().await.unwrap();
    assert_eq!(err["error"]["type"], "rate_limit_error");
    assert_eq!(up.requests.load(Ordering::SeqCst), 1);
    // Once the first stream ends, the permit is back.
    let _ = first.bytes().await.unwrap();
    let third = post_openai(&gw, GATEWAY_KEY, &body()).await;
    assert_eq!(third.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_open_streams() {
    let (base, _up) = stub(10, Duration::from_millis(100)).await;
    let gw = start(&config_text(
        &base,
        DEMO_URL,
        DEMO_BEARER,
        "shutdown_grace_secs = 10",
        "",
    ))
    .await;
    let url = gw.url();
    let r = post_openai(&gw, GATEWAY_KEY, &body()).await;
    assert_eq!(r.status(), 200);
    let reader = tokio::spawn(async move { r.text().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let shutdown = tokio::spawn(gw.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Draining: the listener stays open so that load balancers see /readyz turn 503, and new
    // requests are refused with a retryable 503 (another replica will serve them).
    let r = http().get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let ready: serde_json::Value = r.json().await.unwrap();
    assert_eq!(ready["status"], "draining", "{ready}");
    let r = http()
        .post(format!("{url}/v1/responses"))
        .bearer_auth(GATEWAY_KEY)
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["x-should-retry"], "true");
    assert_eq!(
        http()
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let text = reader.await.unwrap();
    assert!(
        text.contains("event: response.completed\n"),
        "the open stream was cut: {text}"
    );
    shutdown.await.unwrap();
    // Drained: now the listener is gone.
    assert!(http().get(format!("{url}/healthz")).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_event_on_a_kept_alive_connection_is_not_delayed() {
    let (base, _up) = stub(0, Duration::from_millis(1)).await;
    let gw = start(&config_text(&base, DEMO_URL, DEMO_BEARER, "", "")).await;
    let client = http();
    let mut times = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        let r = client
            .post(format!("{}/v1/responses", gw.url()))
            .bearer_auth(GATEWAY_KEY)
            .json(&body())
            .send()
            .await
            .unwrap();
        let mut s = r.bytes_stream();
        let _ = s.next().await.unwrap().unwrap();
        times.push(started.elapsed());
        while s.next().await.is_some() {}
    }
    // A delayed ACK costs ~40 ms per streamed body on a reused connection without
    // TCP_NODELAY; with it the first event takes well under a millisecond here.
    times.sort();
    let median = times[times.len() / 2];
    assert!(
        median < Duration::from_millis(25),
        "first event after {median:?} (median)"
    );
}
