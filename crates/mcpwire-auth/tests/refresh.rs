//! Refresh semantics on any store: the min-TTL clamp (short-lived tokens are refreshed once
//! per lifetime, not on every call), `invalid_grant` marks the entry login-required,
//! `invalid_client` forgets only a dynamic registration, transient failures back off.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcpwire_auth::{Entry, EntryKey, Error, MemoryStore, OAuthClient, OAuthConfig, TokenStore};
use serde_json::json;
use wiremock::ResponseTemplate;

async fn refreshes(s: &Scripted) -> usize {
    refresh_requests(s).await.len()
}

async fn scripted(refresh: ResponseTemplate) -> Scripted {
    let s = issuing_at1(60).await;
    s.mount_grant("refresh_token", refresh).await;
    s
}

async fn logged_in(s: &Scripted) -> (OAuthClient, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let c = client_with(store.clone(), OAuthConfig::default());
    login_headless(&c, &s.server_url()).await;
    (c, store)
}

/// Moves the stored token `elapsed` seconds into its life.
async fn age(store: &MemoryStore, server_url: &str, elapsed: u64) {
    let key = EntryKey::token(server_url);
    let v = store.get(&key).await.unwrap().unwrap();
    let mut t = v.entry.as_token().unwrap().clone();
    let lifetime = t.lifetime().unwrap().as_secs();
    let now = t.issued_at.unwrap();
    t.issued_at = Some(now - elapsed);
    t.expires_at = Some(now - elapsed + lifetime);
    store
        .compare_and_set(&key, Some(v.version), Some(&Entry::Token(t)))
        .await
        .unwrap();
}

/// An authorization server issuing 60 s tokens and three `token` calls with the default
/// `--min-ttl 300`: no refresh while more than half the lifetime is left, then exactly one.
/// The error of asking `c` for a token for `s` with at least 60 s left (a refresh that fails).
async fn refresh_error(c: &mcpwire_auth::OAuthClient, s: &Scripted) -> mcpwire_auth::Error {
    c.access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn min_ttl_is_clamped_to_half_the_token_lifetime() {
    let s = scripted(token_json("AT-2", Some("RT-2"), 60)).await;
    let (c, store) = logged_in(&s).await;
    let min_ttl = Duration::from_secs(300);
    for _ in 0..3 {
        let (at, _) = c.access_token(&s.server_url(), min_ttl).await.unwrap();
        assert_eq!(at.expose(), "AT-1");
    }
    assert_eq!(
        refreshes(&s).await,
        0,
        "a fresh 60 s token is not refreshed"
    );
    // 40 of its 60 s are gone: less than half is left.
    age(&store, &s.server_url(), 40).await;
    for _ in 0..3 {
        let (at, left) = c.access_token(&s.server_url(), min_ttl).await.unwrap();
        assert_eq!(at.expose(), "AT-2");
        assert!(left.unwrap() > Duration::from_secs(50));
    }
    assert_eq!(refreshes(&s).await, 1, "one refresh per lifetime");
}

#[tokio::test]
async fn invalid_grant_marks_the_entry_login_required_without_retrying() {
    let s =
        scripted(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}))).await;
    let (c, store) = logged_in(&s).await;
    age(&store, &s.server_url(), 59).await;
    let err = refresh_error(&c, &s).await;
    assert!(matches!(err, Error::RefreshRejected), "{err:?}");
    for _ in 0..3 {
        let err = refresh_error(&c, &s).await;
        assert!(matches!(err, Error::LoginRequired { .. }), "{err:?}");
    }
    assert_eq!(refreshes(&s).await, 1, "no retry loop after invalid_grant");
    assert!(c.status().await.unwrap()[0].login_required);
    // A new login replaces the marked entry.
    login_headless(&c, &s.server_url()).await;
    assert!(!c.status().await.unwrap()[0].login_required);
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(10)).await,
        "AT-1"
    );
}

#[tokio::test]
async fn invalid_client_forgets_the_dynamic_registration_only() {
    let s = scripted(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .await;
    let (c, store) = logged_in(&s).await;
    let client_key = EntryKey::client(s.issuer());
    assert!(store.get(&client_key).await.unwrap().is_some());
    age(&store, &s.server_url(), 59).await;
    let err = refresh_error(&c, &s).await;
    assert!(
        matches!(
            &err,
            Error::TokenEndpoint {
                error: mcpwire_auth::OAuthErrorCode::InvalidClient,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        store.get(&client_key).await.unwrap().is_none(),
        "the registration is dropped"
    );
    let st = c.status().await.unwrap();
    assert_eq!(st.len(), 1, "the tokens are kept");
    assert!(st[0].has_refresh_token && !st[0].login_required);
}

#[tokio::test]
async fn transient_failures_back_off_and_retry_under_the_lease() {
    let s = issuing_at1(60).await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .times(2)
        .reply(&s.auth, ResponseTemplate::new(503))
        .await;
    s.mount_grant("refresh_token", token_json("AT-2", Some("RT-2"), 60))
        .await;
    let (c, store) = logged_in(&s).await;
    age(&store, &s.server_url(), 59).await;
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        "AT-2"
    );
    assert_eq!(refreshes(&s).await, 3, "two failures, then success");
}

#[tokio::test]
async fn a_persistent_outage_is_an_error_never_the_expired_token() {
    let s = scripted(ResponseTemplate::new(503)).await;
    let mut cfg = OAuthConfig::default();
    cfg.policy.timeout = Duration::from_secs(2);
    cfg.refresh_lease = Duration::from_secs(2);
    let store = Arc::new(MemoryStore::new());
    let c = client_with(store.clone(), cfg);
    login_headless(&c, &s.server_url()).await;
    age(&store, &s.server_url(), 60).await;
    let err = refresh_error(&c, &s).await;
    assert!(
        matches!(
            err,
            Error::HttpStatus { status: 503, .. } | Error::TokenEndpoint { status: 503, .. }
        ),
        "{err:?}"
    );
    // Retries are bounded by the lease (7 s here): a handful, not a loop.
    let n = refreshes(&s).await;
    assert!((2..=6).contains(&n), "{n} attempts");
}
