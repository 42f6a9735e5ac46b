//! The routes: which path goes to which handler. Handlers here only make the request's
//! [`Ctx`] and hand over to the module that does the work.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use mcpwire_schema::event::Vendor;

use crate::error::Shape;
use crate::state::{App, Ctx};
use crate::{by_id, caller, connections, create, passthrough};

/// The gateway's router.
pub(crate) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        .route("/v1/responses", post(openai_create))
        .route("/v1/responses/{id}", get(openai_by_id).delete(openai_by_id))
        .route("/v1/responses/{id}/cancel", post(openai_by_id))
        .route("/v1/messages", post(anthropic_create))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/v1/mcpwire/connections",
            post(connect).get(list_connections),
        )
        .route("/v1/mcpwire/connections/{server}", delete(disconnect))
        .route("/oauth/callback", get(oauth_callback))
        .merge(crate::ui::router())
        .fallback(fallback)
        .with_state(app)
}

async fn openai_create(State(app): State<Arc<App>>, request: Request) -> Response {
    let cx = Ctx::new(&app, "responses", Shape::OpenAi);
    create::create(cx, Vendor::OpenAi, request).await
}

async fn anthropic_create(State(app): State<Arc<App>>, request: Request) -> Response {
    let cx = Ctx::new(&app, "messages", Shape::Anthropic);
    create::create(cx, Vendor::Anthropic, request).await
}

async fn openai_by_id(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let cx = Ctx::new(&app, "responses_by_id", Shape::OpenAi);
    by_id::serve(cx, id, request).await
}

async fn connect(State(app): State<Arc<App>>, request: Request) -> Response {
    connections::connect(Ctx::new(&app, "connections", Shape::OpenAi), request).await
}

async fn list_connections(State(app): State<Arc<App>>, request: Request) -> Response {
    connections::list(Ctx::new(&app, "connections", Shape::OpenAi), request).await
}

async fn disconnect(
    State(app): State<Arc<App>>,
    Path(server): Path<String>,
    request: Request,
) -> Response {
    connections::disconnect(
        Ctx::new(&app, "connections", Shape::OpenAi),
        server,
        request,
    )
    .await
}

async fn oauth_callback(State(app): State<Arc<App>>, request: Request) -> Response {
    connections::callback(Ctx::new(&app, "oauth_callback", Shape::OpenAi), request).await
}

async fn fallback(State(app): State<Arc<App>>, request: Request) -> Response {
    let cx = Ctx::new(&app, "other", passthrough::shape_of(&request));
    passthrough::serve(cx, request).await
}

/// 200 while serving, 503 from SIGTERM until the process exits (the listener stays open
/// while open streams drain, so load balancers see it). The body says what this replica can
/// reach: `{"status": "ready"|"draining", "replica", "shared": "ok"|"unreachable"|"off",
/// "stores": {"NAME": "ok"|"unreachable: why"}, "probes": {"NAME (origin)": {"ok", "summary"}}}`
/// (probes with `[server] probe_on_start`). An unreachable Redis does not make a
/// replica unready: limits fall back to this process, and requests needing a token from an
/// unreachable store get 503 on their own.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let live = app.live();
    let shared = match &app.shared {
        None => "off",
        Some(s) if s.ping().await => "ok",
        Some(_) => "unreachable",
    };
    let mut stores = serde_json::Map::new();
    for (name, health) in live.creds.store_health().await {
        let status = match health {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("unreachable: {}", live.static_scrubber.scrub_str(&e)),
        };
        stores.insert(name, status.into());
    }
    let draining = app.draining();
    let body = serde_json::json!({
        "status": if draining { "draining" } else { "ready" },
        "replica": app.replica,
        "shared": shared,
        "stores": stores,
        "probes": app.probes.snapshot(),
    });
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Prometheus text; with `[metrics] bearer_sha256`, only for a listed bearer token.
async fn metrics(State(app): State<Arc<App>>, request: Request) -> Response {
    let live = app.live();
    let hashes = &live.config.metrics.bearer_hashes;
    if !hashes.is_empty() && !caller::bearer_matches(request.headers(), hashes) {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "a metrics bearer token is required\n",
        )
            .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    if let Some(t) = &app.telemetry {
        app.metrics.spans(t.spans_exported(), t.spans_dropped());
    }
    let mut r = app.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
