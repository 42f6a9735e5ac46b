//! What is this payload, does it still parse, and what did we keep without understanding it?
//!
//! [`check`] detects the vendor and the kind of a file's content (request, response, item,
//! block, tool, stream event, SSE stream, error body, ...), decodes it with the typed schema,
//! verifies that re-serialising gives back equal JSON, and lists what was kept verbatim
//! ([`Finding`]). This is what `mcpwire check` and `cargo xtask fixtures` run.
//!
//! ```
//! use mcpwire_schema::check::{check, Kind};
//! let report = check(br#"{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t",
//!                         "arguments":"{}","brand_new_field":1}"#).unwrap();
//! assert_eq!(report.kind, Kind::OpenAiItem);
//! assert_eq!(report.findings.len(), 1);
//! let err = check(br#"{"type":"mcp_call","id":"mcp_1","server_label":"s","arguments":"{}"}"#).unwrap_err();
//! assert_eq!(err.to_string(), "$: missing field `name`");
//! ```

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::decode::DecodeError;
use crate::event::Vendor;
use crate::{Finding, Inspect, anthropic, openai, sse};

/// What a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `POST /v1/responses` body.
    OpenAiRequest,
    /// A response object.
    OpenAiResponse,
    /// An output or input item.
    OpenAiItem,
    /// A `tools[]` entry.
    OpenAiTool,
    /// An `mcp_call.error` value (or `{"error": ...}` fragment).
    OpenAiMcpCallError,
    /// One stream event.
    OpenAiEvent,
    /// An HTTP error body.
    OpenAiError,
    /// A raw SSE stream.
    OpenAiStream,
    /// `POST /v1/messages` body.
    AnthropicRequest,
    /// An `mcp_servers[]` entry.
    AnthropicMcpServer,
    /// A response message.
    AnthropicMessage,
    /// A request message (`role` + `content`).
    AnthropicMessageParam,
    /// A content block.
    AnthropicBlock,
    /// A `tools[]` entry.
    AnthropicTool,
    /// One stream event.
    AnthropicEvent,
    /// An HTTP error body (or stream `error` event).
    AnthropicError,
    /// A raw SSE stream.
    AnthropicStream,
}

impl Kind {
    /// The vendor.
    pub fn vendor(self) -> Vendor {
        use Kind::*;
        match self {
            OpenAiRequest | OpenAiResponse | OpenAiItem | OpenAiTool | OpenAiMcpCallError
            | OpenAiEvent | OpenAiError | OpenAiStream => Vendor::OpenAi,
            _ => Vendor::Anthropic,
        }
    }

    /// A short description, e.g. `stream`, `item`.
    pub fn noun(self) -> &'static str {
        use Kind::*;
        match self {
            OpenAiRequest | AnthropicRequest => "request",
            OpenAiResponse => "response",
            AnthropicMessage => "response message",
            OpenAiItem => "item",
            OpenAiTool | AnthropicTool => "tool",
            OpenAiMcpCallError => "mcp_call error",
            OpenAiEvent | AnthropicEvent => "stream event",
            OpenAiError | AnthropicError => "error body",
            OpenAiStream | AnthropicStream => "stream",
            AnthropicMcpServer => "mcp_servers entry",
            AnthropicMessageParam => "request message",
            AnthropicBlock => "content block",
        }
    }

    /// `true` for raw SSE streams.
    pub fn is_stream(self) -> bool {
        matches!(self, Kind::OpenAiStream | Kind::AnthropicStream)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.vendor(), self.noun())
    }
}

