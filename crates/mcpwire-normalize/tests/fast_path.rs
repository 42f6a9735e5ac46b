//! The fast path for `response.output_text.delta` (taken when no accumulator is fed) must give
//! exactly what the full typed decode gives: the same events for every recorded stream, and the
//! same answer (events or error) for every variant of the event a hostile endpoint might send.

#![allow(clippy::unwrap_used)]

mod common;

use mcpwire_normalize::StreamNormalizer;
use mcpwire_schema::event::{Event, Vendor};
use mcpwire_schema::sse;

/// One payload through the fast path (no accumulator) and through the full decode (an
/// accumulator forces it): (events, error as text) of each.
fn both(data: &[u8]) -> [(Vec<Event<'_>>, Option<String>); 2] {
    let mut fast = StreamNormalizer::new(Vendor::OpenAi);
    let mut full = StreamNormalizer::new(Vendor::OpenAi);
    let mut accumulator = full.accumulator();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ea = fast.push_json(data, 0, &mut a).err().map(|e| e.to_string());
    let eb = full
        .push_json_with(data, 0, &mut b, Some(&mut accumulator))
        .err()
        .map(|e| e.to_string());
    [(a, ea), (b, eb)]
}

#[test]
fn every_recorded_openai_event_gives_the_same_events_by_both_paths() {
    let mut deltas = 0;
    for (name, bytes) in common::stream_fixtures() {
        if !name.starts_with("openai") {
            continue;
        }
        for event in sse::decode_all(&bytes).unwrap() {
            if event.data.trim() == "[DONE]" {
                continue;
            }
            deltas += usize::from(event.data.contains("response.output_text.delta"));
            let [fast, full] = both(event.data.as_bytes());
            assert_eq!(fast, full, "{name}: {}", event.data);
        }
    }
    assert!(deltas > 100, "the fixtures hold {deltas} text deltas");
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
        let data = format!("{P}{case}");
        let [fast, full] = both(data.as_bytes());
        assert_eq!(fast, full, "{data}");
    }
}
