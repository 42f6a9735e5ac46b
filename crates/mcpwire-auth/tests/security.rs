//! One test (at least) per security requirement of `docs/security.md`, against a scripted
//! resource server and authorization server (wiremock on 127.0.0.1).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcpwire_auth::challenge::BearerChallenge;
use mcpwire_auth::loopback::CallbackListener;
use mcpwire_auth::{Credentials, Error, LoginMode, MemoryStore, OAuthConfig, Resolved, TokenStore};
use serde_json::json;
use wiremock::ResponseTemplate;

async fn login(c: &mcpwire_auth::OAuthClient, url: &str) -> mcpwire_auth::Result<()> {
    c.login(url, None, LoginMode::Headless, |_| {})
        .await
        .map(|_| ())
}

/// The URL field an [`Error::InsecureUrl`] names; `None` for any other error.
fn insecure_url(err: &Error) -> Option<&'static str> {
    match err {
        Error::InsecureUrl { field, .. } => Some(field),
        _ => None,
    }
}

/// Row 1: `resource` byte-identical on authorize, token and refresh; no trailing slash added.
#[tokio::test]
async fn req01_resource_identical_on_authorize_token_and_refresh() {
    let s = Scripted::start().await;
    let resource = s.rs.uri(); // pathless: "http://127.0.0.1:PORT", no trailing slash
    s.mount_rs(&resource, None).await;
    s.mount_as(metadata(&s.issuer()), None).await;
    s.mount_token(token_json("AT-1", Some("RT-1"), 0)).await;
    let c = client();
    login(&c, &s.server_url()).await.unwrap();
    c.access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap();

    let auth = s.requests_to(&s.auth, "/authorize").await;
    assert_eq!(get(&query(&auth[0]), "resource"), Some(resource.as_str()));
    let tokens = s.requests_to(&s.auth, "/token").await;
    assert_eq!(tokens.len(), 2);
    let grants: Vec<_> = tokens.iter().map(form).collect();
    assert_eq!(get(&grants[0], "grant_type"), Some("authorization_code"));
    assert_eq!(get(&grants[1], "grant_type"), Some("refresh_token"));
    for g in &grants {
        assert_eq!(get(g, "resource"), Some(resource.as_str()));
    }
    assert!(!resource.ends_with('/'));
}

/// Row 2: a PRM `resource` for another server is rejected before any AS contact.
#[tokio::test]
async fn req02_prm_resource_mismatch_rejected() {
    let s = Scripted::start().await;
    s.mount_rs("https://other.example/mcp", None).await;
    s.mount_as(metadata(&s.issuer()), None).await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert!(matches!(err, Error::ResourceMismatch { .. }), "{err:?}");
    assert!(s.auth.received_requests().await.unwrap().is_empty());
}

/// Row 3a: a cross-origin `resource_metadata` URL in the challenge is ignored.
#[tokio::test]
async fn req03a_cross_origin_resource_metadata_ignored() {
    let s = Scripted::standard().await;
    let evil = wiremock::MockServer::start().await;
    let challenge =
        BearerChallenge::from_header(&format!(r#"Bearer resource_metadata="{}/prm""#, evil.uri()))
            .unwrap();
    let c = client();
    c.login(
        &s.server_url(),
        Some(challenge),
        LoginMode::Headless,
        |_| {},
    )
    .await
    .unwrap();
    assert!(evil.received_requests().await.unwrap().is_empty());
}

/// Row 3b: when PRM moves to a new authorization server, the stored refresh token and client
/// are never presented there; refresh stays pinned to the stored token endpoint.
#[tokio::test]
async fn req03b_as_migration_never_sends_old_credentials_to_new_as() {
    let s = Scripted::standard().await;
    let c = client();
    login(&c, &s.server_url()).await.unwrap();
    // The resource moves to AS2.
    let as2 = wiremock::MockServer::start().await;
    s.rs.reset().await;
    let prm = json!({"resource": s.server_url(), "authorization_servers": [as2.uri()]});
    Route::get("/.well-known/oauth-protected-resource/mcp")
        .reply(&s.rs, ResponseTemplate::new(200).set_body_json(prm))
        .await;
    Route::post("/mcp")
        .reply(&s.rs, ResponseTemplate::new(401))
        .await;
    Route::get("/.well-known/oauth-authorization-server")
        .reply(
            &as2,
            ResponseTemplate::new(200).set_body_json(metadata(&as2.uri())),
        )
        .await;
    mount_register_and_authorize(&as2, "as2-client", "code-2").await;
    Route::post("/token")
        .reply(&as2, token_json("AT-2", Some("RT-2"), 3600))
        .await;
    login(&c, &s.server_url()).await.unwrap();
    for r in as2.received_requests().await.unwrap() {
        let all = format!(
            "{}{:?}{}",
            r.url,
            r.headers,
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            !all.contains("RT-1") && !all.contains("client-1"),
            "leaked to AS2: {all}"
        );
    }
    assert_eq!(s.requests_to(&as2, "/register").await.len(), 1);
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::ZERO).await,
        "AT-2"
    );
}

