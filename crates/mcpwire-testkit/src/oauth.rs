//! A scripted MCP resource server and OAuth 2.1 authorization server on wiremock (127.0.0.1
//! only), and the pieces they are made of: authorization server metadata, the protected
//! resource's 401 challenge and metadata, registration, an `/authorize` that redirects back
//! with a code, token responses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::route::{Route, param, query, requests_to};

/// Good authorization server metadata for `issuer` (authorization code and refresh, PKCE
/// S256, public clients, dynamic registration).
pub fn metadata(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
    })
}

/// `/authorize` answering 302 to the request's `redirect_uri` with `code`, the request's
/// `state` and, when set, an `iss`.
pub struct AuthorizeRedirect {
    /// The authorization code handed back.
    pub code: String,
    /// The RFC 9207 `iss` parameter, if any.
    pub iss: Option<String>,
}

impl AuthorizeRedirect {
    /// A redirect with `code` and no `iss`.
    pub fn code(code: &str) -> Self {
        AuthorizeRedirect {
            code: code.to_owned(),
            iss: None,
        }
    }
}

impl Respond for AuthorizeRedirect {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q = query(req);
        let Ok(mut location) =
            url::Url::parse(param(&q, "redirect_uri").unwrap_or("http://127.0.0.1/cb"))
        else {
            return ResponseTemplate::new(400);
        };
        {
            let mut pairs = location.query_pairs_mut();
            pairs.append_pair("code", &self.code);
            if let Some(state) = param(&q, "state") {
                pairs.append_pair("state", state);
            }
            if let Some(iss) = &self.iss {
                pairs.append_pair("iss", iss);
            }
        }
        ResponseTemplate::new(302).insert_header("location", location.as_str())
    }
}

/// A 200 token response: `Bearer` access token `at`, optionally a refresh token, lifetime.
pub fn token_json(at: &str, rt: Option<&str>, expires_in: u64) -> ResponseTemplate {
    let mut v = json!({"access_token": at, "token_type": "Bearer", "expires_in": expires_in});
    if let Some(rt) = rt {
        v["refresh_token"] = rt.into();
    }
    ResponseTemplate::new(200).set_body_json(v)
}

