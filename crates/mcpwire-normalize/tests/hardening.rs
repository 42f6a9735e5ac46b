//! Regression tests for the hardening issue's normaliser items, each named after the defect.

#![allow(clippy::unwrap_used)]

mod common;

use common::{kinds, normalize_stream, normalize_stream_chunks, sse};
use mcpwire_normalize::{anthropic, openai, settled};
use mcpwire_schema::event::{Event, EventBody};
use serde_json::{Value, json};

fn decode_all<T: serde::de::DeserializeOwned>(stream: &[Value]) -> Vec<T> {
    stream
        .iter()
        .map(|e| mcpwire_schema::decode::from_value(e).unwrap())
        .collect()
}

/// Issue: unknown stream events and deltas vanish or break the invariant (OpenAI).
#[test]
fn unknown_stream_events_and_deltas_vanish_or_break_the_invariant_openai() {
    let call = json!({"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}","output":"ok","error":null,"status":"completed"});
    let stream = vec![
        json!({"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"m","output":[]}}),
        json!({"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"","status":"in_progress"}}),
        json!({"type":"response.mcp_call.progress","sequence_number":2,"output_index":0,"item_id":"mcp_1","progress":0.5}),
        json!({"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":call}),
        json!({"type":"response.brand_new_event","sequence_number":4}),
        json!({"type":"response.completed","sequence_number":5,"response":{"id":"resp_1","object":"response","status":"completed","model":"m","output":[call]}}),
    ];
    let (events, err) = normalize_stream(&sse(&stream));
    assert!(err.is_none(), "{err:?}");
    let others: Vec<&Event<'_>> = events.iter().filter(|e| e.kind() == "other").collect();
    assert_eq!(
        others.len(),
        2,
        "both unknown events come out: {:?}",
        kinds(&events)
    );
    for other in &others {
        assert!(other.is_stream_only());
        let line = serde_json::to_string(other).unwrap();
        assert!(line.contains(r#""stream_only":true"#), "{line}");
    }
    assert!(matches!(
        &others[0].body,
        EventBody::Other { raw, index: Some(0), .. } if raw.to_value()["type"] == "response.mcp_call.progress"
    ));
    // Settled stream == whole response.
    let mut accumulator = openai::Accumulator::new();
    for ev in decode_all(&stream) {
        accumulator.push(&ev);
    }
    let whole = openai::normalize_response(&accumulator.finish().unwrap());
    assert_eq!(settled(events), whole);
}

/// Issue: unknown stream events and deltas vanish or break the invariant (Anthropic): an
/// unknown event and a `content_block_delta` of an unknown type.
#[test]
fn unknown_stream_events_and_deltas_vanish_or_break_the_invariant_anthropic() {
    let stream = vec![
        json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"sparkle_delta","sparkle":"*"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"message_sparkle","level":3}),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}),
        json!({"type":"message_stop"}),
    ];
    let bytes = sse(&stream);
    // Whole, and one byte per chunk: the same events.
    let (events, err) = normalize_stream(&bytes);
    assert!(err.is_none(), "{err:?}");
    let (bytewise, _) = normalize_stream_chunks(bytes.chunks(1));
    assert_eq!(events, bytewise);
    let others: Vec<&Event<'_>> = events.iter().filter(|e| e.kind() == "other").collect();
    assert_eq!(others.len(), 2, "{:?}", kinds(&events));
    assert!(matches!(
        &others[0].body,
        EventBody::Other { raw, index: Some(0), stream_only: true } if raw.to_value()["delta"]["type"] == "sparkle_delta"
    ));
    assert!(matches!(
        &others[1].body,
        EventBody::Other { raw, index: None, stream_only: true } if raw.to_value()["type"] == "message_sparkle"
    ));
    let mut accumulator = anthropic::Accumulator::new();
    for ev in decode_all(&stream) {
        accumulator.push(&ev);
    }
    let whole = anthropic::normalize_message(&accumulator.finish().unwrap());
    assert_eq!(settled(events), whole);
}
