//! mcpwire's measures for `cargo xtask bench`: SSE framing + typed decoding + normalisation
//! (`ByteNormalizer`, one per stream) over a corpus, fed in 64 KiB chunks:
//!
//! * (d) `mcpwire`: `ByteNormalizer::feed_with`, each event handed to a callback while it may
//!   borrow from the chunk (what a consumer that writes or inspects events gets);
//! * (e) `mcpwire-owned`: `ByteNormalizer::feed`, every event made owned (`Event<'static>`) and
//!   collected (what a consumer that stores events gets).
//!
//! `cargo xtask bench` builds this bench, writes the corpora and runs it as
//! `throughput CORPUS_DIR`, alternating with the baselines of `bench/baseline`; it prints
//! `result <vendor> <measure> <nanoseconds> <events> <errors>` per vendor and measure (one
//! untimed warm-up pass, one timed). Run by `cargo bench -p mcpwire-normalize` (no corpus) it does a smoke pass over the
//! recorded fixture streams and points at `cargo xtask bench` for figures.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use mcpwire_normalize::{ByteNormalizer, Error};

const CHUNK: usize = 64 * 1024;

/// `true` unless the stream failed to decode: a recording that ends without its final event
/// (a failed call, an error event) is a complete recording, not a failure.
fn finished(result: Result<(), Error>) -> bool {
    matches!(result, Ok(()) | Err(Error::Incomplete { .. }))
}

/// A measure: streams in, (events out, streams that failed).
type Measure = fn(&[&[u8]]) -> (usize, usize);

/// Normalises every stream, events borrowed; returns (mcpwire events out, streams that failed).
fn borrowed(streams: &[&[u8]]) -> (usize, usize) {
    let (mut n, mut failed) = (0, 0);
    for stream in streams {
        let mut normalizer = ByteNormalizer::new(None);
        let mut ok = true;
        let mut on_event = |event: mcpwire_schema::event::Event<'_>| {
            black_box(&event);
            n += 1;
        };
        for chunk in stream.chunks(CHUNK) {
            ok &= normalizer.feed_with(chunk, &mut on_event).is_ok();
        }
        ok &= finished(normalizer.finish_with(&mut on_event));
        failed += usize::from(!ok);
    }
    (n, failed)
}

/// Normalises every stream, events owned; returns (mcpwire events out, streams that failed).
fn owned(streams: &[&[u8]]) -> (usize, usize) {
    let (mut n, mut failed) = (0, 0);
    let mut out = Vec::new();
    for stream in streams {
        let mut normalizer = ByteNormalizer::new(None);
        let mut ok = true;
        for chunk in stream.chunks(CHUNK) {
            ok &= normalizer.feed(chunk, &mut out).is_ok();
            n += out.len();
            black_box(&out);
            out.clear();
        }
        ok &= finished(normalizer.finish(&mut out));
        n += out.len();
        out.clear();
        failed += usize::from(!ok);
    }
    (n, failed)
}

fn split<'a>(bytes: &'a [u8], lengths: &[usize]) -> Vec<&'a [u8]> {
    let mut at = 0;
    lengths
        .iter()
        .map(|&n| {
            let s = &bytes[at..at + n];
            at += n;
            s
        })
        .collect()
}

fn main() {
    let dir = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let Some(dir) = dir else {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut files = Vec::new();
        for vendor in ["openai", "anthropic"] {
            for entry in std::fs::read_dir(root.join(vendor)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "sse") {
                    files.push(std::fs::read(path).unwrap());
                }
            }
        }
        let streams: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let (events, _) = borrowed(&streams);
        println!(
            "smoke pass: {} fixture streams, {events} events out; for figures run `cargo xtask bench`",
            streams.len()
        );
        return;
    };
    let dir = Path::new(&dir);
    // `MCPWIRE_BENCH_VENDOR=openai` (or `anthropic`) measures one corpus only, for profiling.
    let only = std::env::var("MCPWIRE_BENCH_VENDOR").ok();
    for vendor in ["openai", "anthropic"] {
        if only.as_deref().is_some_and(|o| o != vendor) {
            continue;
        }
        let bytes = std::fs::read(dir.join(format!("{vendor}.sse"))).unwrap();
        let lengths: Vec<usize> = std::fs::read_to_string(dir.join(format!("{vendor}.idx")))
            .unwrap()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        let streams = split(&bytes, &lengths);
        // `MCPWIRE_BENCH_MEASURE=mcpwire` (or `mcpwire-owned`) runs one measure only.
        let only_measure = std::env::var("MCPWIRE_BENCH_MEASURE").ok();
        let measures: [(&str, Measure); 2] = [("mcpwire", borrowed), ("mcpwire-owned", owned)];
        for (name, measure) in measures {
            if only_measure.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            black_box(measure(&streams));
            let start = Instant::now();
            let (events, failed) = measure(&streams);
            let nanos = start.elapsed().as_nanos();
            println!("result {vendor} {name} {nanos} {events} {failed}");
        }
    }
}