/// The result of a successful check.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// What the payload is (for an array: what its elements are).
    pub kind: Kind,
    /// Number of elements, when the payload is a JSON array.
    pub array_len: Option<usize>,
    /// Number of events, for a stream.
    pub events: Option<usize>,
    /// What was kept without being understood.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The findings grouped: each distinct unknown type or field (array indices folded to
    /// `[]`), with how often it occurred, most frequent first.
    pub fn summary(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for finding in &self.findings {
            let key = match finding {
                Finding::UnknownType {
                    type_name: Some(t), ..
                } => format!("type {t}"),
                Finding::UnknownType {
                    path,
                    type_name: None,
                } => format!("untyped object at {}", fold(path)),
                Finding::UnknownField { path } => format!("field {}", fold(path)),
            };
            match counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counts.push((key, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }
}

fn fold(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// Detects, decodes, round-trips and inspects a payload (JSON or a raw SSE stream).
pub fn check(bytes: &[u8]) -> Result<Report, DecodeError> {
    if looks_like_sse(bytes) {
        return check_stream(bytes);
    }
    // A UTF-8 byte-order mark is accepted before JSON as before SSE.
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|err| DecodeError::new("$", format!("not valid JSON: {err}")))?;
    // The text of each element too: decoding and the number check work on the text, so that
    // numbers a `Value` cannot hold are checked exactly.
    let text = std::str::from_utf8(bytes)
        .map_err(|err| DecodeError::new("$", format!("not valid UTF-8: {err}")))?;
    match &value {
        Value::Array(items) => {
            let texts: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
                .map_err(|err| DecodeError::new("$", format!("not valid JSON: {err}")))?;
            let mut findings = Vec::new();
            let mut kind = None;
            for (i, (item, text)) in items.iter().zip(texts).enumerate() {
                let parent = format!("[{i}]");
                let item_kind = detect(item).map_err(|e| e.within(&parent))?;
                findings.extend(
                    check_text(item_kind, item, text.get(), &parent)
                        .map_err(|e| e.within(&parent))?,
                );
                kind.get_or_insert(item_kind);
            }
            let kind =
                kind.ok_or_else(|| DecodeError::new("$", "empty array: nothing to check"))?;
            Ok(Report {
                kind,
                array_len: Some(items.len()),
                events: None,
                findings,
            })
        }
        _ => {
            let kind = detect(&value)?;
            let findings = check_text(kind, &value, text, "")?;
            Ok(Report {
                kind,
                array_len: None,
                events: None,
                findings,
            })
        }
    }
}

/// The number literals of a JSON text, each as (negative, digits, exponent), sorted.
fn numbers(text: &str) -> Vec<((bool, String, i64), &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = text.get(start..i).unwrap_or_default();
                out.push((decimal(literal), literal));
            }
            _ => i += 1,
        }
    }
    out.sort();
    out
}

/// A number of `input` that the round trip (`output`) does not hold with the same value: an
/// integer beyond 64 bits or a decimal with more digits than a double, where they were decoded
/// into a number type rather than kept as text.
fn changed_number(input: &str, output: &str) -> Option<String> {
    let before = numbers(input);
    let after = numbers(output);
    // Both sorted by value: the first place they differ holds a number only one side has (the
    // smaller of the two; a missing one when the other side ran out).
    let at = (0..before.len().max(after.len()))
        .find(|&i| before.get(i).map(|b| &b.0) != after.get(i).map(|a| &a.0))?;
    let differing = match (before.get(at), after.get(at)) {
        (Some(b), Some(a)) => b.min(a),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => return None,
    };
    Some(differing.1.to_owned())
}

/// A number literal as (negative, significant digits, exponent), zeros normalised away.
fn decimal(literal: &str) -> (bool, String, i64) {
    let (negative, rest) = match literal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, literal),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = format!("{int}{frac}");
    let mut exponent = exponent - frac.len() as i64;
    while digits.ends_with('0') {
        digits.pop();
        exponent += 1;
    }
    let digits = digits.trim_start_matches('0').to_owned();
    if digits.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, digits, exponent)
}

/// `true` when the bytes look like a raw `text/event-stream` body.
pub fn looks_like_sse(bytes: &[u8]) -> bool {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    [b"data:".as_slice(), b"event:", b"id:", b"retry:", b":"]
        .iter()
        .any(|p| rest.starts_with(p))
}

const ANTHROPIC_EVENTS: &[&str] = anthropic::MessageStreamEvent::KNOWN_TYPES;

/// Which vendor's stream an event's JSON belongs to, from its `type`.
pub fn stream_vendor(event: &Value) -> Option<Vendor> {
    let t = event.get("type")?.as_str()?;
    stream_vendor_of(t, || event.get("error").is_some_and(Value::is_object))
}

/// [`stream_vendor`] from the event's `type` alone; `error_is_object` (whether the event's
/// `error` field is an object) is asked only for an `error` event.
pub fn stream_vendor_of(t: &str, error_is_object: impl FnOnce() -> bool) -> Option<Vendor> {
    if t.starts_with("response.") {
        Some(Vendor::OpenAi)
    } else if t == "error" {
        // Anthropic nests the error object; OpenAI puts code/message at the top.
        Some(if error_is_object() {
            Vendor::Anthropic
        } else {
            Vendor::OpenAi
        })
    } else if ANTHROPIC_EVENTS.contains(&t) {
        Some(Vendor::Anthropic)
    } else {
        None
    }
}

