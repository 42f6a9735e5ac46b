//! Plants known secrets, runs full flows (DCR with a client secret, authorization, refresh
//! with rotation, a token endpoint error that echoes secrets, client credentials with a
//! pre-registered secret), captures all tracing output at TRACE plus every Debug/Display/error
//! string, and asserts that no secret appears anywhere.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::planted::{AT1, AT2, DCR_SECRET, RT1, RT2};
use common::*;
use mcpwire_auth::{
    Credentials, MemoryStore, OAuthConfig, PreRegisteredClient, Secret, TokenStore,
};
use serde_json::json;
use wiremock::ResponseTemplate;

const CODE: &str = "CODE-planted-77aa88bb";
const PRE_SECRET: &str = "CS-pre-planted-5d5d5d";
const CC_AT: &str = "AT-cc-planted-6e6e6e";

#[tokio::test(flavor = "current_thread")]
async fn no_secret_in_logs_debug_or_errors() {
    let cap = LogBuffer::default();
    cap.install_global();

    let s = Scripted::start().await;
    s.mount_rs(&s.server_url(), Some("mcp:basic")).await;
    let mut md = metadata(&s.issuer());
    md["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
    Route::get("/.well-known/oauth-authorization-server")
        .reply(&s.auth, ResponseTemplate::new(200).set_body_json(md))
        .await;
    Route::post("/register")
        .reply(
            &s.auth,
            ResponseTemplate::new(201).set_body_json(json!({
                "client_id": "client-1", "client_secret": DCR_SECRET,
                "token_endpoint_auth_method": "client_secret_post",
            })),
        )
        .await;
    Route::get("/authorize")
        .reply(
            &s.auth,
            AuthorizeRedirect {
                code: CODE.into(),
                iss: Some(s.issuer()),
            },
        )
        .await;
    s.mount_grant("authorization_code", token_json(AT1, Some(RT1), 0))
        .await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .times(1)
        .reply(
            &s.auth,
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-www-form-urlencoded")
                .set_body_string(format!(
                    "access_token={AT2}&refresh_token={RT2}&token_type=Bearer&expires_in=0"
                )),
        )
        .await;
    Route::post("/token").body_contains("grant_type=refresh_token").times(1).reply(&s.auth, ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_request",
            "error_description": format!("refresh_token {RT2} with client_secret {DCR_SECRET} rejected"),
        }))).await;
    // The expired AT2 is never handed out, so `resolve` below refreshes once more.
    s.mount_grant("refresh_token", token_json(AT2, Some(RT2), 3600))
        .await;

    let store = Arc::new(MemoryStore::new());
    let c = Arc::new(client_with(store.clone(), OAuthConfig::default()));
    let mut texts: Vec<String> = Vec::new();

    // A pending authorization's Debug, then the real flow.
    let d = c.discover(&s.server_url(), None).await.unwrap();
    texts.push(format!("{d:?}"));
    let pending = begin(&c, d).await;
    texts.push(format!("{pending:?}"));
    let pending_state = state_of(&pending);
    let st = login_headless(&c, &s.server_url()).await;
    texts.push(format!("{st:?}"));
    let (at, _) = c
        .access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(at.expose(), AT2);
    texts.push(format!("{at:?}"));
    let err = c
        .access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap_err();
    texts.push(format!("{err} | {err:?}"));
    let creds = Credentials::OAuth(c.clone());
    texts.push(format!("{creds:?}"));
    let resolved = creds
        .resolve(&s.server_url(), Duration::ZERO)
        .await
        .unwrap();
    texts.push(format!("{resolved:?}"));
    texts.push(format!("{:?}", store.list().await.unwrap()));
    texts.push(format!("{:?}", c.status().await.unwrap()));
    texts.push(format!("{c:?}"));

    // Client credentials with a pre-registered secret (basic auth).
    let (s2, mut md2) = Scripted::with_metadata().await;
    md2["token_endpoint_auth_methods_supported"] = json!(["client_secret_basic"]);
    s2.mount_as(md2, None).await;
    s2.mount_token(token_json(CC_AT, None, 3600)).await;
    let mut cfg = OAuthConfig::default();
    let pre = PreRegisteredClient::new(Some(s2.issuer()), "m2m", Some(Secret::new(PRE_SECRET)));
    texts.push(format!("{pre:?}"));
    cfg.pre_registered.push(pre);
    texts.push(format!("{cfg:?}"));
    let c2 = client_with(Arc::new(MemoryStore::new()), cfg);
    let st = c2
        .login_client_credentials(&s2.server_url(), None)
        .await
        .unwrap();
    texts.push(format!("{st:?}"));
    texts.push(format!(
        "{:?}",
        Credentials::Headers(vec![("x-api-key".into(), Secret::new(PRE_SECRET))])
    ));
    texts.push(format!("{:?}", Credentials::Bearer(Secret::new(AT1))));

    // Secrets generated inside the crate: state and verifier, read off the wire.
    let mut planted: Vec<String> = [AT1, RT1, AT2, RT2, CODE, DCR_SECRET, PRE_SECRET, CC_AT]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for r in s.requests_to(&s.auth, "/authorize").await {
        planted.push(get(&query(&r), "state").unwrap().to_owned());
    }
    for r in s.requests_to(&s.auth, "/token").await {
        if let Some(v) = get(&form(&r), "code_verifier") {
            planted.push(v.to_owned());
        }
    }
    planted.push(pending_state);
    assert_eq!(planted.len(), 8 + 3);

    let logs = cap.text();
    assert!(logs.contains("token request"), "tracing capture is empty");
    assert!(logs.contains("TRACE"), "no TRACE lines captured");
    let all = format!("{logs}\n{}", texts.join("\n"));
    for secret in &planted {
        assert!(
            !all.contains(secret.as_str()),
            "secret {secret} leaked:\n{all}"
        );
    }
}
