//! Prints the mcpwire events of recorded vendor output as JSON Lines, the way
//! `mcpwire normalize` does: an OpenAI response or stream, an Anthropic message or stream
//! (the vendor and the form are detected).
//!
//! ```sh
//! cargo run -p mcpwire-normalize --example events -- fixtures/anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse
//! ```

use std::process::ExitCode;

use mcpwire_normalize::ByteNormalizer;

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints its events
fn main() -> ExitCode {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: events FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let looks_like_sse = mcpwire_schema::check::looks_like_sse(&bytes);
    let events = if looks_like_sse {
        // A stream: fed in small chunks, as it would arrive from the network.
        let mut normalizer = ByteNormalizer::new(None);
        let mut events = Vec::new();
        let fed = bytes
            .chunks(512)
            .try_for_each(|chunk| normalizer.feed(chunk, &mut events));
        fed.and_then(|()| normalizer.finish(&mut events))
            .map(|()| events)
    } else {
        mcpwire_normalize::normalize_whole(&bytes, None)
    };
    match events {
        Ok(events) => {
            for event in &events {
                match serde_json::to_string(event) {
                    Ok(line) => println!("{line}"),
                    Err(e) => {
                        eprintln!("{file}: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            ExitCode::FAILURE
        }
    }
}
