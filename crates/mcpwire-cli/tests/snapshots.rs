//! Snapshots of `mcpwire log` on the recorded audit file in `fixtures/audit/` (text, not a
//! terminal so no colour, and `--json`), and of `mcpwire probe --json`: the document the
//! gateway and CI scripts read. Ports,
//! timings (`elapsed_ms`, "answered in 3 ms") are replaced by placeholders so the snapshot is
//! stable; everything else is as printed. `cargo xtask snapshots` reviews changes.

#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli_support;
#[path = "support/common.rs"]
mod common_support;

use cli_support::log_output;
use common_support::mcp_server_listing;
use mcpwire_testkit::fixtures::fixture_path;
use std::process::Command;

use mcpwire_sim::{DemoOptions, DemoServer};
use serde_json::{Value, json};

async fn probe_json(args: &[&str]) -> (i32, Value) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_mcpwire"))
            .arg("probe")
            .arg("--json")
            .args(&args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let mut report: Value = serde_json::from_slice(&out.stdout).unwrap();
    stabilise(&mut report);
    (out.status.code().unwrap(), report)
}

/// `127.0.0.1:43121` -> `127.0.0.1:[port]`; `12 ms`, `3.4 s` -> `[t] ms`, `[t] s`.
fn stable_text(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let rest: String = chars[i..].iter().take(3).collect();
            let after_port = start > 0 && chars[start - 1] == ':' && out.ends_with("127.0.0.1:");
            if after_port {
                out.push_str("[port]");
            } else if rest.starts_with(" ms")
                || rest == " s"
                || rest.starts_with(" s ")
                || rest.starts_with(" s:")
                || rest.starts_with(" s;")
                || rest.starts_with(" s(")
            {
                out.push_str("[t]");
            } else {
                out.extend(&chars[start..i]);
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn stabilise(v: &mut Value) {
    match v {
        Value::String(s) => *s = stable_text(s),
        Value::Array(items) => items.iter_mut().for_each(stabilise),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "elapsed_ms" {
                    *v = json!("[ms]");
                } else {
                    stabilise(v);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn placeholders() {
    assert_eq!(
        stable_text("http://127.0.0.1:43121/mcp"),
        "http://127.0.0.1:[port]/mcp"
    );
    assert_eq!(
        stable_text("answered in 12 ms (x)"),
        "answered in [t] ms (x)"
    );
    assert_eq!(
        stable_text("listed in 3.4 s: slower"),
        "listed in [t] s: slower"
    );
    assert_eq!(
        stable_text("4 tools, 1.2 KiB; 2025-11-25"),
        "4 tools, 1.2 KiB; 2025-11-25"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_json_demo_server() {
    let demo = DemoServer::start(DemoOptions::new()).await.unwrap();
    let (code, report) = probe_json(&["--call", "add", r#"{"a":2,"b":3}"#, demo.url()]).await;
    assert_eq!(code, 0);
    insta::assert_json_snapshot!("probe_demo_server", report);
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_json_protected_demo_server_without_token() {
    let demo = DemoServer::start(DemoOptions::new().with_token("snap-token-1"))
        .await
        .unwrap();
    let (code, report) = probe_json(&[demo.url()]).await;
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("probe_protected_demo_server", report);
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_json_server_with_broken_tools() {
    let tools = json!([
        {"name": "search", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}},
        {"name": "get data", "inputSchema": {"type": "object"}},
        {"name": "files/read", "inputSchema": {"type": "object"}},
        {"name": "lookup", "inputSchema": "object"},
        {"name": "pick", "inputSchema": {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}},
    ]);
    let server = mcp_server_listing("2025-06-18", tools).await;
    let (code, report) = probe_json(&[&format!("{}/mcp", server.uri())]).await;
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("probe_broken_tools", report);
}

fn mcpwire_log(args: &[&str]) -> String {
    let out = log_output(args, &fixture_path("audit/gateway.five-requests.jsonl"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn log_timelines_of_a_recorded_audit_file() {
    let text = mcpwire_log(&[]);
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    insta::assert_snapshot!("log_audit_five_requests", text);
}

#[test]
fn log_json_of_a_recorded_audit_file() {
    let records: Vec<Value> = mcpwire_log(&["--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 5);
    insta::assert_json_snapshot!("log_audit_five_requests_json", records);
}
