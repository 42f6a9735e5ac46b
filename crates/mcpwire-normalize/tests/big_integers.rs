//! Integers beyond 64 bits survive normalisation exactly, in call arguments and in items passed
//! through verbatim, on every path: whole responses, and streams taken as owned events
//! (`feed`), as borrowed events (`feed_with`, the borrowed views), one byte per chunk, and with
//! an accumulator (the typed decode) — for both vendors.

#![allow(clippy::unwrap_used)]

use mcpwire_normalize::{ByteNormalizer, StreamNormalizer, normalize_whole};
use mcpwire_schema::event::{Event, EventBody, Vendor};
use mcpwire_schema::sse;

const BIG: &str = "123456789012345678901234567890";
const NEGATIVE: &str = "-98765432109876543210987654321";

/// Every `call` / `approval_requested` argument text, every `other` raw text, and the
/// concatenated argument deltas of the events.
fn texts(events: &[Event<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let mut deltas = String::new();
    for event in events {
        match &event.body {
            EventBody::Call { arguments, .. } | EventBody::ApprovalRequested { arguments, .. } => {
                out.push(arguments.as_ref().unwrap().get().to_owned());
            }
            EventBody::Other { raw, .. } => out.push(raw.get().to_owned()),
            EventBody::CallArgumentsDelta { delta, .. } => deltas.push_str(delta),
            _ => {}
        }
    }
    out.push(deltas);
    out
}

/// The events of a stream by every path: owned, borrowed, one byte per chunk, and through the
/// typed decode with an accumulator.
fn every_path(vendor: Vendor, stream: &str) -> Vec<Vec<String>> {
    let mut results = Vec::new();
    let mut owned = Vec::new();
    let mut n = ByteNormalizer::new(None);
    n.feed(stream.as_bytes(), &mut owned).unwrap();
    n.finish(&mut owned).unwrap();
    results.push(texts(&owned));

    let mut borrowed = Vec::new();
    let mut n = ByteNormalizer::new(Some(vendor));
    n.feed_with(stream.as_bytes(), |e| borrowed.push(texts(&[e])))
        .unwrap();
    n.finish_with(|e| borrowed.push(texts(&[e]))).unwrap();
    results.push(merge(borrowed));

    let mut bytes = Vec::new();
    let mut n = ByteNormalizer::new(None);
    for b in stream.as_bytes().chunks(1) {
        n.feed(b, &mut bytes).unwrap();
    }
    n.finish(&mut bytes).unwrap();
    results.push(texts(&bytes));

    let mut typed = Vec::new();
    let mut n = StreamNormalizer::new(vendor);
    let mut acc = n.accumulator();
    for (i, e) in sse::decode_all(stream.as_bytes())
        .unwrap()
        .iter()
        .enumerate()
    {
        let mut out = Vec::new();
        n.push_json_with(e.data.as_bytes(), i, &mut out, Some(&mut acc))
            .unwrap();
        typed.extend(out.into_iter().map(Event::into_owned));
    }
    n.finish(&mut typed).unwrap();
    results.push(texts(&typed));
    results
}

/// The per-event texts of [`texts`] put back together as for a whole list of events.
fn merge(per_event: Vec<Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    let mut deltas = String::new();
    for mut texts in per_event {
        deltas.push_str(&texts.pop().unwrap());
        out.extend(texts);
    }
    out.push(deltas);
    out
}

fn sse_of(events: &[String]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

fn assert_exact(results: &[Vec<String>], expected: &[String]) {
    for (path, got) in results.iter().enumerate() {
        assert_eq!(got, expected, "path {path}");
    }
    assert!(expected.iter().any(|t| t.contains(BIG)));
}

/// Call arguments holding [`BIG`] and [`NEGATIVE`].
fn big_arguments() -> String {
    format!(r#"{{"n":{BIG},"m":[{NEGATIVE}]}}"#)
}

/// A maker of argument delta events: `template` with `PIECE` replaced by the piece's JSON string.
fn delta_event(template: &'static str) -> impl Fn(&str) -> String {
    move |piece| template.replace("PIECE", &serde_json::to_string(piece).unwrap())
}

/// [`texts`] of the events of a whole response or message.
fn whole_texts(body: &str) -> Vec<String> {
    texts(&normalize_whole(body.as_bytes(), None).unwrap())
}

fn openai_call(arguments: &str) -> String {
    let arguments = serde_json::to_string(arguments).unwrap();
    format!(
        r#"{{"id":"mcp_1","type":"mcp_call","server_label":"s","name":"t","arguments":{arguments},"output":"ok","error":null,"status":"completed"}}"#
    )
}

#[test]
fn openai_whole_response() {
    let arguments = big_arguments();
    let response = format!(
        r#"{{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{},{{"type":"mcp_approval_request","id":"mcpr_1","server_label":"s","name":"t","arguments":{}}},{{"type":"reasoning","id":"rs_1","big":{BIG}}}]}}"#,
        openai_call(&arguments),
        serde_json::to_string(&arguments).unwrap()
    );
    assert_eq!(
        whole_texts(&response),
        [
            arguments.clone(),
            arguments,
            format!(r#"{{"type":"reasoning","id":"rs_1","big":{BIG}}}"#),
            String::new()
        ]
    );
}

#[test]
fn openai_stream_every_path() {
    let reasoning = format!(r#"{{"id":"rs_1","type":"reasoning","big":{BIG}}}"#);
    let arguments = big_arguments();
    let delta = delta_event(
        r#"{"type":"response.mcp_call_arguments.delta","item_id":"mcp_1","output_index":0,"delta":PIECE}"#,
    );
    let events = [
        r#"{"type":"response.created","response":{"id":"resp_1","object":"response","status":"in_progress","model":"m","output":[]}}"#.to_owned(),
        r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"","status":"in_progress"}}"#.to_owned(),
        delta(&arguments[..10]),
        delta(&arguments[10..]),
        format!(r#"{{"type":"response.output_item.done","output_index":0,"item":{}}}"#, openai_call(&arguments)),
        // Item 1 has no `done`: it is settled from the final response (the lazy path decodes it).
        format!(
            r#"{{"type":"response.completed","response":{{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{},{reasoning}]}}}}"#,
            openai_call(&arguments)
        ),
    ];
    let expected = [arguments.clone(), reasoning, arguments];
    assert_exact(&every_path(Vendor::OpenAi, &sse_of(&events)), &expected);
}

#[test]
fn anthropic_whole_message() {
    let input = big_arguments();
    let message = format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","model":"m","stop_reason":"end_turn","content":[{{"type":"mcp_tool_use","id":"mcptoolu_1","name":"t","server_name":"s","input":{input}}},{{"type":"thinking","thinking":"x","big":{BIG}}}]}}"#
    );
    assert_eq!(
        whole_texts(&message),
        [
            input,
            format!(r#"{{"type":"thinking","thinking":"x","big":{BIG}}}"#),
            String::new()
        ]
    );
}

#[test]
fn anthropic_stream_every_path() {
    let input = big_arguments();
    let delta = delta_event(
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":PIECE}}"#,
    );
    // Padded before the last brace, as the vendor pads some deltas.
    let padded = delta_event(
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":PIECE}     }"#,
    );
    let events = [
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[]}}"#.to_owned(),
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"mcp_tool_use","id":"mcptoolu_1","name":"t","server_name":"s","input":{}}}"#.to_owned(),
        delta(""),
        delta(&input[..12]),
        padded(&input[12..20]),
        delta(&input[20..]),
        r#"{"type":"content_block_stop","index":0}"#.to_owned(),
        format!(r#"{{"type":"content_block_start","index":1,"content_block":{{"type":"thinking","thinking":"","big":{BIG}}}}}"#),
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"x"}}"#.to_owned(),
        r#"{"type":"content_block_stop","index":1}"#.to_owned(),
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#.to_owned(),
        r#"{"type":"message_stop"}"#.to_owned(),
    ];
    let expected = [
        input.clone(),
        format!(r#"{{"type":"thinking","thinking":"x","big":{BIG}}}"#),
        input,
    ];
    assert_exact(&every_path(Vendor::Anthropic, &sse_of(&events)), &expected);
}
