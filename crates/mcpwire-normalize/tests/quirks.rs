//! One test per vendor quirk listed in `docs/event-model.md`, and one per kind of bad input. Inline
//! streams are synthetic; fixture-based tests name the recording that shows the quirk.

#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture, kinds, normalize_json, normalize_stream, sse};
use mcpwire_normalize::{Error, anthropic, settled};
use mcpwire_schema::event::{CallErrorKind, Event, EventBody, Stop};
use serde_json::{Value, json};

fn oa_created() -> Value {
    json!({"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"m","output":[]}})
}

fn oa_completed(output: Value) -> Value {
    json!({"type":"response.completed","sequence_number":99,"response":{"id":"resp_1","object":"response","status":"completed","model":"m","output":output,"usage":{"input_tokens":1,"output_tokens":2}}})
}

/// `output_item.added` of [`oa_call`] in progress at output 0.
fn oa_call_added() -> Value {
    json!({"type":"response.output_item.added","output_index":0,"item":oa_call("in_progress","")})
}

/// `output_item.done` of [`oa_call`] completed with `arguments` at output 0.
fn oa_call_done(arguments: &str) -> Value {
    json!({"type":"response.output_item.done","output_index":0,"item":oa_call("completed",arguments)})
}

/// The events of `stream`, which must normalize without an error.
fn normalize_clean(stream: &[u8]) -> Vec<Event<'static>> {
    let (events, err) = normalize_stream(stream);
    assert!(err.is_none());
    events
}

fn oa_call(status: &str, arguments: &str) -> Value {
    json!({"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":arguments,"output":if status == "completed" {json!("ok")} else {Value::Null},"error":null,"status":status})
}

/// [`normalize_clean`] of a stream that adds [`oa_call`], sends `middle`, settles the call with
/// `arguments` and completes.
fn oa_one_call_events(middle: &[Value], arguments: &str) -> Vec<Event<'static>> {
    let mut stream = vec![oa_created(), oa_call_added()];
    stream.extend_from_slice(middle);
    stream.push(oa_call_done(arguments));
    stream.push(oa_completed(json!([oa_call("completed", arguments)])));
    normalize_clean(&sse(&stream))
}

fn an_start() -> Value {
    json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}})
}

fn an_end() -> Vec<Value> {
    vec![
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}),
        json!({"type":"message_stop"}),
    ]
}

fn an_tool_use(index: u64) -> Value {
    json!({"type":"content_block_start","index":index,"content_block":{"type":"mcp_tool_use","id":"mcptoolu_1","name":"echo","server_name":"demo","input":{}}})
}

/// [`normalize_stream`] of a message with [`an_tool_use`] at index 0, stopped without deltas,
/// then `after`, then [`an_end`].
fn an_tool_use_stream(after: &[Value]) -> (Vec<Event<'static>>, Option<Error>) {
    let mut stream = vec![
        an_start(),
        an_tool_use(0),
        json!({"type":"content_block_stop","index":0}),
    ];
    stream.extend_from_slice(after);
    stream.extend(an_end());
    normalize_stream(&sse(&stream))
}

// ---- OpenAI quirks ----

#[test]
fn openai_mcp_call_in_progress_twice_for_one_call() {
    // Real: stream.approval-approved-mcp-call.zip1.sse has two `response.mcp_call.in_progress`.
    let raw = fixture("openai/stream.approval-approved-mcp-call.zip1.sse");
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(
        text.matches("event: response.mcp_call.in_progress").count(),
        2
    );
    let (events, err) = normalize_stream(&raw);
    assert!(err.is_none());
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|k| **k == "call_started")
            .count(),
        1
    );
    assert_eq!(kinds(&events).iter().filter(|k| **k == "call").count(), 1);
}

