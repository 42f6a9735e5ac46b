//! The simulator's HTTP server: routes, start and shutdown. The state the handlers share is in
//! [`crate::state`], which imports no handler, so the vendor modules depend on it and not on this.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::oneshot;

use crate::demo::{DemoOptions, DemoServer, DemoServerHandle};
use crate::state::Shared;

/// How to start the simulator.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// Per-server budget for connecting, listing tools and each tool call (default 10 s).
    pub mcp_timeout: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            port: 0,
            mcp_timeout: Duration::from_secs(10),
        }
    }
}

impl SimOptions {
    /// Ephemeral port, 10 s MCP timeout.
    pub fn new() -> Self {
        SimOptions::default()
    }

    /// Listens on this port (0: any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Per-server timeout for connecting, listing and calling.
    pub fn with_mcp_timeout(mut self, timeout: Duration) -> Self {
        self.mcp_timeout = timeout;
        self
    }
}

/// The vendor simulator. Start it with [`Simulator::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Simulator;

impl Simulator {
    /// Binds 127.0.0.1 and serves `POST /v1/responses` and `POST /v1/messages` until the handle
    /// is dropped.
    pub async fn start(options: SimOptions) -> std::io::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(options.mcp_timeout));
        let router = axum::Router::new()
            .route("/v1/responses", axum::routing::post(responses))
            .route("/v1/messages", axum::routing::post(messages))
            .with_state(shared);
        let stop = crate::http::serve(listener, router);
        Ok(SimHandle {
            addr,
            stop: Some(stop),
        })
    }
}

async fn responses(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    crate::openai::create(shared, body).await
}

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    crate::anthropic::create(shared, &headers, body).await
}

/// A running simulator; dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:<port>`: the base URL of both vendors' APIs.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/v1`: the API base of both vendors as `mcpwire-providers`'
    /// `Endpoint::base_url` and the OpenAI SDKs take it (`POST {api_url}/responses`,
    /// `POST {api_url}/messages`). Anthropic SDKs take [`SimHandle::base_url`] instead.
    pub fn api_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:<port>/v1/responses`.
    pub fn responses_url(&self) -> String {
        format!("http://{}/v1/responses", self.addr)
    }

    /// `http://127.0.0.1:<port>/v1/messages`.
    pub fn messages_url(&self) -> String {
        format!("http://{}/v1/messages", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server (same as dropping the handle).
    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What [`run_standalone`] started: the simulator and a demo MCP server to try it with.
#[derive(Debug)]
#[non_exhaustive]
pub struct Standalone {
    /// The simulator.
    pub sim: SimHandle,
    /// A demo MCP server (no token).
    pub demo: DemoServerHandle,
    /// `POST` here for OpenAI Responses.
    pub openai_url: String,
    /// `POST` here for Anthropic Messages.
    pub anthropic_url: String,
    /// The demo server's MCP endpoint.
    pub demo_mcp_url: String,
}

/// Starts the simulator on `port` (0: any free port) and a demo MCP server next to it, for
/// `mcpwire sim`. The caller prints the URLs and keeps the value alive as long as they should
/// run (e.g. until Ctrl-C).
pub async fn run_standalone(port: u16) -> std::io::Result<Standalone> {
    let sim = Simulator::start(SimOptions::new().with_port(port)).await?;
    let demo = DemoServer::start(DemoOptions::new()).await?;
    Ok(Standalone {
        openai_url: sim.responses_url(),
        anthropic_url: sim.messages_url(),
        demo_mcp_url: demo.url().to_owned(),
        sim,
        demo,
    })
}
