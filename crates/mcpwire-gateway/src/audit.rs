//! The audit log (JSON Lines, file mode 0600): one `request` line per relayed request, one
//! `refusal` line per refused one, and, for requests that use MCP, one line per MCP event.
//! Every use of `mcpwire-normalize` is here: a copy of each MCP response runs through the
//! normaliser (off the forwarding path, in its own task) to write the event lines and count
//! MCP activity in the metrics. Every line is scrubbed of the secrets the request carried.
//! The same events feed the request's MCP trace spans ([`crate::telemetry::McpSpans`]), and
//! every line written also goes to the in-memory ring of recent requests that `/ui` reads
//! ([`crate::records::Recent`]).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use mcpwire_normalize::{ByteNormalizer, normalize_whole};
use mcpwire_schema::Json;
use mcpwire_schema::event::{Event, EventBody, Vendor};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use mcpwire_auth::redact::Scrubber;

use crate::metrics::Metrics;
use crate::policy::ServerUse;
use crate::records::Recent;
use crate::summary::Summary;
use crate::telemetry::{McpSpans, RequestTrace};

/// Where audit lines go.
pub(crate) struct AuditLog {
    file: Option<Mutex<std::fs::File>>,
    recent: Option<Arc<Recent>>,
    include_arguments: bool,
    include_outputs: bool,
    replica: String,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A refused request, for [`AuditLog::refusal`].
pub(crate) struct Refusal<'a> {
    pub(crate) tenant: Option<&'a str>,
    pub(crate) user: Option<&'a str>,
    pub(crate) request_id: &'a str,
    pub(crate) route: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) status: u16,
    pub(crate) message: &'a str,
    pub(crate) param: Option<&'a str>,
    /// The MCP server (origin only: paths can hold keys) or connector refused.
    pub(crate) target: Option<&'a str>,
    /// What arrived from upstream, when that was the problem.
    pub(crate) upstream: Option<Value>,
}

/// A relayed request at its end, for [`AuditLog::request`].
pub(crate) struct Finished<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) user: Option<&'a str>,
    pub(crate) request_id: &'a str,
    pub(crate) route: &'a str,
    pub(crate) vendor: Vendor,
    pub(crate) stream: bool,
    pub(crate) servers: &'a [ServerUse],
    pub(crate) requested_model: Option<&'a str>,
    pub(crate) status: u16,
    /// `ok`, `error` (the vendor reported a failure), `incomplete` (the stream ended early),
    /// `client_closed`.
    pub(crate) outcome: &'a str,
    pub(crate) duration_ms: f64,
    pub(crate) first_byte_ms: f64,
    pub(crate) summary: &'a Summary,
}

impl AuditLog {
    /// Opens the file (if configured); `recent` also receives every line written.
    pub(crate) fn open(
        config: &crate::config::AuditConfig,
        replica: &str,
        recent: Option<Arc<Recent>>,
    ) -> std::io::Result<Self> {
        let file = match &config.path {
            Some(path) => {
                let mut options = std::fs::OpenOptions::new();
                options.create(true).append(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt as _;
                    options.mode(0o600);
                }
                Some(Mutex::new(options.open(path)?))
            }
            None => None,
        };
        Ok(AuditLog {
            file,
            recent,
            include_arguments: config.include_arguments,
            include_outputs: config.include_outputs,
            replica: replica.to_owned(),
        })
    }

    /// One line for a refused request.
    pub(crate) fn refusal(&self, r: &Refusal<'_>, scrubber: &Scrubber) {
        if !self.enabled() {
            return;
        }
        let mut line = serde_json::Map::new();
        line.insert("ts_ms".into(), now_ms().into());
        line.insert("event".into(), "refusal".into());
        line.insert("replica".into(), self.replica.clone().into());
        line.insert("tenant".into(), r.tenant.into());
        line.insert("user".into(), r.user.into());
        line.insert("request_id".into(), r.request_id.into());
        line.insert("route".into(), r.route.into());
        line.insert("reason".into(), r.reason.into());
        line.insert("status".into(), r.status.into());
        line.insert("message".into(), r.message.into());
        line.insert("param".into(), r.param.into());
        line.insert("target".into(), r.target.into());
        if let Some(u) = &r.upstream {
            line.insert("upstream".into(), u.clone());
        }
        self.write(&scrubber.scrub_str(&Value::Object(line).to_string()));
    }

