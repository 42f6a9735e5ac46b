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
//! vendor key. Responses are relayed as they arrive; a copy feeds the audit log and metrics.
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
pub mod config;
mod credentials;
mod error;
mod metrics;
mod policy;
mod redact;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::StreamExt as _;
use mcpwire_schema::Sensitive;
use mcpwire_schema::event::Vendor;
use sha2::Digest as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

pub use config::{Config, ConfigError};

use crate::error::{GatewayError, Kind, Shape};
use crate::policy::Checked;
use crate::redact::Scrubber;

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

struct Shared {
    config: Config,
    creds: credentials::CredentialSet,
    metrics: Arc<metrics::Metrics>,
    audit: Arc<audit::AuditLog>,
    http: reqwest::Client,
    permits: Vec<Arc<Semaphore>>,
    draining: AtomicBool,
    next_id: AtomicU64,
    id_prefix: String,
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
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let shared = Arc::new(build_shared(config, env)?);
        let router = router(shared.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let grace = shared.config.limits.shutdown_grace;
        let drained = shared.clone();
        let join = tokio::spawn(async move {
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY");
                }
            });
            let (signal_tx, signal_rx) = oneshot::channel::<()>();
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = signal_rx.await;
            });
            let mut serve = std::pin::pin!(serve.into_future());
            tokio::select! {
                _ = &mut serve => return,
                _ = stop_rx => {}
            }
            drained.draining.store(true, Ordering::SeqCst);
            tracing::info!(grace_secs = grace.as_secs(), "draining");
            let _ = signal_tx.send(());
            if tokio::time::timeout(grace, serve).await.is_err() {
                tracing::warn!("shutdown grace period over; closing open streams");
            }
        });
        Ok(GatewayHandle {
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

fn build_shared(config: Config, env: &config::Env) -> Result<Shared, StartError> {
    let creds = credentials::CredentialSet::build(&config, env, BTreeMap::new())
        .map_err(StartError::Credentials)?;
    let audit = audit::AuditLog::open(&config.audit).map_err(StartError::Audit)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .connect_timeout(config.limits.connect_timeout)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1024)
        .build()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let permits = config
        .tenants
        .iter()
        .map(|t| Arc::new(Semaphore::new(t.max_concurrent_streams)))
        .collect();
    let id_prefix = format!("gw_{:08x}", rand::random::<u32>());
    Ok(Shared {
        config,
        creds,
        metrics: Arc::new(metrics::Metrics::new()),
        audit: Arc::new(audit),
        http,
        permits,
        draining: AtomicBool::new(false),
        next_id: AtomicU64::new(1),
        id_prefix,
    })
}

/// A running gateway; dropping it stops the server without draining.
#[derive(Debug)]
pub struct GatewayHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
}

impl GatewayHandle {
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

    /// Stops accepting requests, drains open streams up to the grace period, and returns.
    pub async fn shutdown(mut self) {
        self.stop_and_wait().await;
    }
}

impl Drop for GatewayHandle {
    fn drop(&mut self) {
        if let Some(join) = self.join.take() {
            join.abort();
        }
    }
}

fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/v1/responses", post(openai_create))
        .route("/v1/responses/{id}", get(openai_by_id).delete(openai_by_id))
        .route("/v1/responses/{id}/cancel", post(openai_by_id))
        .route("/v1/messages", post(anthropic_create))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback(fallback)
        .with_state(shared)
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.draining.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ready".into_response()
    }
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    let mut r = shared.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// One request's identity for logs, metrics and the audit log.
struct Ctx {
    shared: Arc<Shared>,
    request_id: String,
    route: &'static str,
    shape: Shape,
}

impl Ctx {
    fn new(shared: &Arc<Shared>, route: &'static str, shape: Shape) -> Self {
        let n = shared.next_id.fetch_add(1, Ordering::Relaxed);
        Ctx {
            request_id: format!("{}{n:010}", shared.id_prefix),
            shared: shared.clone(),
            route,
            shape,
        }
    }

    fn refuse(&self, tenant: &str, err: GatewayError) -> Response {
        let response = err.render(self.shape, &self.request_id);
        self.shared.metrics.refusal(self.route, err.kind.label());
        self.shared
            .metrics
            .request(self.route, tenant, response.status().as_u16());
        tracing::info!(
            request_id = %self.request_id,
            route = self.route,
            tenant,
            reason = err.kind.label(),
            status = response.status().as_u16(),
            "refused"
        );
        response
    }
}

