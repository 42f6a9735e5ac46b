//! Every use of `mcpwire-normalize`: a copy of each upstream response runs through the
//! normaliser (off the forwarding path, in its own task) to write one audit line per MCP event
//! and count MCP activity in the metrics.

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

use crate::metrics::Metrics;
use crate::policy::ServerUse;
use crate::redact::Scrubber;

/// Where audit lines go.
pub(crate) struct AuditLog {
    file: Option<Mutex<std::fs::File>>,
    include_arguments: bool,
    include_outputs: bool,
}

impl AuditLog {
    pub(crate) fn open(config: &crate::config::AuditConfig) -> std::io::Result<Self> {
        let file = match &config.path {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )),
            None => None,
        };
        Ok(AuditLog {
            file,
            include_arguments: config.include_arguments,
            include_outputs: config.include_outputs,
        })
    }

    fn write(&self, line: &str) {
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
    pub(crate) request_id: String,
    pub(crate) vendor: Vendor,
    pub(crate) servers: Vec<ServerUse>,
    pub(crate) scrubber: Scrubber,
}

struct OpenCall {
    server: String,
    tool: String,
    since: Instant,
    arguments: Option<Json<'static>>,
}

struct Auditor {
    cx: AuditContext,
    calls: HashMap<String, OpenCall>,
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
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        line.insert("ts_ms".into(), ts.into());
        line.insert("tenant".into(), self.cx.tenant.clone().into());
        line.insert("request_id".into(), self.cx.request_id.clone().into());
        line.insert("vendor".into(), self.cx.vendor.as_str().into());
        line.insert("server".into(), server.into());
        line.insert("server_label".into(), server_label.into());
        line.insert("outcome".into(), outcome.into());
        let text = Value::Object(line).to_string();
        self.cx.log.write(&self.cx.scrubber.scrub_str(&text));
    }

    fn event(&mut self, event: Event<'static>) {
        match event.body {
            EventBody::CallStarted {
                call_id,
                server,
                tool,
            } => {
                self.calls.entry(call_id).or_insert(OpenCall {
                    server,
                    tool,
                    since: Instant::now(),
                    arguments: None,
                });
            }
            EventBody::Call {
                call_id,
                server,
                tool,
                arguments,
                ..
            } => {
                let open = self.calls.entry(call_id).or_insert(OpenCall {
                    server,
                    tool,
                    since: Instant::now(),
                    arguments: None,
                });
                open.arguments = arguments;
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
                line.insert("tool".into(), Value::Null);
                line.insert("tools".into(), tools.len().into());
                line.insert("error".into(), Value::Null);
                self.emit(line, &server, "listed");
            }
            EventBody::ToolsListFailed { server, error, .. } => {
                let mut line = serde_json::Map::new();
                line.insert("event".into(), "tools_listed".into());
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
            line.insert("error".into(), Value::Null);
            line.insert("latency_ms".into(), Value::Null);
            self.emit(line, &call.server, "incomplete");
        }
    }
}

/// Starts the audit task for one response; send it every chunk, drop the sender at the end.
pub(crate) fn spawn(cx: AuditContext, streaming: bool) -> mpsc::UnboundedSender<Bytes> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(async move {
        let vendor = cx.vendor;
        let mut auditor = Auditor {
            cx,
            calls: HashMap::new(),
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
