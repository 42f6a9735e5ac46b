//! The simulator's MCP client (what the vendors run on their side): connects to a server over
//! Streamable HTTP with `rmcp`, forwarding the caller's headers or bearer token, lists tools and
//! calls them, every step bounded by a timeout.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, Tool};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ErrorData, ServiceExt};
use serde_json::{Map, Value};

/// Where and how to reach one MCP server.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) bearer: Option<String>,
}

/// Why talking to a server failed.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The server answered 401 (or 403): the token was missing or rejected.
    Unauthorized(u16),
    /// Another HTTP status.
    Http(u16),
    /// No connection (refused, DNS, TLS).
    Connect(String),
    /// No answer within the timeout.
    Timeout(Duration),
    /// A JSON-RPC error from the server.
    Protocol { code: i64, message: String },
    /// Anything else (malformed JSON-RPC, the server closed the stream, ...).
    Other(String),
}

impl Failure {
    /// The HTTP status to report for this failure (OpenAI's 424 messages, `http_error`).
    pub(crate) fn status(&self) -> u16 {
        match self {
            Failure::Unauthorized(s) | Failure::Http(s) => *s,
            Failure::Timeout(_) => 504,
            Failure::Connect(_) | Failure::Other(_) | Failure::Protocol { .. } => 424,
        }
    }

    /// A one-line description.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Unauthorized(s) | Failure::Http(s) => {
                format!("{s} ({})", reason(*s))
            }
            Failure::Connect(m) => format!("connection failed: {m}"),
            Failure::Timeout(d) => format!("no answer within {} ms", d.as_millis()),
            Failure::Protocol { message, .. } => message.clone(),
            Failure::Other(m) => m.clone(),
        }
    }
}

/// The reason phrase of an HTTP status.
pub(crate) fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// An initialised MCP client session.
pub(crate) struct Session {
    service: RunningService<RoleClient, ClientConfig>,
    timeout: Duration,
}

/// The shared reqwest client (rustls with ring; no redirects to other hosts matter here).
pub(crate) fn http_client(connect_timeout: Duration) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        // A server that stops sending mid-response must not pin a connection forever; every
        // step is bounded separately by `timeout` below.
        .read_timeout((connect_timeout * 2).max(Duration::from_secs(1)))
        .build()
        .unwrap_or_default()
}

impl Session {
    /// Connects and initialises, within `timeout`.
    pub(crate) async fn connect(
        http: &reqwest::Client,
        target: &Target,
        timeout: Duration,
    ) -> Result<Session, Failure> {
        let mut headers = HashMap::new();
        for (name, value) in &target.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return Err(Failure::Other(format!("invalid header `{name}`")));
            };
            headers.insert(name, value);
        }
        let mut config = StreamableHttpClientTransportConfig::with_uri(target.url.as_str())
            .custom_headers(headers);
        if let Some(token) = &target.bearer {
            config = config.auth_header(token.clone());
        }
        let transport = StreamableHttpClientTransport::with_client(http.clone(), config);
        let mut info = ClientConfig::default();
        info.client_info.name = "mcpwire-sim".to_owned();
        info.client_info.version = env!("CARGO_PKG_VERSION").to_owned();
        match tokio::time::timeout(timeout, info.serve(transport)).await {
            Err(_) => Err(Failure::Timeout(timeout)),
            Ok(Err(err)) => {
                if err.auth_challenge().is_some() {
                    return Err(Failure::Unauthorized(401));
                }
                Err(match classify(&err) {
                    Failure::Timeout(_) => Failure::Timeout(timeout),
                    other => other,
                })
            }
            Ok(Ok(service)) => Ok(Session { service, timeout }),
        }
    }

    /// Every tool the server lists (all pages).
    /// Connects and lists the tools; the session is closed again when listing fails.
    pub(crate) async fn connect_and_list(
        http: &reqwest::Client,
        target: &Target,
        timeout: Duration,
    ) -> Result<(Session, Vec<Tool>), Failure> {
        let session = Session::connect(http, target, timeout).await?;
        match session.list_tools().await {
            Ok(tools) => Ok((session, tools)),
            Err(e) => {
                session.close();
                Err(e)
            }
        }
    }

    /// Connects to and lists every target in parallel, in order. On any failure the sessions
    /// that did open are closed, and the first failure is returned with its position.
    pub(crate) async fn connect_and_list_all(
        http: &reqwest::Client,
        targets: &[Target],
        timeout: Duration,
    ) -> Result<Vec<(Session, Vec<Tool>)>, (usize, Failure)> {
        let results = futures_util::future::join_all(
            targets
                .iter()
                .map(|target| Session::connect_and_list(http, target, timeout)),
        )
        .await;
        let mut opened = Vec::with_capacity(results.len());
        let mut failed = None;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(listed) => opened.push(listed),
                Err(e) => {
                    failed.get_or_insert((i, e));
                }
            }
        }
        match failed {
            None => Ok(opened),
            Some(failure) => {
                for (session, _) in opened {
                    session.close();
                }
                Err(failure)
            }
        }
    }

    pub(crate) async fn list_tools(&self) -> Result<Vec<Tool>, Failure> {
        match tokio::time::timeout(self.timeout, self.service.list_all_tools()).await {
            Err(_) => Err(Failure::Timeout(self.timeout)),
            Ok(result) => result.map_err(|e| self.failure(&e)),
        }
    }

    fn failure(&self, err: &ServiceError) -> Failure {
        match service_failure(err) {
            Failure::Timeout(_) => Failure::Timeout(self.timeout),
            other => other,
        }
    }

    /// Calls a tool.
    pub(crate) async fn call(
        &self,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<CallToolResult, Failure> {
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        match tokio::time::timeout(self.timeout, self.service.call_tool(params)).await {
            Err(_) => Err(Failure::Timeout(self.timeout)),
            Ok(result) => result.map_err(|e| self.failure(&e)),
        }
    }

    /// Ends the session in the background (DELETE of the session), without waiting.
    pub(crate) fn close(self) {
        let timeout = self.timeout;
        tokio::spawn(async move {
            let _ = tokio::time::timeout(timeout, self.service.cancel()).await;
        });
    }
}

