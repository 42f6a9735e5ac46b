//! An HTTP gateway in front of the OpenAI Responses API and the Anthropic Messages API that
//! apps reach by changing only their SDK's base URL. The platform keeps the MCP credentials
//! and the vendor keys; each app gets a gateway key mapped to a tenant whose policy says which
//! MCP servers, tools and connectors it may use.
//!
//! For every request the gateway authenticates the caller (`Authorization: Bearer` or
//! `x-api-key`, compared by SHA-256 hash), parses the body into the typed schema (duplicate
//! keys, malformed JSON, oversized bodies and unknown MCP fields are refused), checks every MCP
//! server against the tenant's allowlist, injects fresh credentials (OAuth through
//! `mcpwire-auth`, or static values from the environment) in place of whatever the caller sent,
//! intersects allowed tools, raises approvals, and sends what it checked upstream with the
//! vendor key. Responses are relayed as they arrive; a copy feeds the audit log and metrics,
//! and, when configured, OpenTelemetry traces ([`telemetry`]) and the request log pages at
//! `/ui` (read through [`records`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = mcpwire_gateway::Config::load(std::path::Path::new("gateway.toml"))?;
//! let gateway = mcpwire_gateway::Gateway::start(config).await?;
//! println!("OpenAI SDK base_url: {}/v1", gateway.url());
//! gateway.shutdown().await;
//! # Ok(()) }
//! ```

mod audit;
mod body;
mod by_id;
mod caller;
pub mod config;
mod connections;
mod create;
mod credentials;
mod error;
mod forward;
mod limits;
mod metrics;
mod owners;
mod passthrough;
mod policy;
mod probes;
pub mod records;
mod relay;
mod routes;
mod server;
mod shared;
mod state;
mod summary;
pub mod telemetry;
mod ui;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

pub use config::{Config, ConfigError};

use crate::state::{App, Live};

/// The response header carrying the gateway's request id (also in the audit log and logs).
pub const REQUEST_ID_HEADER: &str = "x-mcpwire-request-id";

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        source: std::io::Error,
    },
    /// Credentials or stores could not be set up.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The audit log could not be opened.
    #[error("audit log: {0}")]
    Audit(std::io::Error),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
}

/// The gateway. Start it with [`Gateway::start`] or [`Gateway::start_with_env`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Gateway;

impl Gateway {
    /// Binds `config.listen` and serves until [`GatewayHandle::shutdown`] (or drop). Secrets
    /// named by the config come from the process environment.
    pub async fn start(config: Config) -> Result<GatewayHandle, StartError> {
        Gateway::start_with_env(config, &std::env::vars().collect()).await
    }

    /// Like [`Gateway::start`], with the environment given explicitly (tests).
    pub async fn start_with_env(
        config: Config,
        env: &config::Env,
    ) -> Result<GatewayHandle, StartError> {
        let listen = config.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
        let replica = config
            .replica_id
            .clone()
            .unwrap_or_else(|| format!("{}:{}", hostname(), std::process::id()));
        let recent = Arc::new(records::Recent::new(1000, 16 * 1024 * 1024));
        let live = Live::build(config, env, &replica, &recent).await?;
        let app = Arc::new(App::new(live, replica, env.clone(), recent)?);
        app.probes.start(app.live());
        // Connect requests that were never completed are removed hourly.
        let sweeper = {
            let app = Arc::downgrade(&app);
            tokio::spawn(async move {
                loop {
                    let Some(app) = app.upgrade() else { return };
                    app.live().creds.sweep_pending().await;
                    drop(app);
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
            })
        };
        let router = routes::router(app.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let join = tokio::spawn(server::serve(listener, app.clone(), router, stop_rx));
        Ok(GatewayHandle {
            _sweeper: AbortOnDrop(sweeper),
            app,
            addr,
            stop: Some(stop_tx),
            join: Some(join),
        })
    }

    /// Serves until `signal` resolves (e.g. SIGTERM), then drains open streams up to the
    /// configured grace period.
    pub async fn run(
        config: Config,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), StartError> {
        let mut handle = Gateway::start(config).await?;
        tracing::info!(addr = %handle.addr, "gateway listening");
        signal.await;
        handle.stop_and_wait().await;
        Ok(())
    }
}

/// This machine's name, for the default replica id (`host:pid`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// A running gateway; dropping it stops the server without draining.
pub struct GatewayHandle {
    _sweeper: AbortOnDrop,
    app: Arc<App>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for GatewayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayHandle")
            .field("addr", &self.addr)
            .field("replica", &self.app.replica)
            .finish_non_exhaustive()
    }
}

/// Why a new configuration was not applied (the old one keeps serving).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The file is not a valid configuration; the message names the line.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// It is valid, but what it names could not be set up (a store, the audit log).
    #[error("{0}")]
    Start(String),
}

