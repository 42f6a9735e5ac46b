//! The traffic-like corpus of `cargo xtask bench`: every recorded stream in `fixtures/`, varied
//! the way real traffic differs from the recordings, by a deterministic generator.
//!
//! The mix (BENCHMARKS.md describes it and the run prints what came out):
//!
//! * each stream is a copy of one recorded stream of the vendor (`fixtures/<vendor>/stream.*.sse`,
//!   every one of them, equally often), with fresh ids;
//! * **tool results of real sizes**: every tool result (OpenAI `mcp_call.output`, Anthropic
//!   `mcp_tool_result` text) gets the size of a tool result drawn from all recorded streams of
//!   both vendors (0 B to 170 KB), its recorded text repeated or cut to that size;
//! * **tool listings**: every OpenAI `mcp_list_tools` lists 2 to 64 tools (log-uniform), its
//!   recorded tools repeated under new names (the recorded servers list only 2 to 4);
//! * **many small deltas**: Anthropic text and thinking deltas are re-split into pieces of 4 to
//!   32 characters, and every thinking block is 1 to 16 times as long as recorded (its deltas
//!   repeated); OpenAI deltas stay as recorded (one token each already).
//!
//! Events that are not changed keep their recorded bytes; changed ones are re-serialised
//! compactly (key order kept). The generator is seeded with a constant: the same fixtures give
//! the same corpus.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Result;

/// SplitMix64: small, fast, and the same sequence everywhere.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Log-uniform in `lo..=hi` (`lo >= 1`).
    fn log_between(&mut self, lo: usize, hi: usize) -> usize {
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        let x = l + (h - l) * (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (x.exp().round() as usize).clamp(lo, hi)
    }
}

/// One SSE event: its `event` field (if any) and its data.
pub(super) struct SseEvent {
    pub(super) name: Option<String>,
    pub(super) data: String,
}

/// The events of a recorded stream (LF line ends, one `data` line per event, as recorded).
pub(super) fn events(stream: &str) -> Vec<SseEvent> {
    stream
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .filter_map(|e| {
            let mut name = None;
            let mut data = None;
            for line in e.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = Some(v.trim_start().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = Some(v.strip_prefix(' ').unwrap_or(v).to_owned());
                }
            }
            data.map(|data| SseEvent { name, data })
        })
        .collect()
}

fn write_event(out: &mut String, name: Option<&str>, data: &str) {
    if let Some(name) = name {
        out.push_str("event: ");
        out.push_str(name);
        out.push('\n');
    }
    out.push_str("data: ");
    out.push_str(data);
    out.push_str("\n\n");
}

/// The sizes (characters) of every tool result in the recorded streams.
pub(super) fn recorded_result_sizes(streams: &[String]) -> Vec<usize> {
    let mut sizes = Vec::new();
    for stream in streams {
        for event in events(stream) {
            let Ok(value) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            match value["type"].as_str() {
                Some("response.output_item.done") if value["item"]["type"] == "mcp_call" => {
                    sizes.push(value["item"]["output"].as_str().map_or(0, str::len));
                }
                Some("content_block_start")
                    if value["content_block"]["type"] == "mcp_tool_result" =>
                {
                    sizes.push(result_text(&value["content_block"]["content"]).len());
                }
                _ => {}
            }
        }
    }
    sizes.sort_unstable();
    sizes
}

/// The text of an Anthropic `mcp_tool_result.content` (a string or text blocks).
fn result_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// `text` repeated or cut to `size` bytes (at a character boundary; empty text stays empty).
fn resized(text: &str, size: usize) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(size + 4);
    while out.len() < size {
        out.push_str(text);
    }
    let mut cut = size;
    while !out.is_char_boundary(cut) {
        cut += 1;
    }
    out.truncate(cut);
    out
}

/// `text` in pieces of `lo..=hi` characters.
fn pieces(text: &str, rng: &mut Rng, lo: usize, hi: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let n = rng.between(lo, hi).min(chars.len() - at);
        out.push(chars[at..at + n].iter().collect());
        at += n;
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// The tools of a listing, repeated under new names up to `count`.
fn more_tools(tools: &[Value], count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let mut tool = tools[i % tools.len()].clone();
            if i >= tools.len()
                && let Some(name) = tool["name"].as_str()
            {
                tool["name"] = Value::String(format!("{name}_{}", i / tools.len() + 1));
            }
            tool
        })
        .collect()
}

