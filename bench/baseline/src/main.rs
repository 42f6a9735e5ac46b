//! The baselines `cargo xtask bench` compares mcpwire against, built outside the mcpwire
//! workspace so that serde_json keeps its default features (a `BTreeMap`-backed `Value`).
//!
//! `mcpwire-bench-baseline CORPUS_DIR` reads `<vendor>.sse` and `<vendor>.idx` (the byte length
//! of each stream, one per line) for `openai` and `anthropic`, and for each stream runs a small
//! SSE framer over 64 KiB chunks, decoding every `data` payload as
//!
//! * (a) `serde_json::Value`,
//! * (b) `serde::de::IgnoredAny` (validation only: the ceiling for any decoder built on serde_json),
//! * (c) `async_openai::types::responses::ResponseStreamEvent` (OpenAI only).
//!
//! Each measure runs once untimed (warm-up) and once timed; it prints one line per measure:
//! `result <vendor> <measure> <nanoseconds> <events> <errors>`. `cargo xtask bench` runs this
//! binary and mcpwire's own measure alternately and takes medians.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// Bytes per chunk fed to the framer, as `cargo xtask bench` feeds mcpwire.
const CHUNK: usize = 64 * 1024;

/// A plain SSE framer (LF, CRLF and CR line ends; `data` lines joined with `\n`; comments and
/// other fields skipped), the loop a user would write or take from an SSE crate. Reuses its
/// buffers across events.
#[derive(Default)]
struct Framer {
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
    skip_lf: bool,
}

impl Framer {
    fn feed(&mut self, mut chunk: &[u8], on_event: &mut impl FnMut(&[u8])) {
        if self.skip_lf && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.skip_lf = false;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) {
            let mut next = pos + 1;
            if chunk[pos] == b'\r' {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            if self.line.is_empty() {
                self.line_done(&chunk[..pos], on_event);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&chunk[..pos]);
                self.line_done(&line, on_event);
                line.clear();
                self.line = line;
            }
            chunk = &chunk[next..];
        }
        self.line.extend_from_slice(chunk);
    }

    fn line_done(&mut self, line: &[u8], on_event: &mut impl FnMut(&[u8])) {
        if line.is_empty() {
            if self.has_data {
                on_event(&self.data);
            }
            self.data.clear();
            self.has_data = false;
            return;
        }
        if let Some(value) = line.strip_prefix(b"data:") {
            let value = value.strip_prefix(b" ").unwrap_or(value);
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
    }
}

/// Runs `decode` on every `data` payload of every stream; returns (events, errors).
fn run(streams: &[&[u8]], mut decode: impl FnMut(&[u8]) -> bool) -> (usize, usize) {
    let (mut events, mut errors) = (0, 0);
    for stream in streams {
        let mut framer = Framer::default();
        let mut on_event = |data: &[u8]| {
            if data.trim_ascii() == b"[DONE]" {
                return;
            }
            events += 1;
            if !decode(data) {
                errors += 1;
            }
        };
        for chunk in stream.chunks(CHUNK) {
            framer.feed(chunk, &mut on_event);
        }
    }
    (events, errors)
}

fn value(data: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(v) => {
            black_box(&v);
            true
        }
        Err(_) => false,
    }
}

fn ignored(data: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok()
}

fn async_openai(data: &[u8]) -> bool {
    match serde_json::from_slice::<async_openai::types::responses::ResponseStreamEvent>(data) {
        Ok(v) => {
            black_box(&v);
            true
        }
        Err(_) => false,
    }
}

fn load(dir: &Path, vendor: &str) -> Result<(Vec<u8>, Vec<usize>), String> {
    let bytes = std::fs::read(dir.join(format!("{vendor}.sse")))
        .map_err(|e| format!("{vendor}.sse: {e}"))?;
    let index = std::fs::read_to_string(dir.join(format!("{vendor}.idx")))
        .map_err(|e| format!("{vendor}.idx: {e}"))?;
    let lengths = index
        .lines()
        .map(|l| l.trim().parse::<usize>().map_err(|e| format!("{vendor}.idx: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if lengths.iter().sum::<usize>() != bytes.len() {
        return Err(format!("{vendor}.idx does not add up to {vendor}.sse"));
    }
    Ok((bytes, lengths))
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

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: mcpwire-bench-baseline CORPUS_DIR");
        return std::process::ExitCode::FAILURE;
    };
    let dir = Path::new(&dir);
    // For profiling one measure: `MCPWIRE_BENCH_VENDOR=openai` (or `anthropic`) and
    // `MCPWIRE_BENCH_MEASURE=value` (or `ignored`, `async-openai`).
    let only_vendor = std::env::var("MCPWIRE_BENCH_VENDOR").ok();
    let only_measure = std::env::var("MCPWIRE_BENCH_MEASURE").ok();
    for vendor in ["openai", "anthropic"] {
        if only_vendor.as_deref().is_some_and(|o| o != vendor) {
            continue;
        }
        let (bytes, lengths) = match load(dir, vendor) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let streams = split(&bytes, &lengths);
        let mut measures: Vec<(&str, fn(&[u8]) -> bool)> =
            vec![("value", value), ("ignored", ignored)];
        if vendor == "openai" {
            measures.push(("async-openai", async_openai));
        }
        for (name, decode) in measures {
            if only_measure.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            black_box(run(&streams, decode));
            let start = Instant::now();
            let (events, errors) = run(&streams, decode);
            let nanos = start.elapsed().as_nanos();
            println!("result {vendor} {name} {nanos} {events} {errors}");
        }
    }
    std::process::ExitCode::SUCCESS
}
