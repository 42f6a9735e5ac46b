//! Test helpers: fixtures, clients pointed at mock servers, raw TCP servers for chunking and
//! stalls, a scripted OAuth server, and log capture (the last two from `mcpwire-testkit`).

#![allow(dead_code, unreachable_pub, unused_imports, clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_auth::{Credentials, LoginMode, MemoryStore, OAuthClient, OAuthConfig, Secret};
use mcpwire_normalize::ByteNormalizer;
use mcpwire_providers::request::{McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint, Error};
use mcpwire_schema::event::{Event, EventBody, Vendor};
pub use mcpwire_testkit::Route;
pub use mcpwire_testkit::fixtures::fixture_reply;
use mcpwire_testkit::http_kit::serve_raw;
pub use mcpwire_testkit::http_kit::{answering, answering_exactly, rate_limited};
pub use mcpwire_testkit::logs::capture_logs;
use mcpwire_testkit::oauth::RotatingServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::{MockServer, Respond};

pub const API_KEY: &str = "planted-api-key-0001-test";
pub const HEADER_VALUE: &str = "hv-PLANTED-header-value-0002";
pub const BEARER: &str = "bt-PLANTED-bearer-token-0003";

/// An OpenAI request whose server URL carries a secret path and query and a secret header.
pub fn request(stream: bool) -> McpRequest {
    McpRequest::new("gpt-test", "Shorten https://ai-sdk.dev/")
        .server(
            McpServerSpec::new(
                "zip1",
                "https://zip1.io/mcp/tenant/SECRET-PATH?key=SECRET-QUERY",
            )
            .credentials(Credentials::Headers(vec![(
                "x-tenant-key".to_owned(),
                Secret::new(HEADER_VALUE),
            )])),
        )
        .stream(stream)
}

/// An Anthropic request with a bearer token.
pub fn anthropic_request(stream: bool) -> McpRequest {
    McpRequest::new("claude-test", "What is pydantic-ai?")
        .server(
            McpServerSpec::new("deepwiki", "https://mcp.deepwiki.com/mcp")
                .credentials(Credentials::Bearer(Secret::new(BEARER))),
        )
        .max_output_tokens(1000)
        .stream(stream)
}

/// The path each vendor's requests go to.
pub fn route_of(vendor: Vendor) -> &'static str {
    if vendor == Vendor::OpenAi {
        "/v1/responses"
    } else {
        "/v1/messages"
    }
}

/// The vendor of the fixture at `rel`: its folder, `openai/` or `anthropic/`.
pub fn vendor_of(rel: &str) -> Vendor {
    if rel.starts_with("openai/") {
        Vendor::OpenAi
    } else {
        Vendor::Anthropic
    }
}

/// [`request`] for OpenAI, [`anthropic_request`] for Anthropic.
pub fn request_for(vendor: Vendor, stream: bool) -> McpRequest {
    if vendor == Vendor::OpenAi {
        request(stream)
    } else {
        anthropic_request(stream)
    }
}

/// A `200` answer with `body` as JSON.
pub fn ok_json(body: Vec<u8>) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

/// A `200` answer with the fixture at `rel` as JSON.
pub fn ok_fixture(rel: &str) -> wiremock::ResponseTemplate {
    ok_json(fixture(rel))
}

/// A `200` answer with the fixture at `rel` as an SSE stream.
pub fn ok_sse_fixture(rel: &str) -> wiremock::ResponseTemplate {
    fixture_reply(200, rel, "text/event-stream")
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(rel),
    )
    .unwrap()
}

/// Both vendors at `base` (which ends in `/v1`), fast retries, planted API keys.
pub fn config_with(openai_base: &str, anthropic_base: &str) -> ClientConfig {
    let mut config = ClientConfig::default();
    config.openai = Endpoint::openai()
        .base_url(openai_base)
        .api_key(mcpwire_auth::Secret::new(API_KEY));
    config.anthropic = Endpoint::anthropic()
        .base_url(anthropic_base)
        .api_key(mcpwire_auth::Secret::new(API_KEY));
    config.retry.initial_backoff = Duration::from_millis(20);
    config
}

/// [`config_with`] both vendors at `server`'s `/v1`.
pub fn config_for(server: &MockServer) -> ClientConfig {
    let base = format!("{}/v1", server.uri());
    config_with(&base, &base)
}

