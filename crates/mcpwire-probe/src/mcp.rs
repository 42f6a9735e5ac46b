//! A small MCP client over HTTP, with the control the probe needs and an SDK hides: the exact
//! headers and `clientInfo` of each vendor, the protocol version proposed, Streamable HTTP
//! (a JSON or an event-stream answer to each POST), the deprecated HTTP+SSE transport
//! (2024-11-05: a GET stream naming a POST endpoint), and the stateless 2026-07-28 revision
//! (`server/discover`, the version in every request's `_meta` and `MCP-Protocol-Version`).
//!
//! Every exchange is bounded in time ([`Http::timeout`]) and size ([`Http::max_body`]);
//! redirects are never followed.

use std::time::{Duration, Instant};

use mcpwire_schema::sse::{SseDecoder, SseError, SseEvent};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use url::Url;

/// Why an exchange produced no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NetError {
    /// Nothing (or not everything) arrived in time.
    Timeout(Duration),
    /// TCP connect failed (DNS, refused, unreachable).
    Connect(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// The body is larger than the cap.
    TooLarge(usize),
    /// Anything else on the wire.
    Other(String),
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Timeout(d) if d.is_zero() => f.write_str("timed out"),
            NetError::Timeout(d) => write!(f, "no answer within {}", crate::human(*d)),
            NetError::Connect(m) => write!(f, "cannot connect: {m}"),
            NetError::Tls(m) => write!(f, "TLS handshake failed: {m}"),
            NetError::TooLarge(n) => write!(f, "response larger than {n} bytes"),
            NetError::Other(m) => write!(f, "{m}"),
        }
    }
}

/// The HTTP side: one reqwest client, no redirects, a timeout and a body cap.
pub(crate) struct Http {
    client: reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) max_body: usize,
}

/// What came back from one POST.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) elapsed: Duration,
    /// The JSON-RPC response to the request (the JSON body, or the matching event of an
    /// event stream).
    pub(crate) message: Option<Value>,
    /// Its size in bytes as sent.
    pub(crate) message_len: usize,
    /// The start of the body as text, for explanations (non-JSON or error answers).
    pub(crate) excerpt: String,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON-RPC error of the message, if it is one.
    pub(crate) fn rpc_error(&self) -> Option<RpcError> {
        let e = self.message.as_ref()?.get("error")?;
        Some(RpcError {
            code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            data: e.get("data").cloned(),
        })
    }

    /// The JSON-RPC result of the message, if it is one.
    pub(crate) fn result(&self) -> Option<&Value> {
        self.message.as_ref()?.get("result")
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
}

impl RpcError {
    /// The codes the 2026-07-28 revision defines (header mismatch, missing client capability,
    /// unsupported protocol version): a server answering with one speaks the modern revision.
    pub(crate) fn is_modern(&self) -> bool {
        matches!(self.code, -32022..=-32020)
    }

    /// `data.supported` of an unsupported-protocol-version error.
    pub(crate) fn supported_versions(&self) -> Vec<String> {
        self.data
            .as_ref()
            .and_then(|d| d.get("supported"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn text_excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(600)]);
    text.trim().to_owned()
}

/// Whether a JSON-RPC message answers request `id`.
fn answers(message: &Value, id: &Value) -> bool {
    message.get("id") == Some(id)
        && (message.get("result").is_some() || message.get("error").is_some())
}

impl Http {
    pub(crate) fn new(timeout: Duration, max_body: usize) -> Result<Http, NetError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .build()
            .map_err(|e| NetError::Other(format!("building the HTTP client: {}", cause(&e))))?;
        Ok(Http {
            client,
            timeout,
            max_body,
        })
    }

