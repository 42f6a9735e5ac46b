//! Shared helpers: start the demo server and the simulator, send requests, check and normalise
//! what comes back.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::time::Duration;

use mcpwire_normalize::{ByteNormalizer, normalize_whole};
use mcpwire_schema::event::Event;
use mcpwire_sim::{DemoOptions, DemoServer, DemoServerHandle, SimHandle, SimOptions, Simulator};
use serde_json::Value;

pub struct Env {
    pub demo: DemoServerHandle,
    pub sim: SimHandle,
    pub http: reqwest::Client,
}

pub async fn env() -> Env {
    env_with(DemoOptions::new(), Duration::from_secs(10)).await
}

/// One more demo server with the default options, for requests with several servers.
pub async fn another_demo() -> DemoServerHandle {
    DemoServer::start(DemoOptions::new()).await.unwrap()
}

/// [`env`] whose demo server wants the bearer `token`.
pub async fn env_with_token(token: &str) -> Env {
    env_with(
        DemoOptions::new().with_token(token),
        Duration::from_secs(10),
    )
    .await
}

/// [`env`] whose simulator gives MCP servers `timeout` to answer.
pub async fn env_with_mcp_timeout(timeout: Duration) -> Env {
    env_with(DemoOptions::new(), timeout).await
}

pub async fn env_with(demo: DemoOptions, timeout: Duration) -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let demo = DemoServer::start(demo).await.unwrap();
    let sim = Simulator::start(SimOptions::new().with_mcp_timeout(timeout))
        .await
        .unwrap();
    Env {
        demo,
        sim,
        http: reqwest::Client::new(),
    }
}

/// A reply: status and body bytes.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Asserts a 200 (showing the body otherwise), then checks and normalises the body.
    pub fn events(&self) -> Vec<Event<'static>> {
        assert_eq!(self.status, 200, "{}", self.text());
        normalize(&self.body)
    }
}

/// The settled kinds of a turn that lists tools, makes one call and answers.
pub const LISTED_CALL_TEXT: [&str; 6] = [
    "response_started",
    "tools_listed",
    "call",
    "call_result",
    "text",
    "response_completed",
];

/// The settled kinds of a turn that lists one server's tools, makes two calls and answers.
pub const LISTED_TWO_CALLS_TEXT: [&str; 8] = [
    "response_started",
    "tools_listed",
    "call",
    "call_result",
    "call",
    "call_result",
    "text",
    "response_completed",
];

/// The settled kinds of a turn that lists two servers' tools, makes two calls and answers.
pub fn two_listed_two_calls_text() -> Vec<&'static str> {
    let mut kinds = LISTED_TWO_CALLS_TEXT.to_vec();
    kinds.insert(1, "tools_listed");
    kinds
}

/// The text of the first `text` event.
pub fn first_text(events: &[Event<'_>]) -> Value {
    of_kind(events, "text")[0]["text"].clone()
}

/// The text of the first content block of a `call_result` event's value.
pub fn result_text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap()
}

/// The settled kinds of a turn that makes one call (tools known already) and answers.
pub const CALL_TEXT: [&str; 5] = [
    "response_started",
    "call",
    "call_result",
    "text",
    "response_completed",
];

impl Env {
    pub async fn openai(&self, body: &Value) -> Reply {
        let response = self
            .http
            .post(format!("{}/v1/responses", self.sim.base_url()))
            .bearer_auth("sk-sim")
            .json(body)
            .send()
            .await
            .unwrap();
        Reply {
            status: response.status().as_u16(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn anthropic(&self, beta: Option<&str>, body: &Value) -> Reply {
        let mut request = self
            .http
            .post(format!("{}/v1/messages", self.sim.base_url()))
            .header("x-api-key", "sk-ant-sim")
            .header("anthropic-version", "2023-06-01");
        if let Some(beta) = beta {
            request = request.header("anthropic-beta", beta);
        }
        let response = request.json(body).send().await.unwrap();
        Reply {
            status: response.status().as_u16(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }
}

/// `mcpwire check` must pass on every simulator output.
pub fn check(bytes: &[u8]) {
    if let Err(e) = mcpwire_schema::check::check(bytes) {
        panic!(
            "check failed: {e}\n{}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(4000)])
        );
    }
}

/// Checks and normalises a whole body or an SSE stream.
pub fn normalize(bytes: &[u8]) -> Vec<Event<'static>> {
    check(bytes);
    if mcpwire_schema::check::looks_like_sse(bytes) {
        let mut n = ByteNormalizer::new(None);
        let mut events = Vec::new();
        n.feed(bytes, &mut events).unwrap();
        n.finish(&mut events).unwrap();
        events
    } else {
        normalize_whole(bytes, None).unwrap()
    }
}

pub fn kinds(events: &[Event<'_>]) -> Vec<&'static str> {
    events.iter().map(Event::kind).collect()
}

/// Settled events (no stream-only ones), without `other`.
pub fn settled_kinds(events: &[Event<'_>]) -> Vec<&'static str> {
    events
        .iter()
        .filter(|e| !e.is_stream_only() && e.kind() != "other")
        .map(Event::kind)
        .collect()
}

/// The events as JSON values (easier to poke at).
pub fn values(events: &[Event<'_>]) -> Vec<Value> {
    events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

pub fn of_kind(events: &[Event<'_>], kind: &str) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.kind() == kind)
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

/// The bytes of the recording `fixtures/{rel}`.
pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A stream fixture's events.
pub fn fixture_events(rel: &str) -> Vec<Event<'static>> {
    let bytes = fixture(rel);
    let mut n = ByteNormalizer::new(None);
    let mut events = Vec::new();
    n.feed(&bytes, &mut events).unwrap();
    let _ = n.finish(&mut events);
    events
}

/// The MCP URLs of a closed port, a [`hanging_server`], a [`garbage_server`] and a
/// [`truncating_server`].
pub async fn broken_server_urls() -> [String; 4] {
    [
        closed_port_url().await,
        hanging_server().await,
        garbage_server().await,
        truncating_server().await,
    ]
}

/// A TCP listener that accepts connections and never answers. Returns its MCP URL.
pub async fn hanging_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/mcp")
}

/// An HTTP server that answers every request 200 with a body that is not JSON-RPC.
pub async fn garbage_server() -> String {
    let body = "{this is not json-rpc";
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    answer_every_request(reply, false).await
}

/// A URL on 127.0.0.1 where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/mcp")
}

/// An HTTP server that starts an SSE answer and closes the connection mid-event.
pub async fn truncating_server() -> String {
    let reply = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":0,\"res";
    answer_every_request(reply.to_owned(), true).await
}

/// A raw server on 127.0.0.1 that reads (the start of) each request, writes `reply` and, with
/// `shut_down`, closes its side. Returns its `/mcp` URL.
async fn answer_every_request(reply: String, shut_down: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(reply.as_bytes()).await;
                if shut_down {
                    let _ = socket.shutdown().await;
                }
            });
        }
    });
    format!("http://{addr}/mcp")
}

/// An HTTP server that records each request's head (lowercased) and answers 401. Returns its
/// MCP URL and the recorded heads.
pub async fn recording_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let recorded = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let recorded = recorded.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let text = String::from_utf8_lossy(&buf[..n]).to_lowercase();
                let head = text.split("\r\n\r\n").next().unwrap_or("").to_owned();
                recorded.lock().unwrap().push(head);
                let reply = "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}/mcp"), heads)
}
