//! A stateful OAuth 2.1 authorization server on 127.0.0.1 for end-to-end tests of per-user
//! credentials: RFC 8414 metadata, `/authorize` (the test plays the browser: the user is
//! named in an `x-test-user` header, `x-test-deny` answers `error=access_denied`), the
//! authorization-code grant with PKCE S256 checked, rotating refresh tokens, RFC 7009
//! revocation, and the enterprise-managed pair: an RFC 8693 token exchange (as the IdP)
//! issuing ID-JAGs and the RFC 7523 JWT-bearer grant (as the MCP server's authorization
//! server) redeeming them. [`MockAs::accepts`] tells a resource server which access tokens
//! are live.
//!
//! Tokens are `at-<user>-<n>` / `rt-<user>-<n>`; an ID-JAG is `jag-<user>`, its access
//! token `at-<user>-jag`. A subject token whose `sub` contains `refuse` is refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

/// What the server has done, for assertions.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// Access tokens issued and not revoked.
    pub live: Vec<String>,
    /// Tokens revoked through `/revoke`.
    pub revoked: Vec<String>,
    /// Refresh grants answered, per user.
    pub refreshes: HashMap<String, u32>,
    /// Codes redeemed (each once).
    pub redeemed: u32,
    /// Code redemptions refused (wrong verifier, unknown or reused code).
    pub refused_codes: u32,
    /// Token exchanges answered / refused.
    pub exchanges: u32,
    /// Token exchanges refused.
    pub refused_exchanges: u32,
}

struct Code {
    user: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Inner {
    record: Record,
    codes: HashMap<String, Code>,
    /// refresh token -> user
    refresh: HashMap<String, String>,
    issued: u32,
    expires_in: u64,
}

/// The server. Dropping it does not stop it (it lives as long as the test's runtime).
#[derive(Clone)]
pub struct MockAs {
    /// `http://127.0.0.1:<port>`: the issuer, and the base of every endpoint.
    pub issuer: String,
    inner: Arc<Mutex<Inner>>,
}

fn s256(v: &str) -> String {
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn token_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": error, "error_description": description}).to_string(),
    )
        .into_response()
}

fn json_ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// The `sub` of a JWT's payload, unverified (the IdP's own token, in these tests).
fn jwt_sub(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("sub")?.as_str().map(str::to_owned)
}

impl MockAs {
    /// Starts it; access tokens live `expires_in` seconds.
    pub async fn start(expires_in: u64) -> MockAs {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("mock authorization server: bind");
        let issuer = format!(
            "http://{}",
            listener
                .local_addr()
                .expect("mock authorization server: address")
        );
        let inner = Arc::new(Mutex::new(Inner {
            expires_in,
            ..Inner::default()
        }));
        let me = MockAs {
            issuer: issuer.clone(),
            inner,
        };
        let state = me.clone();
        let router = axum::Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        me
    }

    /// Whether `token` is a live access token of this server.
    pub fn accepts(&self, token: &str) -> bool {
        self.lock().record.live.iter().any(|t| t == token)
    }

    /// A copy of what happened so far.
    pub fn record(&self) -> Record {
        self.lock().record.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn issue(&self, user: &str, with_refresh: bool) -> Value {
        let mut st = self.lock();
        st.issued += 1;
        let n = st.issued;
        let at = format!("at-{user}-{n}");
        st.record.live.push(at.clone());
        let mut v =
            json!({"access_token": at, "token_type": "Bearer", "expires_in": st.expires_in});
        if with_refresh {
            let rt = format!("rt-{user}-{n}");
            st.refresh.insert(rt.clone(), user.to_owned());
            v["refresh_token"] = json!(rt);
        }
        v
    }
}

async fn metadata(State(s): State<MockAs>) -> Response {
    let i = &s.issuer;
    json_ok(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "revocation_endpoint": format!("{i}/revoke"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
    }))
}

async fn authorize(
    State(s): State<MockAs>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect = get("redirect_uri");
    let state = get("state");
    let mut target = match url::Url::parse(&redirect) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    };
    if headers.contains_key("x-test-deny") {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", &state);
    } else {
        let user = headers
            .get("x-test-user")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("anonymous")
            .to_owned();
        if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
            return (StatusCode::BAD_REQUEST, "PKCE S256 required").into_response();
        }
        let code = {
            let mut st = s.lock();
            st.issued += 1;
            let code = format!("code-{user}-{}", st.issued);
            st.codes.insert(
                code.clone(),
                Code {
                    user,
                    challenge: get("code_challenge"),
                    redirect_uri: redirect.clone(),
                },
            );
            code
        };
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

async fn token(State(s): State<MockAs>, body: String) -> Response {
    let f = form(&body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    match get("grant_type").as_str() {
        "authorization_code" => {
            let code = s.lock().codes.remove(&get("code"));
            let Some(code) = code else {
                s.lock().record.refused_codes += 1;
                return token_error("invalid_grant", "unknown or used code");
            };
            if s256(&get("code_verifier")) != code.challenge
                || get("redirect_uri") != code.redirect_uri
            {
                s.lock().record.refused_codes += 1;
                return token_error("invalid_grant", "PKCE verifier or redirect_uri mismatch");
            }
            s.lock().record.redeemed += 1;
            json_ok(s.issue(&code.user, true))
        }
        "refresh_token" => {
            let user = s.lock().refresh.remove(&get("refresh_token"));
            let Some(user) = user else {
                return token_error("invalid_grant", "unknown refresh token");
            };
            *s.lock().record.refreshes.entry(user.clone()).or_default() += 1;
            json_ok(s.issue(&user, true))
        }
        "urn:ietf:params:oauth:grant-type:token-exchange" => {
            let Some(sub) = jwt_sub(&get("subject_token")) else {
                s.lock().record.refused_exchanges += 1;
                return token_error("invalid_request", "subject_token is not a JWT");
            };
            if sub.contains("refuse") {
                s.lock().record.refused_exchanges += 1;
                return token_error("access_denied", "this user may not use that server");
            }
            s.lock().record.exchanges += 1;
            json_ok(json!({
                "access_token": format!("jag-{sub}"),
                "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
                "token_type": "N_A",
                "expires_in": 300,
            }))
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let assertion = get("assertion");
            let Some(user) = assertion.strip_prefix("jag-") else {
                return token_error("invalid_grant", "not an ID-JAG of this IdP");
            };
            let at = format!("at-{user}-jag");
            let mut st = s.lock();
            st.record.live.push(at.clone());
            json_ok(
                json!({"access_token": at, "token_type": "Bearer", "expires_in": st.expires_in}),
            )
        }
        other => token_error("unsupported_grant_type", other),
    }
}

async fn revoke(State(s): State<MockAs>, body: String) -> Response {
    let f = form(&body);
    let token = f.get("token").cloned().unwrap_or_default();
    let mut st = s.lock();
    st.record.revoked.push(token.clone());
    // Revoking a refresh token ends its grant: the access tokens of that user go too.
    if let Some(user) = st.refresh.remove(&token) {
        let prefix = format!("at-{user}-");
        st.record.live.retain(|t| !t.starts_with(&prefix));
    }
    st.record.live.retain(|t| t != &token);
    StatusCode::OK.into_response()
}
