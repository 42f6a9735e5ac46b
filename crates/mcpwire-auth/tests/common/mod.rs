//! A scripted MCP resource server and authorization server on wiremock (127.0.0.1 only).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use mcpwire_auth::{MemoryStore, OAuthClient, OAuthConfig, TokenStore};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Form or query pairs of a request.
pub fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn query(req: &Request) -> Vec<(String, String)> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// Good authorization server metadata for `issuer`.
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

/// `/authorize` answering 302 to `redirect_uri` with a code, the request's state and
/// optionally an `iss`.
pub struct AuthorizeRedirect {
    pub code: String,
    pub iss: Option<String>,
}

impl Respond for AuthorizeRedirect {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q = query(req);
        let mut loc = url::Url::parse(get(&q, "redirect_uri").unwrap_or("http://127.0.0.1/cb"))
            .expect("redirect uri");
        {
            let mut p = loc.query_pairs_mut();
            p.append_pair("code", &self.code);
            if let Some(s) = get(&q, "state") {
                p.append_pair("state", s);
            }
            if let Some(i) = &self.iss {
                p.append_pair("iss", i);
            }
        }
        ResponseTemplate::new(302).insert_header("location", loc.as_str())
    }
}

pub fn token_json(at: &str, rt: Option<&str>, expires_in: u64) -> ResponseTemplate {
    let mut v = json!({"access_token": at, "token_type": "Bearer", "expires_in": expires_in});
    if let Some(rt) = rt {
        v["refresh_token"] = rt.into();
    }
    ResponseTemplate::new(200).set_body_json(v)
}

/// A resource server + authorization server pair.
pub struct Scripted {
    pub rs: MockServer,
    pub auth: MockServer,
}

impl Scripted {
    pub async fn start() -> Self {
        Scripted {
            rs: MockServer::start().await,
            auth: MockServer::start().await,
        }
    }

    pub fn server_url(&self) -> String {
        format!("{}/mcp", self.rs.uri())
    }

    pub fn issuer(&self) -> String {
        self.auth.uri()
    }

    /// 401 on POST /mcp with a challenge pointing at the path-aware PRM, and that PRM.
    pub async fn mount_rs(&self, resource: &str, scope: Option<&str>) {
        let prm_url = format!("{}/.well-known/oauth-protected-resource/mcp", self.rs.uri());
        let mut challenge = format!(r#"Bearer resource_metadata="{prm_url}""#);
        if let Some(s) = scope {
            challenge.push_str(&format!(r#", scope="{s}""#));
        }
        Mock::given(method("POST"))
            .and(path("/mcp"))
            .respond_with(ResponseTemplate::new(401).insert_header("www-authenticate", challenge))
            .mount(&self.rs)
            .await;
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-protected-resource/mcp"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "resource": resource,
                "authorization_servers": [self.issuer()],
            })))
            .mount(&self.rs)
            .await;
    }

    /// Metadata, DCR, `/authorize` (302 back with `code`), `/token` (auth code → AT/RT).
    pub async fn mount_as(&self, md: Value, iss: Option<String>) {
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(md))
            .mount(&self.auth)
            .await;
        Mock::given(method("POST"))
            .and(path("/register"))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(json!({"client_id": "client-1"})),
            )
            .mount(&self.auth)
            .await;
        Mock::given(method("GET"))
            .and(path("/authorize"))
            .respond_with(AuthorizeRedirect {
                code: "code-1".into(),
                iss,
            })
            .mount(&self.auth)
            .await;
    }

    pub async fn mount_token(&self, resp: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(resp)
            .mount(&self.auth)
            .await;
    }

    /// Everything: RS with `resource` = server URL, good AS, tokens AT-1 / RT-1.
    pub async fn standard() -> Self {
        let s = Self::start().await;
        s.mount_rs(&s.server_url(), None).await;
        s.mount_as(metadata(&s.issuer()), None).await;
        s.mount_token(token_json("AT-1", Some("RT-1"), 3600)).await;
        s
    }

    pub async fn requests_to(&self, server: &MockServer, p: &str) -> Vec<Request> {
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == p)
            .collect()
    }
}

pub fn client_with(store: Arc<dyn TokenStore>, cfg: OAuthConfig) -> OAuthClient {
    OAuthClient::new(cfg, store).expect("client")
}

pub fn client() -> OAuthClient {
    client_with(Arc::new(MemoryStore::new()), OAuthConfig::default())
}

/// RFC 7636 S256 of a verifier (and RFC 9449 `ath` of a token), computed independently of the
/// crate.
pub fn s256(v: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}