    /// POSTs one JSON-RPC message and reads the answer to request `id` (`None` for a
    /// notification: only the status matters).
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &Value,
        id: Option<&Value>,
    ) -> Result<Reply, NetError> {
        let start = Instant::now();
        let request = self
            .client
            .post(url)
            .headers(headers.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let exchange = async {
            let response = request.send().await.map_err(classify)?;
            self.read_reply(response, id, start).await
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(NetError::Timeout(self.timeout)))
    }

    async fn read_reply(
        &self,
        mut response: reqwest::Response,
        id: Option<&Value>,
        start: Instant,
    ) -> Result<Reply, NetError> {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let is_stream = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
        let mut reply = Reply {
            status,
            headers,
            elapsed: Duration::ZERO,
            message: None,
            message_len: 0,
            excerpt: String::new(),
        };
        if is_stream && (200..300).contains(&status) {
            // Read events until the answer to our request arrives; the stream may stay open.
            let mut decoder = SseDecoder::with_max_event_size(self.max_body);
            let mut events: Vec<SseEvent> = Vec::new();
            let mut read = 0usize;
            let mut head = Vec::new();
            loop {
                let Some(chunk) = response.chunk().await.map_err(classify)? else {
                    let _ = decoder.finish(&mut events);
                    take_answer(&mut events, id, &mut reply);
                    break;
                };
                read += chunk.len();
                if head.len() < 600 {
                    head.extend_from_slice(&chunk[..chunk.len().min(600 - head.len())]);
                }
                if read > self.max_body {
                    return Err(NetError::TooLarge(self.max_body));
                }
                match decoder.feed(&chunk, &mut events) {
                    Ok(()) | Err(SseError::InvalidUtf8 { .. } | SseError::Truncated { .. }) => {}
                    Err(_) => return Err(NetError::TooLarge(self.max_body)),
                }
                if take_answer(&mut events, id, &mut reply) {
                    break;
                }
            }
            reply.excerpt = text_excerpt(&head);
        } else {
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > self.max_body {
                    return Err(NetError::TooLarge(self.max_body));
                }
                body.extend_from_slice(&chunk);
            }
            reply.excerpt = text_excerpt(&body);
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                let found = match (&value, id) {
                    (Value::Array(items), Some(id)) => {
                        items.iter().find(|m| answers(m, id)).cloned()
                    }
                    (Value::Object(_), _) => Some(value),
                    _ => None,
                };
                if found.is_some() {
                    reply.message_len = body.len();
                    reply.message = found;
                }
            }
        }
        reply.elapsed = start.elapsed();
        Ok(reply)
    }

    /// Opens the deprecated HTTP+SSE transport: a GET stream whose first event, `endpoint`,
    /// names where to POST. `Ok(Err(status, excerpt))` when the server answered without one.
    pub(crate) async fn open_sse(
        &self,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Result<SseChannel, (u16, String)>, NetError> {
        let request = self
            .client
            .get(url)
            .headers(headers.clone())
            .header(ACCEPT, "text/event-stream");
        let response = match tokio::time::timeout(self.timeout, request.send()).await {
            Ok(sent) => sent.map_err(classify)?,
            Err(_) => return Err(NetError::Timeout(self.timeout)),
        };
        let status = response.status().as_u16();
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
        if status != 200 || !is_stream {
            let excerpt = tokio::time::timeout(self.timeout, response.bytes())
                .await
                .ok()
                .and_then(Result::ok)
                .map(|b| text_excerpt(&b))
                .unwrap_or_default();
            return Ok(Err((status, excerpt)));
        }
        let (tx, mut rx) = mpsc::channel::<StreamItem>(64);
        let max = self.max_body;
        let task = tokio::spawn(read_stream(response, tx, max));
        let first = tokio::time::timeout(self.timeout, rx.recv()).await;
        let endpoint = match first {
            Ok(Some(StreamItem::Endpoint(path))) => path,
            Ok(Some(StreamItem::Message(_))) | Ok(None) => {
                task.abort();
                return Ok(Err((
                    status,
                    "event stream without an `endpoint` event".into(),
                )));
            }
            Ok(Some(StreamItem::Failed(e))) => {
                task.abort();
                return Err(e);
            }
            Err(_) => {
                task.abort();
                return Err(NetError::Timeout(self.timeout));
            }
        };
        let base = Url::parse(url).map_err(|_| NetError::Other("invalid url".into()))?;
        let endpoint = base
            .join(endpoint.trim())
            .map_err(|_| NetError::Other("the `endpoint` event is not a URL".into()))?;
        if endpoint.origin() != base.origin() {
            task.abort();
            return Ok(Err((
                status,
                "the `endpoint` event names another origin".into(),
            )));
        }
        Ok(Ok(SseChannel {
            endpoint: endpoint.to_string(),
            rx,
            task,
        }))
    }
}

