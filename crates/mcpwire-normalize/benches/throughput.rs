//! mcpwire's measure (d) for `cargo xtask bench`: SSE framing + typed decoding + normalisation
//! (`ByteNormalizer`, one per stream) over a corpus, fed in 64 KiB chunks.
//!
//! `cargo xtask bench` builds this bench, writes the corpora and runs it as
//! `throughput CORPUS_DIR`, alternating with the baselines of `bench/baseline`; it prints
//! `result <vendor> mcpwire <nanoseconds> <events> <errors>` per vendor (one untimed warm-up pass,
//! one timed). Run by `cargo bench -p mcpwire-normalize` (no corpus) it does a smoke pass over the
//! recorded fixture streams and points at `cargo xtask bench` for figures.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use mcpwire_normalize::ByteNormalizer;

const CHUNK: usize = 64 * 1024;

/// Normalises every stream; returns (mcpwire events out, streams that failed).
fn typed(streams: &[&[u8]]) -> (usize, usize) {
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
        ok &= normalizer.finish(&mut out).is_ok();
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
        let (events, _) = typed(&streams);
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
        black_box(typed(&streams));
        let start = Instant::now();
        let (events, failed) = typed(&streams);
        let nanos = start.elapsed().as_nanos();
        println!("result {vendor} mcpwire {nanos} {events} {failed}");
    }
}