/// Row 3c: a token endpoint on a foreign origin is refused; nothing is sent there.
#[tokio::test]
async fn req03c_foreign_token_endpoint_refused() {
    let (s, mut md) = Scripted::with_metadata().await;
    let evil = wiremock::MockServer::start().await;
    md["token_endpoint"] = format!("{}/token", evil.uri()).into();
    s.mount_as(md, None).await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert_eq!(insecure_url(&err), Some("token_endpoint"), "{err:?}");
    assert!(evil.received_requests().await.unwrap().is_empty());
}

/// Row 3d: metadata whose `issuer` differs from the discovery issuer is rejected.
#[tokio::test]
async fn req03d_metadata_issuer_mismatch_rejected() {
    let (s, mut md) = Scripted::with_metadata().await;
    md["issuer"] = "https://attacker.example.com".into();
    s.mount_as(md, None).await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err:?}");
    assert!(s.requests_to(&s.auth, "/register").await.is_empty());
    assert!(s.requests_to(&s.auth, "/authorize").await.is_empty());
}

/// Row 3e: tokens are only handed out for the resource they were obtained for.
#[tokio::test]
async fn req03e_token_only_for_bound_resource() {
    let s = Scripted::standard().await;
    let c = Arc::new(client());
    login(&c, &s.server_url()).await.unwrap();
    let creds = Credentials::OAuth(c.clone());
    let err = creds
        .resolve("https://other.example/mcp", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotLoggedIn { .. }));
}

/// Row 3f: the 2025-03-26 default-endpoint fallback is off unless the policy enables it.
#[tokio::test]
async fn req03f_legacy_default_endpoints_off_by_default() {
    let bearer = ResponseTemplate::new(401).insert_header("www-authenticate", "Bearer");
    let (rs, url) = bare_mcp_server(bearer).await;
    let err = login(&client(), &url).await.unwrap_err();
    assert!(matches!(err, Error::Discovery { .. }), "{err:?}");
    for r in rs.received_requests().await.unwrap() {
        assert!(!["/token", "/register", "/authorize"].contains(&r.url.path()));
    }
}

async fn iss_case(advertised: Option<bool>, iss: Option<&str>) -> (Result<(), Error>, usize) {
    let (s, mut md) = Scripted::with_metadata().await;
    if let Some(a) = advertised {
        md["authorization_response_iss_parameter_supported"] = a.into();
    }
    let iss = iss.map(|i| i.replace("self", &s.issuer()));
    s.mount_as(md, iss).await;
    s.mount_token(token_json("AT-1", None, 3600)).await;
    let r = login(&client(), &s.server_url()).await;
    (r, s.requests_to(&s.auth, "/token").await.len())
}

/// Row 4: RFC 9207 table; on a mismatch no token request is made.
#[tokio::test]
async fn req04_iss_mixup_defence() {
    let (r, n) = iss_case(Some(true), Some("self")).await;
    assert!(r.is_ok() && n == 1);
    let (r, n) = iss_case(Some(true), None).await;
    assert!(matches!(r, Err(Error::IssMismatch { .. })) && n == 0);
    let (r, n) = iss_case(None, Some("https://evil.example.com")).await;
    assert!(matches!(r, Err(Error::IssMismatch { .. })) && n == 0);
    let (r, n) = iss_case(None, None).await;
    assert!(r.is_ok() && n == 1);
    let (r, n) = iss_case(Some(true), Some("self/")).await;
    assert!(matches!(r, Err(Error::IssMismatch { .. })) && n == 0);
}

