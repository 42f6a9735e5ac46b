//! The demo MCP server: four tools (`echo`, `add`, `slow`, `fail`) over Streamable HTTP at
//! `/mcp` on 127.0.0.1, built on the official Rust SDK (`rmcp`), with optional bearer-token
//! protection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use tokio::sync::oneshot;

/// Decides whether a bearer token is accepted (per-user tokens from an authorization server).
pub type TokenCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How to start the demo server.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct DemoOptions {
    /// When set, every request needs `Authorization: Bearer <token>`; others get a 401 with
    /// `WWW-Authenticate: Bearer resource_metadata="..."`.
    pub token: Option<String>,
    /// When set, every request needs a bearer token this accepts (instead of `token`).
    pub token_check: Option<TokenCheck>,
    /// Issuers listed in the protected resource metadata's `authorization_servers`.
    pub authorization_servers: Vec<String>,
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
}

impl std::fmt::Debug for DemoOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoOptions")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("token_check", &self.token_check.is_some())
            .field("authorization_servers", &self.authorization_servers)
            .field("port", &self.port)
            .finish()
    }
}

impl DemoOptions {
    /// No token, ephemeral port.
    pub fn new() -> Self {
        DemoOptions::default()
    }

    /// Requires `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Accepts the bearer tokens `check` accepts (e.g. anything an authorization server
    /// issued); every accepted token is recorded ([`DemoServerHandle::tokens_seen`]).
    pub fn with_token_check(
        mut self,
        check: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.token_check = Some(Arc::new(check));
        self
    }

    /// Names an authorization server in the protected resource metadata.
    pub fn with_authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// Listens on this port (0: any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// The demo MCP server. Start it with [`DemoServer::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct DemoServer;

impl DemoServer {
    /// Binds 127.0.0.1 and serves the tools at `/mcp` until the handle is dropped.
    pub async fn start(options: DemoOptions) -> std::io::Result<DemoServerHandle> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let config = StreamableHttpServerConfig::default();
        let cancel = config.cancellation_token.clone();
        let service: StreamableHttpService<DemoTools, LocalSessionManager> =
            StreamableHttpService::new(|| Ok(DemoTools::new()), Default::default(), config);
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let guard = Arc::new(Guard {
            token: options.token,
            check: options.token_check,
            seen: seen.clone(),
            metadata_url: format!("http://{addr}/.well-known/oauth-protected-resource/mcp"),
        });
        let authorization_servers = options.authorization_servers.clone();
        let resource = format!("http://{addr}/mcp");
        let router = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn_with_state(guard, require_token))
            .route(
                "/.well-known/oauth-protected-resource/mcp",
                axum::routing::get(move || {
                    let body = serde_json::json!({
                        "resource": resource,
                        "authorization_servers": authorization_servers,
                        "bearer_methods_supported": ["header"],
                    });
                    async move {
                        (
                            [(header::CONTENT_TYPE, "application/json")],
                            body.to_string(),
                        )
                    }
                }),
            );
        let stop = crate::http::serve(listener, router);
        Ok(DemoServerHandle {
            seen,
            addr,
            url: format!("http://{addr}/mcp"),
            stop: Some(stop),
            cancel: Some(Box::new(move || cancel.cancel())),
        })
    }
}

/// A running demo server; dropping it stops the server.
pub struct DemoServerHandle {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    addr: SocketAddr,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    cancel: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl std::fmt::Debug for DemoServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoServerHandle")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl DemoServerHandle {
    /// The MCP endpoint, `http://127.0.0.1:<port>/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every bearer token accepted so far, in order (one per MCP request).
    pub fn tokens_seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops the server (same as dropping the handle).
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for DemoServerHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

struct Guard {
    token: Option<String>,
    check: Option<TokenCheck>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    metadata_url: String,
}

async fn require_token(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if guard.token.is_none() && guard.check.is_none() {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let accepted = presented.is_some_and(|p| {
        guard.token.as_deref() == Some(p) || guard.check.as_ref().is_some_and(|c| c(p))
    });
    if let Some(p) = presented.filter(|_| accepted) {
        guard
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p.to_owned());
        return next.run(request).await;
    }
    let challenge = format!("Bearer resource_metadata=\"{}\"", guard.metadata_url);
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"invalid_token","error_description":"missing or invalid bearer token"}"#,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// First addend.
    a: f64,
    /// Second addend.
    b: f64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SlowArgs {
    /// How long to sleep, in milliseconds.
    ms: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct FailArgs {
    /// The error message to return.
    message: String,
}

/// The tools.
#[derive(Debug, Clone)]
struct DemoTools {
    tool_router: ToolRouter<Self>,
}

impl DemoTools {
    fn new() -> Self {
        DemoTools {
            tool_router: Self::tool_router(),
        }
    }
}

/// Formats a number the way people write it: `5`, not `5.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[tool_router]
impl DemoTools {
    #[tool(
        description = "Returns the given text unchanged.",
        annotations(read_only_hint = true)
    )]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }

    #[tool(description = "Adds two numbers.", annotations(read_only_hint = true))]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        number(a + b)
    }

    #[tool(description = "Sleeps for `ms` milliseconds, then says how long it slept.")]
    async fn slow(&self, Parameters(SlowArgs { ms }): Parameters<SlowArgs>) -> String {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        format!("slept {ms} ms")
    }

    #[tool(description = "Always fails with the given message (an MCP tool error, isError).")]
    fn fail(&self, Parameters(FailArgs { message }): Parameters<FailArgs>) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(message)])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DemoTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions("mcpwire demo server: echo, add, slow, fail")
    }
}