/// Takes the answer to `id` out of decoded events (any JSON-RPC response when `id` is `None`).
fn take_answer(events: &mut Vec<SseEvent>, id: Option<&Value>, reply: &mut Reply) -> bool {
    for event in events.drain(..) {
        if event.event_type != "message" {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&event.data) else {
            continue;
        };
        let matches = match id {
            Some(id) => answers(&value, id),
            None => value.get("result").is_some() || value.get("error").is_some(),
        };
        if matches {
            reply.message_len = event.data.len();
            reply.message = Some(value);
            return true;
        }
    }
    false
}

enum StreamItem {
    Endpoint(String),
    Message(Value),
    Failed(NetError),
}

async fn read_stream(mut response: reqwest::Response, tx: mpsc::Sender<StreamItem>, max: usize) {
    let mut decoder = SseDecoder::with_max_event_size(max);
    let mut events = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(StreamItem::Failed(classify(e))).await;
                return;
            }
        };
        if let Err(SseError::EventTooLarge { .. }) = decoder.feed(&chunk, &mut events) {
            let _ = tx.send(StreamItem::Failed(NetError::TooLarge(max))).await;
            return;
        }
        for event in events.drain(..) {
            let item = match event.event_type.as_str() {
                "endpoint" => StreamItem::Endpoint(event.data),
                "message" => match serde_json::from_str(&event.data) {
                    Ok(v) => StreamItem::Message(v),
                    Err(_) => continue,
                },
                _ => continue,
            };
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }
}

