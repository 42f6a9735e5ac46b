//! `mcpwire probe` driven as a user would: exit statuses (0 would work, 1 would not, 2 bad
//! arguments), the tables, `--json`, escaping of what the server sent, `--token` from a file,
//! `--login` without a stored login.

#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common_support;

use common_support::mcp_server_listing;
use std::process::{Command, Output};

use mcpwire_sim::{DemoOptions, DemoServer};
use serde_json::{Value, json};

async fn mcpwire(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let home = std::env::temp_dir().join(format!("mcpwire-probe-test-{}", std::process::id()));
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_mcpwire"))
            .args(&args)
            .env("MCPWIRE_HOME", &home)
            .env_remove("MCPWIRE_STORE")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn tool(name: &str) -> Value {
    json!({"name": name, "inputSchema": {"type": "object"}})
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_server_exits_0_with_a_table_per_vendor() {
    let demo = DemoServer::start(DemoOptions::new()).await.unwrap();
    let out = mcpwire(&["probe", demo.url()]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("\nOpenAI:\n") && text.contains("\nAnthropic:\n"),
        "{text}"
    );
    assert!(
        text.contains("  pass  tool_names       every name (4) fits"),
        "{text}"
    );
    assert!(
        text.contains("  WARN  url              127.0.0.1 is on this machine"),
        "{text}"
    );
    assert!(
        text.ends_with("verdict: OpenAI works, with warnings; Anthropic works, with warnings\n")
    );
    // One vendor only.
    let out = mcpwire(&["probe", "--vendor", "anthropic", demo.url()]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains("OpenAI:"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_a_vendor_rejects_exits_1_naming_the_check() {
    let server = mcp_server_listing(
        "2025-11-25",
        json!([tool("search"), tool("get data"), tool("a.b")]),
    )
    .await;
    let url = format!("{}/mcp", server.uri());
    let out = mcpwire(&["probe", &url]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "  FAIL  tool_names       2 of 3 tool names refused: `get data`: contains a space"
        ),
        "{text}"
    );
    assert!(text.contains("- `a.b`: contains `.`"), "{text}");
    assert!(text.ends_with("verdict: OpenAI would not work; Anthropic would not work\n"));
    let out = mcpwire(&["probe", "--json", &url]).await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["vendors"][0]["verdict"], "fails");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_server_sent_is_escaped() {
    let server = mcp_server_listing("2025-11-25", json!([tool("evil\u{1b}[2J\u{202e}name")])).await;
    let url = format!("{}/mcp", server.uri());
    let out = mcpwire(&["probe", "--vendor", "openai", &url]).await;
    let text = stdout(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("`evil\\u{1b}[2J\\u{202e}name`"), "{text}");
    let out = mcpwire(&["probe", "--vendor", "openai", "--json", &url]).await;
    let json = stdout(&out);
    assert!(!json.contains('\u{1b}') && !json.contains('\u{202e}'));
    assert!(json.contains(r"evil\u001b[2J\u202ename"), "{json}");
    let report: Value = serde_json::from_str(&json).unwrap();
    assert!(
        report["vendors"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "tool_names")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_a_file_reaches_the_server_and_is_never_printed() {
    let demo = DemoServer::start(DemoOptions::new().with_token("file-token-4242"))
        .await
        .unwrap();
    let file = std::env::temp_dir().join(format!("mcpwire-probe-token-{}", std::process::id()));
    std::fs::write(&file, "file-token-4242\n").unwrap();
    let token = format!("@{}", file.display());
    let out = mcpwire(&["probe", "--token", &token, demo.url()]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("the credentials given were accepted"));
    let out = mcpwire(&[
        "probe",
        "--json",
        "--header",
        "Authorization=Bearer file-token-4242",
        demo.url(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("file-token-4242") && !stderr(&out).contains("file-token-4242"));
    // Without it: the demo server's metadata names no authorization server.
    let out = mcpwire(&["probe", demo.url()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAIL  auth"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_exit_2() {
    for args in [
        &["probe"][..],
        &["probe", "--vendor", "google", "https://mcp.example.com/mcp"],
        &[
            "probe",
            "--call",
            "search",
            "not json",
            "https://mcp.example.com/mcp",
        ],
        &[
            "probe",
            "--call",
            "search",
            "[1]",
            "https://mcp.example.com/mcp",
        ],
        &["probe", "--header", "X-Key", "https://mcp.example.com/mcp"],
        &[
            "probe",
            "--token",
            "env:MCPWIRE_PROBE_TEST_UNSET",
            "https://mcp.example.com/mcp",
        ],
        &[
            "probe",
            "--token",
            "t",
            "--login",
            "https://mcp.example.com/mcp",
        ],
        &["probe", "--timeout", "0", "https://mcp.example.com/mcp"],
    ] {
        let out = mcpwire(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    let out = mcpwire(&[
        "probe",
        "--header",
        "X-Key=@/nonexistent/secret",
        "https://mcp.example.com/mcp",
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--header: cannot read /nonexistent/secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn login_without_a_stored_login_says_so() {
    let out = mcpwire(&["probe", "--login", "https://mcp.example.com/mcp"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--login: not logged in"),
        "{}",
        stderr(&out)
    );
}
