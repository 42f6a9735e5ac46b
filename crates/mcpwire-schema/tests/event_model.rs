//! The event model as a contract: events of a kind this version does not know are kept whole.

#![allow(clippy::unwrap_used)]

use mcpwire_schema::event::{Event, EventBody, Vendor};

/// An event line with an unknown `kind` (from a newer mcpwire) decodes into the catch-all and
/// writes back byte for byte.
#[test]
fn unknown_kind_round_trips_byte_for_byte() {
    let lines = [
        r#"{"kind":"call_progress","vendor":"openai","call_id":"mcp_1","progress":{"done":3,"of":7},"note":"z first, a second","big":123456789012,"list":[1,"two",null,true]}"#,
        r#"{"vendor":"anthropic","kind":"sparkle","stream_only":true}"#,
    ];
    for line in lines {
        let event: Event<'_> = serde_json::from_str(line).unwrap();
        assert!(matches!(event.body, EventBody::Unknown { .. }), "{line}");
        assert_eq!(serde_json::to_string(&event).unwrap(), line);
    }
    let second: Event<'_> = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second.vendor, Vendor::Anthropic);
    assert!(
        second.is_stream_only(),
        "an unknown kind may say it is stream-only"
    );
    let first: Event<'_> = serde_json::from_str(lines[0]).unwrap();
    assert!(!first.is_stream_only());
}

/// Known kinds still decode strictly, and an object without `kind` is an error.
#[test]
fn known_kinds_decode_and_a_missing_kind_is_an_error() {
    let line = r#"{"kind":"text_delta","vendor":"openai","index":2,"text":"Hi"}"#;
    let event: Event<'_> = serde_json::from_str(line).unwrap();
    assert_eq!(
        event,
        Event::new(
            Vendor::OpenAi,
            EventBody::TextDelta {
                index: 2,
                text: "Hi".into()
            }
        )
    );
    assert_eq!(serde_json::to_string(&event).unwrap(), line);
    let err = serde_json::from_str::<Event<'_>>(r#"{"kind":"text_delta","vendor":"openai"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("index"), "{err}");
    let err = serde_json::from_str::<Event<'_>>(r#"{"vendor":"openai","text":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("kind"), "{err}");
}