/// Finds the tenant of the caller's gateway key (constant-time over every configured hash).
fn authenticate(shared: &Shared, headers: &HeaderMap, shape: Shape) -> Option<usize> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let key = match shape {
        Shape::OpenAi => bearer,
        Shape::Anthropic => api_key.or(bearer),
    }?;
    let hash: [u8; 32] = sha2::Sha256::digest(key.trim().as_bytes()).into();
    let mut found = None;
    for (i, t) in shared.config.tenants.iter().enumerate() {
        for h in &t.key_hashes {
            let diff = h
                .iter()
                .zip(hash.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if diff == 0 {
                found = Some(i);
            }
        }
    }
    found
}

async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, GatewayError> {
    let too_large = || {
        GatewayError::new(
            Kind::TooLarge,
            format!("request body is larger than the gateway's limit of {limit} bytes"),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large());
    }
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| GatewayError::new(Kind::Invalid, format!("reading the body: {e}")))?;
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

async fn openai_create(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let cx = Ctx::new(&shared, "responses", Shape::OpenAi);
    create(cx, Vendor::OpenAi, request).await
}

async fn anthropic_create(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let cx = Ctx::new(&shared, "messages", Shape::Anthropic);
    create(cx, Vendor::Anthropic, request).await
}

async fn create(cx: Ctx, vendor: Vendor, request: Request) -> Response {
    let shared = cx.shared.clone();
    if shared.draining.load(Ordering::SeqCst) {
        return cx.refuse(
            "",
            GatewayError::new(Kind::Unavailable, "the gateway is shutting down"),
        );
    }
    let upstream = match vendor {
        Vendor::Anthropic => shared.config.anthropic.as_ref(),
        _ => shared.config.openai.as_ref(),
    };
    let Some(upstream) = upstream else {
        return cx.refuse(
            "",
            GatewayError::new(Kind::NotFound, "this gateway does not serve this API"),
        );
    };
    let (parts, body) = request.into_parts();
    let Some(ti) = authenticate(&shared, &parts.headers, cx.shape) else {
        return cx.refuse(
            "",
            GatewayError::new(Kind::Unauthenticated, "missing or unknown gateway key"),
        );
    };
    let tenant = &shared.config.tenants[ti];
    let body = match read_body(body, &parts.headers, shared.config.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return cx.refuse(&tenant.name, e),
    };
    let beta = parts
        .headers
        .get("anthropic-beta")
        .and_then(|v| v.to_str().ok());
    let checked = match vendor {
        Vendor::Anthropic => policy::check_anthropic(&body, beta, tenant, ti, &shared.creds).await,
        _ => policy::check_openai(&body, tenant, ti, &shared.creds).await,
    };
    let mut checked = match checked {
        Ok(c) => c,
        Err(e) => return cx.refuse(&tenant.name, e),
    };
    for server in &checked.refreshes {
        shared.metrics.refresh(&tenant.name, server);
    }
    let Ok(permit) = shared.permits[ti].clone().try_acquire_owned() else {
        return cx.refuse(
            &tenant.name,
            GatewayError::new(
                Kind::TooMany,
                format!(
                    "tenant `{}` already has {} requests in flight",
                    tenant.name, tenant.max_concurrent_streams
                ),
            ),
        );
    };
    let url = match vendor {
        Vendor::Anthropic => format!("{}/v1/messages", upstream.base_url),
        _ => format!("{}/responses", upstream.base_url),
    };
    let mut rb = shared
        .http
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json");
    rb = vendor_auth(rb, vendor, &upstream.api_key);
    for name in [
        "accept",
        "anthropic-version",
        "anthropic-beta",
        "idempotency-key",
    ] {
        if let Some(v) = parts.headers.get(name) {
            rb = rb.header(name, v.clone());
        }
    }
    if vendor == Vendor::Anthropic && !parts.headers.contains_key("anthropic-version") {
        rb = rb.header("anthropic-version", "2023-06-01");
    }
    tracing::debug!(
        request_id = %cx.request_id,
        tenant = %tenant.name,
        upstream = %redact::origin(&upstream.base_url),
        servers = checked.servers.len(),
        stream = checked.stream,
        "forwarding"
    );
    let streaming = checked.stream;
    let body = std::mem::take(&mut checked.body);
    forward(
        cx,
        ti,
        rb.body(body),
        Some(checked),
        vendor,
        streaming,
        permit,
    )
    .await
}

fn vendor_auth(
    rb: reqwest::RequestBuilder,
    vendor: Vendor,
    key: &Sensitive,
) -> reqwest::RequestBuilder {
    match vendor {
        Vendor::Anthropic => {
            let mut v = HeaderValue::from_str(key.expose())
                .unwrap_or_else(|_| HeaderValue::from_static(""));
            v.set_sensitive(true);
            rb.header("x-api-key", v)
        }
        _ => {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .unwrap_or_else(|_| HeaderValue::from_static(""));
            v.set_sensitive(true);
            rb.header(header::AUTHORIZATION, v)
        }
    }
}

