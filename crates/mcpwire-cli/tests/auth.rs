//! `mcpwire auth login|token|status|logout` against a scripted OAuth authorization server and
//! MCP resource server (wiremock on 127.0.0.1): discovery, dynamic registration, PKCE, the
//! headless redirect, the token store, and that no token value is ever printed but by `token`.

#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::close_stdout_after_64_bytes;
use std::process::{Command, Output};

use mcpwire_testkit::auth_kit::fresh_dir;
use mcpwire_testkit::oauth::{json_reply, metadata_without_grant_types, one_origin};
use mcpwire_testkit::{param, query, requests_to};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

const ACCESS: &str = "at-PLANTED-3f9a1c77e2";
const REFRESH: &str = "rt-PLANTED-0b8d55aa41";

fn mcpwire(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .env("MCPWIRE_HOME", home)
        .args(args)
        .output()
        .unwrap()
}

/// `mcpwire auth login --headless <resource>`.
fn login(home: &std::path::Path, resource: &str) -> Output {
    mcpwire(home, &["auth", "login", "--headless", resource])
}

/// `mcpwire auth login --headless <resource>`, which must fail with exit code 1: its stderr.
fn failed_login(home: &std::path::Path, resource: &str) -> String {
    let login = login(home, resource);
    let stderr = String::from_utf8(login.stderr).unwrap();
    assert_eq!(login.status.code(), Some(1), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn login_token_status_logout_against_a_scripted_authorization_server() {
    let token = ResponseTemplate::new(200).set_body_json(json!({
        "access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600, "refresh_token": REFRESH
    }));
    let (rs, resource) = one_origin(metadata_without_grant_types, "cli-client-1", token).await;
    let issuer = rs.uri();

    let home = home("login");

    let login = login(&home, &resource);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let authorizations = requests_to(&rs, "/authorize").await;
    assert!(!authorizations.is_empty());
    for req in &authorizations {
        assert_eq!(param(&query(req), "code_challenge_method"), Some("S256"));
    }
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
    let _ = std::fs::remove_dir_all(&home);
}

/// The hostile scope of issue 13 item 9.
const HOSTILE: &str = "mcp\n\u{1b}[31mFAKE-LINE\u{1b}[0m\r\u{7}";

/// A fresh `MCPWIRE_HOME`.
fn home(name: &str) -> std::path::PathBuf {
    fresh_dir(&format!("mcpwire-cli-auth-{name}"))
}

/// A resource server + authorization server on one wiremock whose token endpoint answers
/// `status` with the JSON `body`.
async fn scripted_as(status: u16, body: serde_json::Value) -> (MockServer, String) {
    one_origin(metadata_without_grant_types, "c1", json_reply(status, body)).await
}

fn has_raw_controls(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n')
}

/// A store written by an earlier version (or another tool) holding `scope` for each of `n`
/// servers.
fn seed_store(home: &std::path::Path, scope: &str, n: usize) {
    let tokens: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "server_url": format!("http://127.0.0.1:9/mcp{i}"),
                "resource": format!("http://127.0.0.1:9/mcp{i}"),
                "issuer": "http://127.0.0.1:9",
                "client_id": "c1",
                "token_endpoint": "http://127.0.0.1:9/token",
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "expires_at": null,
                "scope": scope,
                "token_type": "Bearer",
            })
        })
        .collect();
    let data = json!({"version": 1, "tokens": tokens, "clients": []});
    std::fs::write(home.join("tokens.json"), data.to_string()).unwrap();
}

