//! The scripted MCP resource server and authorization server (wiremock, 127.0.0.1 only) from
//! `mcpwire-testkit`, and clients of this crate to point at them.
#![allow(dead_code, unreachable_pub, unused_imports, clippy::unwrap_used)]

use std::sync::Arc;

use mcpwire_auth::{MemoryStore, OAuthClient, OAuthConfig, TokenStore};
pub use mcpwire_testkit::logs::LogBuffer;
pub use mcpwire_testkit::oauth::{
    AuthorizeRedirect, Scripted, authorization_server, json_reply, metadata, protected_resource,
    s256, token_json,
};
pub use mcpwire_testkit::{Route, form, param as get, query};

pub fn client_with(store: Arc<dyn TokenStore>, cfg: OAuthConfig) -> OAuthClient {
    OAuthClient::new(cfg, store).expect("client")
}

pub fn client() -> OAuthClient {
    client_with(Arc::new(MemoryStore::new()), OAuthConfig::default())
}

/// A browser's first hop: an HTTP client that does not follow redirects.
pub fn no_redirect_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs `c` in to `server_url` interactively without opening a browser, handing the
/// authorization URL to `tx` (the test's browser); the login must succeed.
pub async fn login_interactive(
    c: &OAuthClient,
    server_url: &str,
    tx: tokio::sync::oneshot::Sender<String>,
) {
    c.login(
        server_url,
        None,
        mcpwire_auth::LoginMode::Interactive {
            open_browser: false,
        },
        move |u| {
            let _ = tx.send(u.to_owned());
        },
    )
    .await
    .unwrap();
}

/// The access token `c` has for `server_url` with at least `min_left` of life (refreshing
/// first when it has less), as text.
pub async fn token_text(
    c: &OAuthClient,
    server_url: &str,
    min_left: std::time::Duration,
) -> String {
    let (at, _) = c.access_token(server_url, min_left).await.unwrap();
    at.expose().to_owned()
}

/// Every `/token` request at `auth` that no other route takes gets `status` with
/// `{"error": error}` (priority 10, below the test's own routes).
pub async fn token_fallback(auth: &wiremock::MockServer, status: u16, error: &str) {
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/token"))
        .respond_with(
            wiremock::ResponseTemplate::new(status)
                .set_body_json(serde_json::json!({"error": error})),
        )
        .with_priority(10)
        .mount(auth)
        .await;
}

/// Mounts the authorization-code grant at `s` answering `AT-1` / `RT-1` that expires in
/// `expires_in` seconds.
pub async fn grant_at1(s: &Scripted, expires_in: u64) {
    s.mount_grant(
        "authorization_code",
        token_json("AT-1", Some("RT-1"), expires_in),
    )
    .await;
}

/// The `location` of the first hop of the authorization URL the login hands to `rx`.
pub async fn authorize_location(
    http: &reqwest::Client,
    rx: tokio::sync::oneshot::Receiver<String>,
) -> String {
    let url = rx.await.unwrap();
    let resp = http.get(&url).send().await.unwrap();
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// Mounts at `server` dynamic client registration (`201` with `client_id`) and an
/// `/authorize` that redirects back with `code` and no `iss`.
pub async fn mount_register_and_authorize(
    server: &wiremock::MockServer,
    client_id: &str,
    code: &str,
) {
    Route::post("/register")
        .reply(
            server,
            wiremock::ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"client_id": client_id})),
        )
        .await;
    Route::get("/authorize")
        .reply(
            server,
            AuthorizeRedirect {
                code: code.into(),
                iss: None,
            },
        )
        .await;
}
