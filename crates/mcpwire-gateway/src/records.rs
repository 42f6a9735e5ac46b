//! One request's story from the audit log: its `request` or `refusal` line and its MCP event
//! lines (`tools_listed`, `call`, `approval_requested`), grouped by `request_id` into a
//! [`RequestRecord`] with its [`Step`]s in time order. The `/ui` pages and `mcpwire log` both
//! read the audit lines through here, so they tell the same story.
//!
//! Times: every line has `ts_ms` (milliseconds since the Unix epoch, when the line was
//! written). A request line is written when the response ends, so the request started
//! `duration_ms` before it; a call line is written when its result was seen, so the call
//! started `latency_ms` before it (as seen in the stream).
//!
//! Also here: `Recent` (crate-private), the bounded in-memory ring of recent requests that the
//! audit log feeds, and [`read_tail`], which reads the end of an audit file for older ones.

use std::collections::{HashMap, VecDeque};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

/// One MCP event of a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Step {
    /// `tools_listed`, `call` or `approval_requested`.
    pub event: String,
    /// When the line was written (ms since the epoch).
    pub ts_ms: u64,
    /// When it started, as seen in the stream (`ts_ms - latency_ms` for calls).
    pub start_ms: f64,
    /// Its place among the request's MCP events in the order the stream showed them starting
    /// (`seq`; absent in lines written before it existed).
    pub seq: Option<u64>,
    /// The server's configuration name.
    pub server: Option<String>,
    /// The server label the vendor used.
    pub server_label: Option<String>,
    /// The tool (calls, approvals).
    pub tool: Option<String>,
    /// The call id (approvals: the approval id).
    pub call_id: Option<String>,
    /// `ok`, `error`, `incomplete`, `listed`, `list_failed`, `approval_requested`.
    pub outcome: String,
    /// The error's message (and kind) when it failed.
    pub error: Option<String>,
    /// How long the call took as seen in the stream.
    pub latency_ms: Option<f64>,
    /// How many tools a listing returned.
    pub tools: Option<u64>,
    /// The arguments, when the audit log records them.
    pub arguments: Option<Value>,
    /// The output, when the audit log records it.
    pub output: Option<Value>,
    /// The approval that allowed this call, when it needed one.
    pub approval_id: Option<String>,
}

impl Step {
    /// Whether this step went wrong.
    pub fn failed(&self) -> bool {
        matches!(
            self.outcome.as_str(),
            "error" | "list_failed" | "incomplete"
        )
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Refused {
    /// The reason code (`mcp_server_not_allowed`, ...).
    pub reason: String,
    /// The message the caller got.
    pub message: String,
    /// The request field it names.
    pub param: Option<String>,
    /// The MCP server origin or connector refused.
    pub target: Option<String>,
}

/// One request: what the audit log says about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The gateway's request id.
    pub request_id: String,
    /// When it started (ms since the epoch): the request line's `ts_ms - duration_ms`, else
    /// the earliest line.
    pub start_ms: f64,
    /// The tenant (`None` when refused before authentication).
    pub tenant: Option<String>,
    /// The end user, when known.
    pub user: Option<String>,
    /// The replica that served it.
    pub replica: Option<String>,
    /// The route (`responses`, `messages`, ...).
    pub route: Option<String>,
    /// `openai` or `anthropic`.
    pub vendor: Option<String>,
    /// The model (the vendor's answer, else the requested one).
    pub model: Option<String>,
    /// MCP servers of the request (configuration names).
    pub servers: Vec<String>,
    /// The HTTP status the caller got.
    pub status: Option<u16>,
    /// `ok`, `error`, `incomplete`, `client_closed`, `upstream_failed`, `timeout`, `refused`,
    /// or `unfinished` (no request line yet).
    pub outcome: String,
    /// Whole request, in ms.
    pub duration_ms: Option<f64>,
    /// Until the first response byte, in ms.
    pub first_byte_ms: Option<f64>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// The vendor's response id.
    pub response_id: Option<String>,
    /// The vendor's finish reason.
    pub finish: Option<String>,
    /// The vendor's error message.
    pub error: Option<String>,
    /// Why it was refused, when it was.
    pub refused: Option<Refused>,
    /// Its MCP events, in the order they started.
    pub steps: Vec<Step>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn uint(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

fn error_text(v: &Value) -> Option<String> {
    match v.get("error")? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let message = o.get("message").and_then(Value::as_str);
            let kind = o.get("kind").and_then(Value::as_str);
            let code = o.get("code").filter(|c| !c.is_null()).map(Value::to_string);
            let mut out = String::new();
            if let Some(kind) = kind {
                out.push_str(kind);
            }
            if let Some(code) = code {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&code);
            }
            if let Some(m) = message {
                if !out.is_empty() {
                    out.push_str(": ");
                }
                out.push_str(m);
            }
            Some(if out.is_empty() {
                "error".to_owned()
            } else {
                out
            })
        }
        other => Some(other.to_string()),
    }
}

