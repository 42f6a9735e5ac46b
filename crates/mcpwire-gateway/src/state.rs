//! The gateway's state: [`App`] lives as long as the process (metrics, the HTTP client,
//! limits, response owners); [`Live`] is one generation of the configuration (tenants,
//! credentials, audit log). A request takes the current `Live` when it starts and keeps it to
//! its end, so a reload applies to new requests while open streams finish under the old one.
//! [`Ctx`] is one request's identity for logs, metrics and the audit log.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use axum::response::Response;
use mcpwire_auth::redact::Scrubber;

use crate::StartError;
use crate::audit::{AuditLog, Refusal};
use crate::config::{Config, Env, Tenant};
use crate::credentials::CredentialSet;
use crate::error::{GatewayError, Shape};
use crate::limits::Limiter;
use crate::metrics::Metrics;
use crate::owners::Owners;
use crate::probes::Probes;
use crate::records::Recent;
use crate::shared::Shared;
use crate::telemetry::{Capture, RequestTrace, Telemetry};
use crate::ui::Sessions;

/// One generation of the configuration and what is built from it.
pub(crate) struct Live {
    pub(crate) config: Config,
    pub(crate) creds: CredentialSet,
    pub(crate) audit: Arc<AuditLog>,
    /// Scrubs every secret known at start (vendor keys, static tokens) from what is logged.
    pub(crate) static_scrubber: Scrubber,
}

impl Live {
    /// `recent` is the process's ring of recent requests (fed while `[ui]` is on).
    pub(crate) async fn build(
        config: Config,
        env: &Env,
        replica: &str,
        recent: &Arc<Recent>,
    ) -> Result<Live, StartError> {
        let creds = CredentialSet::build(&config, env)
            .await
            .map_err(StartError::Credentials)?;
        let ring = config.ui.is_some().then(|| recent.clone());
        let audit = AuditLog::open(&config.audit, replica, ring).map_err(StartError::Audit)?;
        let static_scrubber = Scrubber::new(creds.static_secrets().iter().map(|s| s.expose()));
        Ok(Live {
            config,
            creds,
            audit: Arc::new(audit),
            static_scrubber,
        })
    }
}

/// What lives as long as the process.
pub(crate) struct App {
    live: ArcSwap<Live>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) http: reqwest::Client,
    pub(crate) limits: Limiter,
    pub(crate) owners: Owners,
    pub(crate) shared: Option<Arc<Shared>>,
    pub(crate) probes: Arc<Probes>,
    pub(crate) jwks: crate::users::Jwks,
    pub(crate) draining: AtomicBool,
    pub(crate) replica: String,
    /// Traces (`[telemetry]`, read at start: a reload does not change it).
    pub(crate) telemetry: Option<Telemetry>,
    /// Recent requests for `/ui`, fed by the audit log.
    pub(crate) recent: Arc<Recent>,
    /// `/ui` login sessions.
    pub(crate) sessions: Sessions,
    /// The environment secrets are read from (again on reload).
    pub(crate) env: Env,
    reloading: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
    id_prefix: String,
}

impl App {
    pub(crate) fn new(
        live: Live,
        replica: String,
        env: Env,
        recent: Arc<Recent>,
    ) -> Result<App, StartError> {
        let metrics = Arc::new(Metrics::new(&replica));
        let shared = match &live.config.shared {
            Some(c) => Some(Arc::new(
                Shared::new(c, metrics.clone()).map_err(StartError::Credentials)?,
            )),
            None => None,
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(live.config.limits.connect_timeout)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .build()
            .map_err(|e| StartError::Http(e.to_string()))?;
        let telemetry = match &live.config.telemetry {
            Some(t) => {
                let audit = &live.config.audit;
                let capture = Capture::new(audit.include_arguments, audit.include_outputs);
                Some(Telemetry::start(t, http.clone(), capture).map_err(StartError::Http)?)
            }
            None => None,
        };
        Ok(App {
            telemetry,
            recent,
            sessions: Sessions::default(),
            limits: Limiter::new(shared.clone(), live.config.limits.stream_lease),
            owners: Owners::new(shared.clone()),
            shared,
            probes: Arc::default(),
            jwks: crate::users::Jwks::default(),
            live: ArcSwap::from_pointee(live),
            metrics,
            http,
            draining: AtomicBool::new(false),
            replica,
            env,
            reloading: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(1),
            id_prefix: format!("gw_{:08x}", rand::random::<u32>()),
        })
    }

    /// The configuration new requests use.
    pub(crate) fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// Applies a new configuration to new requests; open requests finish under the old one.
    /// What cannot change without a restart (the listen address, `[shared]`) is kept, with a
    /// warning.
    pub(crate) async fn reload(&self, config: Config) -> Result<(), String> {
        let _one_at_a_time = self.reloading.lock().await;
        let old = self.live();
        if config.listen != old.config.listen {
            tracing::warn!("server.listen changed: it takes effect after a restart");
        }
        if config
            .shared
            .as_ref()
            .map(|s| (s.url.expose().to_owned(), s.prefix.clone()))
            != old
                .config
                .shared
                .as_ref()
                .map(|s| (s.url.expose().to_owned(), s.prefix.clone()))
        {
            tracing::warn!("[shared] changed: it takes effect after a restart");
        }
        if config.telemetry != old.config.telemetry {
            tracing::warn!("[telemetry] changed: it takes effect after a restart");
        }
        let live = Live::build(config, &self.env, &self.replica, &self.recent)
            .await
            .map_err(|e| e.to_string())?;
        self.limits.set_lease(live.config.limits.stream_lease);
        let live = Arc::new(live);
        self.live.store(live.clone());
        self.probes.start(live);
        Ok(())
    }

    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    fn request_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{}{n:010}", self.id_prefix)
    }
}

