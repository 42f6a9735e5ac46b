//! `GET` / `DELETE /v1/responses/{id}` and `POST /v1/responses/{id}/cancel`: served only to
//! the tenant that created the response through this gateway (see `owners`), forwarded with
//! the vendor key and no caller body.

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use mcpwire_schema::event::Vendor;

use crate::error::{GatewayError, Kind};
use crate::relay::{Expect, Plan};
use crate::state::Ctx;
use crate::{forward, relay};

/// Serves one by-id request for response `id`.
pub(crate) async fn serve(mut cx: Ctx, id: String, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    match prepare(&mut cx, &id, &parts).await {
        Ok((rb, plan)) => match forward::send(&cx, rb, Vendor::OpenAi).await {
            Ok(upstream) => relay::relay(cx, upstream, plan).await,
            Err(e) => cx.refuse(e),
        },
        Err(e) => cx.refuse(e),
    }
}

async fn prepare(
    cx: &mut Ctx,
    id: &str,
    request: &axum::http::request::Parts,
) -> Result<(reqwest::RequestBuilder, Plan), GatewayError> {
    let live = cx.live.clone();
    let upstream = live
        .config
        .openai
        .as_ref()
        .ok_or_else(|| GatewayError::new(Kind::NotFound, "no OpenAI upstream"))?;
    let ti = cx.authenticate(&request.headers).await?;
    let tenant = &live.config.tenants[ti];
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(GatewayError::new(Kind::Invalid, "invalid response id").with_param("id"));
    }
    cx.app.owners.check(id, tenant, cx.user_id(), None).await?;
    let cancel = request.uri.path().ends_with("/cancel");
    let mut url = if cancel {
        format!("{}/responses/{id}/cancel", upstream.base_url)
    } else {
        format!("{}/responses/{id}", upstream.base_url)
    };
    if let Some(q) = request.uri.query() {
        url.push('?');
        url.push_str(q);
    }
    let method = if cancel {
        Method::POST
    } else {
        request.method.clone()
    };
    let rb = forward::vendor_auth(
        cx.app.http.request(method, &url),
        Vendor::OpenAi,
        &upstream.api_key,
    );
    let permit = cx.app.limits.admit(tenant, &cx.request_id, false).await?;
    Ok((
        rb,
        Plan {
            vendor: Vendor::OpenAi,
            expect: Expect::Either,
            stream: false,
            servers: Vec::new(),
            secrets: Vec::new(),
            model: None,
            owner: None,
            dropped: Vec::new(),
            permit,
        },
    ))
}