pub fn client_for(server: &MockServer) -> Client {
    Client::new(config_for(server)).unwrap()
}

/// The error `client` fails with, sending [`request`]`(false)` to OpenAI.
pub async fn openai_error(client: &Client) -> Error {
    client
        .send(Vendor::OpenAi, &request(false))
        .await
        .unwrap_err()
}

/// The error `client` fails with, sending [`anthropic_request`]`(false)` to Anthropic.
pub async fn anthropic_error(client: &Client) -> Error {
    client
        .send(Vendor::Anthropic, &anthropic_request(false))
        .await
        .unwrap_err()
}

/// `first` answers the first POST to `server` and `rest` every later one.
pub async fn first_then(
    server: &MockServer,
    first: impl Respond + 'static,
    rest: impl Respond + 'static,
) {
    Route::any("POST").times(1).reply(server, first).await;
    Route::any("POST").reply(server, rest).await;
}

/// `first` answers the first POST to `server` and `second` the next; each exactly once
/// (checked when the server is dropped).
pub async fn one_turn_each(
    server: &MockServer,
    first: impl Respond + 'static,
    second: impl Respond + 'static,
) {
    Route::any("POST")
        .times(1)
        .expect(1)
        .reply(server, first)
        .await;
    Route::any("POST").expect(1).reply(server, second).await;
}

/// The events a [`ByteNormalizer`] makes of a whole stream `bytes` from `vendor`.
pub fn stream_events(vendor: Vendor, bytes: &[u8]) -> Vec<Event<'static>> {
    let mut events = Vec::new();
    let mut n = ByteNormalizer::new(Some(vendor));
    n.feed(bytes, &mut events).unwrap();
    n.finish(&mut events).unwrap();
    events
}

/// The bodies of the `kind` events.
pub fn bodies_of<'e>(events: &'e [Event<'static>], kind: &str) -> Vec<&'e EventBody<'static>> {
    events
        .iter()
        .filter(|e| e.kind() == kind)
        .map(|e| &e.body)
        .collect()
}

pub fn fast_retry_client(server: &MockServer) -> Client {
    client_for(server)
}

/// A raw HTTP/1.1 server that answers every request with `body` as an SSE stream, one byte per
/// chunk of the chunked transfer encoding. Returns the base URL (`.../v1`).
pub async fn serve_one_byte_chunks(body: Vec<u8>) -> String {
    let addr = serve_raw(move |mut socket| {
        let body = body.clone();
        async move {
            read_request(&mut socket).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
            socket.write_all(head.as_bytes()).await.unwrap();
            for byte in body {
                socket.write_all(b"1\r\n").await.unwrap();
                socket.write_all(&[byte, b'\r', b'\n']).await.unwrap();
                socket.flush().await.unwrap();
            }
            socket.write_all(b"0\r\n\r\n").await.unwrap();
        }
    })
    .await;
    format!("http://{addr}/v1")
}

/// A server that sends a 200 head and one event, then never sends anything again.
pub async fn serve_head_then_stall() -> String {
    let addr = serve_raw(|mut socket| async move {
        read_request(&mut socket).await;
        let event = "data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n";
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
            event.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    format!("http://{addr}/v1")
}

async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = socket.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            return;
        }
        if n == 0 {
            return;
        }
    }
}

/// An MCP resource server and OAuth authorization server (wiremock, `mcpwire-testkit`)
/// issuing short-lived, rotating tokens: `access-1` at login, then `access-2`, `access-3`, ...
/// on each refresh.
pub struct MockAuthServer(RotatingServer);

impl MockAuthServer {
    pub async fn start(expires_in: u64) -> Self {
        MockAuthServer(RotatingServer::start(expires_in).await)
    }

    pub fn resource(&self) -> String {
        self.0.resource()
    }

    pub async fn logged_in_client(&self) -> Arc<OAuthClient> {
        let mut config = OAuthConfig::default();
        config.policy.allow_http_loopback = true;
        let client = OAuthClient::new(config, Arc::new(MemoryStore::default())).unwrap();
        client
            .login(&self.resource(), None, LoginMode::Headless, |_| {})
            .await
            .unwrap();
        Arc::new(client)
    }

    pub async fn refreshes(&self) -> usize {
        self.0.refreshes()
    }
}