impl RequestRecord {
    fn new(id: &str, ts: f64) -> RequestRecord {
        RequestRecord {
            request_id: id.to_owned(),
            start_ms: ts,
            tenant: None,
            user: None,
            replica: None,
            route: None,
            vendor: None,
            model: None,
            servers: Vec::new(),
            status: None,
            outcome: "unfinished".to_owned(),
            duration_ms: None,
            first_byte_ms: None,
            input_tokens: None,
            output_tokens: None,
            response_id: None,
            finish: None,
            error: None,
            refused: None,
            steps: Vec::new(),
        }
    }

    fn take(&mut self, line: &Value) {
        let ts = uint(line, "ts_ms").unwrap_or(0);
        let event = line.get("event").and_then(Value::as_str).unwrap_or("");
        let fill = |slot: &mut Option<String>, key: &str| {
            if slot.is_none() {
                *slot = text(line, key);
            }
        };
        fill(&mut self.tenant, "tenant");
        fill(&mut self.user, "user");
        fill(&mut self.replica, "replica");
        fill(&mut self.vendor, "vendor");
        match event {
            "request" => {
                self.route = text(line, "route");
                self.model = text(line, "model");
                self.servers = line
                    .get("servers")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                self.status = uint(line, "status").and_then(|s| u16::try_from(s).ok());
                self.outcome = text(line, "outcome").unwrap_or_else(|| "unknown".to_owned());
                self.duration_ms = num(line, "duration_ms");
                self.first_byte_ms = num(line, "first_byte_ms");
                self.input_tokens = uint(line, "input_tokens");
                self.output_tokens = uint(line, "output_tokens");
                self.response_id = text(line, "response_id");
                self.finish = text(line, "finish");
                self.error = error_text(line);
                self.start_ms = ts as f64 - self.duration_ms.unwrap_or(0.0);
            }
            "refusal" => {
                self.route = text(line, "route");
                self.status = uint(line, "status").and_then(|s| u16::try_from(s).ok());
                self.outcome = "refused".to_owned();
                self.start_ms = self.start_ms.min(ts as f64);
                self.refused = Some(Refused {
                    reason: text(line, "reason").unwrap_or_default(),
                    message: text(line, "message").unwrap_or_default(),
                    param: text(line, "param"),
                    target: text(line, "target"),
                });
            }
            "tools_listed" | "call" | "approval_requested" => {
                let latency = num(line, "latency_ms");
                let step = Step {
                    event: event.to_owned(),
                    ts_ms: ts,
                    start_ms: ts as f64 - latency.unwrap_or(0.0),
                    seq: uint(line, "seq"),
                    server: text(line, "server"),
                    server_label: text(line, "server_label"),
                    tool: text(line, "tool"),
                    call_id: text(line, "call_id"),
                    outcome: text(line, "outcome").unwrap_or_default(),
                    error: error_text(line),
                    latency_ms: latency,
                    tools: uint(line, "tools"),
                    arguments: line.get("arguments").filter(|a| !a.is_null()).cloned(),
                    output: line.get("output").filter(|a| !a.is_null()).cloned(),
                    approval_id: text(line, "approval_id"),
                };
                if self.duration_ms.is_none() && self.refused.is_none() {
                    self.start_ms = self.start_ms.min(step.start_ms);
                }
                self.steps.push(step);
            }
            _ => {}
        }
    }

    /// When it ended (ms since the epoch), when known.
    pub fn end_ms(&self) -> Option<f64> {
        self.duration_ms.map(|d| self.start_ms + d)
    }

