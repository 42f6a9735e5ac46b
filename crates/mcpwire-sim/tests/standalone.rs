//! `run_standalone` (what `mcpwire sim` runs): both endpoints and the demo server answer.

#![allow(clippy::unwrap_used)]

mod common;

use serde_json::json;

/// A `200` whose events answer "demo.echo returned hi".
async fn assert_echo_reply(reply: reqwest::Response) {
    assert_eq!(reply.status(), 200);
    let body = reply.bytes().await.unwrap();
    let events = common::normalize(&body);
    assert_eq!(common::first_text(&events), "demo.echo returned hi");
}

#[tokio::test]
async fn standalone_serves_both_vendors_and_a_demo_server() {
    let standalone = mcpwire_sim::run_standalone(0).await.unwrap();
    assert!(standalone.openai_url.ends_with("/v1/responses"));
    assert!(standalone.anthropic_url.ends_with("/v1/messages"));
    assert_eq!(
        standalone.sim.api_url(),
        format!("{}/v1", standalone.sim.base_url())
    );
    let http = reqwest::Client::new();
    let reply = http
        .post(&standalone.openai_url)
        .json(&json!({"input": "call demo.echo {\"text\":\"hi\"}",
            "tools": [{"type": "mcp", "server_label": "demo", "server_url": standalone.demo_mcp_url, "require_approval": "never"}]}))
        .send()
        .await
        .unwrap();
    assert_echo_reply(reply).await;
    let reply = http
        .post(&standalone.anthropic_url)
        .header("anthropic-beta", "mcp-client-2025-11-20")
        .json(&json!({"max_tokens": 10, "stream": true,
            "messages": [{"role": "user", "content": "call demo.echo {\"text\":\"hi\"}"}],
            "mcp_servers": [{"type": "url", "url": standalone.demo_mcp_url, "name": "demo"}],
            "tools": [{"type": "mcp_toolset", "mcp_server_name": "demo"}]}))
        .send()
        .await
        .unwrap();
    assert_echo_reply(reply).await;
}
