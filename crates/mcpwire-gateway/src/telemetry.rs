//! OpenTelemetry traces, through `tracing`: one span per vendor request, following the GenAI
//! semantic conventions, and one child span per MCP listing and call seen in the response
//! (the MCP semantic conventions' `tools/list` and `tools/call {tool}`), approvals as span
//! events. Spans are `tracing` spans on a dispatch of the [`Telemetry`] itself (a
//! `tracing-opentelemetry` layer over its own registry), so they never mix with the
//! process's log subscriber and two gateways in one process keep their own collectors.
//!
//! Export is OTLP over HTTP (protobuf) through `opentelemetry-otlp` with the gateway's reqwest
//! client, batched and bounded here: an ended span goes into a queue of [`QUEUE`] spans without
//! waiting (a full queue drops it), a task sends batches of up to [`BATCH`] every [`DELAY`] with
//! a time-out of [`EXPORT_TIMEOUT`] and no retries; a batch that fails is dropped. Dropped spans
//! are counted ([`Telemetry::spans_dropped`], `mcpwire_gateway_trace_spans_dropped_total`), so a
//! dead collector costs requests no latency and the gateway no memory beyond the queue.
//!
//! No attribute holds a secret: names come from the configuration, ids and tool names from the
//! vendor's events; error messages, arguments and outputs go through the request's scrubber, and
//! arguments and outputs only when the audit configuration opts in ([`Capture`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcpwire_auth::redact::Scrubber;
use mcpwire_schema::event::{Event, EventBody, Vendor};
use opentelemetry::KeyValue;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{Status, TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, Span as SdkSpan, SpanData, SpanExporter as _, SpanProcessor,
};
use tokio::sync::{mpsc, oneshot};
use tracing::Dispatch;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::config::TelemetryConfig;

/// Ended spans waiting for export at most; more are dropped (and counted).
pub const QUEUE: usize = 2048;
/// Spans per export request at most.
pub const BATCH: usize = 512;
/// Longest a span waits in the queue before its batch is sent.
pub const DELAY: Duration = Duration::from_secs(1);
/// One export request's time-out; a batch that fails or times out is dropped.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Stats {
    exported: AtomicU64,
    dropped: AtomicU64,
}

enum Msg {
    Span(Box<SpanData>),
    Flush(oneshot::Sender<()>),
}

/// The span processor: ended spans into a bounded queue, never waiting.
#[derive(Debug)]
struct Queue {
    tx: mpsc::Sender<Msg>,
    stats: Arc<Stats>,
}

impl SpanProcessor for Queue {
    fn on_start(&self, _span: &mut SdkSpan, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.tx.try_send(Msg::Span(Box::new(span))).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Asynchronous: see `Telemetry::flush`.
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Traces of one gateway (or one `mcpwire run`): a tracer provider exporting to one collector.
pub struct Telemetry {
    dispatch: Dispatch,
    _provider: SdkTracerProvider,
    queue: mpsc::Sender<Msg>,
    stats: Arc<Stats>,
    capture: Capture,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("exported", &self.spans_exported())
            .field("dropped", &self.spans_dropped())
            .finish_non_exhaustive()
    }
}

/// What MCP spans may carry beyond names, ids and outcomes (the audit log's opt-ins).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capture {
    /// Tool arguments (`gen_ai.tool.call.arguments`).
    pub arguments: bool,
    /// Tool outputs (`gen_ai.tool.call.result`).
    pub outputs: bool,
}

impl Capture {
    /// Arguments and/or outputs.
    pub fn new(arguments: bool, outputs: bool) -> Capture {
        Capture { arguments, outputs }
    }
}

/// The OTLP/HTTP traces URL for a collector base URL: `http://host:4318` becomes
/// `http://host:4318/v1/traces`; a URL already ending in `/v1/traces` is kept.
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