#[test]
fn openai_output_item_done_missing_for_all_but_the_last_mcp_list_tools() {
    // Real: three servers, only the last `mcp_list_tools` gets `output_item.done`.
    let raw = fixture("openai/stream.multi-server-list-tools-missing-output-item-done.sse");
    let sse = mcpwire_schema::sse::decode_all(&raw).unwrap();
    let count = |kind: &str| {
        sse.iter()
            .filter(|e| e.event_type == kind && e.data.contains("\"type\":\"mcp_list_tools\""))
            .count()
    };
    assert_eq!(
        (
            count("response.output_item.added"),
            count("response.output_item.done")
        ),
        (3, 1)
    );
    let (events, err) = normalize_stream(&raw);
    assert!(err.is_none());
    let servers: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ToolsListed { server, .. } => Some(server.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        servers.len(),
        3,
        "all three listings, from response.completed"
    );
    // ... in output order, before the message text.
    let settled_kinds = kinds(&settled(events));
    assert_eq!(
        settled_kinds,
        [
            "response_started",
            "tools_listed",
            "tools_listed",
            "tools_listed",
            "text",
            "response_completed"
        ]
    );
}

#[test]
fn openai_obfuscation_on_argument_deltas_is_ignored() {
    let delta = json!({"type":"response.mcp_call_arguments.delta","item_id":"mcp_1","output_index":0,"delta":"{\"a\":1}","obfuscation":"xYz12"});
    let events = oa_one_call_events(&[delta], "{\"a\":1}");
    let delta = events
        .iter()
        .find(|e| e.kind() == "call_arguments_delta")
        .unwrap();
    assert_eq!(
        serde_json::to_value(delta).unwrap(),
        json!({"kind":"call_arguments_delta","vendor":"openai","call_id":"mcp_1","delta":"{\"a\":1}"})
    );
}

#[test]
fn openai_mcp_call_error_as_object_in_three_variants_or_legacy_string() {
    let cases = [
        (
            json!({"type":"mcp_protocol_error","code":32600,"message":"Session terminated"}),
            CallErrorKind::Protocol,
            Some(32600),
        ),
        (
            json!({"type":"http_error","code":424,"message":"424: "}),
            CallErrorKind::Http,
            Some(424),
        ),
        (
            json!({"type":"mcp_tool_execution_error","content":[{"type":"text","text":"boom","annotations":null,"meta":null}]}),
            CallErrorKind::ToolExecution,
            None,
        ),
        (json!("legacy failure text"), CallErrorKind::Other, None),
        (
            json!({"type":"brand_new_error","code":7,"message":"m"}),
            CallErrorKind::Other,
            Some(7),
        ),
    ];
    for (error, kind, code) in cases {
        let response = json!({"id":"resp_1","object":"response","status":"completed","output":[
            {"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}","output":null,"error":error,"status":"failed"}]});
        let events = normalize_json(response.to_string().as_bytes());
        let EventBody::CallResult {
            is_error,
            error: Some(e),
            content,
            ..
        } = &events[2].body
        else {
            panic!("{events:?}")
        };
        assert!(is_error);
        assert_eq!((e.kind, e.code), (kind, code));
        if kind == CallErrorKind::ToolExecution {
            assert_eq!(content, &vec![json!({"type":"text","text":"boom"})]);
            assert_eq!(e.message.as_deref(), Some("boom"));
        }
    }
}

#[test]
fn openai_status_missing_in_old_payloads_means_finished() {
    // Doc example: item.mcp-call.dmcp.guide.json has no `status`.
    let item: Value =
        serde_json::from_slice(&fixture("openai/item.mcp-call.dmcp.guide.json")).unwrap();
    assert!(item.get("status").is_none());
    let response = json!({"id":"r","object":"response","status":"completed","output":[item]});
    let events = normalize_json(response.to_string().as_bytes());
    assert_eq!(
        kinds(&events),
        [
            "response_started",
            "call",
            "call_result",
            "response_completed"
        ]
    );
}

#[test]
fn openai_older_argument_event_names_are_understood() {
    for (delta, done) in [
        (
            "response.mcp_call.arguments_delta",
            "response.mcp_call.arguments_done",
        ),
        (
            "response.mcp_call.arguments.delta",
            "response.mcp_call.arguments.done",
        ),
    ] {
        let middle = [
            // The 2025-05 SDK typed `delta` as an object.
            json!({"type":delta,"item_id":"mcp_1","output_index":0,"delta":{"a":1}}),
            json!({"type":done,"item_id":"mcp_1","output_index":0,"arguments":"{\"a\":1}"}),
        ];
        let events = oa_one_call_events(&middle, "{\"a\":1}");
        assert_eq!(
            kinds(&events),
            [
                "response_started",
                "call_started",
                "call_arguments_delta",
                "call",
                "call_result",
                "response_completed"
            ],
            "{delta}"
        );
        assert!(
            matches!(&events[2].body, EventBody::CallArgumentsDelta { delta, .. } if delta == "{\"a\":1}")
        );
    }
}

