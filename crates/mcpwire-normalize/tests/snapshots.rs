//! One snapshot per fixture: the events it normalises to (JSON, one object per event). Requests
//! are not output and have no events; they are rendered by `mcpwire-providers`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use mcpwire_normalize::{StreamNormalizer, anthropic, openai};
use mcpwire_schema::check::{self, Kind};
use mcpwire_schema::event::{Event, Vendor};
use mcpwire_schema::{decode, openai as wire_openai};
use serde_json::Value;

fn case_name(path: &Path) -> String {
    path.strip_prefix(common::fixtures_root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Events for any fixture that is output: responses, streams, errors, items, blocks, events.
fn events_of(bytes: &[u8]) -> Option<Vec<Event<'static>>> {
    if check::looks_like_sse(bytes) {
        let (events, err) = common::normalize_stream(bytes);
        let mut events = events;
        if let Some(err) = err {
            // A stream without its final event (the docs' error example) still snapshots.
            events.push(Event::new(
                events.first().map_or(Vendor::Anthropic, |e| e.vendor),
                mcpwire_schema::event::EventBody::Other {
                    raw: serde_json::json!({"normalize_error": err.to_string()}).into(),
                    index: None,
                    stream_only: false,
                },
            ));
        }
        return Some(events);
    }
    let value: Value = serde_json::from_slice(bytes).unwrap();
    let elements: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for (i, element) in elements.into_iter().enumerate() {
        let index = i as u64;
        match check::detect(element).unwrap() {
            Kind::OpenAiResponse
            | Kind::AnthropicMessage
            | Kind::OpenAiError
            | Kind::AnthropicError => {
                out.extend(
                    mcpwire_normalize::normalize_whole(&serde_json::to_vec(element).unwrap(), None)
                        .unwrap(),
                );
            }
            Kind::OpenAiItem => {
                openai::settle_item(index, &decode::from_value(element).unwrap(), &mut out)
            }
            Kind::AnthropicBlock => {
                let mut context = anthropic::Context::new();
                anthropic::settle_block(
                    index,
                    &decode::from_value(element).unwrap(),
                    &mut context,
                    &mut out,
                );
            }
            Kind::OpenAiEvent => {
                // A lone event: feed it, then end the stream so held items are released.
                let mut n = StreamNormalizer::new(Vendor::OpenAi);
                let data = serde_json::to_vec(element).unwrap();
                let mut events = Vec::new();
                n.push_json(&data, i, &mut events).unwrap();
                out.extend(events.into_iter().map(Event::into_owned));
                let _incomplete = n.finish(&mut out);
            }
            Kind::OpenAiMcpCallError => {
                // A bare `mcp_call.error`: normalise it inside a minimal failed call.
                let error = element.get("error").unwrap_or(element);
                let call: wire_openai::Item = decode::from_value(&serde_json::json!({
                    "type": "mcp_call", "id": "mcp_fragment", "server_label": "fragment", "name": "fragment",
                    "arguments": "{}", "output": null, "error": error, "status": "failed"
                }))
                .unwrap();
                openai::settle_item(index, &call, &mut out);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[test]
fn fixture_events() {
    insta::glob!(
        "../../../fixtures",
        "{openai,anthropic}/*.{json,sse}",
        |path| {
            let bytes = std::fs::read(path).unwrap();
            let Some(events) = events_of(&bytes) else {
                return;
            };
            insta::with_settings!({ snapshot_suffix => case_name(path), prepend_module_to_snapshot => false }, {
                // Through `Value`: insta's own serializer does not know raw JSON text.
                insta::assert_json_snapshot!("events", serde_json::to_value(&events).unwrap());
            });
        }
    );
}
