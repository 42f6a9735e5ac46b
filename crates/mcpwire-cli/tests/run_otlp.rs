//! `mcpwire run --otlp URL`: the run's trace reaches a collector (wiremock standing in, on
//! 127.0.0.1) as OTLP/HTTP protobuf: the request span (`chat <model>`, service `mcpwire-cli`)
//! and a span per MCP listing and call, the failing call with its error type; no token in it.
//! A collector that is down costs the run nothing but a warning; a bad URL is exit 2.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use mcpwire_sim::{DemoOptions, DemoServer, DemoServerHandle, SimHandle, SimOptions, Simulator};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "mcp-PLANTED-run-token-61d0";

async fn run(otlp: &str, demo: &str, sim: &str) -> std::process::Output {
    let args: Vec<String> = [
        "run",
        "--vendor",
        "openai",
        "--model",
        "gpt-sim",
        "--mcp",
        &format!("demo={demo}"),
        "--token",
        &format!("demo={TOKEN}"),
        "--base-url",
        &format!("{sim}/v1"),
        "--stream",
        "--otlp",
        otlp,
        "call demo.echo {\"text\":\"hi\"}\ncall demo.fail {\"message\":\"broken\"}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_mcpwire"))
            .args(&args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The demo MCP server (wanting [`TOKEN`]) and a simulator.
async fn demo_and_sim() -> (DemoServerHandle, SimHandle) {
    let demo = DemoServer::start(DemoOptions::new().with_token(TOKEN))
        .await
        .unwrap();
    let sim = Simulator::start(SimOptions::new()).await.unwrap();
    (demo, sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_is_traced_to_the_collector() {
    let (demo, sim) = demo_and_sim().await;
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "application/x-protobuf"),
        )
        .mount(&collector)
        .await;
    let out = run(&collector.uri(), demo.url(), &sim.base_url()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("could not be sent"), "{stderr}");
    let received = collector.received_requests().await.unwrap();
    assert!(!received.is_empty(), "nothing exported");
    let mut all = Vec::new();
    for r in &received {
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        all.extend_from_slice(&r.body);
    }
    // Protobuf keeps strings as they are: the span names and attribute values are readable.
    let text = String::from_utf8_lossy(&all);
    for want in [
        "mcpwire-cli",
        "chat gpt-sim",
        "gen_ai.provider.name",
        "tools/list",
        "tools/call echo",
        "tools/call fail",
        "execute_tool",
        "tool_error",
        "gen_ai.usage.input_tokens",
    ] {
        assert!(text.contains(want), "{want} not exported");
    }
    assert!(!text.contains(TOKEN), "the token was exported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_collector_is_a_warning_and_a_bad_url_exit_2() {
    let (demo, sim) = demo_and_sim().await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let out = run(&format!("http://{dead}"), demo.url(), &sim.base_url()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("trace span(s) could not be sent to the collector"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo.echo"));

    let out = run("ftp://collector", demo.url(), &sim.base_url()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--otlp"));
}
