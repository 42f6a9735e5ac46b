//! `mcpwire probe --login` end to end against the official MCP conformance suite's OAuth
//! scenario: without a login the chain is reported usable (exit 0, tools not checked); after
//! `mcpwire auth login --headless` the probe uses the stored token and lists the tools.
//! Ignored in a plain `cargo test`: `cargo xtask test` installs the suite (pinned, with a
//! Node 22), sets `MCPWIRE_CONFORMANCE_DIR` / `MCPWIRE_NODE` and runs it with `--ignored`.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output};

struct Scenario(Child);

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves one scenario of the suite; returns it and its MCP server URL.
fn serve(scenario: &str) -> (Scenario, String) {
    let mut child = mcpwire_testkit::conformance::spawn_client_scenario(scenario);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the suite ended before printing its URL")
            .unwrap();
        if let Some(url) = line.trim().strip_prefix("Server URL: ") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Scenario(child), url)
}

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
    let (_scenario, url) = serve("auth/metadata-default");
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
        let auth = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "auth")
            .unwrap();
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
