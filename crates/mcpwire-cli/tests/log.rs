//! `mcpwire log` on a recorded audit file (`fixtures/audit/`, made by the gateway's
//! `record_audit` example against the simulator): one request's steps in order, and a missing
//! file. The text and `--json` output are snapshots in `snapshots.rs`.

#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::log_output;
use mcpwire_testkit::fixtures::fixture_path;
use std::process::Command;

const FILE: &str = "gateway.five-requests.jsonl";

fn log(args: &[&str]) -> (bool, String, String) {
    let out = log_output(args, &fixture_path(&format!("audit/{FILE}")));
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn one_request_as_json_has_its_steps_in_order() {
    let (ok, text, err) = log(&["--json"]);
    assert!(ok, "{err}");
    assert_eq!(text.lines().count(), 5, "five requests");
    // The third: Anthropic streamed on the 2026-09-15 beta.
    let third: serde_json::Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
    let id = third["request_id"].as_str().unwrap();
    let (_, one, _) = log(&["--json", "--request", id]);
    let one: serde_json::Value = serde_json::from_str(one.trim()).unwrap();
    let tools: Vec<&str> = one["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tool"].as_str().unwrap_or("(list)"))
        .collect();
    assert_eq!(tools, ["(list)", "echo", "fail"]);
    assert_eq!(one["steps"][2]["outcome"], "error");
}

#[test]
fn a_missing_file_is_one_line_and_exit_1() {
    let out = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["log", "/nonexistent/audit.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("mcpwire log: /nonexistent/audit.jsonl: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}
