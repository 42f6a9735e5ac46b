//! The request log pages at `/ui` (on with `[ui] admin_key_sha256`; without it every `/ui`
//! path is a 404): the recent requests with a filter per column, one request's timeline, and
//! the MCP servers of the last hour. Server-rendered HTML, no script at all, no CDN; a strict
//! `Content-Security-Policy` (no script, no remote anything) backs up the escaping of every
//! value that came from a vendor, an MCP server or a caller ([`html::esc`]).
//!
//! Access: an admin key (its SHA-256 in the config, compared in constant time) sent as
//! `Authorization: Bearer`, or typed into the login form, which sets a session cookie
//! (`HttpOnly`, `SameSite=Strict`, `Path=/ui`, `Secure` when the request came over https as
//! the proxy in front says with `X-Forwarded-Proto`). Sessions live in memory for
//! [`SESSION_LIFETIME`] and end when their key leaves the configuration. Anything else, a wrong
//! key or a missing or unknown cookie, gets the login page (401).
//!
//! Data: the ring of recent requests the audit log feeds ([`crate::records::Recent`]), and the
//! last [`FILE_TAIL`] bytes of the audit file for older ones.

pub(crate) mod html;
mod pages;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::Digest as _;

use crate::records::{self, RequestRecord};
use crate::state::App;

/// How long a login lasts.
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sessions held at most (the oldest goes first).
const MAX_SESSIONS: usize = 1024;
/// How much of the audit file's end is read for requests older than the ring.
pub(crate) const FILE_TAIL: u64 = 16 * 1024 * 1024;
/// The session cookie's name.
pub(crate) const COOKIE: &str = "mcpwire_ui";

/// The `/ui` routes.
pub(crate) fn router() -> axum::Router<Arc<App>> {
    axum::Router::new()
        .route("/ui", get(list))
        .route("/ui/", get(list))
        .route("/ui/requests/{id}", get(request_page))
        .route("/ui/servers", get(servers))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
}

struct Session {
    key_hash: [u8; 32],
    expires: Instant,
}

/// Login sessions, by the SHA-256 of their cookie value.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    fn create(&self, key_hash: [u8; 32]) -> String {
        let token: [u8; 32] = rand::random();
        let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let id: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            id,
            Session {
                key_hash,
                expires: now + SESSION_LIFETIME,
            },
        );
        token
    }

    fn valid(&self, token: &str, hashes: &[[u8; 32]]) -> bool {
        let id: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id)
            .is_some_and(|s| s.expires > Instant::now() && hashes.contains(&s.key_hash))
    }

    fn end(&self, token: &str) {
        let id: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&id);
    }
}

/// The hash of `key` when it is one of `hashes` (every hash compared, in constant time).
fn key_matches(key: &str, hashes: &[[u8; 32]]) -> Option<[u8; 32]> {
    let hash: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let found = hashes.iter().fold(false, |found, h| {
        let diff = h
            .iter()
            .zip(hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        found | (diff == 0)
    });
    found.then_some(hash)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The admin key hashes, or `None` when the pages are off.
fn admin_hashes(app: &App) -> Option<Vec<[u8; 32]>> {
    app.live()
        .config
        .ui
        .as_ref()
        .map(|u| u.admin_key_hashes.clone())
}

enum Access {
    Off,
    Denied,
    Allowed,
}

fn access(app: &App, headers: &HeaderMap) -> Access {
    let Some(hashes) = admin_hashes(app) else {
        return Access::Off;
    };
    if crate::caller::bearer_matches(headers, &hashes) {
        return Access::Allowed;
    }
    match cookie(headers) {
        Some(token) if app.sessions.valid(&token, &hashes) => Access::Allowed,
        _ => Access::Denied,
    }
}

/// Adds the headers every page gets: no script, nothing remote, not framed, not cached.
fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn page(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(r)
}

fn not_found() -> Response {
    secure((StatusCode::NOT_FOUND, "not found\n").into_response())
}

/// Where to go after logging in: a `/ui` path only (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n == "/ui" || n.starts_with("/ui/") || n.starts_with("/ui?"))
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/ui".to_owned(),
    }
}

fn login_page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    page(status, pages::login(next, error))
}

/// `None` when the caller may see the pages; else what it gets instead: the login page
/// (401), or a 404 when the pages are off.
fn refuse(app: &App, request: &Request) -> Option<Response> {
    match access(app, request.headers()) {
        Access::Off => Some(not_found()),
        Access::Denied => {
            let next = request
                .uri()
                .path_and_query()
                .map_or("/ui", |p| p.as_str())
                .to_owned();
            Some(login_page(
                StatusCode::UNAUTHORIZED,
                &safe_next(Some(&next)),
                None,
            ))
        }
        Access::Allowed => None,
    }
}