#[test]
fn openai_reasoning_changed_between_done_and_completed_uses_the_final_item() {
    // Real: stream.mcp-call-success.deepwiki-o4-mini.sse re-encrypts reasoning items.
    let (events, _) = normalize_stream(&fixture(
        "openai/stream.mcp-call-success.deepwiki-o4-mini.sse",
    ));
    let raw = fixture("openai/stream.mcp-call-success.deepwiki-o4-mini.sse");
    let last = mcpwire_schema::sse::decode_all(&raw)
        .unwrap()
        .pop()
        .unwrap();
    let completed: Value = serde_json::from_str(&last.data).unwrap();
    let final_reasoning = &completed["response"]["output"][1];
    let other = events.iter().find(|e| e.kind() == "other").unwrap();
    assert!(matches!(&other.body, EventBody::Other { raw, .. } if raw == final_reasoning));
}

#[test]
fn openai_needs_approval_when_the_last_item_is_an_approval_request() {
    let events = normalize_json(&fixture("openai/response.approval-request.zip1.json"));
    let last = events.last().unwrap();
    assert!(
        matches!(&last.body, EventBody::ResponseCompleted { stop: Stop::NeedsApproval, stop_raw: Some(raw), .. } if raw == "completed")
    );
}

#[test]
fn openai_approval_request_id_survives_into_the_call() {
    let events = normalize_json(&fixture(
        "openai/response.approval-approved-mcp-call.zip1.json",
    ));
    let call = events.iter().find(|e| e.kind() == "call").unwrap();
    assert!(
        matches!(&call.body, EventBody::Call { approval_id: Some(id), .. } if id.starts_with("mcpr_"))
    );
}

// ---- Anthropic quirks ----

#[test]
fn anthropic_first_input_json_delta_is_often_empty() {
    // Real: stream.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.sse starts with `""`.
    let raw = fixture("anthropic/stream.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.sse");
    assert!(String::from_utf8_lossy(&raw).contains(r#""partial_json":""}"#));
    let (events, _) = normalize_stream(&raw);
    for e in &events {
        if let EventBody::CallArgumentsDelta { delta, .. } = &e.body {
            assert!(!delta.is_empty(), "empty delta emitted");
        }
    }
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|k| **k == "call_arguments_delta")
            .count(),
        16
    );
}

#[test]
fn anthropic_no_deltas_means_input_is_empty_object() {
    let (events, err) = an_tool_use_stream(&[]);
    assert!(err.is_none());
    let call = events.iter().find(|e| e.kind() == "call").unwrap();
    assert!(matches!(&call.body, EventBody::Call { arguments: Some(a), .. } if *a == json!({})));
}

#[test]
fn anthropic_mcp_tool_result_arrives_whole_in_content_block_start() {
    let (events, _) = an_tool_use_stream(&[
        json!({"type":"content_block_start","index":1,"content_block":{"type":"mcp_tool_result","tool_use_id":"mcptoolu_1","is_error":false,"content":[{"type":"text","text":"hello"}]}}),
        json!({"type":"content_block_stop","index":1}),
    ]);
    let result = events.iter().find(|e| e.kind() == "call_result").unwrap();
    assert_eq!(
        serde_json::to_value(result).unwrap(),
        json!({"kind":"call_result","vendor":"anthropic","call_id":"mcptoolu_1","server":"demo","tool":"echo","is_error":false,"content":[{"type":"text","text":"hello"}]})
    );
}

