//! The official Python SDKs against the gateway: `sdk-tests/test_sdks.py` with the pinned
//! `openai` and `anthropic` packages from `sdk-tests/requirements.txt`, in a virtualenv that
//! `cargo xtask test` provides (`MCPWIRE_SDK_PYTHON` names its interpreter).

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::*;
use mcpwire_testkit::gateway_kit::tenant;

/// The budget tenant's gateway key.
const BUDGET_KEY: &str = "gw-PLANTED-key-budget-4b1e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Python SDK venv: cargo xtask test runs it (MCPWIRE_SDK_PYTHON)"]
async fn official_python_sdks_through_the_gateway() {
    let python = std::env::var("MCPWIRE_SDK_PYTHON")
        .expect("MCPWIRE_SDK_PYTHON must name the venv's python (cargo xtask test sets it)");
    // A tenant whose daily token budget one answer spends.
    let budget = tenant(
        "team-budget",
        &mcpwire_gateway::config::key_hash_hex(BUDGET_KEY),
    );
    let budget = format!("\n{budget}\ntokens_per_day = 1\n");
    let (demo, _sim, gw) = sim_gateway(ALL_TOOLS_SLOW_APPROVED, &budget).await;
    let dir = tempdir();
    let report = dir.join("sdk-report.json");
    let (url, demo_url) = (gw.url(), demo.url().to_owned());
    let out = tokio::task::spawn_blocking({
        let report = report.clone();
        move || {
            sdk_script(&python, &url, &demo_url, &report)
                .env("BUDGET_KEY", BUDGET_KEY)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(report["checks"].as_array().unwrap().len() >= 10, "{report}");
    let text = report.to_string();
    for secret in [OPENAI_KEY, ANTHROPIC_KEY, MCP_TOKEN] {
        assert!(!text.contains(secret), "the SDK process saw a secret");
    }
    assert!(
        text.contains("demo.add returned 5"),
        "the report holds what was received"
    );
}

/// `python sdk-tests/test_sdks.py` against the gateway at `gw` and the demo server at `demo`,
/// writing its report to `report`; its environment holds only what an app would have (no MCP
/// token, no vendor key).
fn sdk_script(python: &str, gw: &str, demo: &str, report: &std::path::Path) -> Command {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk-tests/test_sdks.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEWAY_URL", gw)
        .env("GATEWAY_KEY", GATEWAY_KEY)
        .env("DEMO_MCP_URL", demo)
        .env("SDK_REPORT", report);
    command
}

/// Runs `test_sdks.py` in one phase of the per-user test and returns its report.
fn run_users_phase(python: &str, gw: &str, demo: &str, phase: &str) -> serde_json::Value {
    let dir = tempdir();
    let report = dir.join("report.json");
    let out = sdk_script(python, gw, demo, &report)
        .env("SDK_USERS_PHASE", phase)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Python SDK venv: cargo xtask test runs it (MCPWIRE_SDK_PYTHON)"]
async fn official_sdks_show_an_unconnected_user_the_connect_link() {
    let python = std::env::var("MCPWIRE_SDK_PYTHON")
        .expect("MCPWIRE_SDK_PYTHON must name the venv's python (cargo xtask test sets it)");
    let w = common::per_user::world("").await;
    w.connect("alice").await;
    let (gw, demo) = (w.gw.url(), w.demo.url().to_owned());
    // Phase 1: alice works through both SDKs; bob gets each SDK's typed error with the link.
    let report = tokio::task::spawn_blocking({
        let (python, gw, demo) = (python.clone(), gw.clone(), demo.clone());
        move || run_users_phase(&python, &gw, &demo, "1")
    })
    .await
    .unwrap();
    let link = report["bob_authorization_url"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/authorize?", w.auth.issuer)),
        "{report}"
    );
    // Bob opens the link the app showed him.
    let cb = w.consent(&link, "bob", false).await;
    assert_eq!(w.follow(&cb).await.0, 200);
    let before = w.demo.tokens_seen().len();
    // Phase 2: bob works, with his own token.
    tokio::task::spawn_blocking(move || run_users_phase(&python, &gw, &demo, "2"))
        .await
        .unwrap();
    let bob: Vec<String> = w.demo.tokens_seen()[before..].to_vec();
    assert!(!bob.is_empty());
    assert!(bob.iter().all(|t| t.starts_with("at-bob-")), "{bob:?}");
}