/// What one stream's variation draws, so that an item seen twice (in `output_item.done` and in
/// `response.completed`) changes the same way both times.
#[derive(Default)]
struct Draws {
    /// Item or tool-use id -> the new tool result.
    results: BTreeMap<String, String>,
    /// Listing id -> the new tools.
    listings: BTreeMap<String, Vec<Value>>,
}

impl Draws {
    fn result(&mut self, id: &str, text: &str, sizes: &[usize], rng: &mut Rng) -> String {
        self.results
            .entry(id.to_owned())
            .or_insert_with(|| resized(text, sizes[rng.below(sizes.len())]))
            .clone()
    }

    fn listing(&mut self, id: &str, tools: &[Value], rng: &mut Rng) -> Vec<Value> {
        self.listings
            .entry(id.to_owned())
            .or_insert_with(|| {
                if tools.is_empty() {
                    Vec::new()
                } else {
                    more_tools(tools, rng.log_between(2, 64))
                }
            })
            .clone()
    }

    /// Varies one OpenAI output item in place; `true` if it changed.
    fn openai_item(&mut self, item: &mut Value, sizes: &[usize], rng: &mut Rng) -> bool {
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        match item["type"].as_str() {
            Some("mcp_call") => match item["output"].as_str() {
                Some(output) if !output.is_empty() => {
                    let new = self.result(&id, output, sizes, rng);
                    item["output"] = Value::String(new);
                    true
                }
                _ => false,
            },
            Some("mcp_list_tools") => match item["tools"].as_array() {
                Some(tools) if !tools.is_empty() => {
                    let new = self.listing(&id, tools, rng);
                    item["tools"] = Value::Array(new);
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// One varied copy of a recorded OpenAI stream.
fn openai_stream(stream: &str, sizes: &[usize], rng: &mut Rng) -> String {
    let mut draws = Draws::default();
    let mut out = String::with_capacity(stream.len() * 2);
    for event in events(stream) {
        let mut value: Value = match serde_json::from_str(&event.data) {
            Ok(v) => v,
            Err(_) => {
                write_event(&mut out, event.name.as_deref(), &event.data);
                continue;
            }
        };
        let changed = match value["type"].as_str() {
            Some("response.output_item.done" | "response.output_item.added") => {
                draws.openai_item(&mut value["item"], sizes, rng)
            }
            Some("response.completed" | "response.failed" | "response.incomplete") => {
                let mut changed = false;
                if let Some(items) = value["response"]["output"].as_array_mut() {
                    for item in items {
                        changed |= draws.openai_item(item, sizes, rng);
                    }
                }
                changed
            }
            _ => false,
        };
        let data = if changed {
            value.to_string()
        } else {
            event.data
        };
        write_event(&mut out, event.name.as_deref(), &data);
    }
    out
}

/// One varied copy of a recorded Anthropic stream.
fn anthropic_stream(stream: &str, sizes: &[usize], rng: &mut Rng) -> String {
    let mut draws = Draws::default();
    let mut out = String::with_capacity(stream.len() * 2);
    // Block index -> how many times its thinking is repeated.
    let mut thinking: BTreeMap<u64, usize> = BTreeMap::new();
    // Deltas of thinking blocks, held until the block stops, to repeat them.
    let mut held: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for event in events(stream) {
        let Ok(mut value) = serde_json::from_str::<Value>(&event.data) else {
            write_event(&mut out, event.name.as_deref(), &event.data);
            continue;
        };
        let name = event.name.as_deref();
        let index = value["index"].as_u64().unwrap_or(0);
        match value["type"].as_str() {
            Some("content_block_start") => {
                let block = &mut value["content_block"];
                match block["type"].as_str() {
                    Some("mcp_tool_result") => {
                        let id = block["tool_use_id"].as_str().unwrap_or_default().to_owned();
                        let text = result_text(&block["content"]);
                        if text.is_empty() {
                            write_event(&mut out, name, &event.data);
                        } else {
                            let new = draws.result(&id, &text, sizes, rng);
                            block["content"] = serde_json::json!([{"type": "text", "text": new}]);
                            write_event(&mut out, name, &value.to_string());
                        }
                    }
                    Some("thinking") => {
                        thinking.insert(index, rng.between(1, 16));
                        held.insert(index, Vec::new());
                        write_event(&mut out, name, &event.data);
                    }
                    _ => write_event(&mut out, name, &event.data),
                }
            }
            Some("content_block_delta") => {
                let (key, lo, hi) = match value["delta"]["type"].as_str() {
                    Some("text_delta") => ("text", 4, 32),
                    Some("thinking_delta") => ("thinking", 4, 32),
                    _ => {
                        match held.get_mut(&index) {
                            Some(held) => held.push(event.data),
                            None => write_event(&mut out, name, &event.data),
                        }
                        continue;
                    }
                };
                let text = value["delta"][key].as_str().unwrap_or_default().to_owned();
                for piece in pieces(&text, rng, lo, hi) {
                    value["delta"][key] = Value::String(piece);
                    let data = value.to_string();
                    match held.get_mut(&index) {
                        Some(held) => held.push(data),
                        None => write_event(&mut out, name, &data),
                    }
                }
            }
            Some("content_block_stop") if held.contains_key(&index) => {
                let deltas = held.remove(&index).unwrap_or_default();
                let times = thinking.remove(&index).unwrap_or(1);
                // The thinking repeated, then the signature (and anything else) once.
                let (signature, thought): (Vec<&String>, Vec<&String>) = deltas
                    .iter()
                    .partition(|d| !d.contains("\"thinking_delta\""));
                for _ in 0..times {
                    for data in &thought {
                        write_event(&mut out, name.map(|_| "content_block_delta"), data);
                    }
                }
                for data in signature {
                    write_event(&mut out, name.map(|_| "content_block_delta"), data);
                }
                write_event(&mut out, name, &event.data);
            }
            _ => write_event(&mut out, name, &event.data),
        }
    }
    out
}

/// One varied copy of a recorded stream of `vendor`.
pub(super) fn stream(vendor: &str, recorded: &str, sizes: &[usize], rng: &mut Rng) -> String {
    match vendor {
        "anthropic" => anthropic_stream(recorded, sizes, rng),
        _ => openai_stream(recorded, sizes, rng),
    }
}

/// What a corpus is made of: category -> (bytes of `data`, events).
pub(super) type Mix = BTreeMap<&'static str, (usize, usize)>;

/// Adds the events of `stream` to `mix`, by what they carry.
pub(super) fn count(stream: &str, mix: &mut Mix) {
    for event in events(stream) {
        let value: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
        let category = match value["type"].as_str().unwrap_or_default() {
            "response.output_text.delta" => "text deltas",
            "response.mcp_call_arguments.delta" => "argument deltas",
            "response.output_item.done" => match value["item"]["type"].as_str() {
                Some("mcp_call") => "tool calls and results",
                Some("mcp_list_tools") => "tool listings",
                _ => "other items",
            },
            "response.completed" | "response.failed" | "response.incomplete" => {
                "final response (response.completed)"
            }
            "content_block_delta" => match value["delta"]["type"].as_str() {
                Some("text_delta") => "text deltas",
                Some("thinking_delta" | "signature_delta") => "thinking deltas",
                Some("input_json_delta") => "argument deltas",
                _ => "other",
            },
            "content_block_start" => match value["content_block"]["type"].as_str() {
                Some("mcp_tool_result") => "tool calls and results",
                Some("mcp_tool_listing") => "tool listings",
                _ => "block starts",
            },
            _ => "other",
        };
        let entry = mix.entry(category).or_default();
        entry.0 += event.data.len();
        entry.1 += 1;
    }
}

/// `mix` as one line per category: share of bytes, share of events, mean event size.
pub(super) fn describe(mix: &Mix) -> Vec<String> {
    let bytes: usize = mix.values().map(|v| v.0).sum();
    let events: usize = mix.values().map(|v| v.1).sum();
    let mut rows: Vec<(&&str, &(usize, usize))> = mix.iter().collect();
    rows.sort_by_key(|(_, (b, _))| std::cmp::Reverse(*b));
    rows.into_iter()
        .map(|(name, (b, e))| {
            format!(
                "{name:<38} {:5.1}% of bytes {:5.1}% of events, {:7.0} B each",
                100.0 * *b as f64 / bytes.max(1) as f64,
                100.0 * *e as f64 / events.max(1) as f64,
                *b as f64 / (*e).max(1) as f64
            )
        })
        .collect()
}

/// Checks that every generated stream still decodes as JSON event by event.
pub(super) fn check(stream: &str) -> Result {
    for event in events(stream) {
        serde_json::from_str::<Map<String, Value>>(&event.data)
            .map_err(|e| format!("generated event is not a JSON object: {e}"))?;
    }
    Ok(())
}
