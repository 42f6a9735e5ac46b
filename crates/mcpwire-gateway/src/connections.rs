//! The connect flow for per-user MCP servers, vendor-neutral JSON under `/v1/mcpwire/`
//! (authenticated with the tenant's key and the end user as in any request):
//!
//! * `POST /v1/mcpwire/connections {"server": "docs", "return_url"?}`: `{"status":
//!   "connected"}`, or `{"status": "pending", "authorization_url", "expires_at"}`: an
//!   authorization-code + PKCE request at the server's authorization server whose single-use
//!   `state` expires in 10 minutes and is bound to (tenant, user, server), kept in the token
//!   store so that any replica can finish it;
//! * `GET /oauth/callback` (the public redirect URI, `{public_url}/oauth/callback`, no key:
//!   the browser comes here) redeems the code and stores the user's tokens, then shows a
//!   small page or redirects to the `return_url` (which must start with one of the tenant's
//!   `return_urls`); a replayed, expired, forged or refused callback stores nothing;
//! * `GET /v1/mcpwire/connections`: the user's per-user servers with status, scopes and
//!   expiry (never a token);
//! * `DELETE /v1/mcpwire/connections/{server}`: revokes the user's tokens at the
//!   authorization server (RFC 7009, where it offers it), then deletes them.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::config::AuthSpec;
use crate::credentials::{CredentialError, ServerRef};
use crate::error::{GatewayError, Kind};
use crate::policy::{CONNECT_TTL, connect_binding};
use crate::state::Ctx;

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn from_credentials(e: CredentialError) -> GatewayError {
    let mut g = GatewayError::new(e.kind, e.message);
    if let Some(code) = e.code {
        g = g.with_code(code);
    }
    g
}

/// The caller's per-user server named `name`: its index in the tenant.
fn per_user_server(cx: &Ctx, name: &str) -> Result<usize, GatewayError> {
    let tenant = cx.tenant().ok_or_else(|| {
        GatewayError::new(Kind::Unauthenticated, "missing or unknown gateway key")
    })?;
    tenant
        .mcp
        .iter()
        .position(|m| {
            m.name == name && matches!(m.auth, AuthSpec::OAuthPerUser(_) | AuthSpec::IdJag(_))
        })
        .ok_or_else(|| {
            GatewayError::new(
                Kind::NotFound,
                format!("this tenant has no per-user MCP server named `{name}`"),
            )
            .with_param("server")
        })
}

fn user_of(cx: &Ctx) -> Result<String, GatewayError> {
    cx.user_id().map(str::to_owned).ok_or_else(|| {
        GatewayError::new(
            Kind::Invalid,
            "connections belong to end users: this tenant has no [tenants.users]",
        )
    })
}

/// `POST /v1/mcpwire/connections`.
pub(crate) async fn connect(mut cx: Ctx, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let result = async {
        cx.authenticate(&parts.headers).await?;
        let user = user_of(&cx)?;
        let limits = &cx.live.config.limits;
        let bytes =
            crate::body::read(body, &parts.headers, 64 * 1024, limits.header_timeout).await?;
        let req: Value = serde_json::from_slice(&bytes).map_err(|e| {
            GatewayError::new(Kind::Invalid, format!("malformed JSON body: {e}"))
        })?;
        let server = req
            .get("server")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                GatewayError::new(Kind::Invalid, "server: the name of a per-user MCP server")
                    .with_param("server")
            })?
            .to_owned();
        let return_url = match req.get("return_url") {
            None | Some(Value::Null) => None,
            Some(Value::String(u)) => Some(u.clone()),
            Some(_) => {
                return Err(GatewayError::new(Kind::Invalid, "return_url: a string")
                    .with_param("return_url"));
            }
        };
        let live = cx.live.clone();
        let ti = cx.tenant.unwrap_or_default();
        let tenant = &live.config.tenants[ti];
        if let Some(u) = &return_url
            && !tenant.return_urls.iter().any(|allowed| u.starts_with(allowed.as_str()))
        {
            return Err(GatewayError::new(
                Kind::Forbidden,
                "return_url is not under one of this tenant's return_urls",
            )
            .with_param("return_url"));
        }
        let si = per_user_server(&cx, &server)?;
        let policy = &tenant.mcp[si];
        // Connected already (or, for ID-JAG, connectable without a browser)?
        let now = live
            .creds
            .server(ServerRef {
                tenant: ti,
                tenant_name: &tenant.name,
                server: si,
                url: &policy.url,
            }, cx.user.as_ref())
            .await;
        match now {
            Ok(_) => {
                return Ok(json_response(
                    StatusCode::OK,
                    json!({"status": "connected", "server": server}),
                ));
            }
            Err(e) if matches!(policy.auth, AuthSpec::IdJag(_)) || !e.unconnected => {
                return Err(from_credentials(e));
            }
            Err(_) => {}
        }
        let public_url = live.config.public_url.clone().unwrap_or_default();
        let binding = connect_binding(&tenant.name, &user, &server, return_url.as_deref());
        let url = live
            .creds
            .begin_connect(ServerRef {
                tenant: ti,
                tenant_name: &tenant.name,
                server: si,
                url: &policy.url,
            }, &user, &public_url, CONNECT_TTL, binding)
            .await
            .ok_or_else(|| {
                GatewayError::new(
                    Kind::CredentialsUnavailable,
                    format!("`{server}` connects through the user's IdP token, which was refused"),
                )
                .with_code("mcp_token_exchange_failed")
            })?
            .map_err(from_credentials)?;
        tracing::info!(request_id = %cx.request_id, tenant = %tenant.name, user = %user, server = %server, "connect started");
        Ok(json_response(
            StatusCode::OK,
            json!({
                "status": "pending",
                "server": server,
                "authorization_url": url.expose(),
                "expires_at": crate::limits::unix_now() + CONNECT_TTL.as_secs(),
            }),
        ))
    }
    .await;
    result.unwrap_or_else(|e| cx.refuse(e))
}