impl Telemetry {
    /// Starts exporting to `config.otlp_endpoint` with `http` (must run inside a tokio
    /// runtime: the export task is spawned on it). `capture` says whether MCP spans carry
    /// arguments and outputs.
    pub fn start(
        config: &TelemetryConfig,
        http: reqwest::Client,
        capture: Capture,
    ) -> Result<Telemetry, String> {
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces_url(&config.otlp_endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled())
            .with_http_client(http)
            .build()
            .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
        let resource = opentelemetry_sdk::Resource::builder_empty()
            .with_service_name(config.service_name.clone())
            .build();
        exporter.set_resource(&resource);
        let stats = Arc::new(Stats::default());
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(export_loop(exporter, rx, stats.clone()));
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sample_ratio,
            ))))
            .with_resource(resource)
            .with_span_processor(Queue {
                tx: tx.clone(),
                stats: stats.clone(),
            })
            .build();
        let tracer = provider.tracer("mcpwire");
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false);
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        Ok(Telemetry {
            dispatch,
            _provider: provider,
            queue: tx,
            stats,
            capture,
        })
    }

    /// [`Telemetry::start`] with an HTTP client of its own (rustls with ring; for callers that
    /// have none, such as `mcpwire run --otlp`).
    pub fn connect(config: &TelemetryConfig, capture: Capture) -> Result<Telemetry, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("telemetry: http client: {e}"))?;
        Telemetry::start(config, http, capture)
    }

    /// Spans sent to the collector.
    pub fn spans_exported(&self) -> u64 {
        self.stats.exported.load(Ordering::Relaxed)
    }

    /// Spans dropped: the queue was full, or their export failed or timed out.
    pub fn spans_dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Sends what is queued now and waits for that export to end (at most
    /// [`EXPORT_TIMEOUT`] plus what is ahead of it).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Opens the span of one vendor request. `headers` are the caller's: a W3C `traceparent`
    /// there makes the span a child of the caller's span (same trace).
    pub fn request(
        &self,
        vendor: Vendor,
        request_id: &str,
        headers: Option<&axum::http::HeaderMap>,
    ) -> RequestTrace {
        let provider = vendor.as_str();
        let span = tracing::dispatcher::with_default(&self.dispatch, || {
            tracing::info_span!(
                "gen_ai.request",
                otel.name = tracing::field::Empty,
                otel.kind = "client",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = provider,
                mcpwire.request_id = request_id,
            )
        });
        span.record("otel.name", "chat");
        if let Some(headers) = headers {
            let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new()
                .extract(&opentelemetry_http::HeaderExtractor(headers));
            if cx.span().span_context().is_valid() {
                let _ = span.set_parent(cx);
            }
        }
        RequestTrace {
            span,
            dispatch: self.dispatch.clone(),
            capture: self.capture,
        }
    }
}

async fn export_loop(
    exporter: opentelemetry_otlp::SpanExporter,
    mut rx: mpsc::Receiver<Msg>,
    stats: Arc<Stats>,
) {
    let mut batch: Vec<SpanData> = Vec::new();
    let mut deadline = tokio::time::Instant::now();
    loop {
        let msg = if batch.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(msg) => msg,
                Err(_) => {
                    export(&exporter, &mut batch, &stats).await;
                    continue;
                }
            }
        };
        match msg {
            None => {
                export(&exporter, &mut batch, &stats).await;
                return;
            }
            Some(Msg::Span(span)) => {
                if batch.is_empty() {
                    deadline = tokio::time::Instant::now() + DELAY;
                }
                batch.push(*span);
                if batch.len() >= BATCH {
                    export(&exporter, &mut batch, &stats).await;
                }
            }
            Some(Msg::Flush(done)) => {
                export(&exporter, &mut batch, &stats).await;
                let _ = done.send(());
            }
        }
    }
}