#[test]
fn anthropic_response_may_begin_with_a_result_for_the_previous_turn() {
    // Real: the in-flight continuation; the use is in the request's history.
    let response = fixture(
        "anthropic/response.2025-04-04.continuation-starts-with-mcp-tool-result.pydantic-ai.json",
    );
    let events = normalize_json(&response);
    assert!(
        matches!(
            &events[1].body,
            EventBody::CallResult {
                server: None,
                tool: None,
                ..
            }
        ),
        "never guessed"
    );
    let request: mcpwire_schema::anthropic::CreateMessage = mcpwire_schema::decode::from_slice(&fixture(
        "anthropic/request.2025-04-04.unpaired-mcp-tool-use-plus-client-tool-result.pydantic-ai.json",
    ))
    .unwrap();
    let context = anthropic::Context::from_messages(request.messages.get().unwrap());
    let message = mcpwire_schema::decode::from_slice(&response).unwrap();
    let events = anthropic::normalize_message_with(&message, &context);
    assert!(
        matches!(&events[1].body, EventBody::CallResult { server: Some(s), tool: Some(t), .. } if s == "deepwiki" && t == "ask_question"),
        "{:?}",
        events[1]
    );
}

#[test]
fn anthropic_message_start_content_may_be_non_empty() {
    let mut start = an_start();
    start["message"]["content"] = json!([{"type":"mcp_tool_result","tool_use_id":"mcptoolu_0","is_error":false,"content":"earlier"}]);
    let mut stream = vec![
        start,
        json!({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"after"}}),
        json!({"type":"content_block_stop","index":1}),
    ];
    stream.extend(an_end());
    let bytes = sse(&stream);
    let (events, err) = normalize_stream(&bytes);
    assert!(err.is_none());
    assert_eq!(
        kinds(&events),
        [
            "response_started",
            "call_result",
            "text_delta",
            "text",
            "response_completed"
        ]
    );
    assert!(matches!(&events[3].body, EventBody::Text { index: 1, text } if text == "after"));
}

#[test]
fn anthropic_json_padded_with_spaces_and_ping_events() {
    // Real: the pydantic-ai streams pad `data` JSON before the final `}` and send `ping`.
    let raw = fixture("anthropic/stream.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.sse");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("}     }") && text.contains("event: ping"));
    let (events, err) = normalize_stream(&raw);
    assert!(err.is_none());
    assert!(!events.iter().any(
        |e| matches!(&e.body, EventBody::Other { raw, .. } if raw.to_value()["type"] == "ping")
    ));
}

#[test]
fn anthropic_mid_stream_error_event_after_http_200() {
    // Doc example: stream.docs-error-event-overloaded.sse.
    let (events, err) =
        normalize_stream(&fixture("anthropic/stream.docs-error-event-overloaded.sse"));
    assert_eq!(
        serde_json::to_value(&events).unwrap(),
        json!([{"kind":"error","vendor":"anthropic","error":{"type":"overloaded_error","message":"Overloaded"}}])
    );
    assert_eq!(
        err,
        Some(Error::Incomplete {
            expected: "message_stop"
        })
    );
}

#[test]
fn anthropic_tool_result_content_as_string_or_text_blocks() {
    let blocks: Value = serde_json::from_slice(&fixture(
        "anthropic/blocks.mcp-tool-result-error-and-string-content.SYNTHETIC.json",
    ))
    .unwrap();
    let message = json!({"id":"msg_1","type":"message","role":"assistant","content":blocks,"stop_reason":"end_turn"});
    let events = normalize_json(message.to_string().as_bytes());
    let results: Vec<&EventBody<'_>> = events
        .iter()
        .filter(|e| e.kind() == "call_result")
        .map(|e| &e.body)
        .collect();
    assert!(
        matches!(results[0], EventBody::CallResult { is_error: true, error: Some(e), content, .. }
        if e.kind == CallErrorKind::ToolExecution && content[0].to_value()["text"] == "Failed to fetch weather data: API rate limit exceeded")
    );
    assert!(
        matches!(results[1], EventBody::CallResult { is_error: false, content, .. }
        if *content == vec![json!({"type":"text","text":"plain string content variant (allowed by SDK types: string | TextBlock[])"})])
    );
}

#[test]
fn anthropic_pause_turn_maps_to_paused() {
    let message = json!({"id":"msg_1","type":"message","role":"assistant","content":[],"stop_reason":"pause_turn"});
    let events = normalize_json(message.to_string().as_bytes());
    assert!(
        matches!(&events[1].body, EventBody::ResponseCompleted { stop: Stop::Paused, stop_raw: Some(r), .. } if r == "pause_turn")
    );
}