    /// Whether the request or one of its steps went wrong.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome.as_str(), "ok" | "unfinished") || self.steps.iter().any(Step::failed)
    }
}

/// A duration in milliseconds for people: `3.3 ms`, `42 ms`, `1.25 s`.
pub fn format_duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// `ms` since the Unix epoch as UTC `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn format_utc(ms: f64) -> String {
    let ms = if ms.is_finite() && ms > 0.0 {
        ms as i64
    } else {
        0
    };
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{milli:03}")
}

/// Groups audit lines into requests, in the order each request first appears; the steps of
/// each in the order the stream showed them starting (`seq`; for lines without it, by start
/// time, ties in the order written). Lines without a `request_id` are skipped.
pub fn group<'a>(lines: impl IntoIterator<Item = &'a Value>) -> Vec<RequestRecord> {
    let mut out: Vec<RequestRecord> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for line in lines {
        let Some(id) = line.get("request_id").and_then(Value::as_str) else {
            continue;
        };
        let ts = uint(line, "ts_ms").unwrap_or(0) as f64;
        let i = *index.entry(id.to_owned()).or_insert_with(|| {
            out.push(RequestRecord::new(id, ts));
            out.len() - 1
        });
        out[i].take(line);
    }
    for r in &mut out {
        if r.steps.iter().all(|s| s.seq.is_some()) {
            r.steps.sort_by_key(|s| s.seq);
        } else {
            r.steps.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
        }
    }
    out
}

/// Parses audit lines (JSON Lines); lines that are not JSON objects are skipped.
pub fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

/// The last `max_bytes` of an audit file as lines (a partial first line is skipped).
pub fn read_tail(path: &Path, max_bytes: u64) -> std::io::Result<Vec<Value>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max_bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(max_bytes).read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if start > 0 {
        let cut = text.find('\n').map_or(text.len(), |i| i + 1);
        text.drain(..cut);
    }
    Ok(parse_lines(&text))
}

/// The recent requests' audit lines, in memory, bounded by request count and bytes (the
/// oldest request goes first). Fed by the audit log with the lines it writes (scrubbed).
pub(crate) struct Recent {
    inner: Mutex<RecentInner>,
    max_requests: usize,
    max_bytes: usize,
    max_lines: usize,
}

#[derive(Default)]
struct RecentInner {
    requests: VecDeque<(String, Vec<Value>, usize)>,
    bytes: usize,
}

impl Recent {
    /// A ring of at most `max_requests` requests and about `max_bytes` of lines (each request at
    /// most 512 lines).
    pub(crate) fn new(max_requests: usize, max_bytes: usize) -> Recent {
        Recent {
            inner: Mutex::default(),
            max_requests,
            max_bytes,
            max_lines: 512,
        }
    }

    /// Adds one line (its JSON text is `len` bytes).
    pub(crate) fn push(&self, line: Value, len: usize) {
        let Some(id) = line.get("request_id").and_then(Value::as_str) else {
            return;
        };
        let id = id.to_owned();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *inner;
        // Lines of one request arrive close together: look from the newest.
        let found = inner.requests.iter_mut().rev().take(64).find(|r| r.0 == id);
        match found {
            Some(r) => {
                if r.1.len() >= self.max_lines {
                    return;
                }
                r.1.push(line);
                r.2 += len;
            }
            None => inner.requests.push_back((id, vec![line], len)),
        }
        inner.bytes += len;
        while inner.requests.len() > self.max_requests || inner.bytes > self.max_bytes {
            match inner.requests.pop_front() {
                Some((_, _, n)) => inner.bytes -= n,
                None => break,
            }
        }
    }

