//! Flow details beyond the security table: client secrets kept across refreshes, token
//! responses in both encodings, client authentication methods, pre-registration, client
//! credentials, offline_access, legacy fallbacks, status and logout.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use common::*;
use mcpwire_auth::{
    Error, MemoryStore, OAuthConfig, OAuthErrorCode, PreRegisteredClient, Secret, TokenStore,
};
use serde_json::json;
use wiremock::ResponseTemplate;

fn basic_of(r: &wiremock::Request) -> Option<String> {
    let h = r.headers.get("authorization")?.to_str().ok()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(h.strip_prefix("Basic ")?)
        .ok()?;
    String::from_utf8(raw).ok()
}

/// A client in a memory store with `id` / `secret` pre-registered at `s`'s issuer.
fn pre_registered_client(s: &Scripted, id: &str, secret: &str) -> mcpwire_auth::OAuthClient {
    let mut cfg = OAuthConfig::default();
    cfg.pre_registered.push(PreRegisteredClient::new(
        Some(s.issuer()),
        id,
        Some(Secret::new(secret)),
    ));
    client_with(Arc::new(MemoryStore::new()), cfg)
}

/// Every entry of `store`.
async fn listed(store: &dyn TokenStore) -> Vec<mcpwire_auth::Versioned> {
    store.list().await.unwrap()
}

/// A DCR client secret is stored and used again (basic auth) on refresh; a refresh response
/// without `refresh_token` keeps the old one.
#[tokio::test]
async fn refresh_keeps_registered_client_secret_and_refresh_token() {
    let (s, mut md) = Scripted::with_metadata().await;
    md["token_endpoint_auth_methods_supported"] = json!(["client_secret_basic"]);
    authorization_server(
        &s.auth,
        md,
        json!({"client_id": "dcr-1", "client_secret": "dcr-secret"}),
        "c",
        None,
    )
    .await;
    // Form-encoded response with a string expires_in.
    Route::post("/token")
        .body_contains("grant_type=authorization_code")
        .reply(
            &s.auth,
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-www-form-urlencoded")
                .set_body_string("access_token=AT-1&refresh_token=RT-1&expires_in=0&scope=a+b"),
        )
        .await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .reply(
            &s.auth,
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "AT-2", "expires_in": "0"})),
        )
        .await;
    let c = client();
    login_headless(&c, &s.server_url()).await;
    for expect in ["AT-2", "AT-2"] {
        assert_eq!(
            token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
            expect
        );
    }
    let tokens = s.requests_to(&s.auth, "/token").await;
    assert_eq!(tokens.len(), 3);
    for t in &tokens {
        assert_eq!(basic_of(t).as_deref(), Some("dcr-1:dcr-secret"));
    }
    // Both refreshes used RT-1 (the response never rotated it) and the granted scope.
    for t in &tokens[1..] {
        let f = form(t);
        assert_eq!(get(&f, "refresh_token"), Some("RT-1"));
        assert_eq!(get(&f, "scope"), Some("a b"));
    }
}

/// client_secret_post puts the secret in the body; `none` sends only client_id.
#[tokio::test]
async fn client_auth_methods_from_metadata() {
    for (supported, expect_body_secret, expect_basic) in [
        ("client_secret_post", true, false),
        ("none", false, false),
        ("client_secret_basic", false, true),
    ] {
        let (s, mut md) = Scripted::with_metadata().await;
        md["token_endpoint_auth_methods_supported"] = json!([supported]);
        md.as_object_mut().unwrap().remove("registration_endpoint");
        s.mount_as(md, None).await;
        s.mount_token(token_json("AT", None, 60)).await;
        let c = pre_registered_client(&s, "pre", "pre-secret");
        login_headless(&c, &s.server_url()).await;
        let t = &s.requests_to(&s.auth, "/token").await[0];
        let f = form(t);
        assert_eq!(
            get(&f, "client_secret").is_some(),
            expect_body_secret,
            "{supported}"
        );
        assert_eq!(basic_of(t).is_some(), expect_basic, "{supported}");
        if !expect_basic {
            assert_eq!(get(&f, "client_id"), Some("pre"));
        }
        assert!(s.requests_to(&s.auth, "/register").await.is_empty());
    }
}