#[test]
fn anthropic_mcp_tool_listing_2026_09_15() {
    let block = fixture("anthropic/block.2026-09-15.docs-mcp-tool-listing.json");
    let message = format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","content":[{}],"stop_reason":"end_turn"}}"#,
        String::from_utf8_lossy(&block)
    );
    let events = normalize_json(message.as_bytes());
    assert!(
        matches!(&events[1].body, EventBody::ToolsListed { server, tools, list_id: None } if server == "example-mcp" && tools[0].name == "echo")
    );
}

// ---- Bad input: defined behaviour, never a panic ----

#[test]
fn bad_input_delta_before_its_start() {
    // OpenAI: passed through with the item id it names. Anthropic: the block is unknown, so the
    // delta is `other` with the raw event.
    let (events, _) = normalize_stream(&sse(&[
        oa_created(),
        json!({"type":"response.mcp_call_arguments.delta","item_id":"mcp_9","output_index":3,"delta":"{"}),
    ]));
    assert!(
        matches!(&events[1].body, EventBody::CallArgumentsDelta { call_id, .. } if call_id == "mcp_9")
    );
    let (events, _) = normalize_stream(&sse(&[
        an_start(),
        json!({"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{"}}),
    ]));
    assert!(matches!(
        &events[1].body,
        EventBody::Other { index: Some(4), .. }
    ));
}

#[test]
fn bad_input_result_for_an_unknown_call() {
    let mut stream = vec![
        an_start(),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"mcp_tool_result","tool_use_id":"mcptoolu_nobody","is_error":false,"content":"x"}}),
        json!({"type":"content_block_stop","index":0}),
    ];
    stream.extend(an_end());
    let (events, err) = normalize_stream(&sse(&stream));
    assert!(err.is_none());
    assert!(
        matches!(&events[1].body, EventBody::CallResult { server: None, tool: None, call_id, .. } if call_id == "mcptoolu_nobody")
    );
}

#[test]
fn bad_input_done_twice() {
    // The first `output_item.done` settles the item; the second is ignored.
    let events = oa_one_call_events(&[oa_call_done("{}")], "{}");
    assert_eq!(
        kinds(&events),
        [
            "response_started",
            "call_started",
            "call",
            "call_result",
            "response_completed"
        ]
    );
    // Anthropic: a second stop for the same index is ignored.
    let (events, _) = an_tool_use_stream(&[json!({"type":"content_block_stop","index":0})]);
    assert_eq!(
        kinds(&events),
        [
            "response_started",
            "call_started",
            "call",
            "response_completed"
        ]
    );
}

#[test]
fn bad_input_duplicate_ids() {
    // Two items with the same id at different output indexes: both settle, by index.
    let call = oa_call("completed", "{}");
    let stream = sse(&[
        oa_created(),
        json!({"type":"response.output_item.done","output_index":0,"item":call}),
        json!({"type":"response.output_item.done","output_index":1,"item":call}),
        oa_completed(json!([call, call])),
    ]);
    let events = normalize_clean(&stream);
    assert_eq!(kinds(&events).iter().filter(|k| **k == "call").count(), 2);
}

#[test]
fn bad_input_stream_cut_mid_event() {
    let raw = fixture("openai/stream.approval-request.zip1.sse");
    let cut = &raw[..raw.len() - 40];
    let (events, err) = normalize_stream(cut);
    assert!(
        matches!(
            err,
            Some(Error::Sse(mcpwire_schema::sse::SseError::Truncated { .. }))
        ),
        "{err:?}"
    );
    assert!(
        kinds(&events).contains(&"approval_requested"),
        "events before the cut survive"
    );
    // Cut between events, just before the final one: no SSE error, but the final event never
    // came.
    let ends: Vec<usize> = raw
        .windows(2)
        .enumerate()
        .filter(|(_, w)| *w == b"\n\n")
        .map(|(i, _)| i + 2)
        .collect();
    let before_last = ends[ends.len() - 2];
    assert!(
        String::from_utf8_lossy(&raw[before_last..]).contains("response.completed"),
        "the cut drops exactly the final event"
    );
    let (events, err) = normalize_stream(&raw[..before_last]);
    assert_eq!(
        err,
        Some(Error::Incomplete {
            expected: "response.completed"
        })
    );
    assert!(kinds(&events).contains(&"approval_requested"));
}

