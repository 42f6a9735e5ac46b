//! The contract's central invariant, on every stream fixture: the settled events of the stream
//! equal the events of the final response (OpenAI: the response in `response.completed`;
//! Anthropic: the message accumulated from the stream), in the same order. The same holds for
//! the same streams re-framed: CRLF line ends, comments, `data` split over several lines, and
//! one byte per chunk.

#![allow(clippy::unwrap_used)]

mod common;

use mcpwire_normalize::{anthropic, openai, settled};
use mcpwire_schema::anthropic::MessageStreamEvent;
use mcpwire_schema::decode;
use mcpwire_schema::event::Event;
use mcpwire_schema::openai::ResponseStreamEvent;
use mcpwire_schema::sse::{SseEvent, decode_all};
use serde::de::DeserializeOwned;

/// The events of the final response, rebuilt from the stream.
fn final_events(bytes: &[u8]) -> Option<Vec<Event<'static>>> {
    let sse = decode_all(bytes).unwrap();
    let first: serde_json::Value = serde_json::from_str(&sse[0].data).unwrap();
    if first["type"].as_str().unwrap().starts_with("response.") {
        let mut acc = openai::Accumulator::new();
        let ends = |e: &ResponseStreamEvent| matches!(e, ResponseStreamEvent::Completed(_));
        // Only a stream that ends with `response.completed` has an authoritative final response.
        let terminal = replay(&sse, ends, |e| acc.push(e));
        terminal.then(|| openai::normalize_response(&acc.finish().unwrap()))
    } else {
        let mut acc = anthropic::Accumulator::new();
        let ends = |e: &MessageStreamEvent| matches!(e, MessageStreamEvent::MessageStop(_));
        let stopped = replay(&sse, ends, |e| acc.push(e));
        stopped.then(|| anthropic::normalize_message(&acc.finish().unwrap()))
    }
}

/// Decodes every event of `sse` as an `E` and hands it to `push`; whether one of them `ends`
/// the stream.
fn replay<E: DeserializeOwned>(
    sse: &[SseEvent],
    ends: impl Fn(&E) -> bool,
    mut push: impl FnMut(&E),
) -> bool {
    let mut ended = false;
    for e in sse {
        let event: E = decode::from_str(&e.data).unwrap();
        ended |= ends(&event);
        push(&event);
    }
    ended
}

#[test]
fn settled_stream_events_equal_the_final_response_events() {
    let mut checked = 0;
    let mut with_stream_only = 0;
    for (name, bytes) in common::stream_fixtures() {
        let Some(expected) = final_events(&bytes) else {
            continue;
        };
        let (events, err) = common::normalize_stream(&bytes);
        assert!(err.is_none(), "{name}: {err:?}");
        let got = settled(events.clone());
        assert_eq!(got, expected, "{name}");
        with_stream_only += usize::from(events.len() > got.len());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} complete streams");
    assert!(
        with_stream_only >= 8,
        "stream-only events missing: {with_stream_only}"
    );
}

/// Re-frames a stream: CRLF line ends, a comment before every event, the JSON of each `data`
/// pretty-printed over several `data:` lines, and an `id`.
fn reframe(bytes: &[u8]) -> Vec<u8> {
    let mut out = String::from(": re-framed by the invariant test\r\n\r\n");
    for (i, event) in decode_all(bytes).unwrap().iter().enumerate() {
        out.push_str(&format!(
            ": event {i}\r\nevent: {}\r\nid: {i}\r\n",
            event.event_type
        ));
        let value: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        for line in serde_json::to_string_pretty(&value).unwrap().lines() {
            out.push_str(&format!("data: {line}\r\n"));
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[test]
fn reframed_streams_normalise_to_the_same_events() {
    for (name, bytes) in common::stream_fixtures() {
        let (expected, expected_err) = common::normalize_stream(&bytes);
        let reframed = reframe(&bytes);
        let (events, err) = common::normalize_stream(&reframed);
        assert_eq!(events, expected, "{name}: CRLF + comments + split data");
        assert_eq!(err, expected_err, "{name}");
        let (events, err) = common::normalize_stream_chunks(reframed.chunks(1));
        assert_eq!(events, expected, "{name}: re-framed, one byte per chunk");
        assert_eq!(err, expected_err, "{name}");
        let (events, _) = common::normalize_stream_chunks(bytes.chunks(1));
        assert_eq!(events, expected, "{name}: one byte per chunk");
        if let Some(final_events) = final_events(&reframed) {
            assert_eq!(
                settled(events),
                final_events,
                "{name}: invariant after re-framing"
            );
        }
    }
}