fn service_failure(err: &ServiceError) -> Failure {
    match err {
        ServiceError::McpError(ErrorData { code, message, .. }) => Failure::Protocol {
            code: i64::from(code.0),
            message: message.to_string(),
        },
        ServiceError::Timeout { timeout } => Failure::Timeout(*timeout),
        other => {
            if other.auth_challenge().is_some() {
                return Failure::Unauthorized(401);
            }
            classify(other)
        }
    }
}

/// Walks an error's source chain for an HTTP status or a connection failure.
fn classify(err: &(dyn std::error::Error + 'static)) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut text = String::new();
    while let Some(current) = source {
        if let Some(status) =
            current.downcast_ref::<rmcp::transport::streamable_http_client::HttpStatusError>()
        {
            return Failure::Http(status.status);
        }
        if let Some(req) = current.downcast_ref::<reqwest::Error>() {
            if let Some(status) = req.status() {
                return http_failure(status.as_u16());
            }
            if req.is_connect() {
                return Failure::Connect(req.to_string());
            }
            if req.is_timeout() {
                return Failure::Timeout(Duration::ZERO);
            }
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Failure::Connect(io.to_string());
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&current.to_string());
        source = current.source();
    }
    if let Some(status) = status_in_text(&text) {
        return http_failure(status);
    }
    if text.contains("onnection refused") || text.contains("error sending request") {
        return Failure::Connect(text);
    }
    Failure::Other(text)
}

fn http_failure(status: u16) -> Failure {
    if status == 401 || status == 403 {
        Failure::Unauthorized(status)
    } else {
        Failure::Http(status)
    }
}

/// Finds `HTTP 404` (or `HTTP 404 Not Found`) in an error message.
fn status_in_text(text: &str) -> Option<u16> {
    let mut rest = text;
    while let Some(at) = rest.find("HTTP ") {
        let digits: String = rest[at + 5..].chars().take(3).collect();
        if digits.len() == 3
            && let Ok(status) = digits.parse::<u16>()
            && (100..600).contains(&status)
        {
            return Some(status);
        }
        rest = &rest[at + 5..];
    }
    None
}

/// The MCP content of a tool result as JSON (`[{"type":"text","text":...}, ...]`).
pub(crate) fn content_json(result: &CallToolResult) -> Vec<Value> {
    result
        .content
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect()
}

/// The text of a tool result: its text parts joined, or the structured content as JSON.
pub(crate) fn content_text(result: &CallToolResult) -> String {
    let texts: Vec<String> = content_json(result)
        .iter()
        .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if texts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        return structured.to_string();
    }
    texts.join("\n")
}

/// `readOnlyHint` of a tool.
pub(crate) fn read_only(tool: &Tool) -> bool {
    tool.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

/// A tool's input schema as JSON.
pub(crate) fn input_schema(tool: &Tool) -> Value {
    Value::Object((*tool.input_schema).clone())
}
