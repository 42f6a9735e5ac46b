//! OAuth tokens from a store: an expiring token is refreshed once for 64 concurrent requests,
//! and once for two gateways sharing a file store; every request carries the fresh token.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use mcpwire_testkit::Route;
use mcpwire_testkit::gateway_kit::json_after;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const DEMO_URL: &str = "https://mcp.example.com/mcp";
const FRESH: &str = "fresh-PLANTED-access-1b2c";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A scripted authorization server that answers one refresh (slowly, so callers overlap).
async fn authorization_server() -> MockServer {
    let server = MockServer::start().await;
    let refreshed = json!({"access_token": FRESH, "token_type": "Bearer",
                           "expires_in": 3600, "refresh_token": "rt-PLANTED-2"});
    Route::post("/token")
        .expect(1)
        .reply(&server, json_after(Duration::from_millis(200), refreshed))
        .await;
    server
}

fn write_store(path: &std::path::Path, issuer: &str) {
    let data = json!({"version": 1, "tokens": [{
        "server_url": DEMO_URL, "resource": DEMO_URL, "issuer": issuer, "client_id": "client-1",
        "token_endpoint": format!("{issuer}/token"), "access_token": "old-PLANTED-access",
        "refresh_token": "rt-PLANTED-1", "expires_at": now() + 10, "scope": null,
        "token_type": "Bearer"
    }], "clients": []});
    std::fs::write(path, serde_json::to_vec(&data).unwrap()).unwrap();
}

async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    server
}

/// A file store whose token is about to expire (`tokens.json` in a fresh directory), the
/// authorization server that refreshes it, and the upstream.
async fn expiring_store() -> (PathBuf, MockServer, MockServer) {
    let store = tempdir().join("tokens.json");
    let auth = authorization_server().await;
    write_store(&store, &auth.uri());
    (store, auth, upstream().await)
}

fn config(upstream: &MockServer, store: &std::path::Path) -> String {
    config_text(&upstream.uri(), DEMO_URL, r#"{ oauth = "main" }"#, "", "")
        + &format!(
            "\n[stores.main]\npath = {:?}\n",
            store.display().to_string()
        )
}

async fn fire(gw: &mcpwire_gateway::GatewayHandle, n: usize) {
    let body = openai_body(DEMO_URL, "x", false);
    let results =
        futures_util::future::join_all((0..n).map(|_| post_openai(gw, GATEWAY_KEY, &body))).await;
    for r in results {
        assert_eq!(r.status(), 200);
    }
}

fn tokens_sent(got: &[wiremock::Request]) -> Vec<String> {
    got.iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            v["tools"][0]["authorization"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_for_64_concurrent_requests() {
    let (store, auth, up) = expiring_store().await;
    let gw = start(&config(&up, &store)).await;
    fire(&gw, 64).await;
    let sent = tokens_sent(&up.received_requests().await.unwrap());
    assert_eq!(sent.len(), 64);
    assert!(sent.iter().all(|t| t == FRESH), "{sent:?}");
    auth.verify().await;
    // The rotated refresh token was persisted.
    let saved = std::fs::read_to_string(&store).unwrap();
    assert!(saved.contains("rt-PLANTED-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_sharing_a_file_store_refresh_once() {
    let (store, auth, up) = expiring_store().await;
    // Two gateways, each with its own store object over the same file: only the file lock
    // keeps them from refreshing twice.
    let one = start(&config(&up, &store)).await;
    let two = start(&config(&up, &store)).await;
    tokio::join!(fire(&one, 32), fire(&two, 32));
    let sent = tokens_sent(&up.received_requests().await.unwrap());
    assert_eq!(sent.len(), 64);
    assert!(sent.iter().all(|t| t == FRESH), "{sent:?}");
    auth.verify().await;
}

#[tokio::test]
async fn not_logged_in_is_a_gateway_error_and_nothing_goes_upstream() {
    let dir = tempdir();
    let store = dir.join("tokens.json");
    let up = upstream().await;
    let gw = start(&config(&up, &store)).await;
    let r = team_a_openai(&gw, DEMO_URL, "x", false).await;
    // Only a login can fix this: 424 (as OpenAI uses for MCP failures), not a retryable 5xx.
    assert_eq!(r.status(), 424);
    assert_eq!(r.headers()["x-should-retry"], "false");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no credentials for MCP server `demo`"),
        "{body}"
    );
    assert!(up.received_requests().await.unwrap().is_empty());
}