    /// One line for a step of the connect flow (`connected`, `callback_refused`).
    pub(crate) fn connection(
        &self,
        tenant: Option<&str>,
        user: Option<&str>,
        server: &str,
        outcome: &str,
        scrubber: &Scrubber,
    ) {
        if self.file.is_none() {
            return;
        }
        let line = json!({
            "ts_ms": now_ms(), "event": "connection", "replica": self.replica, "tenant": tenant,
            "user": user, "server": server, "outcome": outcome,
        });
        self.write(&scrubber.scrub_str(&line.to_string()));
    }

    /// One line for a relayed request, when its response has ended.
    pub(crate) fn request(&self, r: &Finished<'_>, scrubber: &Scrubber) {
        if !self.enabled() {
            return;
        }
        let s = r.summary;
        let mut line = serde_json::Map::new();
        line.insert("ts_ms".into(), now_ms().into());
        line.insert("event".into(), "request".into());
        line.insert("replica".into(), self.replica.clone().into());
        line.insert("tenant".into(), r.tenant.into());
        line.insert("user".into(), r.user.into());
        line.insert("request_id".into(), r.request_id.into());
        line.insert("route".into(), r.route.into());
        line.insert("vendor".into(), r.vendor.as_str().into());
        line.insert(
            "model".into(),
            s.model.as_deref().or(r.requested_model).into(),
        );
        line.insert("stream".into(), r.stream.into());
        line.insert(
            "servers".into(),
            r.servers
                .iter()
                .map(|u| u.name.clone())
                .collect::<Vec<_>>()
                .into(),
        );
        line.insert("status".into(), r.status.into());
        line.insert("outcome".into(), r.outcome.into());
        line.insert("finish".into(), s.finish.clone().into());
        line.insert("error".into(), s.error.clone().into());
        line.insert("duration_ms".into(), round_ms(r.duration_ms).into());
        line.insert("first_byte_ms".into(), round_ms(r.first_byte_ms).into());
        line.insert("input_tokens".into(), s.input_tokens.into());
        line.insert("output_tokens".into(), s.output_tokens.into());
        line.insert("response_id".into(), s.response_id.clone().into());
        self.write(&scrubber.scrub_str(&Value::Object(line).to_string()));
    }

    /// Whether lines go anywhere (a file, the ring).
    fn enabled(&self) -> bool {
        self.file.is_some() || self.recent.is_some()
    }

    fn write(&self, line: &str) {
        if let Some(recent) = &self.recent
            && let Ok(value) = serde_json::from_str::<Value>(line)
        {
            recent.push(value, line.len());
        }
        if let Some(file) = &self.file {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            let mut buf = Vec::with_capacity(line.len() + 1);
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
            if let Err(e) = f.write_all(&buf) {
                tracing::warn!(error = %e, "audit log write failed");
            }
        }
    }
}

/// What the audit task needs to know about a request.
pub(crate) struct AuditContext {
    pub(crate) log: Arc<AuditLog>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) tenant: String,
    pub(crate) user: Option<String>,
    pub(crate) request_id: String,
    pub(crate) vendor: Vendor,
    pub(crate) servers: Vec<ServerUse>,
    pub(crate) scrubber: Scrubber,
    /// The request's trace, when traces are on: MCP spans become its children, with their
    /// own scrubber of the request's secrets.
    pub(crate) trace: Option<(RequestTrace, Scrubber)>,
}

fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

struct OpenCall {
    server: String,
    tool: String,
    since: Instant,
    arguments: Option<Json<'static>>,
    approval_id: Option<String>,
    /// Where the call started among the request's MCP events (its line's `seq`).
    seq: u64,
}