/// Sends the upstream request and relays the response as it arrives.
async fn forward(
    cx: Ctx,
    ti: usize,
    rb: reqwest::RequestBuilder,
    checked: Option<Checked>,
    vendor: Vendor,
    streaming: bool,
    permit: OwnedSemaphorePermit,
) -> Response {
    let shared = cx.shared.clone();
    let tenant = shared.config.tenants[ti].name.clone();
    let limits = &shared.config.limits;
    let started = Instant::now();
    let sent = tokio::time::timeout(limits.response_timeout, rb.send()).await;
    let upstream = match sent {
        Err(_) => {
            return cx.refuse(
                &tenant,
                GatewayError::new(Kind::Timeout, "the upstream did not answer in time"),
            );
        }
        Ok(Err(e)) => {
            let kind = if e.is_timeout() {
                Kind::Timeout
            } else {
                Kind::Upstream
            };
            return cx.refuse(
                &tenant,
                GatewayError::new(
                    kind,
                    if e.is_connect() {
                        "the upstream could not be reached"
                    } else {
                        "the upstream request failed"
                    },
                ),
            );
        }
        Ok(Ok(r)) => r,
    };
    shared
        .metrics
        .upstream_latency(vendor.as_str(), started.elapsed().as_secs_f64());
    let status = upstream.status();
    shared.metrics.request(cx.route, &tenant, status.as_u16());
    let is_sse = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut builder = Response::builder().status(status.as_u16());
    for (name, value) in upstream.headers() {
        if matches!(
            name.as_str(),
            "connection" | "keep-alive" | "transfer-encoding" | "content-length" | "set-cookie"
        ) {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    builder = builder.header(REQUEST_ID_HEADER, cx.request_id.as_str());
    let (servers, request_secrets) = match checked {
        Some(c) => (c.servers, c.secrets),
        None => (Vec::new(), Vec::new()),
    };
    let all_secrets: Vec<Sensitive> = request_secrets
        .iter()
        .chain(shared.creds.static_secrets())
        .cloned()
        .collect();
    let audit_tx = (!servers.is_empty() || streaming || is_sse).then(|| {
        audit::spawn(
            audit::AuditContext {
                log: shared.audit.clone(),
                metrics: shared.metrics.clone(),
                tenant: tenant.clone(),
                request_id: cx.request_id.clone(),
                vendor,
                servers,
                scrubber: Scrubber::new(all_secrets.iter()),
            },
            is_sse,
        )
    });
    shared.metrics.stream_open(&tenant, 1);
    let relay = Relay {
        upstream: Box::pin(upstream.bytes_stream()),
        scrubber: Scrubber::new(all_secrets.iter()),
        audit: audit_tx,
        idle: limits.idle_timeout,
        deadline: tokio::time::Instant::from_std(started + limits.total_timeout),
        done: false,
        _guard: StreamGuard {
            shared: shared.clone(),
            tenant,
            request_id: cx.request_id.clone(),
            _permit: permit,
            started,
        },
    };
    let body = Body::from_stream(futures_util::stream::unfold(relay, Relay::next));
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Releases the tenant's permit and closes the stream gauge when the relay ends or the client
/// goes away (which drops the upstream response and so cancels the upstream request).
struct StreamGuard {
    shared: Arc<Shared>,
    tenant: String,
    request_id: String,
    _permit: OwnedSemaphorePermit,
    started: Instant,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.shared.metrics.stream_open(&self.tenant, -1);
        tracing::debug!(
            request_id = %self.request_id,
            elapsed_ms = self.started.elapsed().as_millis() as u64,
            "relay closed"
        );
    }
}

struct Relay {
    upstream: ByteStream,
    scrubber: Scrubber,
    audit: Option<tokio::sync::mpsc::UnboundedSender<Bytes>>,
    idle: Duration,
    deadline: tokio::time::Instant,
    done: bool,
    _guard: StreamGuard,
}

impl Relay {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Relay)> {
        if self.done {
            return None;
        }
        let until = (tokio::time::Instant::now() + self.idle).min(self.deadline);
        match tokio::time::timeout_at(until, self.upstream.next()).await {
            Ok(Some(Ok(chunk))) => {
                if let Some(tx) = &self.audit {
                    let _ = tx.send(chunk.clone());
                }
                let out = match self.scrubber.feed(&chunk) {
                    None => chunk,
                    Some(v) => Bytes::from(v),
                };
                Some((Ok(out), self))
            }
            Ok(None) => {
                self.done = true;
                self.audit = None;
                let rest = self.scrubber.finish();
                if rest.is_empty() {
                    None
                } else {
                    Some((Ok(Bytes::from(rest)), self))
                }
            }
            Ok(Some(Err(e))) => {
                tracing::info!(request_id = %self._guard.request_id, error = %redact_error(&e), "upstream body failed");
                self.done = true;
                Some((Err(std::io::Error::other("upstream body failed")), self))
            }
            Err(_) => {
                tracing::info!(request_id = %self._guard.request_id, "upstream body timed out");
                self.done = true;
                Some((Err(std::io::Error::other("upstream timed out")), self))
            }
        }
    }
}

/// A reqwest error without its URL (paths and queries may hold secrets).
fn redact_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    kind.to_owned()
}