/// One request: where it came in, under which configuration, for whom.
pub(crate) struct Ctx {
    pub(crate) app: Arc<App>,
    pub(crate) live: Arc<Live>,
    pub(crate) request_id: String,
    pub(crate) route: &'static str,
    pub(crate) shape: Shape,
    pub(crate) started: Instant,
    /// The caller's tenant, once authenticated (an index into `live.config.tenants`).
    pub(crate) tenant: Option<usize>,
    /// The end user, once identified (tenants with `[tenants.users]`).
    pub(crate) user: Option<crate::users::User>,
    /// This request's trace span, when traces are on and it is a vendor request.
    pub(crate) trace: Option<RequestTrace>,
}

impl Ctx {
    pub(crate) fn new(app: &Arc<App>, route: &'static str, shape: Shape) -> Ctx {
        Ctx {
            live: app.live(),
            request_id: app.request_id(),
            app: app.clone(),
            route,
            shape,
            started: Instant::now(),
            tenant: None,
            user: None,
            trace: None,
        }
    }

    /// Opens this request's trace span (continuing the caller's `traceparent`).
    pub(crate) fn begin_trace(
        &mut self,
        vendor: mcpwire_schema::event::Vendor,
        headers: &axum::http::HeaderMap,
    ) {
        if let Some(t) = &self.app.telemetry {
            let trace = t.request(vendor, &self.request_id, Some(headers));
            trace.set_replica(&self.app.replica);
            self.trace = Some(trace);
        }
    }

    pub(crate) fn tenant(&self) -> Option<&Tenant> {
        self.tenant.map(|i| &self.live.config.tenants[i])
    }

    pub(crate) fn tenant_name(&self) -> &str {
        self.tenant().map_or("", |t| t.name.as_str())
    }

    pub(crate) fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.id.as_str())
    }

    /// Authenticates the caller's key, then identifies its end user (when the tenant names
    /// them), remembering both for logs and the audit line.
    pub(crate) async fn authenticate(
        &mut self,
        headers: &axum::http::HeaderMap,
    ) -> Result<usize, GatewayError> {
        let ti = crate::caller::authenticate(&self.live.config, headers, self.shape)?;
        self.tenant = Some(ti);
        let tenant = &self.live.config.tenants[ti];
        self.user = crate::users::identify(tenant, headers, &self.app.jwks, &self.app.http).await?;
        Ok(ti)
    }

    /// Renders a refusal, counting it and writing its log and audit lines.
    pub(crate) fn refuse(&self, err: GatewayError) -> Response {
        self.refuse_with(err, None)
    }

    /// [`Ctx::refuse`], with what arrived from upstream when that was the problem.
    pub(crate) fn refuse_with(
        &self,
        err: GatewayError,
        upstream: Option<serde_json::Value>,
    ) -> Response {
        let response = err.render(self.shape, &self.request_id);
        let status = response.status().as_u16();
        let tenant = self.tenant_name();
        self.app.metrics.refusal(self.route, err.reason());
        if let Some(trace) = &self.trace {
            trace.refused(err.reason(), status);
        }
        self.app.metrics.request(self.route, tenant, status);
        tracing::info!(
            request_id = %self.request_id,
            route = self.route,
            tenant,
            reason = err.reason(),
            status,
            "refused"
        );
        self.live.audit.refusal(
            &Refusal {
                tenant: self.tenant().map(|t| t.name.as_str()),
                user: self.user_id(),
                request_id: &self.request_id,
                route: self.route,
                reason: err.reason(),
                status,
                message: &err.message,
                param: err.param.as_deref(),
                target: err.target.as_deref(),
                upstream,
            },
            &self.live.static_scrubber,
        );
        response
    }
}
