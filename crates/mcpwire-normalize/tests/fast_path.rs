//! The fast paths (borrowed views of the hot events, taken when no accumulator is fed) must give
//! exactly what the full typed decode gives: the same events, event by event, and the same
//! error at the same event, for every recorded stream, for each of them with one event
//! mutated (each field removed, given another JSON type, given twice), and for hostile variants
//! of the text delta.
//!
//! One difference is by design: an item of `response.completed` that was already settled from
//! its `output_item.done` is not decoded again by the fast path (`docs/event-model.md`), so a
//! fault only in that copy is an error for the full decode alone.

#![allow(clippy::unwrap_used)]

mod common;

use mcpwire_normalize::StreamNormalizer;
use mcpwire_schema::event::{Event, Vendor};
use mcpwire_schema::sse;
use serde_json::Value;

/// What one path gave for a stream: the events of each SSE event, and the first error (the
/// event index and its text), after which the stream is not fed further.
#[derive(Debug, PartialEq)]
struct Run {
    events: Vec<Vec<Event<'static>>>,
    error: Option<(usize, String)>,
}

fn run(vendor: Vendor, payloads: &[String], fast: bool) -> Run {
    let mut normalizer = StreamNormalizer::new(vendor);
    let mut accumulator = normalizer.accumulator();
    let mut run = Run {
        events: Vec::new(),
        error: None,
    };
    for (i, data) in payloads.iter().enumerate() {
        let mut out = Vec::new();
        let result = if fast {
            normalizer.push_json(data.as_bytes(), i, &mut out)
        } else {
            normalizer.push_json_with(data.as_bytes(), i, &mut out, Some(&mut accumulator))
        };
        run.events
            .push(out.into_iter().map(Event::into_owned).collect());
        if let Err(e) = result {
            run.error = Some((i, e.to_string()));
            return run;
        }
    }
    let mut out = Vec::new();
    let _incomplete = normalizer.finish(&mut out);
    run.events.push(out);
    run
}

fn vendor_of(name: &str) -> Vendor {
    if name.starts_with("openai") {
        Vendor::OpenAi
    } else {
        Vendor::Anthropic
    }
}

fn payloads(bytes: &[u8]) -> Vec<String> {
    sse::decode_all(bytes)
        .unwrap()
        .into_iter()
        .map(|e| e.data)
        .filter(|d| d.trim() != "[DONE]")
        .collect()
}

#[test]
fn every_recorded_stream_gives_the_same_events_by_both_paths() {
    let mut deltas = 0;
    for (name, bytes) in common::stream_fixtures() {
        let payloads = payloads(&bytes);
        deltas += payloads
            .iter()
            .filter(|d| d.contains("output_text.delta") || d.contains("content_block_delta"))
            .count();
        let vendor = vendor_of(&name);
        assert_eq!(
            run(vendor, &payloads, true),
            run(vendor, &payloads, false),
            "{name}"
        );
    }
    assert!(deltas > 100, "the fixtures hold {deltas} deltas");
}

/// A JSON path, as keys and indexes.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// The event types a view reads (the others always take the typed decode).
const VIEWED: &[&str] = &[
    "response.output_text.delta",
    "response.mcp_call_arguments.delta",
    "response.output_item.done",
    "response.completed",
    "content_block_delta",
];

/// Fields whose values are kept verbatim (`Json`) by the typed decode.
const VERBATIM: &[&str] = &[
    "input_schema",
    "annotations",
    "logprobs",
    "summary",
    "content",
    "tools",
    "text",
    "reasoning",
    "metadata",
    "usage",
    "input",
    "citations",
];