/// Issue 13 item 9: the hostile scope from the token endpoint is refused at login with an
/// error naming the field (nothing raw reaches the terminal), and a hostile scope already in
/// the store is printed escaped by `auth status`, on its own line.
#[tokio::test(flavor = "multi_thread")]
async fn issue13_item9_auth_status_and_login_escape_remote_text() {
    let (_rs, resource) = scripted_as(
        200,
        json!({
            "access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600, "scope": HOSTILE,
        }),
    )
    .await;
    let home = home("item9");
    let stderr = failed_login(&home, &resource);
    assert!(stderr.contains("invalid scope"), "{stderr}");
    assert!(
        !has_raw_controls(&stderr) && !stderr.contains("FAKE"),
        "{stderr:?}"
    );

    seed_store(&home, HOSTILE, 1);
    let status = mcpwire(&home, &["auth", "status"]);
    assert!(status.status.success());
    let out = String::from_utf8(status.stdout).unwrap();
    assert!(!has_raw_controls(&out), "{out:?}");
    assert!(
        out.lines()
            .any(|l| l == "  scope: mcp\\n\\u{1b}[31mFAKE-LINE\\u{1b}[0m\\r\\u{7}"),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("FAKE")), "{out}");
    let _ = std::fs::remove_dir_all(&home);
}

/// Issue 13 item 9: an error text from the token endpoint (`error_description`) is escaped
/// on stderr.
#[tokio::test(flavor = "multi_thread")]
async fn issue13_item9_auth_login_escapes_token_endpoint_error_text() {
    let (_rs, resource) = scripted_as(
        400,
        json!({"error": "invalid_grant", "error_description": format!("no{HOSTILE}")}),
    )
    .await;
    let home = home("item9-error");
    let stderr = failed_login(&home, &resource);
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    assert!(stderr.contains("\\u{1b}[31mFAKE-LINE"), "{stderr}");
    assert!(!has_raw_controls(&stderr), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(&home);
}

/// Issue 13 item 4: `mcpwire auth status | head -2` with a stored login: a reader that closes
/// the pipe early ends the command quietly, without a panic. The listing is larger than a pipe
/// buffer, so the write really meets the closed pipe.
#[test]
fn issue13_item4_auth_status_into_a_closed_pipe_does_not_panic() {
    let home = home("item4");
    seed_store(&home, "mcp", 2000);
    let child = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .env("MCPWIRE_HOME", &home)
        .args(["auth", "status"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = close_stdout_after_64_bytes(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let _ = std::fs::remove_dir_all(&home);
}

/// Issue 11: with an authorization server issuing 60-second tokens, three `mcpwire auth token`
/// calls in a row (default `--min-ttl 300`) make no refresh request: the minimum is clamped to
/// half the token's lifetime, so a short-lived token is refreshed once per lifetime.
#[tokio::test(flavor = "multi_thread")]
async fn three_token_calls_with_60_second_tokens_make_no_refresh_storm() {
    let (rs, resource) = scripted_as(
        200,
        json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "token_type": "Bearer", "expires_in": 60,
        }),
    )
    .await;
    let home = home("min-ttl");
    let login = login(&home, &resource);
    assert!(login.status.success(), "{login:?}");
    for _ in 0..3 {
        let token = mcpwire(&home, &["auth", "token", &resource]);
        assert!(token.status.success(), "{token:?}");
        assert_eq!(String::from_utf8_lossy(&token.stdout).trim(), ACCESS);
    }
    let posts = requests_to(&rs, "/token").await.len();
    assert_eq!(
        posts, 1,
        "the login only: no refresh for a token with 60 s left"
    );
    let _ = std::fs::remove_dir_all(home);
}

/// `--store file:PATH` keeps the tokens in that file; an unknown scheme is refused naming the
/// flag (and the URL, which may hold a password, is not echoed).
#[tokio::test(flavor = "multi_thread")]
async fn store_flag_selects_the_token_store() {
    let (_rs, resource) = scripted_as(
        200,
        json!({"access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600}),
    )
    .await;
    let home = home("store-flag");
    let file = home.join("elsewhere").join("fleet.json");
    let store = format!("file:{}", file.display());
    let login = mcpwire(
        &home,
        &["auth", "--store", &store, "login", "--headless", &resource],
    );
    assert!(login.status.success(), "{login:?}");
    assert!(file.exists());
    assert!(!home.join("tokens.json").exists());
    let token = mcpwire(&home, &["auth", "token", "--store", &store, &resource]);
    assert_eq!(String::from_utf8_lossy(&token.stdout).trim(), ACCESS);
    let bad = mcpwire(
        &home,
        &["auth", "--store", "ftp://user:hunter2@example/", "status"],
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--store"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let _ = std::fs::remove_dir_all(home);
}
