//! Sending a checked request upstream: the vendor key from the gateway's environment replaces
//! whatever the caller authenticated with, only the headers a vendor needs are copied, and a
//! failure before the response head becomes a gateway error (502, or 504 on time-out).

use axum::http::{HeaderMap, HeaderValue, header};
use mcpwire_schema::Sensitive;
use mcpwire_schema::event::Vendor;

use crate::error::{GatewayError, Kind};
use crate::state::Ctx;

/// Request headers copied from the caller to the vendor.
const COPIED: &[&str] = &[
    "accept",
    "anthropic-version",
    "anthropic-beta",
    "idempotency-key",
];

/// Adds the vendor's authentication with the gateway's key.
pub(crate) fn vendor_auth(
    rb: reqwest::RequestBuilder,
    vendor: Vendor,
    key: &Sensitive,
) -> reqwest::RequestBuilder {
    let (name, value) = match vendor {
        Vendor::Anthropic => ("x-api-key", key.expose().to_owned()),
        _ => ("authorization", format!("Bearer {}", key.expose())),
    };
    match HeaderValue::from_str(&value) {
        Ok(mut v) => {
            v.set_sensitive(true);
            rb.header(name, v)
        }
        // A key that is not a header value cannot authenticate; the vendor answers 401.
        Err(_) => rb,
    }
}

/// Copies the caller headers a vendor needs (`anthropic-version` defaulted for Anthropic).
pub(crate) fn copy_headers(
    mut rb: reqwest::RequestBuilder,
    vendor: Vendor,
    headers: &HeaderMap,
) -> reqwest::RequestBuilder {
    for name in COPIED {
        if let Some(v) = headers.get(*name) {
            rb = rb.header(*name, v.clone());
        }
    }
    if vendor == Vendor::Anthropic && !headers.contains_key("anthropic-version") {
        rb = rb.header("anthropic-version", "2023-06-01");
    }
    rb.header(header::CONTENT_TYPE, "application/json")
}

/// Sends `rb` and waits for the response head, within the configured time.
pub(crate) async fn send(
    cx: &Ctx,
    rb: reqwest::RequestBuilder,
    vendor: Vendor,
) -> Result<reqwest::Response, GatewayError> {
    let limits = &cx.live.config.limits;
    let sent = tokio::time::timeout(limits.response_timeout, rb.send()).await;
    let response = match sent {
        Err(_) => {
            return Err(GatewayError::new(
                Kind::Timeout,
                "the upstream did not answer in time",
            ));
        }
        Ok(Err(e)) => {
            let kind = if e.is_timeout() {
                Kind::Timeout
            } else {
                Kind::Upstream
            };
            return Err(GatewayError::new(
                kind,
                if e.is_connect() {
                    "the upstream could not be reached"
                } else {
                    "the upstream request failed"
                },
            ));
        }
        Ok(Ok(r)) => r,
    };
    cx.app
        .metrics
        .upstream_latency(vendor.as_str(), cx.started.elapsed().as_secs_f64());
    Ok(response)
}

/// A reqwest error without its URL (paths and queries may hold secrets).
pub(crate) fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
}
