//! Fidelity: for every scenario shape with a recorded real payload in `fixtures/`, the
//! simulator's streamed output normalises to the same event kinds in the same order.
//!
//! What is compared, exactly:
//! 1. The *settled* event kinds (`mcpwire_normalize::settled`: everything but `call_started`,
//!    `call_arguments_delta` and `text_delta`) with `other` events removed (the recordings
//!    contain `reasoning` items; the simulated model does not reason).
//! 2. For each call, the kinds of the events carrying its `call_id`, with consecutive
//!    `call_arguments_delta`s collapsed into one (the vendors chunk arguments differently from
//!    call to call): e.g. `call_started, call_arguments_delta, call, call_result`.
//!
//! Text deltas are not compared beyond (1): their number depends on the wording.
//! The failed-call recording is a fragment (no `response.created`/`completed`), so for it only
//! (2) is compared.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mcpwire_schema::event::Event;
use serde_json::{Value, json};

/// Per call id, the kinds of its events (consecutive argument deltas collapsed).
fn per_call(events: &[Event<'_>]) -> Vec<Vec<&'static str>> {
    let mut order: Vec<String> = Vec::new();
    let mut kinds: std::collections::HashMap<String, Vec<&'static str>> = Default::default();
    for event in events {
        let value = serde_json::to_value(event).unwrap();
        let Some(id) = value.get("call_id").and_then(Value::as_str) else {
            continue;
        };
        let list = kinds.entry(id.to_owned()).or_insert_with(|| {
            order.push(id.to_owned());
            Vec::new()
        });
        if event.kind() == "call_arguments_delta" && list.last() == Some(&"call_arguments_delta") {
            continue;
        }
        list.push(event.kind());
    }
    order.iter().map(|id| kinds[id].clone()).collect()
}

fn assert_same_shape(recorded: &str, simulated: &[u8], settled_too: bool) {
    let expected = fixture_events(recorded);
    let actual = normalize(simulated);
    if settled_too {
        assert_eq!(
            settled_kinds(&actual),
            settled_kinds(&expected),
            "settled kinds vs {recorded}"
        );
    }
    assert_eq!(
        per_call(&actual),
        per_call(&expected),
        "per-call kinds vs {recorded}"
    );
}

fn never(label: &str, url: &str) -> Value {
    json!({"type": "mcp", "server_label": label, "server_url": url, "require_approval": "never"})
}

/// `env`'s streamed OpenAI answer to `input`, with the demo server as `label` (no approvals).
async fn stream_with_demo_as(env: &Env, label: &str, input: &str) -> Reply {
    let tools = json!([never(label, env.demo.url())]);
    env.openai(&json!({"input": input, "tools": tools, "stream": true}))
        .await
}

#[tokio::test]
async fn openai_successful_calls_match_the_exa_recording() {
    let env = env().await;
    let input =
        "search twice\ncall dmcp.echo {\"text\":\"first\"}\ncall dmcp.add {\"a\":1,\"b\":2}";
    let reply = stream_with_demo_as(&env, "dmcp", input).await;
    assert_same_shape("openai/stream.mcp-call-success.exa.sse", &reply.body, true);
}

#[tokio::test]
async fn anthropic_successful_call_matches_the_vercel_recording() {
    let env = env().await;
    let reply = env
        .anthropic(
            Some("mcp-client-2025-04-04"),
            &json!({
                "model": "claude-sim",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "call echo.echo {\"text\":\"hello world\"}"}],
                "mcp_servers": [{"type": "url", "url": env.demo.url(), "name": "echo"}],
                "stream": true,
            }),
        )
        .await;
    assert_same_shape(
        "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
        &reply.body,
        true,
    );
    // Payloads padded with spaces before the final brace, as in the pydantic-ai recordings.
    let padded = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| l.starts_with("data: ") && l.ends_with(" }"))
            .count()
    };
    let recorded = fixture("anthropic/stream.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.sse");
    assert!(padded(&recorded) > 0);
    assert!(padded(&reply.body) > 0, "no padded payload");
}