async fn export(
    exporter: &opentelemetry_otlp::SpanExporter,
    batch: &mut Vec<SpanData>,
    stats: &Stats,
) {
    if batch.is_empty() {
        return;
    }
    let spans = std::mem::take(batch);
    let n = spans.len() as u64;
    match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export(spans)).await {
        Ok(Ok(())) => {
            stats.exported.fetch_add(n, Ordering::Relaxed);
        }
        Ok(Err(e)) => {
            stats.dropped.fetch_add(n, Ordering::Relaxed);
            tracing::debug!(spans = n, error = %e, "trace export failed; spans dropped");
        }
        Err(_) => {
            stats.dropped.fetch_add(n, Ordering::Relaxed);
            tracing::debug!(spans = n, "trace export timed out; spans dropped");
        }
    }
}

/// How a traced request ended, for [`RequestTrace::finish`].
#[derive(Debug, Clone, Default)]
pub struct Finish<'a> {
    /// The HTTP status relayed to the caller.
    pub status: Option<u16>,
    /// `ok`, `error`, `incomplete`, `client_closed`, `upstream_failed`, `timeout`.
    pub outcome: &'a str,
    /// The vendor's response / message id.
    pub response_id: Option<&'a str>,
    /// The model that answered.
    pub response_model: Option<&'a str>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// The vendor's finish reason (OpenAI `status`, Anthropic `stop_reason`).
    pub finish_reason: Option<&'a str>,
}

/// The span of one vendor request. Cloning shares the span; it ends when the last clone (and
/// the last of its MCP spans) is dropped.
#[derive(Clone)]
pub struct RequestTrace {
    span: tracing::Span,
    dispatch: Dispatch,
    capture: Capture,
}

impl std::fmt::Debug for RequestTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTrace")
            .field("trace_id", &self.trace_id())
            .finish_non_exhaustive()
    }
}

impl RequestTrace {
    /// The trace id (32 hex digits), e.g. to find the trace from a log line.
    pub fn trace_id(&self) -> String {
        self.span
            .context()
            .span()
            .span_context()
            .trace_id()
            .to_string()
    }

    /// The tenant (`mcpwire.tenant`).
    pub fn set_tenant(&self, tenant: &str) {
        self.span.set_attribute("mcpwire.tenant", tenant.to_owned());
    }

    /// The end user, when known (`user.id`).
    pub fn set_user(&self, user: Option<&str>) {
        if let Some(user) = user {
            self.span.set_attribute("user.id", user.to_owned());
        }
    }

    /// The replica that served it (`mcpwire.replica`).
    pub fn set_replica(&self, replica: &str) {
        self.span
            .set_attribute("mcpwire.replica", replica.to_owned());
    }

    /// The requested model: `gen_ai.request.model`, and the span name `chat {model}`.
    pub fn set_model(&self, model: &str) {
        self.span
            .set_attribute("gen_ai.request.model", model.to_owned());
        self.span
            .record("otel.name", format!("chat {model}").as_str());
    }

    /// Whether the caller asked for a stream (`gen_ai.request.stream`), and the MCP servers
    /// the request names (`mcpwire.mcp.servers`, configuration names).
    pub fn set_request(&self, stream: bool, servers: &[String]) {
        self.span.set_attribute("gen_ai.request.stream", stream);
        if !servers.is_empty() {
            let list: Vec<opentelemetry::StringValue> =
                servers.iter().map(|s| s.clone().into()).collect();
            self.span.set_attribute(
                "mcpwire.mcp.servers",
                opentelemetry::Value::Array(list.into()),
            );
        }
    }

    /// The gateway refused the request (nothing went upstream, or what came back was unusable):
    /// `error.type` is the refusal's reason.
    pub fn refused(&self, reason: &str, status: u16) {
        self.span.set_attribute("error.type", reason.to_owned());
        self.span
            .set_attribute("http.response.status_code", i64::from(status));
        self.span.set_attribute("mcpwire.outcome", "refused");
        self.span.set_status(Status::error(reason.to_owned()));
    }

