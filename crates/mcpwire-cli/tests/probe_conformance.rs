//! `mcpwire probe --login` end to end against the official MCP conformance suite's OAuth
//! scenario: without a login the chain is reported usable (exit 0, tools not checked); after
//! `mcpwire auth login --headless` the probe uses the stored token and lists the tools.
//! Ignored in a plain `cargo test`: `cargo xtask test` installs the suite (pinned, with a
//! Node 22), sets `MCPWIRE_CONFORMANCE_DIR` / `MCPWIRE_NODE` and runs it with `--ignored`.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use mcpwire_testkit::conformance::spawn_client_scenario;
use mcpwire_testkit::http_kit::{UrlServer, find_in};

fn mcpwire(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(args)
        .env("MCPWIRE_HOME", home)
        .env_remove("MCPWIRE_STORE")
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs the MCP conformance suite: cargo xtask test runs it"]
fn probe_login_uses_the_token_mcpwire_auth_stored() {
    let scenario = UrlServer::new(spawn_client_scenario("auth/metadata-default"));
    let url = scenario.url.clone();
    let home = std::env::temp_dir().join(format!("mcpwire-probe-login-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();

    let before = mcpwire(&home, &["probe", &url]);
    let text = String::from_utf8_lossy(&before.stdout).into_owned();
    assert_eq!(before.status.code(), Some(0), "{text}");
    assert!(
        text.contains("WARN  auth             OAuth required; chain usable"),
        "{text}"
    );
    assert!(!text.contains("tool_names"), "{text}");

    let login = mcpwire(
        &home,
        &[
            "auth",
            "login",
            "--headless",
            "--client-metadata-url",
            "https://conformance-test.local/client-metadata.json",
            &url,
        ],
    );
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );

    let after = mcpwire(&home, &["probe", "--login", "--json", &url]);
    let report: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(after.status.code(), Some(0), "{report:#}");
    for v in report["vendors"].as_array().unwrap() {
        let auth = find_in(&v["checks"], "id", "auth");
        assert_eq!(auth["status"], "pass", "{report:#}");
        assert!(v["tools"].as_u64().unwrap() >= 1, "{report:#}");
    }
    // The token is in the store, never in the output.
    let token = mcpwire(&home, &["auth", "token", &url]);
    let token = String::from_utf8(token.stdout).unwrap();
    assert!(token.trim().len() > 8);
    assert!(!String::from_utf8_lossy(&after.stdout).contains(token.trim()));
    let _ = std::fs::remove_dir_all(&home);
}
