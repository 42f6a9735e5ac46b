//! `mcpwire run --base-url` through the vendor simulator to an MCP server nobody here wrote:
//! `@modelcontextprotocol/server-everything` (npm, Streamable HTTP), for both vendors, checking
//! real tool results. Ignored in a plain `cargo test`: `cargo xtask test` installs the server
//! (pinned, from npm, with a Node 22), sets `MCPWIRE_SERVER_EVERYTHING_DIR` and runs it with
//! `--ignored`.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use mcpwire_sim::interop::ServerEverything;
use mcpwire_sim::{SimOptions, Simulator};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs server-everything: cargo xtask test runs it"]
async fn run_through_the_simulator_to_server_everything() {
    let dir = std::env::var("MCPWIRE_SERVER_EVERYTHING_DIR").expect(
        "MCPWIRE_SERVER_EVERYTHING_DIR names a server-everything install (cargo xtask test sets it)",
    );
    let everything = ServerEverything::start(std::path::Path::new(&dir))
        .await
        .unwrap();
    let sim = Simulator::start(SimOptions::new()).await.unwrap();
    let base = format!("{}/v1", sim.base_url());
    let server = format!("everything={}", everything.url());
    for (vendor, beta) in [
        ("openai", None),
        ("anthropic", Some("2025-11-20")),
        ("anthropic", Some("2026-09-15")),
    ] {
        let mut args = vec![
            "run",
            "--vendor",
            vendor,
            "--model",
            "sim",
            "--mcp",
            &server,
            "--base-url",
            &base,
            "--json",
            "--stream",
        ];
        if let Some(beta) = beta {
            args.extend(["--anthropic-beta", beta]);
        }
        args.push("call everything.get-sum {\"a\":20,\"b\":22}\ncall everything.echo {\"message\":\"interop through mcpwire run\"}");
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_mcpwire"))
                .args(&args)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{vendor}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let results: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["kind"] == "call_result")
            .collect();
        assert_eq!(results.len(), 2, "{vendor}: {stdout}");
        assert_eq!(results[0]["tool"], "get-sum");
        let text = |i: usize| results[i]["content"][0]["text"].as_str().unwrap();
        assert!(text(0).contains("42"), "{vendor}: {}", results[0]);
        assert!(
            text(1).contains("interop through mcpwire run"),
            "{vendor}: {}",
            results[1]
        );
        assert!(results.iter().all(|r| r["is_error"] == false));
    }
}