/// Every path to an object field in `value`, to `depth` levels.
fn field_paths(value: &Value, depth: usize, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if depth == 0 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                at.push(Step::Key(key.clone()));
                out.push(at.clone());
                // Values passed through verbatim (schemas, echoed request tools, content,
                // reasoning, log-probabilities) are mutated whole, not field by field.
                if !VERBATIM.contains(&key.as_str()) {
                    field_paths(child, depth - 1, at, out);
                }
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(3) {
                at.push(Step::Index(i));
                field_paths(child, depth - 1, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The object holding the field at `path`, and the field's key.
fn parent<'v>(
    value: &'v mut Value,
    path: &[Step],
) -> (&'v mut serde_json::Map<String, Value>, String) {
    let (last, init) = path.split_last().unwrap();
    let mut node = value;
    for step in init {
        node = match step {
            Step::Key(k) => &mut node[k.as_str()],
            Step::Index(i) => &mut node[*i],
        };
    }
    let Step::Key(key) = last else {
        panic!("a field path ends with a key")
    };
    (node.as_object_mut().unwrap(), key.clone())
}

/// The mutations of one field: removed, replaced by another JSON type, or given twice.
fn mutations(event: &Value, path: &[Step]) -> Vec<String> {
    let mut out = Vec::new();
    let mut removed = event.clone();
    let (map, key) = parent(&mut removed, path);
    map.shift_remove(&key);
    out.push(removed.to_string());
    for replacement in [
        Value::Null,
        Value::from("x"),
        Value::from(-1),
        Value::from(1.5),
        Value::Array(Vec::new()),
        serde_json::json!({}),
        Value::Bool(true),
    ] {
        let mut replaced = event.clone();
        let (map, key) = parent(&mut replaced, path);
        if map[&key] == replacement {
            continue;
        }
        map[&key] = replacement;
        out.push(replaced.to_string());
    }
    // The field twice: a marker value put in its place, then replaced in the text by the
    // field's own value followed by a second copy of the field.
    let mut doubled = event.clone();
    let (map, key) = parent(&mut doubled, path);
    let own = map[&key].to_string();
    map[&key] = Value::from("\u{1}twice\u{1}");
    let text = doubled.to_string();
    let quoted_key = serde_json::to_string(&key).unwrap();
    out.push(text.replacen(
        "\"\\u0001twice\\u0001\"",
        &format!("{own},{quoted_key}:{own}"),
        1,
    ));
    out
}

/// Whether `path` leads into an item of `response.output`, and which.
fn output_item(path: &[Step]) -> Option<usize> {
    match path {
        [Step::Key(r), Step::Key(o), Step::Index(i), _, ..] if r == "response" && o == "output" => {
            Some(*i)
        }
        _ => None,
    }
}

#[test]
fn mutated_events_get_the_same_answer_by_both_paths() {
    let mut compared = 0;
    let mut lazy = 0;
    for (name, bytes) in common::stream_fixtures() {
        let vendor = vendor_of(&name);
        let original = payloads(&bytes);
        // Mutate the first event of each type a view reads (each type's shape, not each copy).
        let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
        for (at, data) in original.iter().enumerate() {
            let event: Value = serde_json::from_str(data).unwrap();
            let tag = event["type"].as_str().unwrap_or_default().to_owned();
            if !VIEWED.contains(&tag.as_str()) {
                continue;
            }
            // Items and deltas by their own type too.
            let inner = event["item"]["type"]
                .as_str()
                .or(event["delta"]["type"].as_str());
            let count = seen
                .entry(format!("{tag}/{}", inner.unwrap_or_default()))
                .or_default();
            *count += 1;
            if *count > 1 {
                continue;
            }
            let mut paths = Vec::new();
            field_paths(&event, 5, &mut Vec::new(), &mut paths);
            for path in paths {
                for mutated in mutations(&event, &path) {
                    // The stream with the event mutated, without the other OpenAI text deltas
                    // (they touch no state that another event reads).
                    let payloads: Vec<String> = original
                        .iter()
                        .enumerate()
                        .filter(|(i, d)| *i == at || !d.contains("\"response.output_text.delta\""))
                        .map(|(i, d)| if i == at { mutated.clone() } else { d.clone() })
                        .collect();
                    let at = original[..at]
                        .iter()
                        .filter(|d| !d.contains("\"response.output_text.delta\""))
                        .count();
                    let fast = run(vendor, &payloads, true);
                    let full = run(vendor, &payloads, false);
                    compared += 1;
                    if fast.error.is_none()
                        && full.error.as_ref().is_some_and(|(i, _)| *i == at)
                        && output_item(&path).is_some()
                    {
                        // The lazy final response: the events before it agree.
                        assert_eq!(
                            fast.events[..at],
                            full.events[..at],
                            "{name}: {}",
                            payloads[at]
                        );
                        lazy += 1;
                        continue;
                    }
                    assert_eq!(fast, full, "{name}: {}", payloads[at]);
                }
            }
        }
    }
    eprintln!("{compared} mutations compared, {lazy} of a settled item's final copy");
    assert!(compared > 1000, "only {compared} mutations compared");
    assert!(
        lazy > 0,
        "no mutation reached an already settled item of a final response"
    );
}

#[test]
fn hostile_text_deltas_get_the_same_answer_by_both_paths() {
    const P: &str = r#"{"type":"response.output_text.delta","#;
    let cases = [
        // Well-formed, with escapes, unknown fields, nulls.
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"a\"b\u00e9\n"}"#,
        r#""sequence_number":null,"item_id":"m","output_index":1,"content_index":0,"delta":"x","logprobs":[{"t":1}],"obfuscation":null,"new":{"deep":[1,2]}}"#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"","type":"again"}"#,
        // Each required field missing, or of the wrong type.
        r#""output_index":1,"content_index":0,"delta":"x"}"#,
        r#""item_id":"m","content_index":0,"delta":"x"}"#,
        r#""item_id":"m","output_index":1,"delta":"x"}"#,
        r#""item_id":"m","output_index":1,"content_index":0}"#,
        r#""item_id":7,"output_index":1,"content_index":0,"delta":"x"}"#,
        r#""item_id":"m","output_index":-1,"content_index":0,"delta":"x"}"#,
        r#""item_id":"m","output_index":1.5,"content_index":0,"delta":"x"}"#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":["x"]}"#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"x","sequence_number":"1"}"#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"x","obfuscation":5}"#,
        // Duplicates, and bad JSON.
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"x","delta":"y"}"#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"x","zz":1,"zz":2}"#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"x""#,
        r#""item_id":"m","output_index":1,"content_index":0,"delta":"x"} trailing"#,
        r#""item_id":"m","output_index":18446744073709551616,"content_index":0,"delta":"x"}"#,
    ];
    for case in cases {
        let payloads = vec![format!("{P}{case}")];
        assert_eq!(
            run(Vendor::OpenAi, &payloads, true),
            run(Vendor::OpenAi, &payloads, false),
            "{}",
            payloads[0]
        );
    }
}