/// Row 4 (cont.): with a wrong `iss`, an attacker's `error_description` is not surfaced.
#[tokio::test]
async fn req04_iss_mismatch_hides_error_description() {
    let (_s, c, mut p, state) = begun_authorization().await;
    let params = vec![
        ("state".to_owned(), state),
        ("iss".to_owned(), "https://evil.example.com".to_owned()),
        ("error".to_owned(), "access_denied".to_owned()),
        (
            "error_description".to_owned(),
            "visit evil.example.com/phish".to_owned(),
        ),
    ];
    let err = c.complete_authorization(&mut p, &params).await.unwrap_err();
    assert!(matches!(err, Error::IssMismatch { .. }));
    assert!(!format!("{err} {err:?}").contains("phish"));
}

/// Row 5: PKCE S256 always; refused when metadata does not advertise it (unless relaxed);
/// the verifier matches the challenge.
#[tokio::test]
async fn req05_pkce_s256_required() {
    let (s, mut md) = Scripted::with_metadata().await;
    md.as_object_mut()
        .unwrap()
        .remove("code_challenge_methods_supported");
    s.mount_as(md.clone(), None).await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert!(matches!(err, Error::PkceUnsupported { .. }), "{err:?}");
    assert!(s.requests_to(&s.auth, "/authorize").await.is_empty());
    assert!(s.requests_to(&s.auth, "/register").await.is_empty());

    // Relaxed by policy: proceeds, still with S256.
    s.mount_token(token_json("AT-1", None, 3600)).await;
    let mut cfg = OAuthConfig::default();
    cfg.policy.allow_missing_pkce_metadata = true;
    let c = client_with(Arc::new(MemoryStore::new()), cfg);
    login(&c, &s.server_url()).await.unwrap();
    let a = query(&s.requests_to(&s.auth, "/authorize").await[0]);
    let t = form(&s.requests_to(&s.auth, "/token").await[0]);
    assert_eq!(get(&a, "code_challenge_method"), Some("S256"));
    assert_eq!(
        get(&a, "code_challenge").unwrap(),
        s256(get(&t, "code_verifier").unwrap())
    );
}

/// Row 6: state is random, single-use, exact; a wrong or missing state does not consume the
/// verifier; a replay fails.
#[tokio::test]
async fn req06_state_single_use() {
    let s = Scripted::standard().await;
    let c = client();
    let d = c.discover(&s.server_url(), None).await.unwrap();
    let mut p = begin(&c, d.clone()).await;
    let state = state_of(&p);
    let p2 = begin(&c, d).await;
    let state2 = state_of(&p2);
    assert_ne!(state, state2);
    assert!(state.len() >= 32);
    let cb = |st: Option<&str>| {
        let mut v = vec![("code".to_owned(), "code-1".to_owned())];
        if let Some(st) = st {
            v.push(("state".to_owned(), st.to_owned()));
        }
        v
    };
    for bad in [
        cb(None),
        cb(Some("wrong")),
        cb(Some(&state[..state.len() - 1])),
    ] {
        let err = c.complete_authorization(&mut p, &bad).await.unwrap_err();
        assert!(matches!(err, Error::StateMismatch));
    }
    assert!(s.requests_to(&s.auth, "/token").await.is_empty());
    c.complete_authorization(&mut p, &cb(Some(&state)))
        .await
        .unwrap();
    let replay = c
        .complete_authorization(&mut p, &cb(Some(&state)))
        .await
        .unwrap_err();
    assert!(matches!(replay, Error::StateMismatch));
    assert_eq!(s.requests_to(&s.auth, "/token").await.len(), 1);
}