/// An open HTTP+SSE connection: POST to `endpoint`, answers arrive on the stream.
pub(crate) struct SseChannel {
    endpoint: String,
    rx: mpsc::Receiver<StreamItem>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SseChannel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SseChannel {
    /// POSTs a message and waits on the stream for the answer to `id`.
    async fn exchange(
        &mut self,
        http: &Http,
        headers: &HeaderMap,
        body: &Value,
        id: Option<&Value>,
    ) -> Result<Reply, NetError> {
        let start = Instant::now();
        let mut reply = http.post(&self.endpoint, headers, body, None).await?;
        let Some(id) = id else {
            return Ok(reply);
        };
        if !(200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let remaining = http.timeout.saturating_sub(start.elapsed());
        let wait = async {
            while let Some(item) = self.rx.recv().await {
                match item {
                    StreamItem::Message(m) if answers(&m, id) => return Ok(Some(m)),
                    StreamItem::Failed(e) => return Err(e),
                    _ => {}
                }
            }
            Ok(None)
        };
        match tokio::time::timeout(remaining, wait).await {
            Ok(Ok(Some(message))) => {
                reply.message_len = message.to_string().len();
                reply.message = Some(message);
                reply.elapsed = start.elapsed();
                Ok(reply)
            }
            Ok(Ok(None)) => Err(NetError::Other(
                "the event stream closed before the answer".into(),
            )),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(NetError::Timeout(http.timeout)),
        }
    }
}

/// Where messages go.
pub(crate) enum Channel {
    /// Streamable HTTP: POST to the MCP endpoint.
    Streamable(String),
    /// The deprecated HTTP+SSE transport.
    Sse(SseChannel),
}

/// How requests carry the protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Era {
    /// After `initialize`: a session, `MCP-Protocol-Version` from 2025-06-18 on.
    Legacy(String),
    /// 2026-07-28: the version, `clientInfo` and capabilities in every request's `_meta`.
    Modern(String),
}

impl Era {
    pub(crate) fn version(&self) -> &str {
        match self {
            Era::Legacy(v) | Era::Modern(v) => v,
        }
    }
}

/// A connection the way one vendor's client holds it.
pub(crate) struct Session<'a> {
    pub(crate) http: &'a Http,
    pub(crate) channel: Channel,
    /// The vendor's own headers (`User-Agent`) and the caller's credentials.
    pub(crate) base_headers: HeaderMap,
    pub(crate) client_info: Value,
    pub(crate) era: Option<Era>,
    session_id: Option<HeaderValue>,
    next_id: i64,
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        http: &'a Http,
        channel: Channel,
        base_headers: HeaderMap,
        client_info: Value,
    ) -> Self {
        Session {
            http,
            channel,
            base_headers,
            client_info,
            era: None,
            session_id: None,
            next_id: 0,
        }
    }

    pub(crate) fn is_sse(&self) -> bool {
        matches!(self.channel, Channel::Sse(_))
    }

    fn headers_for(&self, method: &str, name: Option<&str>) -> HeaderMap {
        let mut headers = self.base_headers.clone();
        match &self.era {
            Some(Era::Modern(v)) => {
                insert(&mut headers, "mcp-protocol-version", v);
                insert(&mut headers, "mcp-method", method);
                if let Some(name) = name {
                    insert(&mut headers, "mcp-name", name);
                }
            }
            // The header exists from 2025-06-18 on (transport spec, protocol version header).
            Some(Era::Legacy(v)) if v.as_str() >= "2025-06-18" => {
                insert(&mut headers, "mcp-protocol-version", v);
            }
            _ => {}
        }
        if let Some(id) = &self.session_id {
            headers.insert(HeaderName::from_static("mcp-session-id"), id.clone());
        }
        headers
    }

    async fn send(
        &mut self,
        body: &Value,
        headers: &HeaderMap,
        id: Option<&Value>,
    ) -> Result<Reply, NetError> {
        match &mut self.channel {
            Channel::Streamable(url) => {
                let url = url.clone();
                self.http.post(&url, headers, body, id).await
            }
            Channel::Sse(channel) => channel.exchange(self.http, headers, body, id).await,
        }
    }

    fn fresh_id(&mut self) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        json!(id)
    }

    /// `initialize` proposing `version` (no `MCP-Protocol-Version` header on it: the version
    /// is not agreed yet). On an answer, keeps the session id the server assigned.
    pub(crate) async fn initialize(&mut self, version: &str) -> Result<Reply, NetError> {
        let id = self.fresh_id();
        let body = json!({
            "jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": self.client_info,
            }
        });
        let headers = self.headers_for("initialize", None);
        let reply = self.send(&body, &headers, Some(&id)).await?;
        if let Some(sid) = reply.headers.get("mcp-session-id") {
            self.session_id = Some(sid.clone());
        }
        Ok(reply)
    }

    /// `notifications/initialized`, once the version is agreed.
    pub(crate) async fn initialized(&mut self) -> Result<Reply, NetError> {
        let body = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let headers = self.headers_for("notifications/initialized", None);
        self.send(&body, &headers, None).await
    }

    /// `server/discover` at `version` (2026-07-28).
    pub(crate) async fn discover(&mut self, version: &str) -> Result<Reply, NetError> {
        self.era = Some(Era::Modern(version.to_owned()));
        let reply = self.request("server/discover", json!({}), None).await;
        self.era = None;
        reply
    }

    /// A request in the agreed era: `_meta` added for the modern revision.
    pub(crate) async fn request(
        &mut self,
        method: &str,
        mut params: Value,
        name: Option<&str>,
    ) -> Result<Reply, NetError> {
        if let (Some(Era::Modern(v)), Value::Object(map)) = (&self.era, &mut params) {
            map.insert(
                "_meta".into(),
                json!({
                    "io.modelcontextprotocol/protocolVersion": v,
                    "io.modelcontextprotocol/clientInfo": self.client_info,
                    "io.modelcontextprotocol/clientCapabilities": {},
                }),
            );
        }
        let id = self.fresh_id();
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let headers = self.headers_for(method, name);
        self.send(&body, &headers, Some(&id)).await
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// The innermost cause of an error, without URLs.
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("handshake") {
            return true;
        }
        current = err.source();
    }
    false
}

/// Sorts a reqwest failure into timeout / TLS / connect / other; URLs are removed.
fn classify(e: reqwest::Error) -> NetError {
    let e = e.without_url();
    if e.is_timeout() {
        return NetError::Timeout(Duration::ZERO);
    }
    let message = cause(&e);
    if is_tls(&e) {
        NetError::Tls(message)
    } else if e.is_connect() {
        NetError::Connect(message)
    } else {
        NetError::Other(message)
    }
}
