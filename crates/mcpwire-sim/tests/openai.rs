//! OpenAI Responses through the simulator against the demo MCP server, whole and streamed.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

fn mcp_tool(label: &str, url: &str) -> serde_json::Value {
    json!({"type": "mcp", "server_label": label, "server_url": url, "require_approval": "never"})
}

#[tokio::test]
async fn successful_call_whole_and_streamed() {
    let env = env().await;
    for stream in [false, true] {
        let body = json!({
            "model": "gpt-sim",
            "input": "please add\ncall demo.add {\"a\":2,\"b\":3}",
            "tools": [mcp_tool("demo", env.demo.url())],
            "stream": stream,
        });
        let reply = env.openai(&body).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let events = normalize(&reply.body);
        assert_eq!(
            settled_kinds(&events),
            [
                "response_started",
                "tools_listed",
                "call",
                "call_result",
                "text",
                "response_completed"
            ],
            "stream={stream}"
        );
        let result = &of_kind(&events, "call_result")[0];
        assert_eq!(result["is_error"], false);
        assert_eq!(result["content"][0]["text"], "5");
        let text = &of_kind(&events, "text")[0];
        assert_eq!(text["text"], "demo.add returned 5");
    }
}