#[test]
fn bad_input_error_event_mid_stream() {
    let stream = sse(&[
        oa_created(),
        json!({"type":"error","code":"server_error","message":"The server had an error","param":null,"sequence_number":2}),
    ]);
    let (events, err) = normalize_stream(&stream);
    assert!(
        matches!(&events[1].body, EventBody::Error { error } if error.error_type == "server_error")
    );
    assert_eq!(
        err,
        Some(Error::Incomplete {
            expected: "response.completed"
        })
    );
}

#[test]
fn bad_input_unknown_event_types() {
    let stream = sse(&[
        oa_created(),
        json!({"type":"keepalive"}),
        json!({"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"delta":"x"}),
        oa_completed(json!([])),
    ]);
    let events = normalize_clean(&stream);
    // Every unknown stream event (progress of an item we do not model included) becomes a
    // stream-only `other`, so the settled events still equal the final response's.
    assert_eq!(
        kinds(&events),
        ["response_started", "other", "other", "response_completed"]
    );
    assert!(events[1..3].iter().all(Event::is_stream_only));
    assert!(matches!(
        &events[2].body,
        EventBody::Other {
            index: Some(0),
            stream_only: true,
            ..
        }
    ));
    let mut stream = vec![an_start(), json!({"type":"brand_new_event","x":1})];
    stream.extend(an_end());
    let (events, _) = normalize_stream(&sse(&stream));
    assert!(
        matches!(&events[1].body, EventBody::Other { raw, index: None, stream_only: true } if raw.to_value()["type"] == "brand_new_event")
    );
}

#[test]
fn bad_input_malformed_known_type_names_the_field() {
    let stream = sse(&[
        oa_created(),
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"mcp_call","id":"mcp_1","server_label":"s","arguments":"{}"}}),
    ]);
    let (events, err) = normalize_stream(&stream);
    assert_eq!(kinds(&events), ["response_started"]);
    let err = err.unwrap();
    assert!(
        err.to_string()
            .starts_with("event 1: item: missing field `name`"),
        "{err}"
    );
}

#[test]
fn bad_input_data_that_is_not_json() {
    let (events, err) = normalize_stream(b"data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[]}}\n\ndata: {oops\n\n");
    assert_eq!(kinds(&events), ["response_started"]);
    assert!(matches!(err, Some(Error::Json { index: 1, .. })), "{err:?}");
}

#[test]
fn openai_items_waiting_behind_an_unfinished_item_are_bounded() {
    // Item 0 never gets `output_item.done`; 100 calls follow. Past the window they are released
    // before `response.completed`, and item 0 is settled late from the final response.
    let window = mcpwire_normalize::openai::MAX_WAITING_ITEMS;
    let list = json!({"type":"mcp_list_tools","id":"mcpl_0","server_label":"s","tools":[]});
    let mut events = vec![
        oa_created(),
        json!({"type":"response.output_item.added","output_index":0,"item":list}),
    ];
    let mut output = vec![list.clone()];
    for i in 1..=100u64 {
        let mut call = oa_call("completed", "{}");
        call["id"] = json!(format!("mcp_{i}"));
        events.push(json!({"type":"response.output_item.done","output_index":i,"item":call}));
        output.push(call);
    }
    let head = sse(&events);
    let mut normalizer = mcpwire_normalize::ByteNormalizer::new(None);
    let mut out = Vec::new();
    normalizer.feed(&head, &mut out).unwrap();
    let released = out.iter().filter(|e| e.kind() == "call").count();
    assert!(
        released >= 100 - window,
        "only {released} calls released before completion"
    );
    normalizer
        .feed(&sse(&[oa_completed(json!(output))]), &mut out)
        .unwrap();
    normalizer.finish(&mut out).unwrap();
    assert_eq!(out.iter().filter(|e| e.kind() == "call").count(), 100);
    assert_eq!(
        out.iter().filter(|e| e.kind() == "tools_listed").count(),
        1,
        "the late item still arrives"
    );
}