/// CIMD is used when advertised and configured; DCR sends application_type native.
#[tokio::test]
async fn registration_priority_cimd_then_dcr() {
    let cimd = "https://client.example.com/mcpwire.json";
    let (s, mut md) = Scripted::with_metadata().await;
    md["client_id_metadata_document_supported"] = true.into();
    s.mount_as(md, None).await;
    s.mount_token(token_json("AT", None, 60)).await;
    let mut cfg = OAuthConfig::default();
    cfg.client_metadata_url = Some(cimd.into());
    let c = client_with(Arc::new(MemoryStore::new()), cfg);
    login_headless(&c, &s.server_url()).await;
    let a = query(&s.requests_to(&s.auth, "/authorize").await[0]);
    assert_eq!(get(&a, "client_id"), Some(cimd));
    assert!(s.requests_to(&s.auth, "/register").await.is_empty());

    let s = Scripted::standard().await;
    login_headless(&client(), &s.server_url()).await;
    let reg = &s.requests_to(&s.auth, "/register").await[0];
    let body: serde_json::Value = serde_json::from_slice(&reg.body).unwrap();
    assert_eq!(body["application_type"], "native");
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
}

/// Scope: challenge, else PRM scopes_supported, else omitted; offline_access added when the
/// AS lists it.
#[tokio::test]
async fn scope_selection_and_offline_access() {
    let s = Scripted::start().await;
    s.mount_rs(&s.server_url(), Some("mcp:basic")).await;
    let mut md = metadata(&s.issuer());
    md["scopes_supported"] = json!(["mcp:basic", "offline_access"]);
    s.mount_as(md, None).await;
    s.mount_token(token_json("AT", None, 60)).await;
    login_headless(&client(), &s.server_url()).await;
    let a = query(&s.requests_to(&s.auth, "/authorize").await[0]);
    assert_eq!(get(&a, "scope"), Some("mcp:basic offline_access"));

    let s = Scripted::standard().await;
    login_headless(&client(), &s.server_url()).await;
    let a = query(&s.requests_to(&s.auth, "/authorize").await[0]);
    assert_eq!(get(&a, "scope"), None);
}

/// Client credentials with a pre-registered secret; renewing uses a new grant.
#[tokio::test]
async fn client_credentials_grant_and_renewal() {
    let (s, mut md) = Scripted::with_metadata().await;
    md["grant_types_supported"] = json!(["client_credentials"]);
    md["token_endpoint_auth_methods_supported"] = json!(["client_secret_basic"]);
    s.mount_as(md, None).await;
    s.mount_token(token_json("CC-AT", None, 0)).await;
    let c = pre_registered_client(&s, "m2m", "m2m-secret");
    c.login_client_credentials(&s.server_url(), None)
        .await
        .unwrap();
    c.access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap();
    let tokens = s.requests_to(&s.auth, "/token").await;
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        let f = form(t);
        assert_eq!(get(&f, "grant_type"), Some("client_credentials"));
        assert_eq!(get(&f, "resource"), Some(s.server_url().as_str()));
        assert_eq!(basic_of(t).as_deref(), Some("m2m:m2m-secret"));
    }
}

/// Without a pre-registered client, client credentials refuses (no DCR for M2M).
#[tokio::test]
async fn client_credentials_needs_pre_registration() {
    let s = Scripted::standard().await;
    let err = client()
        .login_client_credentials(&s.server_url(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoRegistration { .. }));
}