    /// Records how the response ended.
    pub fn finish(&self, f: &Finish<'_>) {
        let s = &self.span;
        if let Some(status) = f.status {
            s.set_attribute("http.response.status_code", i64::from(status));
        }
        s.set_attribute("mcpwire.outcome", f.outcome.to_owned());
        if let Some(id) = f.response_id {
            s.set_attribute("gen_ai.response.id", id.to_owned());
        }
        if let Some(model) = f.response_model {
            s.set_attribute("gen_ai.response.model", model.to_owned());
        }
        if let Some(n) = f.input_tokens {
            s.set_attribute("gen_ai.usage.input_tokens", n as i64);
        }
        if let Some(n) = f.output_tokens {
            s.set_attribute("gen_ai.usage.output_tokens", n as i64);
        }
        if let Some(reason) = f.finish_reason {
            let list: Vec<opentelemetry::StringValue> = vec![reason.to_owned().into()];
            s.set_attribute(
                "gen_ai.response.finish_reasons",
                opentelemetry::Value::Array(list.into()),
            );
        }
        if f.outcome != "ok" {
            s.set_attribute("error.type", f.outcome.to_owned());
            s.set_status(Status::error(f.outcome.to_owned()));
        }
    }

    /// The MCP spans of this request, fed from its events. `servers` maps the vendor's server
    /// labels to configuration names; `scrubber` removes the request's secrets from what the
    /// spans carry.
    pub fn mcp(&self, servers: Vec<(String, String)>, scrubber: Option<Scrubber>) -> McpSpans {
        McpSpans {
            parent: self.clone(),
            servers,
            scrubber,
            calls: HashMap::new(),
        }
    }
}

/// Child spans of a request for its MCP listings and calls, from its event stream: a call's
/// span opens when the stream shows it starting (`call_started`, else `call`) and ends with its
/// result, so its duration is the time between them as seen in the stream. Calls still open
/// when this is dropped end with `mcpwire.mcp.outcome = incomplete`.
pub struct McpSpans {
    parent: RequestTrace,
    servers: Vec<(String, String)>,
    scrubber: Option<Scrubber>,
    calls: HashMap<String, tracing::Span>,
}