impl GatewayHandle {
    /// This replica's id (`[server] replica_id`, default `host:pid`).
    pub fn replica_id(&self) -> &str {
        &self.app.replica
    }

    /// Applies `config` to new requests; requests already open finish under the old one.
    /// Counted in `mcpwire_config_reloads_total{result}`.
    pub async fn reload(&self, config: Config) -> Result<(), ReloadError> {
        let result = self.app.reload(config).await.map_err(ReloadError::Start);
        self.app
            .metrics
            .config_reload(if result.is_ok() { "ok" } else { "rejected" });
        result
    }

    /// Reads and validates `path` (secrets from the environment the gateway started with)
    /// and applies it as [`GatewayHandle::reload`] does. An invalid file is rejected, the
    /// old configuration keeps serving, and the error names the line.
    pub async fn reload_file(&self, path: &std::path::Path) -> Result<(), ReloadError> {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            })
            .and_then(|text| Config::parse(&text, &self.app.env));
        match parsed {
            Ok(config) => self.reload(config).await,
            Err(e) => {
                self.app.metrics.config_reload("rejected");
                Err(ReloadError::Config(e))
            }
        }
    }

    /// Reloads `path` on every SIGHUP until the gateway stops, logging each outcome (Unix).
    pub fn reload_on_sighup(&self, path: std::path::PathBuf) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP; reloads are off");
                return;
            };
            let handle = ReloadHandle {
                app: self.app.clone(),
            };
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    match handle.reload_file(&path).await {
                        Ok(()) => tracing::info!(path = %path.display(), "configuration reloaded"),
                        Err(e) => {
                            tracing::error!(path = %path.display(), error = %e, "configuration reload rejected; the previous configuration keeps serving")
                        }
                    }
                }
            });
        }
        #[cfg(not(unix))]
        let _ = path;
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: Anthropic SDKs take this as `base_url`; OpenAI SDKs take
    /// `{url}/v1`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop_and_wait(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }

    /// Starts draining: `/readyz` answers 503 and new requests are refused while open
    /// requests finish, up to the grace period. Returns at once; [`GatewayHandle::shutdown`]
    /// waits.
    pub fn drain(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops accepting requests, drains open streams up to the grace period, and returns.
    pub async fn shutdown(mut self) {
        self.stop_and_wait().await;
    }
}

/// A background task that ends with the handle.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a SIGHUP task needs of the handle.
struct ReloadHandle {
    app: Arc<App>,
}

impl ReloadHandle {
    async fn reload_file(&self, path: &std::path::Path) -> Result<(), ReloadError> {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            })
            .and_then(|text| Config::parse(&text, &self.app.env));
        let result = match parsed {
            Ok(config) => self.app.reload(config).await.map_err(ReloadError::Start),
            Err(e) => Err(ReloadError::Config(e)),
        };
        self.app
            .metrics
            .config_reload(if result.is_ok() { "ok" } else { "rejected" });
        result
    }
}

impl Drop for GatewayHandle {
    fn drop(&mut self) {
        if let Some(join) = self.join.take() {
            join.abort();
        }
    }
}
