//! Throughput of the typed path against generic JSON parsing, in one run.
//!
//! `cargo bench -p mcpwire-normalize` builds a stream corpus of at least 50 MB from real fixture
//! streams (both vendors: text deltas, argument deltas, list-tools and call items) with fresh ids
//! per copy, then times, over the same bytes in the same 16 KiB chunks:
//!
//! * (a) baseline: SSE framing + `serde_json::from_slice::<Value>` of every `data` payload;
//! * (b) SSE framing + typed decoding + normalisation (`ByteNormalizer`);
//!
//! and prints MB/s, events/s and the ratio b/a (goal: at least 1.0).
//!
//! With `MCPWIRE_BIN` set to a release `mcpwire` binary (`cargo xtask bench` does this), it also
//! pipes a generated 1 GiB stream through `mcpwire normalize -` and reports its peak resident
//! memory (VmHWM, goal: at most 64 MB).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mcpwire_normalize::ByteNormalizer;
use mcpwire_schema::sse::SseDecoder;

const CHUNK: usize = 16 * 1024;
const TARGET: usize = 50 * 1024 * 1024;
const RUNS: usize = 5;

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel);
    std::fs::read_to_string(path).unwrap()
}

/// Every id-like token (`resp_…`, `mcp_…`, `mcptoolu_…`, …) in `text`, longest first.
fn ids(text: &str) -> Vec<String> {
    let prefixes = [
        "resp_",
        "mcpl_",
        "mcpr_",
        "mcp_",
        "rs_",
        "msg_",
        "mcptoolu_",
    ];
    let bytes = text.as_bytes();
    let mut found = std::collections::BTreeSet::new();
    for (i, _) in text.char_indices() {
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            continue;
        }
        for p in prefixes {
            if text[i..].starts_with(p) {
                let end = text[i + p.len()..]
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(text.len(), |e| i + p.len() + e);
                if end - i > p.len() + 8 {
                    found.insert(text[i..end].to_owned());
                }
            }
        }
    }
    let mut ids: Vec<String> = found.into_iter().collect();
    ids.sort_by_key(|s| std::cmp::Reverse(s.len()));
    ids
}

/// A copy of `stream` with every id made unique by `copy`.
fn fresh(stream: &str, ids: &[String], copy: usize) -> String {
    let mut out = stream.to_owned();
    for id in ids {
        out = out.replace(id.as_str(), &format!("{id}x{copy}"));
    }
    out
}

fn corpus() -> (Vec<String>, usize, usize) {
    let sources: Vec<String> = [
        "openai/stream.mcp-call-success.exa.sse",
        "openai/stream.mcp-call-success.deepwiki-o4-mini.sse",
        "openai/stream.approval-approved-mcp-call.zip1.sse",
        "anthropic/stream.2025-04-04.thinking-mcp-github-copilot.pydantic-ai.sse",
        "anthropic/stream.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.sse",
        "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let id_lists: Vec<Vec<String>> = sources.iter().map(|s| ids(s)).collect();
    let mut streams = Vec::new();
    let mut bytes = 0;
    let mut copy = 0;
    while bytes < TARGET {
        for (source, ids) in sources.iter().zip(&id_lists) {
            let s = fresh(source, ids, copy);
            bytes += s.len();
            streams.push(s);
        }
        copy += 1;
    }
    let events = streams
        .iter()
        .map(|s| s.matches("\ndata: ").count() + usize::from(s.starts_with("data: ")))
        .sum();
    (streams, bytes, events)
}

fn baseline(streams: &[String]) -> usize {
    let mut n = 0;
    for stream in streams {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        for chunk in stream.as_bytes().chunks(CHUNK) {
            decoder.feed(chunk, &mut events).unwrap();
            for e in events.drain(..) {
                let v: serde_json::Value = serde_json::from_slice(e.data.as_bytes()).unwrap();
                black_box(&v);
                n += 1;
            }
        }
        decoder.finish(&mut events).unwrap();
    }
    n
}

fn typed(streams: &[String]) -> usize {
    let mut n = 0;
    let mut out = Vec::new();
    for stream in streams {
        let mut normalizer = ByteNormalizer::new(None);
        for chunk in stream.as_bytes().chunks(CHUNK) {
            normalizer.feed(chunk, &mut out).unwrap();
            n += out.len();
            black_box(&out);
            out.clear();
        }
        normalizer.finish(&mut out).unwrap();
        n += out.len();
        out.clear();
    }
    n
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a smoke pass.
    let benching = std::env::args().any(|a| a == "--bench");
    let (streams, bytes, sse_events) = corpus();
    let streams = if benching {
        streams
    } else {
        streams[..6].to_vec()
    };
    let bytes = if benching {
        bytes
    } else {
        streams.iter().map(String::len).sum()
    };
    println!("machine: {}", machine());
    println!(
        "corpus: {} streams, {:.1} MB, {} SSE events, chunks of {} KiB",
        streams.len(),
        bytes as f64 / 1e6,
        if benching { sse_events } else { 0 },
        CHUNK / 1024
    );
    let runs = if benching { RUNS } else { 1 };
    let mut a_times = Vec::new();
    let mut b_times = Vec::new();
    let (mut a_events, mut b_events) = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        a_events = baseline(&streams);
        a_times.push(t.elapsed());
        let t = Instant::now();
        b_events = typed(&streams);
        b_times.push(t.elapsed());
    }
    let (a, b) = (median(a_times), median(b_times));
    let mbps = |d: Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    let eps = |d: Duration| a_events as f64 / d.as_secs_f64();
    println!(
        "(a) baseline  SSE + from_slice::<Value>:        {:8.1} MB/s  {:10.0} events/s  (median of {runs})",
        mbps(a),
        eps(a)
    );
    println!(
        "(b) typed     SSE + typed decode + normalise:   {:8.1} MB/s  {:10.0} events/s  ({b_events} mcpwire events out)",
        mbps(b),
        eps(b)
    );
    println!(
        "ratio b/a: {:.2} (goal >= 1.00)",
        a.as_secs_f64() / b.as_secs_f64()
    );
    if benching {
        match std::env::var("MCPWIRE_BIN") {
            Ok(bin) => memory(&bin),
            Err(_) => println!(
                "peak memory of `mcpwire normalize` over 1 GiB: skipped (run `cargo xtask bench`, or set MCPWIRE_BIN to a release mcpwire)"
            ),
        }
    }
}

