//! Every recorded payload in `fixtures/` decodes with the typed schema and round-trips to equal
//! JSON; so do the same payloads with unknown fields and unknown types injected.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use mcpwire_schema::check::{self, Kind};
use mcpwire_schema::{Finding, sse};
use serde_json::{Value, json};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut files = Vec::new();
    for vendor in ["openai", "anthropic"] {
        for entry in std::fs::read_dir(root.join(vendor)).unwrap() {
            let path = entry.unwrap().path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("json" | "sse")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 60, "fixtures missing: found {}", files.len());
    files
}

#[test]
fn every_fixture_parses_and_round_trips() {
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let report = check::check(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_str().unwrap();
        let vendor = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            report.kind.vendor().as_str(),
            vendor,
            "{name} detected as {}",
            report.kind
        );
        if name.starts_with("stream.") {
            assert!(
                report.kind.is_stream(),
                "{name} detected as {}",
                report.kind
            );
        }
    }
}

const FIELD: &str = "x_mcpwire_injected";
const TYPE: &str = "x_mcpwire_injected_type";

/// Adds an unknown field to every object, and an unknown-type element to every array whose
/// elements are all tagged objects (except `mcp_servers`, whose `type` is always `url`).
fn inject(value: &mut Value) {
    inject_under(value, "");
}

fn inject_under(value: &mut Value, key: &str) {
    match value {
        // `headers` is a string-to-string dictionary, not a struct.
        Value::Object(map) if key != "headers" => {
            for (k, v) in map.iter_mut() {
                inject_under(v, k);
            }
            map.insert(FIELD.to_owned(), json!({"nested": [1, null]}));
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                inject_under(v, "");
            }
            let tagged = key != "mcp_servers"
                && !items.is_empty()
                && items
                    .iter()
                    .all(|v| v.get("type").is_some_and(Value::is_string));
            if tagged {
                items.push(json!({"type": TYPE, "payload": {"a": 1}}));
            }
        }
        _ => {}
    }
}

fn count(findings: &[Finding]) -> (usize, usize) {
    let fields = findings
        .iter()
        .filter(|f| matches!(f, Finding::UnknownField { path } if path.ends_with(FIELD)))
        .count();
    let types = findings
        .iter()
        .filter(|f| matches!(f, Finding::UnknownType { type_name: Some(t), .. } if t == TYPE))
        .count();
    (fields, types)
}

#[test]
fn fixtures_with_unknown_fields_and_types_injected_still_parse_and_round_trip() {
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display();
        let injected: Vec<u8> = if check::looks_like_sse(&bytes) {
            // Every event gets unknown fields; an unknown event type is slipped in after each one.
            let mut out = String::new();
            for event in sse::decode_all(&bytes).unwrap() {
                let mut value: Value = serde_json::from_str(&event.data).unwrap();
                // Keep the top-level `type` first so vendor detection still sees the stream.
                inject(&mut value);
                out.push_str(&format!("event: {}\ndata: {value}\n\n", event.event_type));
                out.push_str(&format!(
                    "event: {TYPE}\ndata: {{\"type\":\"{TYPE}\",\"n\":1}}\n\n"
                ));
            }
            out.into_bytes()
        } else {
            let mut value: Value = serde_json::from_slice(&bytes).unwrap();
            if let Value::Array(items) = &mut value {
                for item in items {
                    inject(item);
                }
            } else {
                inject(&mut value);
            }
            serde_json::to_vec(&value).unwrap()
        };
        let before = check::check(&bytes).unwrap();
        let after =
            check::check(&injected).unwrap_or_else(|e| panic!("{name} with injections: {e}"));
        assert_eq!(before.kind, after.kind, "{name}");
        let (fields, types) = count(&after.findings);
        assert!(
            fields > 0,
            "{name}: injected fields were not reported as kept"
        );
        if after.kind.is_stream() {
            // One injected event per original event, plus unknown blocks injected inside events.
            let events = after.events.unwrap() / 2;
            assert!(
                types >= events,
                "{name}: {types} unknown types kept for {events} injected events"
            );
        }
        // Everything that was already reported is still reported.
        assert!(after.findings.len() > before.findings.len(), "{name}");
    }
}

