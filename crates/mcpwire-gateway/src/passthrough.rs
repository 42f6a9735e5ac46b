//! Every other path: 404 in the vendor's shape, or, for a `GET` of a path listed under
//! `[upstream.*] passthrough`, forwarded as it is with the vendor key.

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use mcpwire_schema::event::Vendor;

use crate::error::{GatewayError, Kind, Shape};
use crate::relay::{Expect, Plan};
use crate::state::Ctx;
use crate::{forward, relay};

/// Which vendor a request of an unknown path is for, by path and headers.
pub(crate) fn shape_of(request: &Request) -> Shape {
    if request.uri().path().starts_with("/v1/messages")
        || request.headers().contains_key("x-api-key")
        || request.headers().contains_key("anthropic-version")
    {
        Shape::Anthropic
    } else {
        Shape::OpenAi
    }
}

/// Serves a request no route matched.
pub(crate) async fn serve(mut cx: Ctx, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    match prepare(&mut cx, &parts).await {
        Ok((rb, plan, vendor)) => match forward::send(&cx, rb, vendor).await {
            Ok(upstream) => relay::relay(cx, upstream, plan).await,
            Err(e) => cx.refuse(e),
        },
        Err(e) => cx.refuse(e),
    }
}

async fn prepare(
    cx: &mut Ctx,
    request: &axum::http::request::Parts,
) -> Result<(reqwest::RequestBuilder, Plan, Vendor), GatewayError> {
    let live = cx.live.clone();
    let path = request.uri.path();
    let vendor = match cx.shape {
        Shape::Anthropic => Vendor::Anthropic,
        Shape::OpenAi => Vendor::OpenAi,
    };
    let upstream = match vendor {
        Vendor::Anthropic => live.config.anthropic.as_ref(),
        _ => live.config.openai.as_ref(),
    }
    .filter(|u| request.method == Method::GET && u.passthrough.iter().any(|p| p == path))
    .ok_or_else(|| {
        GatewayError::new(
            Kind::NotFound,
            format!("{} {path} is not served by this gateway", request.method),
        )
    })?;
    let ti = cx.authenticate(&request.headers).await?;
    // OpenAI base URLs include /v1; pass-through paths are given from the root.
    let url = match vendor {
        Vendor::Anthropic => format!("{}{path}", upstream.base_url),
        _ => format!("{}{path}", upstream.base_url.trim_end_matches("/v1")),
    };
    let mut rb = forward::vendor_auth(cx.app.http.get(&url), vendor, &upstream.api_key);
    if let Some(v) = request.headers.get("anthropic-version") {
        rb = rb.header("anthropic-version", v.clone());
    }
    let permit = cx
        .app
        .limits
        .admit(&live.config.tenants[ti], &cx.request_id, false)
        .await?;
    Ok((
        rb,
        Plan {
            vendor,
            expect: Expect::Json,
            stream: false,
            servers: Vec::new(),
            secrets: Vec::new(),
            model: None,
            owner: None,
            dropped: Vec::new(),
            permit,
        },
        vendor,
    ))
}
