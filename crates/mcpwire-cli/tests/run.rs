//! `mcpwire run --base-url` against local replays of recorded vendor payloads (wiremock on
//! 127.0.0.1): it prints the same events as `mcpwire normalize` on the same payload, and fails
//! with the error kind.

#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::run_args;
use mcpwire_testkit::Route;
use mcpwire_testkit::fixtures::{fixture_path, fixture_reply, json_fixture};
use std::process::Command;

use wiremock::MockServer;

fn mcpwire(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(args)
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_prints_the_same_events_as_normalize_on_the_replayed_payload() {
    let cases = [
        ("openai", "openai/stream.mcp-call-success.exa.sse", true),
        ("openai", "openai/stream.approval-request.zip1.sse", true),
        (
            "anthropic",
            "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
            true,
        ),
        ("openai", "openai/response.mcp-call-success.exa.json", false),
        (
            "anthropic",
            "anthropic/response.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.json",
            false,
        ),
    ];
    for (vendor, file, stream) in cases {
        let server = MockServer::start().await;
        let content_type = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        Route::any("POST")
            .expect(1)
            .reply(&server, fixture_reply(200, file, content_type))
            .await;
        let base = format!("{}/v1", server.uri());
        let mut args = run_args(
            vendor,
            "s=https://mcp.example.com/mcp",
            &["--base-url", &base, "--json"],
        );
        if stream {
            args.push("--stream");
        }
        args.push("hello");
        let run = mcpwire(&args);
        assert!(
            run.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let normalize = mcpwire(&["normalize", fixture_path(file).to_str().unwrap()]);
        assert_eq!(
            String::from_utf8(run.stdout).unwrap(),
            String::from_utf8(normalize.stdout).unwrap(),
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn run_fails_with_the_error_kind_and_without_secrets() {
    let server = MockServer::start().await;
    Route::any("POST")
        .reply(
            &server,
            json_fixture(424, "openai/error.424-list-tools-failed.plaid.json"),
        )
        .await;
    let base = format!("{}/v1", server.uri());
    let out = mcpwire(&run_args(
        "openai",
        "plaid=https://api.plaid.com/mcp",
        &[
            "--token",
            "plaid=tok-PLANTED-77",
            "--base-url",
            &base,
            "hello",
        ],
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("mcpwire run: mcp_server (openai 424)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[mcp server: plaid]") && !stderr.contains("tok-PLANTED-77"),
        "{stderr}"
    );
    // A capability gap is refused before anything is sent, naming the field.
    let out = mcpwire(&run_args(
        "anthropic",
        "s=https://x.example/mcp",
        &["--header", "s:X-Key=v-PLANTED", "--base-url", &base, "hi"],
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("servers[0]") && !stderr.contains("v-PLANTED"),
        "{stderr}"
    );
    // No API key and no base URL: a clear message.
    let out = mcpwire(&run_args("openai", "s=https://x.example/mcp", &["hi"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OPENAI_API_KEY is not set"));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_asks_for_approval_on_the_terminal_and_continues() {
    // Turn 1: the recorded approval request; turn 2: the recorded approved call.
    let server = MockServer::start().await;
    Route::any("POST")
        .times(1)
        .expect(1)
        .reply(
            &server,
            json_fixture(200, "openai/response.approval-request-retry.zip1.json"),
        )
        .await;
    Route::any("POST")
        .expect(1)
        .reply(
            &server,
            json_fixture(200, "openai/response.approval-approved-mcp-call.zip1.json"),
        )
        .await;
    let base = format!("{}/v1", server.uri());
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(run_args(
            "openai",
            "zip1=https://zip1.io/mcp",
            &["--approve", "ask", "--base-url", &base, "shorten it"],
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("approve zip1.create_short_url"),
        "the question: {stderr}"
    );
    assert!(
        stdout.contains("?? approval requested for zip1.create_short_url"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(approved)") && stdout.contains("<- zip1.create_short_url ok"),
        "{stdout}"
    );
    let second: serde_json::Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[1].body).unwrap();
    assert_eq!(second["input"][0]["type"], "mcp_approval_response");
    assert_eq!(second["input"][0]["approve"], true);
}