/// `GET /v1/mcpwire/connections`.
pub(crate) async fn list(mut cx: Ctx, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    let result = async {
        cx.authenticate(&parts.headers).await?;
        let user = user_of(&cx)?;
        let live = cx.live.clone();
        let ti = cx.tenant.unwrap_or_default();
        let tenant = &live.config.tenants[ti];
        let mut out = Vec::new();
        for (si, m) in tenant.mcp.iter().enumerate() {
            if !live.creds.is_per_user(ti, si) {
                continue;
            }
            let status = live
                .creds
                .connection(
                    ServerRef {
                        tenant: ti,
                        tenant_name: &tenant.name,
                        server: si,
                        url: &m.url,
                    },
                    &user,
                )
                .await
                .map_err(from_credentials)?;
            out.push(match status {
                Some(s) => json!({
                    "server": m.name,
                    "status": if s.login_required { "reconnect_required" } else { "connected" },
                    "scopes": s.scope,
                    "expires_at": s.expires_at,
                }),
                None => json!({"server": m.name, "status": "not_connected"}),
            });
        }
        Ok(json_response(StatusCode::OK, json!({"connections": out})))
    }
    .await;
    result.unwrap_or_else(|e| cx.refuse(e))
}

/// `DELETE /v1/mcpwire/connections/{server}`.
pub(crate) async fn disconnect(
    mut cx: Ctx,
    server: String,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let result = async {
        cx.authenticate(&parts.headers).await?;
        let user = user_of(&cx)?;
        let si = per_user_server(&cx, &server)?;
        let live = cx.live.clone();
        let ti = cx.tenant.unwrap_or_default();
        let tenant = &live.config.tenants[ti];
        let revoked = live
            .creds
            .disconnect(ServerRef { tenant: ti, tenant_name: &tenant.name, server: si, url: &tenant.mcp[si].url }, &user)
            .await
            .unwrap_or(Ok(false))
            .map_err(from_credentials)?;
        tracing::info!(request_id = %cx.request_id, tenant = %tenant.name, user = %user, server = %server, revoked, "disconnected");
        Ok(json_response(
            StatusCode::OK,
            json!({"status": "disconnected", "server": server, "revoked": revoked}),
        ))
    }
    .await;
    result.unwrap_or_else(|e| cx.refuse(e))
}

/// Text for the connect pages: control characters dropped (the text can come from the
/// authorization server), then escaped as every page of the gateway escapes.
fn escape(text: &str) -> String {
    let shown: String = text.chars().filter(|c| !c.is_control()).collect();
    crate::ui::html::esc(&shown)
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{t}</h1><p>{x}</p></body></html>",
        t = escape(title),
        x = escape(text)
    );
    let mut r = Response::new(Body::from(html));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r
}

/// `GET /oauth/callback`.
pub(crate) async fn callback(cx: Ctx, request: axum::extract::Request) -> Response {
    let params: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    match cx.live.creds.complete_connect(&params).await {
        Ok((binding, _status)) => {
            let b: Value = serde_json::from_str(&binding).unwrap_or(Value::Null);
            let server = b["server"].as_str().unwrap_or("the server").to_owned();
            tracing::info!(
                tenant = b["tenant"].as_str().unwrap_or(""),
                user = b["user"].as_str().unwrap_or(""),
                server = %server,
                "connected"
            );
            cx.live.audit.connection(
                b["tenant"].as_str(),
                b["user"].as_str(),
                &server,
                "connected",
                &cx.live.static_scrubber,
            );
            if let Some(to) = b["return_url"].as_str() {
                let mut url = match url::Url::parse(to) {
                    Ok(u) => u,
                    Err(_) => {
                        return page(
                            StatusCode::OK,
                            "Connected",
                            &format!("Connected to {server}. You can close this window."),
                        );
                    }
                };
                url.query_pairs_mut()
                    .append_pair("mcpwire_connected", &server);
                let mut r = StatusCode::FOUND.into_response();
                if let Ok(v) = HeaderValue::from_str(url.as_str()) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                return r;
            }
            page(
                StatusCode::OK,
                "Connected",
                &format!(
                    "Your {server} account is connected. You can close this window and go back to the app."
                ),
            )
        }
        Err(e) => {
            let (status, why) = match &e {
                mcpwire_auth::Error::StateMismatch => (
                    StatusCode::BAD_REQUEST,
                    "This link was already used, or is not one this gateway made.",
                ),
                mcpwire_auth::Error::AuthorizationExpired => (
                    StatusCode::BAD_REQUEST,
                    "This link expired. Start connecting again from the app.",
                ),
                mcpwire_auth::Error::AuthorizationDenied { .. } => (
                    StatusCode::BAD_REQUEST,
                    "The connection was not allowed, so nothing was connected.",
                ),
                mcpwire_auth::Error::StoreUnavailable { .. } => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The gateway cannot store the connection right now. Try again in a minute.",
                ),
                _ => (
                    StatusCode::BAD_GATEWAY,
                    "The server's sign-in did not complete. Start connecting again from the app.",
                ),
            };
            tracing::info!(error = %e, "connect callback refused");
            cx.live
                .audit
                .connection(None, None, "", "callback_refused", &cx.live.static_scrubber);
            page(status, "Not connected", why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn connect_page_text_is_escaped_and_loses_control_characters() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>\u{1b}[31m\r\n\u{7}ok"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;[31mok"
        );
    }
}