/// 2025-03-26: metadata at the MCP origin is used; default endpoints only when enabled.
#[tokio::test]
async fn legacy_2025_03_26_fallbacks() {
    let (rs, url) = bare_mcp_server(ResponseTemplate::new(401)).await;
    mount_register_and_authorize(&rs, "legacy", "c").await;
    Route::post("/token")
        .reply(&rs, token_json("LEGACY-AT", None, 60))
        .await;
    let mut cfg = OAuthConfig::default();
    cfg.policy.allow_legacy_endpoints = true;
    let c = client_with(Arc::new(MemoryStore::new()), cfg);
    login_headless(&c, &url).await;
    let (at, _) = c.access_token(&url, Duration::ZERO).await.unwrap();
    assert_eq!(at.expose(), "LEGACY-AT");
}

/// status never shows tokens; logout removes them.
#[tokio::test]
async fn status_and_logout() {
    let s = Scripted::standard().await;
    let store = Arc::new(MemoryStore::new());
    let c = client_with(store.clone(), OAuthConfig::default());
    login_headless(&c, &s.server_url()).await;
    let st = c.status().await.unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].issuer, s.issuer());
    assert!(st[0].expires_in.unwrap() > Duration::from_secs(3000));
    assert!(!format!("{st:?}").contains("AT-1"));
    assert!(c.logout(&s.server_url()).await.unwrap());
    assert!(!c.logout(&s.server_url()).await.unwrap());
    assert!(
        listed(&*store)
            .await
            .iter()
            .all(|v| v.entry.as_token().is_none())
    );
    assert!(matches!(
        c.access_token(&s.server_url(), Duration::ZERO).await,
        Err(Error::NotLoggedIn { .. })
    ));
}

/// Malformed metadata gives a typed error that does not quote the payload.
#[tokio::test]
async fn malformed_metadata_is_typed() {
    let s = Scripted::start().await;
    s.mount_rs(&s.server_url(), None).await;
    let md = json!({"issuer": s.issuer(), "scopes_supported": "secret-looking-value"});
    s.mount_as(md, None).await;
    let err = login_error(&client(), &s.server_url()).await;
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-looking-value"));
}

/// Workload identity federation: the JWT-bearer grant with the caller's assertion, no retry.
#[tokio::test]
async fn jwt_bearer_grant_with_workload_assertion() {
    let s = Scripted::discoverable().await;
    s.mount_token(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant", "error_description": "assertion WORKLOAD-JWT expired",
    })))
    .await;
    let c = client();
    let err = c
        .login_jwt_bearer(&s.server_url(), None, &Secret::new("WORKLOAD-JWT"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenEndpoint { .. }), "{err:?}");
    assert!(!err.to_string().contains("WORKLOAD-JWT"));
    let tokens = s.requests_to(&s.auth, "/token").await;
    assert_eq!(tokens.len(), 1, "no retry");
    let f = form(&tokens[0]);
    assert_eq!(
        get(&f, "grant_type"),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    assert_eq!(get(&f, "assertion"), Some("WORKLOAD-JWT"));
    assert_eq!(get(&f, "resource"), Some(s.server_url().as_str()));
}

/// Enterprise-managed authorization: token exchange at the IdP, then JWT-bearer at the AS
/// with the pre-registered client.
#[tokio::test]
async fn enterprise_managed_token_exchange_then_jwt_bearer() {
    let (s, mut md) = Scripted::with_metadata().await;
    let idp = wiremock::MockServer::start().await;
    md["token_endpoint_auth_methods_supported"] = json!(["client_secret_basic"]);
    s.mount_as(md, None).await;
    s.mount_token(token_json("ENT-AT", None, 3600)).await;
    Route::post("/token").reply(&idp, ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ID-JAG", "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "token_type": "N_A",
        }))).await;
    let c = pre_registered_client(&s, "ent", "ent-secret");
    let ex = mcpwire_auth::IdpTokenExchange::new(
        format!("{}/token", idp.uri()),
        "idp-client",
        None,
        Secret::new("ID-TOKEN"),
    );
    c.login_enterprise(&s.server_url(), None, &ex)
        .await
        .unwrap();
    let x = form(&idp.received_requests().await.unwrap()[0]);
    assert_eq!(get(&x, "subject_token"), Some("ID-TOKEN"));
    assert_eq!(get(&x, "audience"), Some(s.issuer().as_str()));
    assert_eq!(get(&x, "resource"), Some(s.server_url().as_str()));
    assert_eq!(get(&x, "client_id"), Some("idp-client"));
    let t = &s.requests_to(&s.auth, "/token").await[0];
    assert_eq!(get(&form(t), "assertion"), Some("ID-JAG"));
    assert_eq!(basic_of(t).as_deref(), Some("ent:ent-secret"));
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::ZERO).await,
        "ENT-AT"
    );
}

