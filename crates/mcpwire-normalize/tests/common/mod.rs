//! Shared helpers: run a fixture through the normaliser the way `mcpwire normalize` does.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use mcpwire_normalize::{ByteNormalizer, Error, normalize_whole};
use mcpwire_schema::event::Event;

/// An SSE stream from JSON events (`event:` = the payload's type).
pub fn sse(events: &[serde_json::Value]) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!(
            "event: {}\ndata: {e}\n\n",
            e["type"].as_str().unwrap_or("message")
        ));
    }
    out.into_bytes()
}

pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .canonicalize()
        .unwrap()
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures_root().join(rel)).unwrap()
}

/// Every stream fixture, as (relative path, bytes).
pub fn stream_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for vendor in ["openai", "anthropic"] {
        for entry in std::fs::read_dir(fixtures_root().join(vendor)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if name.starts_with("stream.") && name.ends_with(".sse") {
                out.push((format!("{vendor}/{name}"), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 12, "stream fixtures missing");
    out
}

/// Normalises a stream fed in the given chunks; returns the events and the error, if any.
pub fn normalize_stream_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Event<'static>>, Option<Error>) {
    let mut normalizer = ByteNormalizer::new(None);
    let mut events = Vec::new();
    for chunk in chunks {
        if let Err(err) = normalizer.feed(chunk, &mut events) {
            return (events, Some(err));
        }
    }
    let err = normalizer.finish(&mut events).err();
    (events, err)
}

pub fn normalize_stream(bytes: &[u8]) -> (Vec<Event<'static>>, Option<Error>) {
    normalize_stream_chunks([bytes])
}

pub fn normalize_json(bytes: &[u8]) -> Vec<Event<'static>> {
    normalize_whole(bytes, None).unwrap()
}

pub fn kinds(events: &[Event<'_>]) -> Vec<&'static str> {
    events.iter().map(Event::kind).collect()
}
