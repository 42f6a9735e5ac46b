//! Feeds arbitrary sequences of (mostly well-formed) vendor stream events to both stream
//! normalisers: never a panic, whatever the order (deltas before starts, done twice, results
//! for unknown calls, errors mid-stream, unknown types).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpwire_normalize::ByteNormalizer;
use mcpwire_schema::event::Vendor;

/// Event templates drawn from the recorded streams; the fuzzer picks, orders and perturbs them.
const OPENAI: &[&str] = &[
    r#"{"type":"response.created","response":{"id":"r","object":"response","output":[]}}"#,
    r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":""}}"#,
    r#"{"type":"response.mcp_call_arguments.delta","item_id":"mcp_1","output_index":0,"delta":"{\"a\":"}"#,
    r#"{"type":"response.output_item.done","output_index":0,"item":{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}","output":"x","error":null}}"#,
    r#"{"type":"response.output_item.done","output_index":1,"item":{"type":"reasoning","id":"rs"}}"#,
    r#"{"type":"response.output_text.delta","item_id":"m","output_index":2,"content_index":0,"delta":"hi"}"#,
    r#"{"type":"response.completed","response":{"id":"r","object":"response","status":"completed","output":[]}}"#,
    r#"{"type":"error","code":"x","message":"m"}"#,
    r#"{"type":"keepalive"}"#,
];
const ANTHROPIC: &[&str] = &[
    r#"{"type":"message_start","message":{"id":"m","type":"message","content":[]}}"#,
    r#"{"type":"content_block_start","index":0,"content_block":{"type":"mcp_tool_use","id":"u","name":"t","server_name":"s","input":{}}}"#,
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#,
    r#"{"type":"content_block_stop","index":0}"#,
    r#"{"type":"content_block_start","index":1,"content_block":{"type":"mcp_tool_result","tool_use_id":"u","is_error":false,"content":"x"}}"#,
    r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"t"}}"#,
    r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#,
    r#"{"type":"message_stop"}"#,
    r#"{"type":"error","error":{"type":"overloaded_error","message":"o"}}"#,
];

fuzz_target!(|input: (bool, Vec<(u8, u8)>)| {
    let (anthropic, picks) = input;
    let (vendor, templates) = if anthropic { (Vendor::Anthropic, ANTHROPIC) } else { (Vendor::OpenAi, OPENAI) };
    let mut normalizer = ByteNormalizer::new(Some(vendor));
    let mut out = Vec::new();
    for (pick, mutation) in picks {
        let mut event = templates[usize::from(pick) % templates.len()].to_owned();
        // Perturb indexes and ids so that events reference each other out of order.
        if mutation % 3 == 0 {
            event = event.replace("\"index\":0", &format!("\"index\":{}", mutation % 5));
            event = event.replace("\"output_index\":0", &format!("\"output_index\":{}", mutation % 5));
        }
        if mutation % 7 == 0 {
            event = event.replace("mcp_1", "mcp_2").replace("\"u\"", "\"v\"");
        }
        let _ = normalizer.feed(format!("data: {event}\n\n").as_bytes(), &mut out);
        out.clear();
    }
    let _ = normalizer.finish(&mut out);
});
