//! Every approval floor the README documents, against a caller who asks for no approval at
//! all (`"never"` on OpenAI; the Anthropic connector has no approvals, so floor tools are
//! switched off there): what reaches the vendor is never less than the floor.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::MockServer;

const URL: &str = "https://mcp.example.com/mcp";

async fn upstream() -> MockServer {
    answering_json(json!({"id": "resp_1", "ok": true})).await
}

/// What the vendor received for one OpenAI and one Anthropic request under `mcp_extra`.
async fn sent(mcp_extra: &str) -> (Value, (u16, Value)) {
    let up = upstream().await;
    let gw = start(&config_text(&up.uri(), URL, DEMO_BEARER, "", mcp_extra)).await;
    let r = team_a_openai(&gw, URL, "x", false).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = team_a_anthropic(&gw, URL, "x", false).await;
    let status = r.status().as_u16();
    let anthropic_reply: Value = r.json().await.unwrap();
    let got = up.received_requests().await.unwrap();
    let openai: Value = serde_json::from_slice(&got[0].body).unwrap();
    let anthropic = match got.get(1) {
        Some(r) => serde_json::from_slice(&r.body).unwrap(),
        None => anthropic_reply,
    };
    (
        openai["tools"][0]["require_approval"].clone(),
        (status, anthropic),
    )
}

#[tokio::test]
async fn no_floor_keeps_the_callers_never() {
    let (openai, (status, anthropic)) = sent("").await;
    assert_eq!(openai, "never");
    assert_eq!(status, 200);
    // Nothing switched off, no default changed.
    let toolset = &anthropic["tools"][0];
    assert!(toolset["default_config"].is_null(), "{anthropic}");
    assert!(
        toolset["configs"].as_object().is_none_or(|c| c.is_empty()),
        "{anthropic}"
    );
}

#[tokio::test]
async fn always_floor_overrides_never() {
    let (openai, (status, anthropic)) = sent(r#"require_approval = "always""#).await;
    assert_eq!(openai, "always");
    // The connector cannot ask: refused rather than run without approval.
    assert_eq!(status, 403, "{anthropic}");
    assert_eq!(anthropic["error"]["type"], "permission_error");
}

#[tokio::test]
async fn tool_floor_with_known_tools_narrows_never() {
    let (openai, (status, anthropic)) =
        sent("allowed_tools = [\"search\", \"fetch\"]\nrequire_approval = [\"fetch\"]").await;
    assert_eq!(openai, json!({"never": {"tool_names": ["search"]}}));
    assert_eq!(status, 200);
    let configs = &anthropic["tools"][0]["configs"];
    assert_eq!(configs["fetch"]["enabled"], false, "{anthropic}");
    assert_eq!(configs["search"]["enabled"], true, "{anthropic}");
    assert_eq!(anthropic["tools"][0]["default_config"]["enabled"], false);
}

#[tokio::test]
async fn tool_floor_without_known_tools_asks_for_everything() {
    let (openai, (status, anthropic)) = sent("require_approval = [\"fetch\"]").await;
    // No tool names are known, so "never except fetch" cannot be written: every call asks.
    assert_eq!(openai, "always");
    assert_eq!(status, 200);
    assert_eq!(
        anthropic["tools"][0]["configs"]["fetch"]["enabled"], false,
        "{anthropic}"
    );
}