fn query(request: &Request) -> HashMap<String, String> {
    request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .filter(|(_, v)| !v.trim().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Every request known: the ring's, and the audit file's older ones; newest first.
async fn all_records(app: &Arc<App>) -> Vec<RequestRecord> {
    let ring = app.recent.lines();
    let path = app.live().config.audit.path.clone();
    let mut lines = Vec::new();
    if let Some(path) = path {
        let held: HashSet<String> = ring
            .iter()
            .filter_map(|l| l.get("request_id").and_then(|v| v.as_str()))
            .map(str::to_owned)
            .collect();
        let file = tokio::task::spawn_blocking(move || records::read_tail(&path, FILE_TAIL))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        lines.extend(file.into_iter().filter(|l| {
            l.get("request_id")
                .and_then(|v| v.as_str())
                .is_some_and(|id| !held.contains(id))
        }));
    }
    lines.extend(ring);
    let mut all = records::group(&lines);
    all.sort_by(|a, b| b.start_ms.total_cmp(&a.start_ms));
    all
}

async fn list(State(app): State<Arc<App>>, request: Request) -> Response {
    if let Some(refused) = refuse(&app, &request) {
        return refused;
    }
    let filters = query(&request);
    let all = all_records(&app).await;
    page(StatusCode::OK, pages::list(&all, &filters))
}

async fn request_page(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    if let Some(refused) = refuse(&app, &request) {
        return refused;
    }
    let lines = match app.recent.request(&id) {
        Some(lines) => lines,
        None => {
            let path = app.live().config.audit.path.clone();
            match path {
                Some(path) => tokio::task::spawn_blocking(move || {
                    records::read_tail(&path, FILE_TAIL).unwrap_or_default()
                })
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|l| l.get("request_id").and_then(|v| v.as_str()) == Some(id.as_str()))
                .collect(),
                None => Vec::new(),
            }
        }
    };
    match records::group(&lines).into_iter().next() {
        Some(record) => page(StatusCode::OK, pages::request(&record)),
        None => page(StatusCode::NOT_FOUND, pages::missing(&id)),
    }
}

async fn servers(State(app): State<Arc<App>>, request: Request) -> Response {
    if let Some(refused) = refuse(&app, &request) {
        return refused;
    }
    let all = all_records(&app).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    let live = app.live();
    let per_user = live
        .config
        .tenants
        .iter()
        .enumerate()
        .any(|(ti, t)| (0..t.mcp.len()).any(|si| live.creds.is_per_user(ti, si)));
    let connected = if per_user {
        Some(live.creds.connected(&live.config).await)
    } else {
        None
    };
    page(
        StatusCode::OK,
        pages::servers(&all, now, connected.as_ref()),
    )
}

async fn login_form(State(app): State<Arc<App>>, request: Request) -> Response {
    if admin_hashes(&app).is_none() {
        return not_found();
    }
    let q = query(&request);
    login_page(
        StatusCode::OK,
        &safe_next(q.get("next").map(String::as_str)),
        None,
    )
}

/// The most read of a login form.
const MAX_FORM: usize = 8 * 1024;

async fn login(State(app): State<Arc<App>>, request: Request) -> Response {
    let Some(hashes) = admin_hashes(&app) else {
        return not_found();
    };
    let https = over_https(request.headers());
    let body = match axum::body::to_bytes(request.into_body(), MAX_FORM).await {
        Ok(b) => b,
        Err(_) => {
            return login_page(
                StatusCode::BAD_REQUEST,
                "/ui",
                Some("the form is too large"),
            );
        }
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let next = safe_next(form.get("next").map(String::as_str));
    let key = form.get("key").map(|k| k.trim()).unwrap_or("");
    let Some(hash) = (!key.is_empty())
        .then(|| key_matches(key, &hashes))
        .flatten()
    else {
        tracing::info!("ui login refused: wrong admin key");
        return login_page(StatusCode::UNAUTHORIZED, &next, Some("wrong admin key"));
    };
    let token = app.sessions.create(hash);
    let mut cookie = format!(
        "{COOKIE}={token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    );
    if https {
        cookie.push_str("; Secure");
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(&next) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    secure(r)
}

async fn logout(State(app): State<Arc<App>>, request: Request) -> Response {
    if admin_hashes(&app).is_none() {
        return not_found();
    }
    if let Some(token) = cookie(request.headers()) {
        app.sessions.end(&token);
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/ui/login"));
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mcpwire_ui=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    secure(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn next_stays_on_the_ui() {
        assert_eq!(safe_next(Some("/ui/requests/gw_1")), "/ui/requests/gw_1");
        assert_eq!(safe_next(Some("/ui?tenant=a")), "/ui?tenant=a");
        for bad in [
            "https://evil.example/",
            "//evil.example/ui",
            "/uix",
            "/ui/\\evil",
            "/ui/\nx",
        ] {
            assert_eq!(safe_next(Some(bad)), "/ui", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/ui");
    }

    #[test]
    fn sessions_end_with_their_key() {
        let s = Sessions::default();
        let a: [u8; 32] = sha2::Sha256::digest(b"a").into();
        let b: [u8; 32] = sha2::Sha256::digest(b"b").into();
        let token = s.create(a);
        assert!(s.valid(&token, &[a, b]));
        assert!(!s.valid(&token, &[b]), "the key left the configuration");
        assert!(!s.valid("forged", &[a]));
        s.end(&token);
        assert!(!s.valid(&token, &[a]));
        assert_eq!(key_matches("a", &[b, a]), Some(a));
        assert_eq!(key_matches("c", &[b, a]), None);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; mcpwire_ui=abc ; y=2"),
        );
        assert_eq!(cookie(&h).as_deref(), Some("abc"));
        assert!(!over_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_https(&h));
    }
}
