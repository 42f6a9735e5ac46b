//! Requests through the gateway to the simulator and a bearer-protected demo MCP server: the
//! caller never sends the MCP token, the gateway injects it; streams keep the vendor's bytes.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;

/// The `mcp_tool_result` block of an Anthropic message.
fn tool_result(body: &Value) -> &Value {
    body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "mcp_tool_result")
        .unwrap()
}

#[tokio::test]
async fn openai_whole_and_streamed_with_injected_token_and_audit() {
    let audit = tempdir().join("audit.jsonl");
    let (demo, _sim, gw) = sim_gateway("", &audit_table(&audit, &["arguments"])).await;

    // Whole response: the demo server only answers with the injected token.
    let r = team_a_openai(&gw, demo.url(), "call demo.add {\"a\":2,\"b\":3}", false).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key(mcpwire_gateway::REQUEST_ID_HEADER));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["output"][1]["output"], "5", "{body}");

    // Streamed: the SSE bytes keep `event:` lines; the call succeeds.
    let r = team_a_openai(&gw, demo.url(), "call demo.echo {\"text\":\"hi\"}", true).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("event: response.mcp_call.completed\n"),
        "{text}"
    );
    assert!(text.contains("event: response.completed\n"), "{text}");
    assert!(!text.contains("[DONE]"));

    // The audit log has one line per MCP event, with the configured server name.
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = std::fs::read_to_string(&audit)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if lines
            .iter()
            .filter(|l| l.contains("\"event\":\"call\""))
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let calls: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] == "call")
        .collect();
    assert_eq!(calls.len(), 2, "{lines:?}");
    let echo = calls.iter().find(|c| c["tool"] == "echo").unwrap();
    assert_eq!(echo["tenant"], "team-a");
    assert_eq!(echo["server"], "demo");
    assert_eq!(echo["outcome"], "ok");
    assert_eq!(echo["arguments"], serde_json::json!({"text": "hi"}));
    assert!(echo["latency_ms"].is_number(), "{echo}");
    assert!(echo.get("output").is_none(), "outputs are opt-in");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"event\":\"tools_listed\""))
    );

    // Metrics count requests and MCP events by server and outcome.
    let m = metrics_text(&gw).await;
    assert!(
        m.contains(
            "mcpwire_gateway_requests_total{route=\"responses\",tenant=\"team-a\",status=\"200\"} 2"
        ),
        "{m}"
    );
    assert!(
        m.contains(
            "mcpwire_gateway_mcp_events_total{tenant=\"team-a\",server=\"demo\",outcome=\"ok\"} 2"
        ),
        "{m}"
    );
    assert_eq!(get_path(&gw, "/healthz").await.status(), 200);
    assert_eq!(get_path(&gw, "/readyz").await.status(), 200);
    gw.shutdown().await;
}

#[tokio::test]
async fn anthropic_whole_and_streamed_with_injected_token() {
    let (demo, _sim, gw) = sim_gateway("allowed_tools = [\"add\", \"echo\"]", "").await;
    let r = team_a_anthropic(&gw, demo.url(), "call demo.add {\"a\":1,\"b\":2}", false).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let result = tool_result(&body);
    assert_eq!(result["is_error"], false, "{body}");
    assert_eq!(result["content"][0]["text"], "3");

    let r = team_a_anthropic(&gw, demo.url(), "call demo.echo {\"text\":\"x\"}", true).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.starts_with("event: message_start\n"), "{text}");
    assert!(text.contains("event: message_stop\n"));

    // `slow` is not in the tenant's allowed tools: the toolset disables it.
    let r = team_a_anthropic(&gw, demo.url(), "call demo.slow {\"ms\":1}", false).await;
    let body: Value = r.json().await.unwrap();
    let result = tool_result(&body);
    assert_eq!(
        result["is_error"], true,
        "slow must not be callable: {body}"
    );
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{body}"
    );
}

#[tokio::test]
async fn approval_floor_applies_through_the_sim() {
    let (demo, _sim, gw) = sim_gateway("require_approval = [\"add\"]", "").await;
    // The caller says "never"; the tenant's floor makes `add` need approval.
    let r = team_a_openai(&gw, demo.url(), "call demo.add {\"a\":1,\"b\":2}", false).await;
    let body: Value = r.json().await.unwrap();
    let kinds: Vec<&str> = body["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["type"].as_str())
        .collect();
    assert!(kinds.contains(&"mcp_approval_request"), "{body}");
    assert!(!kinds.contains(&"mcp_call"), "{body}");
}