impl std::fmt::Debug for McpSpans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpSpans")
            .field("open_calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl McpSpans {
    fn scrub(&self, text: &str) -> String {
        match &self.scrubber {
            Some(s) => s.scrub_str(text),
            None => text.to_owned(),
        }
    }

    fn child(&self, name: &str, method: &'static str, label: &str) -> tracing::Span {
        let parent = &self.parent.span;
        let span = tracing::dispatcher::with_default(&self.parent.dispatch, || {
            tracing::info_span!(
                parent: parent,
                "mcp",
                otel.name = name,
                otel.kind = "client",
                mcp.method.name = method,
            )
        });
        span.set_attribute("mcpwire.mcp.server_label", label.to_owned());
        let name = self
            .servers
            .iter()
            .find(|(l, _)| l == label)
            .map_or(label, |(_, n)| n.as_str());
        span.set_attribute("mcpwire.mcp.server", name.to_owned());
        span
    }

    fn call_span(&self, call_id: &str, label: &str, tool: &str) -> tracing::Span {
        let span = self.child(&format!("tools/call {tool}"), "tools/call", label);
        span.set_attribute("gen_ai.operation.name", "execute_tool");
        span.set_attribute("gen_ai.tool.name", tool.to_owned());
        span.set_attribute("gen_ai.tool.call.id", call_id.to_owned());
        span
    }

    /// Takes in one event of the request's response.
    pub fn event(&mut self, event: &Event<'_>) {
        // A child span closing releases its parent through the thread's default dispatch
        // (tracing-subscriber's registry), so spans end with this trace's dispatch as the
        // default: else the request span would never close.
        let dispatch = self.parent.dispatch.clone();
        tracing::dispatcher::with_default(&dispatch, || self.take(event));
    }

    fn take(&mut self, event: &Event<'_>) {
        let capture = self.parent.capture;
        match &event.body {
            EventBody::ToolsListed { server, tools, .. } => {
                let span = self.child("tools/list", "tools/list", server);
                span.set_attribute("mcpwire.mcp.tools", tools.len() as i64);
                span.set_attribute("mcpwire.mcp.outcome", "listed");
            }
            EventBody::ToolsListFailed { server, error, .. } => {
                let span = self.child("tools/list", "tools/list", server);
                span.set_attribute("mcpwire.mcp.outcome", "list_failed");
                span.set_attribute("error.type", "list_failed");
                span.set_status(Status::error(self.scrub(&error.message)));
            }
            EventBody::CallStarted {
                call_id,
                server,
                tool,
            } if !self.calls.contains_key(call_id) => {
                let span = self.call_span(call_id, server, tool);
                self.calls.insert(call_id.clone(), span);
            }
            EventBody::Call {
                call_id,
                server,
                tool,
                arguments,
                arguments_text,
                approval_id,
                ..
            } => {
                if !self.calls.contains_key(call_id) {
                    let span = self.call_span(call_id, server, tool);
                    self.calls.insert(call_id.clone(), span);
                }
                let args = if capture.arguments {
                    arguments
                        .as_ref()
                        .map(|a| a.to_string())
                        .or_else(|| arguments_text.clone())
                        .map(|a| self.scrub(&a))
                } else {
                    None
                };
                if let Some(span) = self.calls.get(call_id) {
                    if let Some(args) = args {
                        span.set_attribute("gen_ai.tool.call.arguments", args);
                    }
                    if let Some(id) = approval_id {
                        span.set_attribute("mcpwire.mcp.approval_id", id.clone());
                        self.parent.span.add_event(
                            "mcp.approval_answered",
                            vec![
                                KeyValue::new("mcpwire.mcp.approval_id", id.clone()),
                                KeyValue::new("gen_ai.tool.call.id", call_id.clone()),
                                KeyValue::new("mcpwire.mcp.approved", true),
                            ],
                        );
                    }
                }
            }
            EventBody::CallResult {
                call_id,
                server,
                tool,
                is_error,
                content,
                error,
            } => {
                let span = match self.calls.remove(call_id) {
                    Some(span) => span,
                    None => self.call_span(
                        call_id,
                        server.as_deref().unwrap_or("unknown"),
                        tool.as_deref().unwrap_or("unknown"),
                    ),
                };
                let outcome = if *is_error { "error" } else { "ok" };
                span.set_attribute("mcpwire.mcp.outcome", outcome);
                if *is_error {
                    let kind = error.as_ref().map_or("tool_error", |e| match e.kind {
                        mcpwire_schema::event::CallErrorKind::Protocol => "protocol",
                        mcpwire_schema::event::CallErrorKind::Http => "http",
                        mcpwire_schema::event::CallErrorKind::ToolExecution => "tool_error",
                        _ => "other",
                    });
                    span.set_attribute("error.type", kind);
                    let message = error
                        .as_ref()
                        .and_then(|e| e.message.as_deref())
                        .map(|m| self.scrub(m))
                        .unwrap_or_else(|| kind.to_owned());
                    span.set_status(Status::error(message));
                }
                if capture.outputs {
                    let parts: Vec<String> = content.iter().map(|c| c.to_string()).collect();
                    let text = self.scrub(&format!("[{}]", parts.join(",")));
                    span.set_attribute("gen_ai.tool.call.result", text);
                }
            }
            EventBody::ApprovalRequested {
                approval_id,
                server,
                tool,
                ..
            } => {
                self.parent.span.add_event(
                    "mcp.approval_requested",
                    vec![
                        KeyValue::new("mcpwire.mcp.approval_id", approval_id.clone()),
                        KeyValue::new("mcpwire.mcp.server_label", server.clone()),
                        KeyValue::new("gen_ai.tool.name", tool.clone()),
                    ],
                );
            }
            _ => {}
        }
    }
}

impl Drop for McpSpans {
    fn drop(&mut self) {
        let dispatch = self.parent.dispatch.clone();
        tracing::dispatcher::with_default(&dispatch, || {
            for (_, span) in self.calls.drain() {
                span.set_attribute("mcpwire.mcp.outcome", "incomplete");
            }
        });
    }
}