fn check_stream(bytes: &[u8]) -> Result<Report, DecodeError> {
    let events = sse::decode_all(bytes).map_err(|err| DecodeError::new("$", err.to_string()))?;
    let mut vendor = None;
    let mut findings = Vec::new();
    let mut count = 0;
    for (i, event) in events.iter().enumerate() {
        let parent = format!("events[{i}]");
        if event.data.trim() == "[DONE]" {
            continue;
        }
        let value: Value = serde_json::from_str(&event.data).map_err(|err| {
            DecodeError::new(parent.clone(), format!("data is not valid JSON: {err}"))
        })?;
        if vendor.is_none() {
            vendor = stream_vendor(&value);
        }
        let kind = match vendor {
            Some(Vendor::Anthropic) => Kind::AnthropicEvent,
            _ => Kind::OpenAiEvent,
        };
        findings
            .extend(check_text(kind, &value, &event.data, &parent).map_err(|e| e.within(&parent))?);
        count += 1;
    }
    let kind = match vendor {
        Some(Vendor::Anthropic) => Kind::AnthropicStream,
        Some(Vendor::OpenAi) => Kind::OpenAiStream,
        None => {
            return Err(DecodeError::new(
                "$",
                "no event says which vendor this stream is from",
            ));
        }
    };
    Ok(Report {
        kind,
        array_len: None,
        events: Some(count),
        findings,
    })
}

crate::wire_struct! {
    /// `{"error": <mcp_call.error>}`, a fragment of an `mcp_call` item.
    pub struct McpCallErrorFragment {
        /// The error.
        req error: openai::McpCallError = "error",
    }
}

/// Decodes `value` as `kind`, round-trips it and returns the findings (paths under `parent`).
pub fn check_value(kind: Kind, value: &Value, parent: &str) -> Result<Vec<Finding>, DecodeError> {
    check_text(kind, value, &value.to_string(), parent)
}

/// [`check_value`] for `value` and the JSON `text` it was parsed from: the typed decode reads
/// the text, and every number must come back with the same value.
fn check_text(
    kind: Kind,
    value: &Value,
    text: &str,
    parent: &str,
) -> Result<Vec<Finding>, DecodeError> {
    use Kind::*;
    match kind {
        OpenAiRequest => typed::<openai::CreateResponse>(value, text, parent),
        OpenAiResponse => typed::<openai::Response>(value, text, parent),
        OpenAiItem => typed::<openai::Item>(value, text, parent),
        OpenAiTool => typed::<openai::Tool>(value, text, parent),
        OpenAiMcpCallError if value.get("error").is_some() => {
            typed::<McpCallErrorFragment>(value, text, parent)
        }
        OpenAiMcpCallError => typed::<openai::McpCallError>(value, text, parent),
        OpenAiEvent => typed::<openai::ResponseStreamEvent>(value, text, parent),
        OpenAiError => typed::<openai::ErrorBody>(value, text, parent),
        AnthropicRequest => typed::<anthropic::CreateMessage>(value, text, parent),
        AnthropicMcpServer => typed::<anthropic::McpServer>(value, text, parent),
        AnthropicMessage => typed::<anthropic::Message>(value, text, parent),
        AnthropicMessageParam => typed::<anthropic::MessageParam>(value, text, parent),
        AnthropicBlock => typed::<anthropic::ContentBlock>(value, text, parent),
        AnthropicTool => typed::<anthropic::Tool>(value, text, parent),
        AnthropicEvent => typed::<anthropic::MessageStreamEvent>(value, text, parent),
        AnthropicError => typed::<anthropic::ErrorBody>(value, text, parent),
        OpenAiStream | AnthropicStream => {
            Err(DecodeError::new("$", "a stream is not a JSON value"))
        }
    }
}

fn typed<T: DeserializeOwned + Serialize + Inspect>(
    value: &Value,
    text: &str,
    parent: &str,
) -> Result<Vec<Finding>, DecodeError> {
    let parsed: T = crate::decode::from_str(text)?;
    let written = serde_json::to_string(&parsed)
        .map_err(|err| DecodeError::new("$", format!("cannot re-serialise: {err}")))?;
    let back: Value = serde_json::from_str(&written)
        .map_err(|err| DecodeError::new("$", format!("cannot re-read: {err}")))?;
    if let Some(path) = first_difference(value, &back, "$") {
        return Err(DecodeError::new(path, "changed by the round trip"));
    }
    if let Some(literal) = changed_number(text, &written) {
        return Err(DecodeError::new(
            "$",
            format!("the number {literal} is changed by the round trip"),
        ));
    }
    let mut findings = Vec::new();
    parsed.inspect(parent, &mut findings);
    Ok(findings)
}

