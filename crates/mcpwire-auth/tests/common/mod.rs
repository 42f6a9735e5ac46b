//! The scripted MCP resource server and authorization server (wiremock, 127.0.0.1 only) from
//! `mcpwire-testkit`, and clients of this crate to point at them.
#![allow(dead_code, unreachable_pub, unused_imports, clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;

use mcpwire_auth::discovery::Discovery;
use mcpwire_auth::{
    Error, LoginMode, MemoryStore, OAuthClient, OAuthConfig, PendingAuthorization, RedisOptions,
    RedisStore, Secret, StoreKeys, TokenStatus, TokenStore,
};
pub use mcpwire_testkit::auth_kit::fresh_dir;
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

/// Logs `c` in to `server_url` headless; the login must succeed.
pub async fn login_headless(c: &OAuthClient, server_url: &str) -> TokenStatus {
    c.login(server_url, None, LoginMode::Headless, |_| {})
        .await
        .unwrap()
}

/// The error of a headless login of `c` to `server_url`; the login must fail.
pub async fn login_error(c: &OAuthClient, server_url: &str) -> Error {
    c.login(server_url, None, LoginMode::Headless, |_| {})
        .await
        .unwrap_err()
}

/// [`Scripted::discoverable`] whose authorization-code grant answers `AT-1` / `RT-1` that
/// expires in `expires_in` seconds ([`grant_at1`]).
pub async fn issuing_at1(expires_in: u64) -> Scripted {
    let s = Scripted::discoverable().await;
    grant_at1(&s, expires_in).await;
    s
}

/// The refresh-token grant requests `s`'s authorization server received, in order.
pub async fn refresh_requests(s: &Scripted) -> Vec<wiremock::Request> {
    s.requests_to(&s.auth, "/token")
        .await
        .into_iter()
        .filter(|r| get(&form(r), "grant_type") == Some("refresh_token"))
        .collect()
}

/// Begins an authorization of `c` after discovery `d`, to the callback
/// `http://127.0.0.1/callback`.
pub async fn begin(c: &OAuthClient, d: Discovery) -> PendingAuthorization {
    c.begin_authorization(d, "http://127.0.0.1/callback", None)
        .await
        .unwrap()
}

/// The `state` parameter of `p`'s authorization URL.
pub fn state_of(p: &PendingAuthorization) -> String {
    url::Url::parse(p.authorization_url())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// A [`Scripted::standard`] pair, a client, and an authorization the client began there
/// ([`begin`]) with its `state`.
pub async fn begun_authorization() -> (Scripted, OAuthClient, PendingAuthorization, String) {
    let s = Scripted::standard().await;
    let c = client();
    let d = c.discover(&s.server_url(), None).await.unwrap();
    let p = begin(&c, d).await;
    let state = state_of(&p);
    (s, c, p, state)
}

/// Logs `c` in to `server_url` interactively while `browser` plays the browser: it gets an
/// HTTP client that does not follow redirects and the `location` of the authorization URL's
/// first hop. Returns what `browser` returns; the login must succeed.
pub async fn login_in_browser<T, Fut>(
    c: &OAuthClient,
    server_url: &str,
    browser: impl FnOnce(reqwest::Client, String) -> Fut + Send + 'static,
) -> T
where
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let browser = tokio::spawn(async move {
        let http = no_redirect_http();
        let loc = authorize_location(&http, rx).await;
        browser(http, loc).await
    });
    login_interactive(c, server_url, tx).await;
    browser.await.unwrap()
}

/// A lone MCP server with no protected resource metadata, whose `POST /mcp` answers
/// `unauthorized`, and its `/mcp` URL.
pub async fn bare_mcp_server(
    unauthorized: wiremock::ResponseTemplate,
) -> (wiremock::MockServer, String) {
    let rs = wiremock::MockServer::start().await;
    Route::post("/mcp").reply(&rs, unauthorized).await;
    let url = format!("{}/mcp", rs.uri());
    (rs, url)
}

/// A freshly generated store key (`StoreKeys::generate`).
pub fn new_store_key() -> Secret {
    StoreKeys::generate().unwrap()
}

/// Connects a [`RedisStore`] to the Redis at `url` with the store keys `keys` and `opts`.
pub async fn connect_redis(
    url: &str,
    keys: &Secret,
    opts: RedisOptions,
) -> mcpwire_auth::Result<RedisStore> {
    RedisStore::connect(&Secret::new(url), opts, StoreKeys::parse(keys).unwrap()).await
}

/// [`connect_redis`], which must succeed.
pub async fn redis_store(url: &str, keys: &Secret, opts: RedisOptions) -> RedisStore {
    connect_redis(url, keys, opts).await.unwrap()
}

/// Secrets planted in full flows that must never show up in clear text (logs, Debug, error
/// strings, the store's data).
pub mod planted {
    pub const AT1: &str = "AT-planted-1c2d4e5f";
    pub const RT1: &str = "RT-planted-9f3e8d7c";
    pub const AT2: &str = "AT-planted-2b2b2b2b";
    pub const RT2: &str = "RT-planted-3c3c3c3c";
    pub const DCR_SECRET: &str = "CS-planted-0b5e6f7a";
}