struct Auditor {
    cx: AuditContext,
    calls: HashMap<String, OpenCall>,
    spans: Option<McpSpans>,
    /// The next MCP event's place in the stream: `seq` orders a request's MCP lines as the
    /// stream showed them starting (a call's line is written at its result, after later
    /// starts; millisecond times cannot order steps that close together).
    seq: u64,
}

impl Auditor {
    fn server_name(&self, label: &str) -> String {
        self.cx
            .servers
            .iter()
            .find(|s| s.label == label)
            .map_or_else(|| "unknown".to_owned(), |s| s.name.clone())
    }

    fn emit(&self, mut line: serde_json::Map<String, Value>, server_label: &str, outcome: &str) {
        let server = self.server_name(server_label);
        self.cx.metrics.mcp_event(&self.cx.tenant, &server, outcome);
        line.insert("ts_ms".into(), now_ms().into());
        line.insert("replica".into(), self.cx.log.replica.clone().into());
        line.insert("tenant".into(), self.cx.tenant.clone().into());
        line.insert("user".into(), self.cx.user.clone().into());
        line.insert("request_id".into(), self.cx.request_id.clone().into());
        line.insert("vendor".into(), self.cx.vendor.as_str().into());
        line.insert("server".into(), server.into());
        line.insert("server_label".into(), server_label.into());
        line.insert("outcome".into(), outcome.into());
        let text = Value::Object(line).to_string();
        self.cx.log.write(&self.cx.scrubber.scrub_str(&text));
    }

