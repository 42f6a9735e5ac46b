//! `cargo xtask bench`: mcpwire's decoding speed against the strongest baselines, in one run,
//! and the memory and throughput of the `mcpwire normalize` binary.
//!
//! 1. Builds the release `mcpwire`, the baselines (`bench/baseline`, a workspace of its own so
//!    that serde_json keeps its default features there) and mcpwire's measure (the
//!    `throughput` bench of `mcpwire-normalize`).
//! 2. Writes two corpora per vendor (~60 MB each) to `target/bench-corpus/`:
//!    * `recorded/`: the recorded streams of [`OPENAI_SOURCES`] / [`ANTHROPIC_SOURCES`], copied
//!      in turn, every copy with fresh ids;
//!    * `traffic/`: every recorded stream in `fixtures/`, varied to look like traffic (tool
//!      results and listings of real sizes, thinking blocks, many small deltas) by the
//!      deterministic generator in [`traffic`]; the mix of each corpus is printed.
//! 3. Runs the two measuring binaries alternately, [`ROUNDS`] times; each decodes every stream of
//!    both vendors' corpora in 64 KiB chunks, once to warm up and once timed, per measure:
//!    (a) SSE + `serde_json::Value`, (b) SSE + `IgnoredAny`, (c) SSE + async-openai's
//!    `ResponseStreamEvent` (OpenAI only), (d) `mcpwire_normalize::ByteNormalizer::feed_with`
//!    (SSE, typed decode, normalisation; events borrowed), (e) `ByteNormalizer::feed` (the same,
//!    events owned and collected).
//! 4. Prints the medians and the ratios (d)/(a), (e)/(a) and (d)/(c) for each corpus, then pipes
//!    a generated 1 GiB stream through `mcpwire normalize -` (peak RSS, and end-to-end throughput
//!    writing JSON Lines to a pipe).
//!
//! `cargo xtask bench --corpus` only writes the corpora and prints their mix.

mod traffic;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, cargo, project_root, run};

/// Rounds of the alternating measurement (the medians are over these).
const ROUNDS: usize = 7;
/// Bytes per vendor corpus.
const CORPUS_BYTES: usize = 60 * 1000 * 1000;
/// The seed of the traffic-like corpus (any constant: the corpus only has to be the same
/// every time).
const TRAFFIC_SEED: u64 = 0x6d63_7077_6972_6521;
/// The corpora, in the order they are reported.
const CORPORA: [&str; 2] = ["recorded", "traffic"];

const OPENAI_SOURCES: &[&str] = &[
    "openai/stream.mcp-call-success.exa.sse",
    "openai/stream.mcp-call-success.deepwiki-o4-mini.sse",
    "openai/stream.multi-server-list-tools-missing-output-item-done.sse",
    "openai/stream.approval-approved-mcp-call.zip1.sse",
    "openai/stream.approval-denied-continuation.zip1.sse",
    "openai/stream.approval-request.zip1.sse",
];

const ANTHROPIC_SOURCES: &[&str] = &[
    "anthropic/stream.2025-04-04.thinking-mcp-github-copilot.pydantic-ai.sse",
    "anthropic/stream.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.sse",
    "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
];