/// A dynamically registered client rejected with `invalid_client` is forgotten, and the next
/// login registers again.
#[tokio::test]
async fn invalid_client_drops_dynamic_registration() {
    let s = Scripted::discoverable().await;
    Route::post("/token")
        .times(1)
        .reply(
            &s.auth,
            ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})),
        )
        .await;
    s.mount_token(token_json("AT", None, 60)).await;
    let store = Arc::new(MemoryStore::new());
    let c = client_with(store.clone(), OAuthConfig::default());
    let err = login_error(&c, &s.server_url()).await;
    assert!(
        matches!(err, Error::TokenEndpoint { status: 401, .. }),
        "{err:?}"
    );
    assert!(
        listed(&*store)
            .await
            .iter()
            .all(|v| v.entry.as_client().is_none())
    );
    login_headless(&c, &s.server_url()).await;
    assert_eq!(s.requests_to(&s.auth, "/register").await.len(), 2);
}

/// An `error=` callback (with the right state) is a typed error carrying only the error
/// code; nothing is redeemed and the authorization is consumed.
#[tokio::test]
async fn error_callback_is_typed_and_consumes() {
    let (s, c, mut p, state) = begun_authorization().await;
    let cb = vec![
        ("state".to_owned(), state.clone()),
        ("error".to_owned(), "access_denied".to_owned()),
        (
            "error_description".to_owned(),
            "<script>phish</script>".to_owned(),
        ),
    ];
    let err = c.complete_authorization(&mut p, &cb).await.unwrap_err();
    match &err {
        Error::AuthorizationDenied { error } => assert_eq!(*error, OAuthErrorCode::AccessDenied),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("phish"));
    let again = vec![
        ("state".to_owned(), state),
        ("code".to_owned(), "code-1".to_owned()),
    ];
    assert!(matches!(
        c.complete_authorization(&mut p, &again).await,
        Err(Error::StateMismatch)
    ));
    assert!(s.requests_to(&s.auth, "/token").await.is_empty());
}

fn jwt_part(jwt: &str, i: usize) -> serde_json::Value {
    let part = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

/// Opt-in DPoP: proofs on the token requests (nonce honoured), the same key on refresh, and
/// per-request proofs bound to the access token.
#[tokio::test]
async fn dpop_bound_tokens_when_enabled() {
    let (s, mut md) = Scripted::with_metadata().await;
    md["dpop_signing_alg_values_supported"] = json!(["ES256"]);
    s.mount_as(md, None).await;
    Route::post("/token")
        .times(1)
        .reply(
            &s.auth,
            ResponseTemplate::new(400)
                .insert_header("dpop-nonce", "n-1")
                .set_body_json(json!({"error": "use_dpop_nonce"})),
        )
        .await;
    Route::post("/token")
        .reply(
            &s.auth,
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "DPOP-AT", "token_type": "DPoP", "expires_in": 0,
                "refresh_token": "DPOP-RT",
            })),
        )
        .await;
    let mut cfg = OAuthConfig::default();
    cfg.dpop = true;
    let c = client_with(Arc::new(MemoryStore::new()), cfg);
    let st = login_headless(&c, &s.server_url()).await;
    assert_eq!(st.token_type, "DPoP");
    c.access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap();
    let tokens = s.requests_to(&s.auth, "/token").await;
    assert_eq!(tokens.len(), 3, "nonce retry, then one refresh");
    let proofs: Vec<String> = tokens
        .iter()
        .map(|t| t.headers.get("dpop").unwrap().to_str().unwrap().to_owned())
        .collect();
    let token_url = format!("{}/token", s.issuer());
    let jwk = jwt_part(&proofs[0], 0)["jwk"].clone();
    for (i, p) in proofs.iter().enumerate() {
        let h = jwt_part(p, 0);
        assert_eq!(h["typ"], "dpop+jwt");
        assert_eq!(h["alg"], "ES256");
        assert_eq!(h["jwk"], jwk, "same key throughout");
        assert!(h["jwk"].get("d").is_none());
        let c = jwt_part(p, 1);
        assert_eq!(c["htm"], "POST");
        assert_eq!(c["htu"], token_url.as_str());
        assert_eq!(c["nonce"].as_str(), (i == 1).then_some("n-1"));
    }
    let proof = c
        .dpop_proof(
            &s.server_url(),
            "POST",
            &format!("{}?x=1", s.server_url()),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    let claims = jwt_part(proof.expose(), 1);
    assert_eq!(claims["htu"], s.server_url().as_str());
    assert_eq!(claims["ath"], s256("DPOP-AT"));

    // Off by default: no proof, Bearer.
    let s = Scripted::standard().await;
    let c = client();
    login_headless(&c, &s.server_url()).await;
    assert!(
        s.requests_to(&s.auth, "/token").await[0]
            .headers
            .get("dpop")
            .is_none()
    );
    assert!(
        c.dpop_proof(&s.server_url(), "POST", &s.server_url(), None)
            .await
            .unwrap()
            .is_none()
    );
}