/// A JSON body with this status.
pub fn json_reply(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// RFC 7636 S256 of a verifier (and RFC 9449 `ath` of a token), computed independently of
/// the crate under test.
pub fn s256(v: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

/// On `rs`: `POST /mcp` answers 401 with a challenge naming the path-aware protected resource
/// metadata (and `scope`, if given), which says `resource` is protected by `issuer`.
pub async fn protected_resource(
    rs: &MockServer,
    resource: &str,
    issuer: &str,
    scope: Option<&str>,
) {
    let prm_url = format!("{}/.well-known/oauth-protected-resource/mcp", rs.uri());
    let mut challenge = format!(r#"Bearer resource_metadata="{prm_url}""#);
    if let Some(s) = scope {
        challenge.push_str(&format!(r#", scope="{s}""#));
    }
    let unauthorized = ResponseTemplate::new(401).insert_header("www-authenticate", challenge);
    Route::post("/mcp").reply(rs, unauthorized).await;
    let prm = json!({"resource": resource, "authorization_servers": [issuer]});
    Route::get("/.well-known/oauth-protected-resource/mcp")
        .reply(rs, json_reply(200, prm))
        .await;
}

/// On `auth`: the metadata `md`, `POST /register` answering 201 with `registration`, and
/// `GET /authorize` redirecting back with `code` (and `iss`).
pub async fn authorization_server(
    auth: &MockServer,
    md: Value,
    registration: Value,
    code: &str,
    iss: Option<String>,
) {
    Route::get("/.well-known/oauth-authorization-server")
        .reply(auth, json_reply(200, md))
        .await;
    Route::post("/register")
        .reply(auth, json_reply(201, registration))
        .await;
    let redirect = AuthorizeRedirect {
        code: code.to_owned(),
        iss,
    };
    Route::get("/authorize").reply(auth, redirect).await;
}

/// A resource server and an authorization server, each its own wiremock.
pub struct Scripted {
    /// The MCP resource server (`/mcp`).
    pub rs: MockServer,
    /// The authorization server (issuer).
    pub auth: MockServer,
}

impl Scripted {
    /// Both servers, nothing mounted.
    pub async fn start() -> Self {
        Scripted {
            rs: MockServer::start().await,
            auth: MockServer::start().await,
        }
    }

    /// `<rs>/mcp`.
    pub fn server_url(&self) -> String {
        format!("{}/mcp", self.rs.uri())
    }

    /// The authorization server's URL, its issuer.
    pub fn issuer(&self) -> String {
        self.auth.uri()
    }

    /// [`protected_resource`] on the resource server, pointing at this issuer.
    pub async fn mount_rs(&self, resource: &str, scope: Option<&str>) {
        protected_resource(&self.rs, resource, &self.issuer(), scope).await;
    }

    /// [`authorization_server`] with metadata `md`, client `client-1` and code `code-1`.
    pub async fn mount_as(&self, md: Value, iss: Option<String>) {
        let registration = json!({"client_id": "client-1"});
        authorization_server(&self.auth, md, registration, "code-1", iss).await;
    }

    /// `POST /token` on the authorization server answers `response`.
    pub async fn mount_token(&self, response: impl Respond + 'static) {
        Route::post("/token").reply(&self.auth, response).await;
    }

    /// `POST /token` for requests whose body says `grant_type=<grant>` answers `response`.
    pub async fn mount_grant(&self, grant: &str, response: impl Respond + 'static) {
        Route::post("/token")
            .body_contains(format!("grant_type={grant}"))
            .reply(&self.auth, response)
            .await;
    }

    /// Both servers with the resource server mounted ([`Scripted::mount_rs`], the resource
    /// being the server URL) and good metadata for the issuer, to change and then mount.
    pub async fn with_metadata() -> (Self, Value) {
        let s = Self::start().await;
        s.mount_rs(&s.server_url(), None).await;
        let md = metadata(&s.issuer());
        (s, md)
    }

    /// Everything but `/token`: the resource is the server URL, good metadata.
    pub async fn discoverable() -> Self {
        let s = Self::start().await;
        s.mount_rs(&s.server_url(), None).await;
        s.mount_as(metadata(&s.issuer()), None).await;
        s
    }

    /// Everything: the resource is the server URL, good metadata, tokens `AT-1` / `RT-1`
    /// (an hour).
    pub async fn standard() -> Self {
        let s = Self::start().await;
        s.mount_rs(&s.server_url(), None).await;
        s.mount_as(metadata(&s.issuer()), None).await;
        s.mount_token(token_json("AT-1", Some("RT-1"), 3600)).await;
        s
    }

    /// The requests `server` (one of the two) received for `route`.
    pub async fn requests_to(&self, server: &MockServer, route: &str) -> Vec<Request> {
        requests_to(server, route).await
    }
}

/// A resource server and authorization server on one wiremock (`issuer` = its URL): the
/// protected resource `<url>/mcp`, metadata `md(issuer)`, client `client_id` registered as
/// public, code `code-1`, and `token` at `POST /token`. Returns the server and the resource.
pub async fn one_origin(
    md: impl FnOnce(&str) -> Value,
    client_id: &str,
    token: impl Respond + 'static,
) -> (MockServer, String) {
    let server = MockServer::start().await;
    let issuer = server.uri();
    let resource = format!("{issuer}/mcp");
    protected_resource(&server, &resource, &issuer, None).await;
    let registration = json!({"client_id": client_id, "token_endpoint_auth_method": "none"});
    authorization_server(&server, md(&issuer), registration, "code-1", None).await;
    Route::post("/token").reply(&server, token).await;
    (server, resource)
}

/// [`metadata`] without `grant_types_supported` (clients then assume the RFC 8414 default).
pub fn metadata_without_grant_types(issuer: &str) -> Value {
    let mut md = metadata(issuer);
    if let Some(fields) = md.as_object_mut() {
        fields.remove("grant_types_supported");
    }
    md
}

/// [`one_origin`] issuing rotating tokens with lifetime `expires_in`: `access-1` /
/// `refresh-1` at login, then `access-2`, `access-3`, ... on each refresh.
pub struct RotatingServer {
    server: MockServer,
    refreshes: Arc<AtomicUsize>,
}

impl RotatingServer {
    /// Starts it.
    pub async fn start(expires_in: u64) -> Self {
        let refreshes = Arc::new(AtomicUsize::new(0));
        let counter = refreshes.clone();
        let token = move |req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            let n = if body.contains("grant_type=refresh_token") {
                counter.fetch_add(1, Ordering::SeqCst) + 2
            } else {
                1
            };
            json_reply(
                200,
                json!({
                    "access_token": format!("access-{n}"),
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                    "refresh_token": format!("refresh-{n}"),
                }),
            )
        };
        let (server, _) = one_origin(metadata, "client-1", token).await;
        RotatingServer { server, refreshes }
    }

    /// The protected MCP resource, `<url>/mcp`.
    pub fn resource(&self) -> String {
        format!("{}/mcp", self.server.uri())
    }

    /// How many refreshes it answered.
    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}