/// The whole benchmark.
pub(crate) fn bench() -> Result {
    let root = project_root();
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);

    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "mcpwire-cli"]);
    run(build, "cargo build --release -p mcpwire-cli")?;
    let mcpwire = target.join("release").join("mcpwire");

    let baseline_target = target.join("bench-baseline");
    let mut build = cargo();
    build
        .args(["build", "--release", "--locked", "--manifest-path"])
        .arg(root.join("bench/baseline/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &baseline_target);
    run(build, "cargo build --release (bench/baseline)")?;
    let baseline = baseline_target
        .join("release")
        .join("mcpwire-bench-baseline");

    let measure = mcpwire_measure()?;

    let root_dir = target.join("bench-corpus");
    println!("machine: {}", machine());
    let sizes = corpora(&root_dir)?;
    println!(
        "{ROUNDS} rounds, each: baselines then mcpwire (or the reverse), warm-up + timed pass"
    );

    let mut times: Times = BTreeMap::new();
    let mut errors: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for round in 0..ROUNDS {
        for corpus in CORPORA {
            let dir = root_dir.join(corpus);
            let mut order = [
                (baseline.as_path(), "baselines"),
                (measure.as_path(), "mcpwire"),
            ];
            if round % 2 == 1 {
                order.reverse();
            }
            for (bin, what) in order {
                let output = Command::new(bin)
                    .arg(&dir)
                    .output()
                    .map_err(|e| format!("cannot run {what} ({}): {e}", bin.display()))?;
                if !output.status.success() {
                    return Err(format!(
                        "{what} failed: {}",
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    if let ["result", vendor, name, nanos, _events, errs] = fields.as_slice() {
                        let key = (corpus.to_owned(), (*vendor).to_owned(), (*name).to_owned());
                        let nanos: u128 = nanos.parse().map_err(|e| format!("{line}: {e}"))?;
                        times.entry(key.clone()).or_default().push(nanos);
                        errors.insert(key, errs.parse().unwrap_or(usize::MAX));
                    }
                }
            }
        }
        eprint!(".");
    }
    eprintln!();
    report(&sizes, &times, &errors)?;
    memory(&mcpwire)
}

/// `cargo xtask bench --corpus`: writes the corpora to `target/bench-corpus/` and prints what
/// they are made of, nothing else (for profiling a measure on them by hand).
pub(crate) fn corpus_only() -> Result {
    let root = project_root();
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    corpora(&target.join("bench-corpus")).map(drop)
}

/// Writes both corpora of both vendors under `root_dir` and prints their sizes and mix.
fn corpora(root_dir: &Path) -> Result<Sizes> {
    let mut sizes = Sizes::new();
    for corpus in CORPORA {
        let dir = root_dir.join(corpus);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (vendor, sources) in [("openai", OPENAI_SOURCES), ("anthropic", ANTHROPIC_SOURCES)] {
            let written = match corpus {
                "traffic" => write_traffic(&dir, vendor)?,
                _ => write_corpus(&dir, vendor, sources)?,
            };
            sizes.insert((corpus, vendor), written);
        }
    }
    for ((corpus, vendor), (bytes, streams, events, mix)) in &sizes {
        println!(
            "corpus {corpus} {vendor}: {streams} streams, {:.1} MB, {events} SSE events, 64 KiB chunks",
            *bytes as f64 / 1e6
        );
        for line in traffic::describe(mix) {
            println!("    {line}");
        }
    }
    Ok(sizes)
}

/// (corpus, vendor, measure) -> nanoseconds per round.
type Times = BTreeMap<(String, String, String), Vec<u128>>;

/// Builds the `throughput` bench of `mcpwire-normalize` and returns its executable.
fn mcpwire_measure() -> Result<PathBuf> {
    let output = cargo()
        .args([
            "bench",
            "--locked",
            "-p",
            "mcpwire-normalize",
            "--bench",
            "throughput",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo bench --no-run: {e}"))?;
    if !output.status.success() {
        return Err("cargo bench -p mcpwire-normalize --no-run failed".to_owned());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "throughput")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo did not name the throughput bench executable".to_owned())
}

fn median(xs: &[u128]) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied().unwrap_or(0) as f64
}

/// (corpus, vendor) -> (bytes, streams, SSE events, mix).
type Sizes = BTreeMap<(&'static str, &'static str), CorpusSize>;

fn report(
    sizes: &Sizes,
    times: &Times,
    errors: &BTreeMap<(String, String, String), usize>,
) -> Result {
    let names = [
        ("value", "(a) SSE + serde_json::Value (default features)"),
        ("ignored", "(b) SSE + IgnoredAny (validation only: ceiling)"),
        (
            "async-openai",
            "(c) SSE + async-openai 0.43 ResponseStreamEvent",
        ),
        ("mcpwire", "(d) mcpwire feed_with (SSE+typed+normalise)"),
        ("mcpwire-owned", "(e) mcpwire feed (the same, events owned)"),
    ];
    for corpus in CORPORA {
        for vendor in ["openai", "anthropic"] {
            let Some((bytes, _, events, _)) = sizes.get(&(corpus, vendor)) else {
                continue;
            };
            report_one((corpus, vendor), (*bytes, *events), &names, times, errors);
        }
    }
    if times.is_empty() {
        return Err("no measurement came back".to_owned());
    }
    Ok(())
}

/// The table of one corpus of one vendor.
fn report_one(
    (corpus, vendor): (&str, &str),
    (bytes, events): (usize, usize),
    names: &[(&str, &str)],
    times: &Times,
    errors: &BTreeMap<(String, String, String), usize>,
) {
    println!();
    println!("{corpus} {vendor} corpus (median of {ROUNDS}):");
    let key = |name: &str| (corpus.to_owned(), vendor.to_owned(), name.to_owned());
    let get = |name: &str| times.get(&key(name));
    let a = get("value").map(|t| median(t));
    for &(name, label) in names {
        let Some(t) = get(name) else { continue };
        let nanos = median(t);
        let secs = nanos / 1e9;
        let errs = errors.get(&key(name)).copied().unwrap_or(0);
        let vs_a = a.map_or(String::new(), |a| format!("{:5.2}x (a)", a / nanos));
        let note = if errs > 0 {
            format!("  ({errs} events failed to decode)")
        } else {
            String::new()
        };
        println!(
            "  {label:<50} {:7.1} MB/s {:9.0} events/s  {vs_a}{note}",
            bytes as f64 / 1e6 / secs,
            events as f64 / secs,
        );
    }
    let d = get("mcpwire").map(|t| median(t));
    let e = get("mcpwire-owned").map(|t| median(t));
    if let (Some(d), Some(a)) = (d, a) {
        println!(
            "  ratio (d)/(a) = {:.2}  (speed of d over a; goal >= 2.0)",
            a / d
        );
    }
    if let (Some(e), Some(a)) = (e, a) {
        println!("  ratio (e)/(a) = {:.2}", a / e);
    }
    if let (Some(d), Some(c)) = (d, get("async-openai").map(|t| median(t))) {
        println!("  ratio (d)/(c) = {:.2}  (goal >= 1.5)", c / d);
    }
}

fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown cpu", str::trim);
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cpu}, {cores} cores")
}

fn fixture(rel: &str) -> Result<String> {
    let path = project_root().join("fixtures").join(rel);
    fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
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
    let mut found = BTreeSet::new();
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

/// Writes `<vendor>.sse` (the streams, concatenated) and `<vendor>.idx` (each stream's length);
/// returns (bytes, streams, SSE events, mix).
fn write_corpus(dir: &Path, vendor: &str, sources: &[&str]) -> Result<CorpusSize> {
    let sources = sources
        .iter()
        .map(|s| fixture(s))
        .collect::<Result<Vec<_>>>()?;
    let id_lists: Vec<Vec<String>> = sources.iter().map(|s| ids(s)).collect();
    let mut corpus = String::with_capacity(CORPUS_BYTES + 256 * 1024);
    let mut index = String::new();
    let (mut streams, mut events) = (0, 0);
    let mut copy = 0;
    let mut mix = traffic::Mix::new();
    while corpus.len() < CORPUS_BYTES {
        for (source, ids) in sources.iter().zip(&id_lists) {
            if copy == 0 {
                traffic::count(source, &mut mix);
            }
            let s = fresh(source, ids, copy);
            events += s.matches("\ndata:").count() + usize::from(s.starts_with("data:"));
            index.push_str(&format!("{}\n", s.len()));
            corpus.push_str(&s);
            streams += 1;
        }
        copy += 1;
    }
    write_files(dir, vendor, &corpus, &index)?;
    Ok((corpus.len(), streams, events, mix))
}

/// (bytes, streams, SSE events, mix).
type CorpusSize = (usize, usize, usize, traffic::Mix);

fn write_files(dir: &Path, vendor: &str, corpus: &str, index: &str) -> Result {
    let write = |name: String, text: &str| {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(format!("{vendor}.sse"), corpus)?;
    write(format!("{vendor}.idx"), index)
}

/// Every recorded stream of a vendor (`fixtures/<vendor>/stream.*.sse`), sorted by name.
fn recorded_streams(vendor: &str) -> Result<Vec<String>> {
    let folder = project_root().join("fixtures").join(vendor);
    let mut names: Vec<String> = fs::read_dir(&folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("stream.") && n.ends_with(".sse"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| fixture(&format!("{vendor}/{n}")))
        .collect()
}

/// Writes the traffic-like corpus of `vendor` (see [`traffic`]); returns what
/// [`write_corpus`] returns.
fn write_traffic(dir: &Path, vendor: &str) -> Result<CorpusSize> {
    let sources = recorded_streams(vendor)?;
    let mut all = recorded_streams("openai")?;
    all.extend(recorded_streams("anthropic")?);
    let result_sizes = traffic::recorded_result_sizes(&all);
    let id_lists: Vec<Vec<String>> = sources.iter().map(|s| ids(s)).collect();
    let mut rng = traffic::Rng::new(TRAFFIC_SEED);
    let mut corpus = String::with_capacity(CORPUS_BYTES + 512 * 1024);
    let mut index = String::new();
    let (mut streams, mut events) = (0, 0);
    let mut mix = traffic::Mix::new();
    while corpus.len() < CORPUS_BYTES {
        let pick = rng.below(sources.len());
        let varied = traffic::stream(vendor, &sources[pick], &result_sizes, &mut rng);
        traffic::check(&varied)?;
        let s = fresh(&varied, &id_lists[pick], streams);
        traffic::count(&s, &mut mix);
        events += s.matches("\ndata:").count() + usize::from(s.starts_with("data:"));
        index.push_str(&format!("{}\n", s.len()));
        corpus.push_str(&s);
        streams += 1;
    }
    write_files(dir, vendor, &corpus, &index)?;
    Ok((corpus.len(), streams, events, mix))
}

/// Pipes a generated 1 GiB OpenAI stream (one response, many items) through
/// `mcpwire normalize -`, samples its VmHWM, and times it end to end (JSON Lines to a pipe).
fn memory(bin: &Path) -> Result {
    let source = fixture("openai/stream.mcp-call-success.exa.sse")?;
    let events: Vec<&str> = source
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .collect();
    let created = events
        .iter()
        .find(|e| e.contains("event: response.created"))
        .ok_or("the Exa stream has no response.created")?;
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
    // Generated before the clock starts, so the figure is the binary's alone.
    let mut rounds = Vec::new();
    let mut written = created.len() + 2 + completed.len();
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
        written += copy.len();
        rounds.push(copy);
        round += 1;
    }
    let mut child = Command::new(bin)
        .args(["normalize", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let pid = child.id();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().count());
    let sampler = std::thread::spawn(move || {
        let mut peak_kb = 0u64;
        while let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
            match status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                Some(kb) => peak_kb = peak_kb.max(kb),
                None => break,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak_kb
    });
    let start = Instant::now();
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let write = |stdin: &mut std::process::ChildStdin, b: &[u8]| {
        stdin
            .write_all(b)
            .map_err(|e| format!("writing to mcpwire normalize: {e}"))
    };
    write(&mut stdin, created.as_bytes())?;
    write(&mut stdin, b"\n\n")?;
    for copy in &rounds {
        write(&mut stdin, copy.as_bytes())?;
    }
    write(&mut stdin, completed.as_bytes())?;
    drop(stdin);
    let lines = reader.join().map_err(|_| "reader thread panicked")?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let peak_kb = sampler.join().map_err(|_| "sampler thread panicked")?;
    println!();
    println!(
        "`mcpwire normalize -` over a {:.2} GiB OpenAI stream, JSON Lines to a pipe: {:.0} MB/s end to end, {lines} events out, exit {}",
        written as f64 / f64::from(1u32 << 30),
        written as f64 / 1e6 / elapsed.as_secs_f64(),
        status.code().unwrap_or(-1),
    );
    println!(
        "peak memory: {:.1} MB VmHWM (goal < 16 MB)",
        peak_kb as f64 / 1024.0
    );
    if !status.success() {
        return Err("mcpwire normalize failed on the 1 GiB stream".to_owned());
    }
    Ok(())
}