/// Issue 9 regression: a pre-registered confidential client (no explicit method) at an
/// authorization server that only allows `client_secret_post` logs in AND refreshes with post:
/// credentials in the form body, never `Authorization: Basic`. Before the method was decided
/// in one place and stored with the tokens, the refresh fell back to `client_secret_basic`.
#[tokio::test]
async fn pre_registered_post_only_client_logs_in_and_refreshes_with_post() {
    let (s, mut md) = Scripted::with_metadata().await;
    md["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
    md.as_object_mut().unwrap().remove("registration_endpoint");
    s.mount_as(md, None).await;
    // Only requests authenticated with client_secret_post get tokens.
    Route::post("/token")
        .body_contains("grant_type=authorization_code")
        .body_contains("client_secret=pre-secret")
        .reply(&s.auth, token_json("AT-1", Some("RT-1"), 0))
        .await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .body_contains("client_secret=pre-secret")
        .reply(&s.auth, token_json("AT-2", Some("RT-2"), 3600))
        .await;
    token_fallback(&s.auth, 401, "invalid_client").await;
    let c = pre_registered_client(&s, "pre", "pre-secret");
    login_headless(&c, &s.server_url()).await;
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        "AT-2"
    );
    let tokens = s.requests_to(&s.auth, "/token").await;
    assert_eq!(tokens.len(), 2);
    for (t, grant) in tokens.iter().zip(["authorization_code", "refresh_token"]) {
        let f = form(t);
        assert_eq!(get(&f, "grant_type"), Some(grant));
        assert_eq!(get(&f, "client_id"), Some("pre"), "{grant}");
        assert_eq!(get(&f, "client_secret"), Some("pre-secret"), "{grant}");
        assert!(
            t.headers.get("authorization").is_none(),
            "{grant}: {:?}",
            basic_of(t)
        );
    }
}

/// A refused dynamic registration is typed, with the RFC 7591 error code.
#[tokio::test]
async fn refused_registration_has_a_typed_error_code() {
    let s = Scripted::start().await;
    s.mount_rs(&s.server_url(), None).await;
    Route::post("/register")
        .reply(
            &s.auth,
            ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_redirect_uri"})),
        )
        .await;
    s.mount_as(metadata(&s.issuer()), None).await;
    let err = login_error(&client(), &s.server_url()).await;
    assert!(
        matches!(
            err,
            Error::RegistrationRejected {
                status: 400,
                error: Some(OAuthErrorCode::InvalidRedirectUri)
            }
        ),
        "{err:?}"
    );
}