/// Pipes a generated 1 GiB OpenAI stream (one response, many items) through
/// `mcpwire normalize -` and samples its VmHWM.
fn memory(bin: &str) {
    let source = fixture("openai/stream.mcp-call-success.exa.sse");
    let events: Vec<&str> = source
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .collect();
    let created = events
        .iter()
        .find(|e| e.contains("event: response.created"))
        .unwrap();
    let middle: Vec<&str> = events
        .iter()
        .filter(|e| {
            !e.contains("event: response.created")
                && !e.contains("event: response.in_progress")
                && !e.contains("event: response.completed")
        })
        .copied()
        .collect();
    let middle = middle.join("\n\n") + "\n\n";
    let id_list = ids(&middle);
    let items_per_round = 7u64;
    let completed = "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":0,\"response\":{\"id\":\"resp_end\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"m\",\"output\":[]}}\n\n";
    let mut child = Command::new(bin)
        .args(["normalize", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().count());
    let sampler = std::thread::spawn(move || {
        let mut peak_kb = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
            {
                peak_kb = peak_kb.max(kb);
            } else {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak_kb
    });
    let start = Instant::now();
    let mut stdin = child.stdin.take().unwrap();
    let mut written = 0usize;
    stdin.write_all(created.as_bytes()).unwrap();
    stdin.write_all(b"\n\n").unwrap();
    let mut round = 0u64;
    while written < 1 << 30 {
        let mut copy = fresh(&middle, &id_list, round as usize);
        // Shift output indexes so every round's items are new items of the one response.
        for i in (0..items_per_round).rev() {
            copy = copy.replace(
                &format!("\"output_index\":{i},"),
                &format!("\"output_index\":{},", i + round * items_per_round),
            );
        }
        stdin.write_all(copy.as_bytes()).unwrap();
        written += copy.len();
        round += 1;
    }
    stdin.write_all(completed.as_bytes()).unwrap();
    drop(stdin);
    let lines = reader.join().unwrap();
    let status = child.wait().unwrap();
    let elapsed = start.elapsed();
    let peak_kb = sampler.join().unwrap();
    println!(
        "peak memory of `mcpwire normalize -` over {:.2} GiB ({} events out, {:.0} MB/s, exit {}): {:.1} MB VmHWM (goal <= 64 MB)",
        written as f64 / (1u64 << 30) as f64,
        lines,
        written as f64 / 1e6 / elapsed.as_secs_f64(),
        status.code().unwrap_or(-1),
        peak_kb as f64 / 1024.0
    );
}
