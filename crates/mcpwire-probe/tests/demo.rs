//! The demo MCP server of `mcpwire-sim` (the official Rust SDK's Streamable HTTP server) as
//! the vendors' clients would see it: open, behind a bearer token, and with tool calls.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{failing, status, vendor, why};
use mcpwire_auth::Secret;
use mcpwire_probe::{CheckId, ProbeOptions, Status, Target, ToolCall, Verdict, probe};
use mcpwire_schema::event::Vendor::{Anthropic, OpenAi};
use mcpwire_sim::{DemoOptions, DemoServer};
use serde_json::json;

fn options() -> ProbeOptions {
    ProbeOptions::default().with_timeout(Duration::from_secs(10))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_server_works_for_both_vendors() {
    let demo = DemoServer::start(DemoOptions::new()).await.unwrap();
    let report = probe(&Target::new(demo.url()), &options()).await;
    assert!(report.ok, "{}", report.summary());
    for v in [OpenAi, Anthropic] {
        let r = vendor(&report, v);
        assert_eq!(r.verdict, Verdict::WorksWithWarnings);
        assert_eq!(r.tools, Some(4));
        assert_eq!(r.protocol_version.as_deref(), Some("2025-11-25"));
        assert_eq!(status(&report, v, CheckId::Transport), Status::Pass);
        assert_eq!(status(&report, v, CheckId::ToolNames), Status::Pass);
        assert_eq!(status(&report, v, CheckId::ToolSchemas), Status::Pass);
        assert_eq!(
            why(&report, v, CheckId::Protocol),
            "2025-11-25 agreed through initialize 2025-11-25 (observed)"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_protected_demo_server_needs_its_token() {
    let demo = DemoServer::start(DemoOptions::new().with_token("demo-token-7777"))
        .await
        .unwrap();
    // Without the token: its protected resource metadata names no authorization server, so
    // no client can get a token through OAuth.
    let report = probe(&Target::new(demo.url()), &options()).await;
    assert!(!report.ok);
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["auth"]);
        let w = why(&report, v, CheckId::Auth);
        assert!(
            w.contains("protected resource metadata") && w.contains("authorization_servers"),
            "{w}"
        );
    }
    // With it, as OpenAI `authorization` / Anthropic `authorization_token`.
    let target = Target::new(demo.url()).with_bearer(Secret::new("demo-token-7777"));
    let report = probe(&target, &options()).await;
    assert!(report.ok, "{}", report.summary());
    assert_eq!(
        why(&report, Anthropic, CheckId::Auth),
        "the credentials given were accepted"
    );
    // As a header (OpenAI `headers`); Anthropic maps an Authorization bearer header to its token.
    let target =
        Target::new(demo.url()).with_header("Authorization", Secret::new("Bearer demo-token-7777"));
    let report = probe(&target, &options()).await;
    assert!(report.ok, "{}", report.summary());
    assert_eq!(status(&report, Anthropic, CheckId::Headers), Status::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_calls_on_the_demo_server() {
    let demo = DemoServer::start(DemoOptions::new()).await.unwrap();
    let call = ToolCall::new("add", json!({"a": 2, "b": 3}));
    let report = probe(&Target::new(demo.url()), &options().with_call(call)).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(status(&report, v, CheckId::Call), Status::Pass);
        assert!(why(&report, v, CheckId::Call).starts_with("called `add` in "));
        assert!(why(&report, v, CheckId::Call).ends_with(": 5"));
    }
    let call = ToolCall::new("fail", json!({"message": "boom"}));
    let report = probe(&Target::new(demo.url()), &options().with_call(call)).await;
    assert_eq!(failing(&report, OpenAi), ["call"]);
    assert_eq!(
        why(&report, OpenAi, CheckId::Call),
        "`fail` returned isError: boom"
    );
    let call = ToolCall::new("slow", json!({"ms": 1500}));
    let report = probe(
        &Target::new(demo.url()),
        &options()
            .with_timeout(Duration::from_millis(600))
            .with_call(call)
            .with_vendors([Anthropic]),
    )
    .await;
    assert_eq!(failing(&report, Anthropic), ["call"]);
    assert_eq!(
        why(&report, Anthropic, CheckId::Call),
        "`slow`: no answer within 600 ms"
    );
}