#[tokio::test]
async fn openai_approval_request_and_continuation_match_the_zip1_recordings() {
    let env = env().await;
    let tool = json!({"type": "mcp", "server_label": "zip1", "server_url": env.demo.url()});
    let prompt = "call zip1.echo {\"text\":\"https://example.com\"}";
    let reply = env
        .openai(&json!({"input": prompt, "tools": [tool], "stream": true}))
        .await;
    assert_same_shape("openai/stream.approval-request.zip1.sse", &reply.body, true);

    // The recorded continuation (vercel/ai) sends an item_reference to the request plus the
    // approval, without previous_response_id; the API then lists the tools again.
    let events = normalize(&reply.body);
    let approval_id = of_kind(&events, "approval_requested")[0]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = env
        .openai(&json!({
            "input": [
                {"role": "user", "content": prompt},
                {"type": "item_reference", "id": approval_id},
                {"type": "mcp_approval_response", "approve": true, "approval_request_id": approval_id},
            ],
            "tools": [tool],
            "stream": true,
        }))
        .await;
    assert_same_shape(
        "openai/stream.approval-approved-mcp-call.zip1.sse",
        &reply.body,
        true,
    );
}

#[tokio::test]
async fn openai_failed_call_matches_the_reconstructed_recording() {
    let env = env().await;
    let input = "call gcal.fail {\"message\":\"Unauthorized\"}";
    let reply = stream_with_demo_as(&env, "gcal", input).await;
    assert_same_shape(
        "openai/stream.mcp-call-failed.RECONSTRUCTED.sse",
        &reply.body,
        false,
    );
    let events = normalize(&reply.body);
    assert_eq!(of_kind(&events, "call_result")[0]["is_error"], true);
}

#[tokio::test]
async fn openai_several_servers_match_the_multi_server_recording() {
    let env = env().await;
    let two = another_demo().await;
    let three = another_demo().await;
    let reply = env
        .openai(&json!({
            "input": "Which tools do you have?",
            "tools": [never("deepwiki", env.demo.url()), never("microsoft_learn", two.url()), never("gitmcp", three.url())],
            "stream": true,
        }))
        .await;
    assert_same_shape(
        "openai/stream.multi-server-list-tools-missing-output-item-done.sse",
        &reply.body,
        true,
    );
    // The stream quirk itself: three listings added, one `output_item.done`.
    let recorded = fixture("openai/stream.multi-server-list-tools-missing-output-item-done.sse");
    assert_eq!(list_tools_items(&reply.body), list_tools_items(&recorded));
    assert_eq!(list_tools_items(&reply.body), (3, 1));
}

/// How many `mcp_list_tools` items a stream adds, and how many get `output_item.done`.
fn list_tools_items(stream: &[u8]) -> (usize, usize) {
    let events = mcpwire_schema::sse::decode_all(stream).unwrap();
    let count = |name: &str| {
        events
            .iter()
            .filter(|e| e.event_type == name && e.data.contains("\"type\":\"mcp_list_tools\""))
            .count()
    };
    (
        count("response.output_item.added"),
        count("response.output_item.done"),
    )
}

#[tokio::test]
async fn openai_mcp_call_in_progress_comes_twice_as_recorded() {
    let env = env().await;
    let reply = stream_with_demo_as(&env, "demo", "call demo.add {\"a\":1,\"b\":2}").await;
    let count = |bytes: &[u8]| {
        mcpwire_schema::sse::decode_all(bytes)
            .unwrap()
            .iter()
            .filter(|e| e.event_type == "response.mcp_call.in_progress")
            .count()
    };
    let recorded = fixture("openai/stream.approval-approved-mcp-call.zip1.sse");
    assert_eq!(count(&reply.body), count(&recorded));
    assert_eq!(count(&reply.body), 2);
}