    /// Every line held, oldest request first.
    pub(crate) fn lines(&self) -> Vec<Value> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .requests
            .iter()
            .flat_map(|r| r.1.iter().cloned())
            .collect()
    }

    /// The lines of one request, if held.
    pub(crate) fn request(&self, id: &str) -> Option<Vec<Value>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .requests
            .iter()
            .find(|r| r.0 == id)
            .map(|r| r.1.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_group_into_requests_with_steps_in_start_order() {
        let lines = vec![
            json!({"event":"call","request_id":"r1","ts_ms":1_000_300,"tenant":"a","user":null,"vendor":"openai","server":"demo","server_label":"demo","tool":"fail","call_id":"c2","outcome":"error","error":{"kind":"tool_execution","code":null,"message":"boom"},"latency_ms":50.0}),
            json!({"event":"call","request_id":"r1","ts_ms":1_000_200,"tenant":"a","vendor":"openai","server":"demo","tool":"echo","call_id":"c1","outcome":"ok","error":null,"latency_ms":100.0}),
            json!({"event":"request","request_id":"r1","ts_ms":1_000_400,"tenant":"a","vendor":"openai","model":"gpt","servers":["demo"],"status":200,"outcome":"ok","duration_ms":400.0,"input_tokens":10,"output_tokens":5}),
            json!({"event":"refusal","request_id":"r2","ts_ms":1_000_500,"tenant":null,"route":"responses","reason":"unauthenticated","status":401,"message":"no key"}),
            json!({"no_request_id": true}),
        ];
        let records = group(&lines);
        assert_eq!(records.len(), 2);
        let r1 = &records[0];
        assert_eq!(r1.start_ms, 1_000_000.0);
        assert_eq!(r1.outcome, "ok");
        assert_eq!(r1.input_tokens, Some(10));
        let tools: Vec<_> = r1
            .steps
            .iter()
            .map(|s| s.tool.as_deref().unwrap())
            .collect();
        assert_eq!(tools, ["echo", "fail"]);
        assert_eq!(r1.steps[1].error.as_deref(), Some("tool_execution: boom"));
        assert!(r1.failed());
        let r2 = &records[1];
        assert_eq!(r2.outcome, "refused");
        assert_eq!(r2.refused.as_ref().unwrap().reason, "unauthenticated");
        assert_eq!(r2.tenant, None);
    }

    #[test]
    fn seq_orders_steps_that_millisecond_times_cannot() {
        // `b` started after `a` in the stream, but whole-millisecond write times minus a
        // fractional latency put its computed start first.
        let lines = vec![
            json!({"event":"tools_listed","request_id":"r","ts_ms":1000,"seq":1,"outcome":"listed"}),
            json!({"event":"call","request_id":"r","ts_ms":1001,"seq":2,"tool":"a","latency_ms":0.2,"outcome":"ok"}),
            json!({"event":"call","request_id":"r","ts_ms":1001,"seq":3,"tool":"b","latency_ms":0.9,"outcome":"ok"}),
        ];
        let r = &group(&lines)[0];
        let order: Vec<u64> = r.steps.iter().map(|s| s.seq.unwrap()).collect();
        assert_eq!(order, [1, 2, 3]);
    }

    #[test]
    fn utc_times_are_civil_dates() {
        assert_eq!(format_utc(0.0), "1970-01-01 00:00:00.000");
        assert_eq!(format_utc(951_782_400_123.0), "2000-02-29 00:00:00.123");
        assert_eq!(format_utc(1_784_000_000_000.0), "2026-07-14 03:33:20.000");
    }

    #[test]
    fn the_ring_drops_the_oldest_request_past_its_bounds() {
        let ring = Recent::new(2, 1_000_000);
        for id in ["a", "b", "c"] {
            ring.push(json!({"request_id": id, "event": "request"}), 10);
        }
        ring.push(json!({"request_id": "c", "event": "call"}), 10);
        let ids: Vec<String> = ring
            .lines()
            .iter()
            .map(|l| l["request_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["b", "c", "c"]);
        assert!(ring.request("a").is_none());
        let small = Recent::new(100, 25);
        for id in ["a", "b", "c"] {
            small.push(json!({"request_id": id}), 10);
        }
        assert_eq!(
            small.lines().len(),
            2,
            "about 25 bytes hold two lines of 10"
        );
    }

    #[test]
    fn the_tail_of_a_file_skips_its_partial_first_line() {
        let dir = std::env::temp_dir().join(format!("mcpwire-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        std::fs::write(
            &path,
            "{\"request_id\":\"old\",\"pad\":\"xxxxxxxxxxxxxxxx\"}\n{\"request_id\":\"new\"}\n",
        )
        .unwrap();
        let all = read_tail(&path, 1 << 20).unwrap();
        assert_eq!(all.len(), 2);
        let tail = read_tail(&path, 30).unwrap();
        assert_eq!(tail.len(), 1);
        assert_eq!(tail[0]["request_id"], "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
