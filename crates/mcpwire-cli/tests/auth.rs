//! `mcpwire auth login|token|status|logout` against a scripted OAuth authorization server and
//! MCP resource server (wiremock on 127.0.0.1): discovery, dynamic registration, PKCE, the
//! headless redirect, the token store, and that no token value is ever printed but by `token`.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCESS: &str = "at-PLANTED-3f9a1c77e2";
const REFRESH: &str = "rt-PLANTED-0b8d55aa41";

fn mcpwire(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .env("MCPWIRE_HOME", home)
        .args(args)
        .output()
        .unwrap()
}

fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn login_token_status_logout_against_a_scripted_authorization_server() {
    let rs = MockServer::start().await;
    let issuer = rs.uri();
    let resource = format!("{}/mcp", rs.uri());
    Mock::given(method("POST"))
        .and(path("/mcp"))
        .respond_with(
            ResponseTemplate::new(401).insert_header(
                "WWW-Authenticate",
                format!(
                    r#"Bearer resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
                    rs.uri()
                )
                .as_str(),
            ),
        )
        .mount(&rs)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource/mcp"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resource": resource, "authorization_servers": [issuer]})),
        )
        .mount(&rs)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "registration_endpoint": format!("{issuer}/register"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
        })))
        .mount(&rs)
        .await;
    Mock::given(method("POST"))
        .and(path("/register"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"client_id": "cli-client-1", "token_endpoint_auth_method": "none"}),
        ))
        .mount(&rs)
        .await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(|req: &Request| {
            let redirect = query(req, "redirect_uri").unwrap();
            let state = query(req, "state").unwrap();
            assert_eq!(query(req, "code_challenge_method").as_deref(), Some("S256"));
            ResponseTemplate::new(302).insert_header(
                "Location",
                format!("{redirect}?code=code-1&state={state}").as_str(),
            )
        })
        .mount(&rs)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600, "refresh_token": REFRESH
        })))
        .mount(&rs)
        .await;

    let home = std::env::temp_dir().join(format!("mcpwire-cli-auth-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();

    let login = mcpwire(&home, &["auth", "login", "--headless", &resource]);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let status = mcpwire(&home, &["auth", "status"]);
    let status_out = String::from_utf8(status.stdout).unwrap();
    assert!(
        status_out.contains(&resource) && status_out.contains(&issuer),
        "{status_out}"
    );
    assert!(status_out.contains("refresh token: stored"));
    let token = mcpwire(&home, &["auth", "token", &resource]);
    assert!(token.status.success());
    assert_eq!(
        String::from_utf8(token.stdout.clone()).unwrap(),
        format!("{ACCESS}\n"),
        "the token and nothing else"
    );
    // No other command ever prints a token, and the store file is private.
    for out in [&login, &token] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(ACCESS) && !stderr.contains(REFRESH),
            "{stderr}"
        );
    }
    assert!(!String::from_utf8_lossy(&login.stdout).contains(ACCESS));
    assert!(!status_out.contains(ACCESS) && !status_out.contains(REFRESH));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("tokens.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let logout = mcpwire(&home, &["auth", "logout", &resource]);
    assert!(logout.status.success());
    let token = mcpwire(&home, &["auth", "token", &resource]);
    assert_eq!(token.status.code(), Some(1));
    assert!(token.stdout.is_empty());
}
