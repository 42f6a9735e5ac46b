//! Anthropic Messages (MCP connector) through the simulator against the demo MCP server, whole
//! and streamed, for each beta.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn successful_call_each_beta_whole_and_streamed() {
    let env = env().await;
    for (beta, toolsets, listing) in [
        ("mcp-client-2025-04-04", false, false),
        ("mcp-client-2025-11-20", true, false),
        ("mcp-client-2026-09-15", true, true),
    ] {
        for stream in [false, true] {
            let mut body = json!({
                "model": "claude-sim",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "call demo.echo {\"text\":\"hello world\"}"}],
                "mcp_servers": [{"type": "url", "url": env.demo.url(), "name": "demo"}],
                "stream": stream,
            });
            if toolsets {
                body["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo"}]);
            }
            let reply = env.anthropic(Some(beta), &body).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            let events = normalize(&reply.body);
            let mut expected = vec!["response_started"];
            if listing {
                expected.push("tools_listed");
            }
            expected.extend(["call", "call_result", "text", "response_completed"]);
            assert_eq!(settled_kinds(&events), expected, "{beta} stream={stream}");
            let result = &of_kind(&events, "call_result")[0];
            assert_eq!(result["is_error"], false);
            assert_eq!(result["content"][0]["text"], "hello world");
            assert_eq!(
                of_kind(&events, "text")[0]["text"],
                "demo.echo returned hello world"
            );
        }
    }
}