/// The byte reader of the flat delta events (`view::Scan`) against the typed decode: strings
/// with every kind of escape (and invalid ones), integers at and past their limits, layouts it
/// must decline.
#[test]
fn hostile_flat_deltas_get_the_same_answer_by_both_paths() {
    let strings = [
        r#""plain""#,
        r#""""#,
        r#""q\"b\\s\/\b\f\n\r\t""#,
        r#""\u0000\u001f\u00e9\u2028""#,
        r#""\ud83d\ude00""#,
        r#""\ud800""#,
        r#""\udc00x""#,
        r#""\x""#,
        r#""\u12""#,
        "\"raw\u{1}control\"",
        "\"raw\ttab\"",
        r#""é ☃ 😀""#,
        r#""unterminated"#,
        "7",
        "null",
        "[]",
        r#"["x"]"#,
        r#"{"a":1}"#,
    ];
    let numbers = [
        "0",
        "3",
        "01",
        "-1",
        "-0",
        "1.0",
        "1e0",
        "1E2",
        "18446744073709551615",
        "18446744073709551616",
        r#""3""#,
        "null",
    ];
    let mut cases: Vec<(Vendor, Vec<String>)> = Vec::new();
    let open_text =
        r#"{"type":"content_block_start","index":3,"content_block":{"type":"text","text":""}}"#;
    let open_use = r#"{"type":"content_block_start","index":3,"content_block":{"type":"mcp_tool_use","id":"mcptoolu_1","name":"n","server_name":"s","input":{}}}"#;
    for s in strings {
        cases.push((
            Vendor::OpenAi,
            vec![format!(
                r#"{{"type":"response.output_text.delta","item_id":"m","output_index":1,"content_index":0,"delta":{s}}}"#
            )],
        ));
        cases.push((
            Vendor::OpenAi,
            vec![format!(
                r#"{{"type":"response.mcp_call_arguments.delta","item_id":{s},"output_index":1,"delta":"x"}}"#
            )],
        ));
        cases.push((
            Vendor::OpenAi,
            vec![format!(
                r#"{{"type":"response.mcp_call_arguments.delta","item_id":"mcp_1","delta":{s}}}"#
            )],
        ));
        cases.push((
            Vendor::Anthropic,
            vec![
                open_text.to_owned(),
                format!(r#"{{"type":"content_block_delta","index":3,"delta":{{"type":"text_delta","text":{s}}}}}"#),
            ],
        ));
        cases.push((
            Vendor::Anthropic,
            vec![
                open_use.to_owned(),
                format!(r#"{{"type":"content_block_delta","index":3,"delta":{{"type":"input_json_delta","partial_json":{s},"extra":{s}}}}}"#),
            ],
        ));
    }
    for n in numbers {
        cases.push((
            Vendor::OpenAi,
            vec![format!(
                r#"{{"type":"response.output_text.delta","item_id":"m","output_index":{n},"content_index":0,"delta":"x","sequence_number":{n}}}"#
            )],
        ));
        cases.push((
            Vendor::Anthropic,
            vec![
                open_text.to_owned(),
                format!(r#"{{"type":"content_block_delta","index":{n},"delta":{{"type":"text_delta","text":"x"}}}}"#),
            ],
        ));
    }
    // Layouts: whitespace, key order, a key with an escape, a second `type`, extra fields.
    for layout in [
        r#"{"type":"content_block_delta", "index":3,"delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"},"index":3}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"text":"x","type":"text_delta"}}"#,
        r#"{"type":"content_block_delta","ind\u0065x":3,"delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":3,"index":3,"delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x","text":"y"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x","type":"other"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_deltax","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"},"more":[],"z":null}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}} "#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}"#,
    ] {
        cases.push((
            Vendor::Anthropic,
            vec![open_text.to_owned(), layout.to_owned()],
        ));
    }
    for (vendor, payloads) in cases {
        assert_eq!(
            run(vendor, &payloads, true),
            run(vendor, &payloads, false),
            "{payloads:?}"
        );
    }
}