/// `GET`/`DELETE /v1/responses/{id}` and `POST /v1/responses/{id}/cancel`: forwarded with the
/// vendor key after the caller is authenticated; no body is forwarded.
async fn openai_by_id(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let cx = Ctx::new(&shared, "responses_by_id", Shape::OpenAi);
    let Some(upstream) = shared.config.openai.as_ref() else {
        return cx.refuse("", GatewayError::new(Kind::NotFound, "no OpenAI upstream"));
    };
    let Some(ti) = authenticate(&shared, request.headers(), cx.shape) else {
        return cx.refuse(
            "",
            GatewayError::new(Kind::Unauthenticated, "missing or unknown gateway key"),
        );
    };
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return cx.refuse(
            &shared.config.tenants[ti].name,
            GatewayError::new(Kind::Invalid, "invalid response id").with_param("id"),
        );
    }
    let cancel = request.uri().path().ends_with("/cancel");
    let url = if cancel {
        format!("{}/responses/{id}/cancel", upstream.base_url)
    } else {
        format!("{}/responses/{id}", upstream.base_url)
    };
    let method = if cancel {
        Method::POST
    } else {
        request.method().clone()
    };
    let mut rb = shared.http.request(method, &url);
    if let Some(q) = request.uri().query() {
        rb = shared.http.request(
            if cancel {
                Method::POST
            } else {
                request.method().clone()
            },
            format!("{url}?{q}"),
        );
    }
    rb = vendor_auth(rb, Vendor::OpenAi, &upstream.api_key);
    let Ok(permit) = shared.permits[ti].clone().try_acquire_owned() else {
        return cx.refuse(
            &shared.config.tenants[ti].name,
            GatewayError::new(Kind::TooMany, "too many requests in flight"),
        );
    };
    forward(cx, ti, rb, None, Vendor::OpenAi, true, permit).await
}

/// Unknown paths: 404 in the vendor's shape, or pass-through (GET) where configured.
async fn fallback(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let shape = if path.starts_with("/v1/messages")
        || request.headers().contains_key("x-api-key")
        || request.headers().contains_key("anthropic-version")
    {
        Shape::Anthropic
    } else {
        Shape::OpenAi
    };
    let cx = Ctx::new(&shared, "other", shape);
    let upstream = match shape {
        Shape::Anthropic => shared.config.anthropic.as_ref(),
        Shape::OpenAi => shared.config.openai.as_ref(),
    };
    let pass =
        upstream.filter(|u| request.method() == Method::GET && u.passthrough.contains(&path));
    let Some(upstream) = pass else {
        return cx.refuse(
            "",
            GatewayError::new(
                Kind::NotFound,
                format!("{} {path} is not served by this gateway", request.method()),
            ),
        );
    };
    let Some(ti) = authenticate(&shared, request.headers(), shape) else {
        return cx.refuse(
            "",
            GatewayError::new(Kind::Unauthenticated, "missing or unknown gateway key"),
        );
    };
    let vendor = match shape {
        Shape::Anthropic => Vendor::Anthropic,
        Shape::OpenAi => Vendor::OpenAi,
    };
    // OpenAI base URLs include /v1; pass-through paths are given from the root.
    let url = match vendor {
        Vendor::Anthropic => format!("{}{path}", upstream.base_url),
        _ => format!("{}{}", upstream.base_url.trim_end_matches("/v1"), path),
    };
    let mut rb = vendor_auth(shared.http.get(&url), vendor, &upstream.api_key);
    if let Some(v) = request.headers().get("anthropic-version") {
        rb = rb.header("anthropic-version", v.clone());
    }
    let Ok(permit) = shared.permits[ti].clone().try_acquire_owned() else {
        return cx.refuse(
            &shared.config.tenants[ti].name,
            GatewayError::new(Kind::TooMany, "too many requests in flight"),
        );
    };
    forward(cx, ti, rb, None, vendor, false, permit).await
}
