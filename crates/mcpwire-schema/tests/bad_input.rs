//! Bad input gives a typed error, never a panic or a stack overflow.

#![allow(clippy::unwrap_used)]

use mcpwire_schema::sse::{SseDecoder, SseError, decode_all};
use mcpwire_schema::{anthropic, check, decode, openai};
use proptest::prelude::*;

#[test]
fn malformed_json_is_a_typed_error() {
    for raw in [
        &b"{"[..],
        b"{\"type\":\"mcp_call\",",
        b"",
        b"nul",
        b"[1,2",
        b"{\"a\":1}}",
    ] {
        assert!(decode::from_slice::<openai::Item>(raw).is_err());
        assert!(check::check(raw).is_err());
    }
}

#[test]
fn json_nested_ten_thousand_deep_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let err = check::check(deep.as_bytes()).unwrap_err();
    assert!(err.message.contains("recursion limit"), "{err}");
    let item = format!(
        r#"{{"type":"mcp_call","id":"a","server_label":"s","name":"t","arguments":"","output":{}{}}}"#,
        "{\"a\":".repeat(10_000),
        "1".to_owned() + &"}".repeat(10_000)
    );
    assert!(decode::from_slice::<openai::Item>(item.as_bytes()).is_err());
}

/// An unknown value is kept as its text: nesting depth costs no recursion (serde_json skips it
/// iteratively) and it round-trips byte for byte.
#[test]
fn deep_unknown_json_is_kept_verbatim_without_recursion() {
    let event = format!(
        r#"{{"type":"content_block_delta","index":0,"delta":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let decoded = decode::from_slice::<anthropic::MessageStreamEvent>(event.as_bytes()).unwrap();
    assert_eq!(serde_json::to_string(&decoded).unwrap(), event);
}

#[test]
fn invalid_utf8_in_json_and_sse_is_a_typed_error() {
    assert!(check::check(b"{\"type\":\"mcp_call\",\"id\":\"\xff\"}").is_err());
    assert!(matches!(
        decode_all(b"data: {\"x\":\"\xc3\x28\"}\n\n"),
        Err(SseError::InvalidUtf8 { .. })
    ));
}

#[test]
fn truncated_stream_is_a_typed_error() {
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/openai/stream.approval-request.zip1.sse"
    ))
    .unwrap();
    for cut in [raw.len() - 1, raw.len() / 2, 7] {
        let result = decode_all(&raw[..cut]);
        assert!(
            matches!(result, Err(SseError::Truncated { .. })),
            "cut at {cut}"
        );
        assert!(check::check(&raw[..cut]).is_err());
    }
}

#[test]
fn a_fifty_megabyte_event_is_a_typed_error_and_memory_stays_bounded() {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let chunk = vec![b'x'; 1 << 20];
    let mut errors = Vec::new();
    if let Err(e) = decoder.feed(b"data: ", &mut events) {
        errors.push(e);
    }
    for _ in 0..50 {
        if let Err(e) = decoder.feed(&chunk, &mut events) {
            errors.push(e);
        }
    }
    decoder
        .feed(b"\n\ndata: {\"type\":\"ping\"}\n\n", &mut events)
        .unwrap();
    decoder.finish(&mut events).unwrap();
    assert!(
        matches!(errors.as_slice(), [SseError::EventTooLarge { .. }]),
        "{errors:?}"
    );
    assert_eq!(
        events.len(),
        1,
        "the event after the oversized one still arrives"
    );
    // A large limit accepts it whole.
    let mut decoder = SseDecoder::with_max_event_size(64 << 20);
    let mut events = Vec::new();
    decoder.feed(b"data: ", &mut events).unwrap();
    for _ in 0..50 {
        decoder.feed(&chunk, &mut events).unwrap();
    }
    decoder.feed(b"\n\n", &mut events).unwrap();
    assert_eq!(events[0].data.len(), 50 << 20);
}

fn fixture_streams() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
    [
        "openai/stream.approval-approved-mcp-call.zip1.sse",
        "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
    ]
    .iter()
    .map(|f| std::fs::read(format!("{root}/{f}")).unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Any chunking of a real stream decodes to the same events.
    #[test]
    fn chunking_never_changes_the_events(cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..40), which in 0usize..2) {
        let raw = &fixture_streams()[which];
        let whole = decode_all(raw).unwrap();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(raw.len())).collect();
        points.sort_unstable();
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([raw.len()]) {
            decoder.feed(&raw[last..p], &mut events).unwrap();
            last = p;
        }
        decoder.finish(&mut events).unwrap();
        prop_assert_eq!(events, whole);
    }

    /// Arbitrary bytes never panic the decoder or the checker.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut decoder = SseDecoder::with_max_event_size(128);
        let mut events = Vec::new();
        for chunk in bytes.chunks(7) {
            let _ = decoder.feed(chunk, &mut events);
        }
        let _ = decoder.finish(&mut events);
        let _ = check::check(&bytes);
        let _ = decode::from_slice::<openai::ResponseStreamEvent>(&bytes);
        let _ = decode::from_slice::<anthropic::MessageStreamEvent>(&bytes);
    }

    /// Arbitrary JSON values never panic typed decoding, and what decodes round-trips.
    #[test]
    fn arbitrary_json_round_trips_when_it_decodes(value in arb_json()) {
        if let Ok(event) = decode::from_value::<openai::ResponseStreamEvent>(&value) {
            prop_assert_eq!(serde_json::to_value(&event).unwrap(), value.clone());
        }
        if let Ok(event) = decode::from_value::<anthropic::MessageStreamEvent>(&value) {
            prop_assert_eq!(serde_json::to_value(&event).unwrap(), value);
        }
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let tags = prop::sample::select(vec![
        "mcp_call",
        "message_start",
        "content_block_delta",
        "response.output_item.done",
        "ping",
        "text_delta",
        "mcp_tool_use",
        "response.mcp_call_arguments.delta",
        "unknown_x",
        "input_json_delta",
        "http_error",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let tags = tags.clone();
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            (
                tags,
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "id", "name", "index", "delta", "item", "message", "type", "content", "x"
                    ]),
                    inner,
                    0..5
                )
            )
                .prop_map(|(tag, fields)| {
                    let mut map = serde_json::Map::new();
                    map.insert("type".to_owned(), Value::String(tag.to_owned()));
                    for (k, v) in fields {
                        map.insert(k.to_owned(), v);
                    }
                    Value::Object(map)
                }),
        ]
    })
}