/// Row 7: the listener binds 127.0.0.1 only; non-loopback http redirect URIs are refused at
/// configuration time; the token request repeats the authorize `redirect_uri`. Also runs an
/// interactive login end to end, with a forged callback discarded first.
#[tokio::test]
async fn req07_redirect_uri_loopback_and_consistent() {
    let l = CallbackListener::bind(0).await.unwrap();
    assert_eq!(
        l.local_addr().unwrap().ip(),
        std::net::IpAddr::from([127, 0, 0, 1])
    );
    drop(l);
    let mut cfg = OAuthConfig::default();
    cfg.redirect_uri = Some("http://example.com/callback".into());
    let err = mcpwire_auth::OAuthClient::new(cfg, Arc::new(MemoryStore::new())).unwrap_err();
    assert_eq!(insecure_url(&err), Some("redirect_uri"));

    let s = Scripted::standard().await;
    let c = client();
    login_in_browser(&c, &s.server_url(), |http, loc| async move {
        let forged = loc.replace("state=", "state=x");
        http.get(&forged).send().await.unwrap();
        http.get(&loc).send().await.unwrap();
    })
    .await;
    let a = query(&s.requests_to(&s.auth, "/authorize").await[0]);
    let t = form(&s.requests_to(&s.auth, "/token").await[0]);
    let redirect = get(&a, "redirect_uri").unwrap();
    assert!(redirect.starts_with("http://127.0.0.1:"));
    assert_eq!(get(&t, "redirect_uri"), Some(redirect));
}

/// Row 8: `http://` only on loopback, for every server-supplied endpoint.
#[tokio::test]
async fn req08_http_refused_except_loopback() {
    for (field, value) in [
        ("authorization_endpoint", "http://as.example.com/authorize"),
        ("token_endpoint", "http://as.example.com/token"),
        ("registration_endpoint", "http://as.example.com/register"),
        ("token_endpoint", "ftp://as.example.com/token"),
    ] {
        let (s, mut md) = Scripted::with_metadata().await;
        md[field] = value.into();
        s.mount_as(md, None).await;
        let err = login(&client(), &s.server_url()).await.unwrap_err();
        assert_eq!(insecure_url(&err), Some(field), "{field}: {err:?}");
    }
    // A non-loopback http issuer in PRM, and an http MCP server.
    let s = Scripted::start().await;
    Route::any("POST")
        .reply(&s.rs, ResponseTemplate::new(401))
        .await;
    Route::get("/.well-known/oauth-protected-resource/mcp").reply(&s.rs, ResponseTemplate::new(200).set_body_json(
            json!({"resource": s.server_url(), "authorization_servers": ["http://as.example.com"]}),
        )).await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert_eq!(insecure_url(&err), Some("issuer"), "{err:?}");
    let err = login(&client(), "http://mcp.example.com/mcp")
        .await
        .unwrap_err();
    assert_eq!(insecure_url(&err), Some("server"), "{err:?}");
}

/// Row 9: authorization URLs other than http(s) are refused before anything is opened.
#[tokio::test]
async fn req09_authorization_url_must_be_http() {
    for bad in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,hi",
    ] {
        let (s, mut md) = Scripted::with_metadata().await;
        md["authorization_endpoint"] = bad.into();
        s.mount_as(md, None).await;
        let mut opened = false;
        let err = client()
            .login(
                &s.server_url(),
                None,
                LoginMode::Interactive {
                    open_browser: false,
                },
                |_| opened = true,
            )
            .await
            .unwrap_err();
        assert_eq!(
            insecure_url(&err),
            Some("authorization_endpoint"),
            "{bad}: {err:?}"
        );
        assert!(!opened);
    }
}

/// Row 10: redirects are not followed on discovery or token calls; bodies are capped.
#[tokio::test]
async fn req10_no_redirects_and_capped_bodies() {
    // Token endpoint redirecting to a metadata address: refused, not followed.
    let s = Scripted::discoverable().await;
    s.mount_token(
        ResponseTemplate::new(307).insert_header("location", "http://169.254.169.254/latest"),
    )
    .await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert!(matches!(err, Error::RedirectRefused { .. }), "{err:?}");

    // PRM redirecting elsewhere: not followed; the root PRM is used instead.
    let s = Scripted::start().await;
    let elsewhere = wiremock::MockServer::start().await;
    Route::any("POST")
        .reply(&s.rs, ResponseTemplate::new(401))
        .await;
    Route::get("/.well-known/oauth-protected-resource/mcp")
        .reply(
            &s.rs,
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/prm", elsewhere.uri())),
        )
        .await;
    Route::get("/.well-known/oauth-protected-resource")
        .reply(
            &s.rs,
            ResponseTemplate::new(200).set_body_json(
                json!({"resource": s.server_url(), "authorization_servers": [s.issuer()]}),
            ),
        )
        .await;
    s.mount_as(metadata(&s.issuer()), None).await;
    s.mount_token(token_json("AT-1", None, 60)).await;
    login(&client(), &s.server_url()).await.unwrap();
    assert!(elsewhere.received_requests().await.unwrap().is_empty());

    // An oversized metadata document.
    let (s, mut md) = Scripted::with_metadata().await;
    md["padding"] = "x".repeat(2 * 1024 * 1024).into();
    s.mount_as(md, None).await;
    let err = login(&client(), &s.server_url()).await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
}