#[test]
fn a_known_type_with_a_missing_required_field_is_an_error_naming_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let cases: &[(&str, &str, &str)] = &[
        (
            "openai/response.mcp-call-success.exa.json",
            "name",
            "mcp_call",
        ),
        (
            "openai/response.approval-request.zip1.json",
            "server_label",
            "mcp_approval_request",
        ),
        (
            "openai/response.approval-request.zip1.json",
            "tools",
            "mcp_list_tools",
        ),
        (
            "anthropic/response.2025-04-04.mcp-echo.vercel-ai.json",
            "server_name",
            "mcp_tool_use",
        ),
        (
            "anthropic/response.2025-04-04.mcp-echo.vercel-ai.json",
            "tool_use_id",
            "mcp_tool_result",
        ),
    ];
    for (file, field, item_type) in cases {
        let mut value: Value =
            serde_json::from_slice(&std::fs::read(root.join(file)).unwrap()).unwrap();
        let list_key = if file.starts_with("openai") {
            "output"
        } else {
            "content"
        };
        let list = value[list_key].as_array_mut().unwrap();
        let index = list.iter().position(|v| v["type"] == *item_type).unwrap();
        list[index].as_object_mut().unwrap().remove(*field);
        let err = check::check(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert_eq!(err.path, format!("{list_key}[{index}]"), "{file}");
        assert_eq!(err.message, format!("missing field `{field}`"), "{file}");
    }
}

#[test]
fn a_known_type_with_a_wrong_field_type_names_the_path() {
    let raw = br#"{"type":"response.output_item.done","output_index":0,"sequence_number":1,
        "item":{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}",
                "error":{"type":"http_error","code":"not a number","message":"m"}}}"#;
    let err = check::check(raw).unwrap_err();
    assert_eq!(err.path, "item.error.code");
    assert!(
        err.message.starts_with("invalid type: string"),
        "{}",
        err.message
    );
}

#[test]
fn absent_and_null_stay_distinct() {
    let with_null = br#"{"type":"mcp_call","id":"a","server_label":"s","name":"t","arguments":"","error":null}"#;
    let absent = br#"{"type":"mcp_call","id":"a","server_label":"s","name":"t","arguments":""}"#;
    for raw in [&with_null[..], &absent[..]] {
        let item: mcpwire_schema::openai::Item = mcpwire_schema::decode::from_slice(raw).unwrap();
        let back = serde_json::to_vec(&item).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&back).unwrap(),
            serde_json::from_slice::<Value>(raw).unwrap()
        );
    }
}

#[test]
fn unknown_types_reserialise_byte_for_byte() {
    // Key order and number formatting of unknown objects survive (serde_json preserve_order).
    let raw =
        r#"{"z":1,"type":"reasoning","a":[1.5,{"y":null,"b":"x"}],"encrypted_content":"abc"}"#;
    let item: mcpwire_schema::openai::Item = serde_json::from_str(raw).unwrap();
    assert!(matches!(item, mcpwire_schema::openai::Item::Unknown(_)));
    assert_eq!(serde_json::to_string(&item).unwrap(), raw);
    let block: mcpwire_schema::anthropic::ContentBlock = serde_json::from_str(raw).unwrap();
    assert_eq!(serde_json::to_string(&block).unwrap(), raw);
}

#[test]
fn detection_covers_both_vendors_and_every_kind() {
    let cases: &[(&str, Kind)] = &[
        (
            r#"{"model":"m","input":"hi","tools":[{"type":"mcp","server_label":"s"}]}"#,
            Kind::OpenAiRequest,
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[],"mcp_servers":[]}"#,
            Kind::AnthropicRequest,
        ),
        (
            r#"{"error":{"message":"m","type":"invalid_request_error"}}"#,
            Kind::OpenAiError,
        ),
        (
            r#"{"type":"error","error":{"type":"api_error","message":"m"}}"#,
            Kind::AnthropicError,
        ),
        (
            r#"{"type":"error","code":"x","message":"m","sequence_number":3}"#,
            Kind::OpenAiEvent,
        ),
        (r#"{"type":"ping"}"#, Kind::AnthropicEvent),
        (
            r#"{"type":"url","url":"https://x","name":"n"}"#,
            Kind::AnthropicMcpServer,
        ),
        (
            r#"{"type":"mcp_toolset","mcp_server_name":"n"}"#,
            Kind::AnthropicTool,
        ),
        (
            r#"{"type":"mcp_tool_listing","mcp_server_name":"n","tools":[]}"#,
            Kind::AnthropicBlock,
        ),
        (
            r#"{"type":"http_error","code":1,"message":"m"}"#,
            Kind::OpenAiMcpCallError,
        ),
    ];
    for (raw, kind) in cases {
        assert_eq!(check::check(raw.as_bytes()).unwrap().kind, *kind, "{raw}");
    }
    let err = check::check(br#"{"type":"who_knows"}"#).unwrap_err();
    assert!(err.message.contains("who_knows"));
}