/// The path of the first place where two JSON values differ.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                let sub = format!("{path}.{key}");
                match y.get(key) {
                    Some(vb) => {
                        if let Some(p) = first_difference(va, vb, &sub) {
                            return Some(p);
                        }
                    }
                    None => return Some(sub),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(path.to_owned()),
    }
}

/// Detects what a JSON value is.
pub fn detect(value: &Value) -> Result<Kind, DecodeError> {
    let Value::Object(o) = value else {
        return Err(DecodeError::new(
            "$",
            "expected a JSON object or an array of objects",
        ));
    };
    let ty = o.get("type").and_then(Value::as_str);
    let has = |k: &str| o.contains_key(k);
    let kind = match ty {
        _ if o.get("object").and_then(Value::as_str) == Some("response") => Kind::OpenAiResponse,
        Some("error") if o.get("error").is_some_and(Value::is_object) => Kind::AnthropicError,
        Some("error") => Kind::OpenAiEvent,
        Some(t) if t.starts_with("response.") => Kind::OpenAiEvent,
        Some(t) if ANTHROPIC_EVENTS.contains(&t) => Kind::AnthropicEvent,
        Some("message") if has("stop_reason") || has("model") || has("usage") => {
            Kind::AnthropicMessage
        }
        Some("url") => Kind::AnthropicMcpServer,
        Some("mcp") => Kind::OpenAiTool,
        Some("mcp_toolset") => Kind::AnthropicTool,
        Some(t) if openai::Item::KNOWN_TYPES.contains(&t) => Kind::OpenAiItem,
        Some(t) if openai::McpCallError::KNOWN_TYPES.contains(&t) => Kind::OpenAiMcpCallError,
        Some(t) if anthropic::ContentBlock::KNOWN_TYPES.contains(&t) => Kind::AnthropicBlock,
        None if has("mcp_servers") || (has("messages") && !has("input")) => Kind::AnthropicRequest,
        None if has("input") || has("previous_response_id") || has("tools") => Kind::OpenAiRequest,
        None if o
            .get("error")
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .is_some_and(|t| openai::McpCallError::KNOWN_TYPES.contains(&t)) =>
        {
            Kind::OpenAiMcpCallError
        }
        None if o.get("error").is_some_and(Value::is_object) => Kind::OpenAiError,
        None if has("role") && has("content") => Kind::AnthropicMessageParam,
        Some(t) => {
            return Err(DecodeError::new(
                "$",
                format!("cannot tell which vendor payload has type `{t}`"),
            ));
        }
        None => {
            return Err(DecodeError::new(
                "$",
                "cannot tell what this payload is (no `type`, not a request or error body)",
            ));
        }
    };
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_survive_a_round_trip_are_not_reported() {
        for (input, output) in [
            ("[0,-0,1]", "[1,0,-0]"),
            ("[1.0,1e5,2.50]", "[100000.0,1,2.5]"),
            ("[18446744073709551615]", "[18446744073709551615]"),
            (r#"{"s":"1e999","n":2}"#, r#"{"n":2.0}"#),
        ] {
            assert_eq!(changed_number(input, output), None, "{input}");
        }
    }

    #[test]
    fn a_number_the_round_trip_changes_is_named() {
        assert_eq!(
            changed_number(
                "[1,123456789012345678901234567890]",
                "[1.2345678901234568e+29,1]"
            )
            .as_deref(),
            Some("123456789012345678901234567890")
        );
        assert!(changed_number("[1,2]", "[1]").is_some());
    }

    /// The typed decode keeps what it does not model as exact text, so big numbers survive
    /// `check`'s round trip: it says so instead of failing.
    #[test]
    fn big_integers_survive_the_round_trip_exactly() {
        let response = br#"{"id":"r","object":"response","output":[{"type":"brand_new","big":123456789012345678901234567890,"s":"1234567890123456789012345"}]}"#;
        check(response).unwrap();
        let calls = br#"[{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}","big":-123456789012345678901,"tiny":1e-400}]"#;
        check(calls).unwrap();
    }
}
