//! `POST /v1/responses` and `POST /v1/messages`: authenticate the caller, read the body,
//! apply the tenant's policy, check the owner of any stored response the request continues,
//! take a stream slot, forward, relay.

use axum::extract::Request;
use axum::response::Response;
use mcpwire_schema::event::Vendor;

use crate::error::{GatewayError, Kind};
use crate::owners::Owner;
use crate::relay::{Expect, Plan};
use crate::state::Ctx;
use crate::{body, forward, policy, relay};

/// Serves one create request of `vendor`.
pub(crate) async fn create(mut cx: Ctx, vendor: Vendor, request: Request) -> Response {
    cx.begin_trace(vendor, request.headers());
    match prepare(&mut cx, vendor, request).await {
        Ok((rb, plan)) => match forward::send(&cx, rb, vendor).await {
            Ok(upstream) => relay::relay(cx, upstream, plan).await,
            Err(e) => cx.refuse(e),
        },
        Err(e) => cx.refuse(e),
    }
}

async fn prepare(
    cx: &mut Ctx,
    vendor: Vendor,
    request: Request,
) -> Result<(reqwest::RequestBuilder, Plan), GatewayError> {
    if cx.app.draining() {
        return Err(GatewayError::new(
            Kind::Draining,
            "the gateway is shutting down",
        ));
    }
    let live = cx.live.clone();
    let upstream = match vendor {
        Vendor::Anthropic => live.config.anthropic.as_ref(),
        _ => live.config.openai.as_ref(),
    }
    .ok_or_else(|| GatewayError::new(Kind::NotFound, "this gateway does not serve this API"))?;
    let (parts, body) = request.into_parts();
    let ti = cx.authenticate(&parts.headers).await?;
    let tenant = &live.config.tenants[ti];
    if let Some(trace) = &cx.trace {
        trace.set_tenant(&tenant.name);
        trace.set_user(cx.user_id());
    }
    let limits = &live.config.limits;
    let body = body::read(
        body,
        &parts.headers,
        limits.max_body_bytes,
        limits.header_timeout,
    )
    .await?;
    let beta = parts
        .headers
        .get("anthropic-beta")
        .and_then(|v| v.to_str().ok());
    let who = policy::Who {
        tenant,
        index: ti,
        user: cx.user.as_ref(),
        public_url: live.config.public_url.as_deref(),
    };
    let mut checked = match vendor {
        Vendor::Anthropic => policy::check_anthropic(&body, beta, &who, &live.creds).await,
        _ => policy::check_openai(&body, &who, &live.creds).await,
    }?;
    if let Some(trace) = &cx.trace {
        if let Some(model) = &checked.model {
            trace.set_model(model);
        }
        let names: Vec<String> = checked.servers.iter().map(|s| s.name.clone()).collect();
        trace.set_request(checked.stream, &names);
    }
    for server in &checked.refreshes {
        cx.app.metrics.refresh(&tenant.name, server);
    }
    for c in &checked.continues {
        cx.app
            .owners
            .check(&c.id, tenant, cx.user_id(), Some(c.field))
            .await?;
    }
    let permit = cx.app.limits.admit(tenant, &cx.request_id, true).await?;
    let url = match vendor {
        Vendor::Anthropic => format!("{}/v1/messages", upstream.base_url),
        _ => format!("{}/responses", upstream.base_url),
    };
    let rb = forward::copy_headers(cx.app.http.post(&url), vendor, &parts.headers);
    let rb = forward::vendor_auth(rb, vendor, &upstream.api_key);
    tracing::debug!(
        request_id = %cx.request_id,
        tenant = %tenant.name,
        upstream = %mcpwire_auth::redact::origin(&upstream.base_url),
        servers = checked.servers.len(),
        stream = checked.stream,
        "forwarding"
    );
    let plan = Plan {
        vendor,
        expect: if checked.stream {
            Expect::Sse
        } else {
            Expect::Json
        },
        stream: checked.stream,
        servers: std::mem::take(&mut checked.servers),
        secrets: std::mem::take(&mut checked.secrets),
        model: checked.model.take(),
        owner: (vendor == Vendor::OpenAi).then(|| Owner {
            tenant: tenant.name.clone(),
            user: cx.user_id().map(str::to_owned),
        }),
        dropped: std::mem::take(&mut checked.dropped),
        permit,
    };
    Ok((rb.body(std::mem::take(&mut checked.body)), plan))
}
