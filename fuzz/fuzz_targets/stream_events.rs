//! Decodes arbitrary bytes as vendor stream events: never a panic, and whatever decodes
//! re-serialises to equal JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpwire_schema::{anthropic, decode, openai};

fuzz_target!(|bytes: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return };
    if let Ok(event) = decode::from_slice::<openai::ResponseStreamEvent>(bytes) {
        assert_eq!(serde_json::to_value(&event).unwrap(), value);
    }
    if let Ok(event) = decode::from_slice::<anthropic::MessageStreamEvent>(bytes) {
        assert_eq!(serde_json::to_value(&event).unwrap(), value);
    }
    let _ = mcpwire_schema::check::check(bytes);
});
