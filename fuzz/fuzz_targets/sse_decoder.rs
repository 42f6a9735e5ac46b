//! Feeds arbitrary bytes, in arbitrary chunks, to the SSE decoder: it must never panic, and the
//! chunking must not change the events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpwire_schema::sse::SseDecoder;

fuzz_target!(|input: (u8, &[u8])| {
    let (step, bytes) = input;
    let step = usize::from(step).max(1);
    let mut whole = SseDecoder::with_max_event_size(4096);
    let mut expected = Vec::new();
    let whole_ok = whole.feed(bytes, &mut expected).is_ok();
    let _ = whole.finish(&mut expected);
    let mut chunked = SseDecoder::with_max_event_size(4096);
    let mut events = Vec::new();
    let mut chunked_ok = true;
    for chunk in bytes.chunks(step) {
        chunked_ok &= chunked.feed(chunk, &mut events).is_ok();
    }
    let _ = chunked.finish(&mut events);
    if whole_ok && chunked_ok {
        assert_eq!(events, expected);
    }
});