    /// The open call `call_id`, opened now (with the next `seq`) if it is new.
    fn open(&mut self, call_id: String, server: String, tool: String) -> &mut OpenCall {
        let next = self.seq + 1;
        let mut opened = false;
        let open = self.calls.entry(call_id).or_insert_with(|| {
            opened = true;
            OpenCall {
                server,
                tool,
                since: Instant::now(),
                arguments: None,
                approval_id: None,
                seq: next,
            }
        });
        if opened {
            self.seq = next;
        }
        open
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn event(&mut self, event: Event<'static>) {
        if let Some(spans) = &mut self.spans {
            spans.event(&event);
        }
        match event.body {
            EventBody::CallStarted {
                call_id,
                server,
                tool,
            } => {
                self.open(call_id, server, tool);
            }
            EventBody::Call {
                call_id,
                server,
                tool,
                arguments,
                approval_id,
                ..
            } => {
                let open = self.open(call_id, server, tool);
                open.arguments = arguments;
                open.approval_id = approval_id;
            }
            EventBody::CallResult {
                call_id,
                server,
                tool,
                is_error,
                content,
                error,
            } => {
                let open = self.calls.remove(&call_id);
                let seq = match &open {
                    Some(o) => o.seq,
                    None => self.next_seq(),
                };
                let server = open
                    .as_ref()
                    .map(|o| o.server.clone())
                    .or(server)
                    .unwrap_or_default();
                let mut line = serde_json::Map::new();
                line.insert("event".into(), "call".into());
                line.insert(
                    "tool".into(),
                    open.as_ref().map(|o| o.tool.clone()).or(tool).into(),
                );
                line.insert("call_id".into(), call_id.into());
                line.insert("seq".into(), seq.into());
                line.insert(
                    "error".into(),
                    error.map_or(
                        Value::Null,
                        |e| json!({"kind": e.kind, "code": e.code, "message": e.message}),
                    ),
                );
                line.insert(
                    "latency_ms".into(),
                    open.as_ref()
                        .map(|o| o.since.elapsed().as_secs_f64() * 1000.0)
                        .into(),
                );
                line.insert(
                    "approval_id".into(),
                    open.as_ref().and_then(|o| o.approval_id.clone()).into(),
                );
                if self.cx.log.include_arguments {
                    line.insert(
                        "arguments".into(),
                        open.and_then(|o| o.arguments)
                            .map_or(Value::Null, |a| a.to_value()),
                    );
                }
                if self.cx.log.include_outputs {
                    line.insert(
                        "output".into(),
                        Value::Array(content.iter().map(Json::to_value).collect()),
                    );
                }
                self.emit(line, &server, if is_error { "error" } else { "ok" });
            }
            EventBody::ApprovalRequested {
                approval_id,
                server,
                tool,
                arguments,
                ..
            } => {
                let mut line = serde_json::Map::new();
                line.insert("event".into(), "approval_requested".into());
                line.insert("seq".into(), self.next_seq().into());
                line.insert("tool".into(), tool.into());
                line.insert("call_id".into(), approval_id.into());
                line.insert("error".into(), Value::Null);
                line.insert("latency_ms".into(), Value::Null);
                if self.cx.log.include_arguments {
                    line.insert(
                        "arguments".into(),
                        arguments.map_or(Value::Null, |a| a.to_value()),
                    );
                }
                self.emit(line, &server, "approval_requested");
            }
            EventBody::ToolsListed { server, tools, .. } => {
                let mut line = serde_json::Map::new();
                line.insert("event".into(), "tools_listed".into());
                line.insert("seq".into(), self.next_seq().into());
                line.insert("tool".into(), Value::Null);
                line.insert("tools".into(), tools.len().into());
                line.insert("error".into(), Value::Null);
                self.emit(line, &server, "listed");
            }
            EventBody::ToolsListFailed { server, error, .. } => {
                let mut line = serde_json::Map::new();
                line.insert("event".into(), "tools_listed".into());
                line.insert("seq".into(), self.next_seq().into());
                line.insert("tool".into(), Value::Null);
                line.insert("error".into(), json!({"message": error.message}));
                self.emit(line, &server, "list_failed");
            }
            _ => {}
        }
    }

    fn finish(mut self) {
        let open: Vec<(String, OpenCall)> = self.calls.drain().collect();
        for (call_id, call) in open {
            let mut line = serde_json::Map::new();
            line.insert("event".into(), "call".into());
            line.insert("tool".into(), call.tool.into());
            line.insert("call_id".into(), call_id.into());
            line.insert("seq".into(), call.seq.into());
            line.insert("error".into(), Value::Null);
            line.insert("latency_ms".into(), Value::Null);
            self.emit(line, &call.server, "incomplete");
        }
    }
}

/// Starts the audit task for one response; send it every chunk, drop the sender at the end.
pub(crate) fn spawn(mut cx: AuditContext, streaming: bool) -> mpsc::UnboundedSender<Bytes> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(async move {
        let vendor = cx.vendor;
        let labels: Vec<(String, String)> = cx
            .servers
            .iter()
            .map(|s| (s.label.clone(), s.name.clone()))
            .collect();
        let spans = cx
            .trace
            .take()
            .map(|(t, scrubber)| t.mcp(labels, Some(scrubber)));
        let mut auditor = Auditor {
            cx,
            calls: HashMap::new(),
            spans,
            seq: 0,
        };
        let mut events = Vec::new();
        if streaming {
            let mut normalizer = ByteNormalizer::new(Some(vendor));
            let mut failed = false;
            while let Some(chunk) = rx.recv().await {
                if failed {
                    continue;
                }
                if let Err(e) = normalizer.feed(&chunk, &mut events) {
                    tracing::debug!(error = %e, "audit: stream not understood");
                    failed = true;
                }
                for e in events.drain(..) {
                    auditor.event(e);
                }
            }
            if !failed && normalizer.finish(&mut events).is_err() {
                tracing::debug!("audit: stream ended early");
            }
        } else {
            let mut whole = Vec::new();
            while let Some(chunk) = rx.recv().await {
                whole.extend_from_slice(&chunk);
            }
            if let Ok(evs) = normalize_whole(&whole, Some(vendor)) {
                events = evs;
            }
        }
        for e in events.drain(..) {
            auditor.event(e);
        }
        auditor.finish();
    });
    tx
}