/// Row 11 (unit part; the full flow is in `no_leaks.rs`): Debug and error strings of the
/// public types never contain a secret, and an echoed refresh token is redacted.
#[tokio::test]
async fn req11_secrets_redacted_in_debug_and_errors() {
    let s = Scripted::discoverable().await;
    s.mount_grant(
        "authorization_code",
        token_json("AT-SECRET-1", Some("RT-SECRET-1"), 0),
    )
    .await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .reply(
            &s.auth,
            ResponseTemplate::new(400).set_body_json(json!({
                "error": "invalid_request",
                "error_description": "unknown refresh_token RT-SECRET-1 for client",
            })),
        )
        .await;
    let store = Arc::new(MemoryStore::new());
    let c = client_with(store.clone(), OAuthConfig::default());
    login(&c, &s.server_url()).await.unwrap();
    let err = c
        .access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap_err();
    let data = store.list().await.unwrap();
    let text = format!(
        "{err} {err:?} {data:?} {:?} {:?}",
        c.status().await.unwrap(),
        Credentials::OAuth(Arc::new(c))
    );
    assert!(text.contains("[redacted]"), "{text}");
    for secret in ["AT-SECRET-1", "RT-SECRET-1"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

/// Row 12: file store is 0600, written atomically, keyed by issuer+client+resource; a rotated
/// refresh token is persisted before use (the AS rejects reuse of the old one).
#[tokio::test]
async fn req12_file_store_private_atomic_and_rotation_persisted() {
    let dir = fresh_dir("mcpwire-auth-req12");
    let path = dir.join("tokens.json");
    let s = Scripted::discoverable().await;
    Route::post("/token")
        .body_contains("grant_type=authorization_code")
        .reply(&s.auth, token_json("AT-1", Some("RT-1"), 0))
        .await;
    Route::post("/token")
        .body_contains("refresh_token=RT-1")
        .times(1)
        .reply(&s.auth, token_json("AT-2", Some("RT-2"), 0))
        .await;
    Route::post("/token")
        .body_contains("refresh_token=RT-2")
        .times(1)
        .reply(&s.auth, token_json("AT-3", Some("RT-3"), 3600))
        .await;
    token_fallback(&s.auth, 400, "invalid_grant").await;
    let store = Arc::new(mcpwire_auth::FileStore::new(&path));
    let c = client_with(store.clone(), OAuthConfig::default());
    login(&c, &s.server_url()).await.unwrap();
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        "AT-2"
    );
    // A second client over the same file (another process, say) sees RT-2 and refreshes with it.
    let c2 = client_with(
        Arc::new(mcpwire_auth::FileStore::new(&path)),
        OAuthConfig::default(),
    );
    let (at, _) = c2
        .access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(at.expose(), "AT-3");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    let data = store.list().await.unwrap();
    let tokens: Vec<_> = data.iter().filter_map(|v| v.entry.as_token()).collect();
    assert_eq!(tokens.len(), 1);
    let key = tokens[0].key();
    assert_eq!(
        (
            key.issuer.as_str(),
            key.client_id.as_str(),
            key.resource.as_str()
        ),
        (s.issuer().as_str(), "client-1", s.server_url().as_str())
    );
    let client = store
        .get(&mcpwire_auth::EntryKey::client(s.issuer()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.entry.as_client().unwrap().client_id, "client-1");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Row 13: step-up re-authorizes (a fresh authorization_code grant, not a refresh) with the
/// union of the previous and the challenged scopes, and is bounded.
#[tokio::test]
async fn req13_step_up_union_fresh_authorization_bounded() {
    let s = Scripted::start().await;
    s.mount_rs(&s.server_url(), Some("mcp:read")).await;
    s.mount_as(metadata(&s.issuer()), None).await;
    s.mount_token(token_json("AT-1", Some("RT-1"), 3600)).await;
    let c = client();
    login(&c, &s.server_url()).await.unwrap();
    let ch =
        BearerChallenge::from_header(r#"Bearer error="insufficient_scope", scope="mcp:write""#)
            .unwrap();
    c.step_up(&s.server_url(), ch.clone(), 0, LoginMode::Headless, |_| {})
        .await
        .unwrap();
    let auths = s.requests_to(&s.auth, "/authorize").await;
    assert_eq!(auths.len(), 2);
    assert_eq!(get(&query(&auths[0]), "scope"), Some("mcp:read"));
    assert_eq!(get(&query(&auths[1]), "scope"), Some("mcp:read mcp:write"));
    let grants: Vec<_> = s
        .requests_to(&s.auth, "/token")
        .await
        .iter()
        .map(|r| get(&form(r), "grant_type").unwrap().to_owned())
        .collect();
    assert_eq!(grants, ["authorization_code", "authorization_code"]);
    let max = c.config().policy.max_step_up;
    let err = c
        .step_up(&s.server_url(), ch, max, LoginMode::Headless, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StepUpLimit { .. }));
    assert_eq!(s.requests_to(&s.auth, "/authorize").await.len(), 2);
}

/// The bearer token `creds` resolves to for `url` with at least `min_left` of life, and its
/// remaining life; anything but a bearer token fails the test.
async fn bearer_of(
    creds: &Credentials,
    url: &str,
    min_left: Duration,
) -> (String, Option<Duration>) {
    match creds.resolve(url, min_left).await.unwrap() {
        Resolved::Bearer { token, expires_in } => (token.expose().to_owned(), expires_in),
        other => panic!("{other:?}"),
    }
}

/// Row 14: what goes to the vendor is the access token (never the refresh token) for exactly
/// the server it was minted for, refreshed when less than `min_remaining` is left.
#[tokio::test]
async fn req14_audience_binding_and_min_remaining() {
    let s = issuing_at1(600).await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .expect(1)
        .reply(&s.auth, token_json("AT-2", None, 3600))
        .await;
    let c = Arc::new(client());
    login(&c, &s.server_url()).await.unwrap();
    let creds = Credentials::OAuth(c.clone());
    let (token, expires_in) = bearer_of(&creds, &s.server_url(), Duration::from_secs(60)).await;
    assert_eq!(token, "AT-1");
    assert!(expires_in.unwrap() > Duration::from_secs(500));
    // 500 of the 600 s have passed: 100 s left.
    let v = c
        .store()
        .get(&mcpwire_auth::EntryKey::token(s.server_url()))
        .await
        .unwrap()
        .unwrap();
    let mut aged = v.entry.as_token().unwrap().clone();
    let now = aged.expires_at.unwrap() - 600;
    aged.issued_at = Some(now - 500);
    aged.expires_at = Some(now + 100);
    c.store()
        .compare_and_set(
            &v.entry.key(),
            Some(v.version),
            Some(&mcpwire_auth::Entry::Token(aged)),
        )
        .await
        .unwrap();
    let (token, _) = bearer_of(&creds, &s.server_url(), Duration::from_secs(60)).await;
    assert_eq!(token, "AT-1");
    let (token, expires_in) = bearer_of(&creds, &s.server_url(), Duration::from_secs(200)).await;
    assert_eq!(token, "AT-2");
    assert!(expires_in.unwrap() >= Duration::from_secs(3500));
    // The refresh response had no refresh_token: the old one is kept.
    let st = c.status().await.unwrap();
    assert!(st[0].has_refresh_token);
    assert!(matches!(
        creds
            .resolve("https://elsewhere.example/mcp", Duration::ZERO)
            .await,
        Err(Error::NotLoggedIn { .. })
    ));
}
