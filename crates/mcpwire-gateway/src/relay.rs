//! Relaying an upstream response to the caller.
//!
//! * What the route promises is checked first: a success must carry JSON or SSE (as the
//!   request asked) and start like it; an error must be a JSON body. Anything else (an HTML
//!   error page, a proxy's text) becomes a 502 in the vendor's shape, with an audit line
//!   saying what arrived, instead of reaching an SDK that cannot parse it.
//! * Only an allowlist of upstream response headers is relayed (content type, request ids,
//!   rate-limit and processing headers, `retry-after`, `x-should-retry`), each scrubbed: the
//!   platform's organisation and project headers and cookies never reach a tenant.
//! * The body is forwarded chunk by chunk as it arrives, every secret the request carried (and
//!   every vendor key) scrubbed in any JSON spelling across chunk boundaries. A chunk without a
//!   secret goes out as the same buffer, uncopied.
//! * On the way, [`Summarizer`] reads the response id (whose owner is recorded before the
//!   chunk holding it is released), model, usage and outcome; MCP requests also get a copy
//!   sent to the audit normaliser, off the forwarding path.
//! * When the body ends, or the caller goes away (which drops the upstream response and so
//!   cancels the upstream request), the tenant's stream slot is released and the request's
//!   audit line is written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt as _;
use mcpwire_auth::redact::Scrubber;
use mcpwire_schema::Sensitive;
use mcpwire_schema::event::Vendor;
use serde_json::json;
use tokio::sync::mpsc::UnboundedSender;

use crate::audit::{self, Finished};
use crate::error::{GatewayError, Kind};
use crate::forward::error_kind;
use crate::limits::StreamPermit;
use crate::owners::Owner;
use crate::policy::ServerUse;
use crate::state::{App, Ctx, Live};
use crate::summary::{Summarizer, Summary};
use crate::telemetry::{Finish, RequestTrace};

/// Names the per-user servers removed from a request because their user has not connected
/// them (`when_unconnected = "drop"`).
pub(crate) const DROPPED_HEADER: &str = "x-mcpwire-dropped-servers";

/// Largest upstream error body read (an error is a small JSON document).
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// What a successful response must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// `application/json`.
    Json,
    /// `text/event-stream`.
    Sse,
    /// Either (`GET /v1/responses/{id}` streams with `?stream=true`).
    Either,
}

/// How to relay one response.
pub(crate) struct Plan {
    pub(crate) vendor: Vendor,
    pub(crate) expect: Expect,
    /// The caller asked for a stream (audit).
    pub(crate) stream: bool,
    /// MCP servers the request uses (audit normaliser when not empty).
    pub(crate) servers: Vec<ServerUse>,
    /// Secrets injected into this request.
    pub(crate) secrets: Vec<Sensitive>,
    pub(crate) model: Option<String>,
    /// Record the owner of the response id this response carries.
    pub(crate) owner: Option<Owner>,
    /// Per-user servers dropped from the request (`x-mcpwire-dropped-servers`).
    pub(crate) dropped: Vec<String>,
    pub(crate) permit: StreamPermit,
}

/// Upstream response headers a caller may see.
fn relayed_header(name: &str) -> bool {
    matches!(
        name,
        "content-type"
            | "x-request-id"
            | "request-id"
            | "openai-processing-ms"
            | "openai-version"
            | "retry-after"
            | "retry-after-ms"
            | "x-should-retry"
            | "cache-control"
    ) || name.starts_with("x-ratelimit-")
        || name.starts_with("anthropic-ratelimit-")
}

fn relayed_headers(upstream: &HeaderMap, scrubber: &Scrubber) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    for (name, value) in upstream {
        if !relayed_header(name.as_str()) {
            continue;
        }
        let value = match value.to_str() {
            Ok(text) => match scrubber.scrub_bytes(text.as_bytes()) {
                None => value.clone(),
                Some(scrubbed) => match HeaderValue::from_bytes(&scrubbed) {
                    Ok(v) => v,
                    Err(_) => continue,
                },
            },
            // Not text: it cannot be checked for secrets, so it is not relayed.
            Err(_) => continue,
        };
        out.push((name.clone(), value));
    }
    out
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn is_sse(ct: &str) -> bool {
    ct.starts_with("text/event-stream")
}

fn is_json(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// Whether the first bytes of a body look like what the content type says.
fn starts_right(sse: bool, bytes: &[u8]) -> Option<bool> {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    if !sse {
        return Some(matches!(text[0], b'{' | b'['));
    }
    if text[0] == b':' {
        return Some(true);
    }
    let field_end = text.iter().position(|b| matches!(b, b':' | b'\n' | b'\r'));
    let Some(end) = field_end else {
        // A field name still arriving: decide when more is here (or the body ends).
        return if text.len() > 16 { Some(false) } else { None };
    };
    Some(matches!(&text[..end], b"event" | b"data" | b"id" | b"retry") && text[end] == b':')
}

fn garbage(
    status: StatusCode,
    ct: &str,
    arrived: &[u8],
    why: &str,
) -> (GatewayError, serde_json::Value) {
    let shown = if ct.is_empty() { "no content type" } else { ct };
    let err = GatewayError::new(
        Kind::UpstreamGarbage,
        format!(
            "the upstream answered {} with {shown} ({} bytes), {why}",
            status.as_u16(),
            arrived.len()
        ),
    );
    (
        err,
        json!({"status": status.as_u16(), "content_type": ct, "bytes": arrived.len()}),
    )
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Relays `upstream` to the caller under `plan`.
pub(crate) async fn relay(cx: Ctx, upstream: reqwest::Response, plan: Plan) -> Response {
    let status = upstream.status();
    let ct = content_type(upstream.headers());
    // The static secrets' scrubber (built once per configuration) extended with the
    // request's secrets; the copies below share it.
    let scrubber = cx
        .live
        .static_scrubber
        .with(plan.secrets.iter().map(Sensitive::expose));
    let headers = relayed_headers(upstream.headers(), &scrubber);
    let limits = &cx.live.config.limits;
    let idle = limits.idle_timeout;
    let mut body: ByteStream = Box::pin(upstream.bytes_stream());

    // Errors: a small JSON body, read whole and checked before anything is sent.
    if !status.is_success() {
        let read = read_bounded(&mut body, idle, MAX_ERROR_BODY).await;
        let bytes = match read {
            Ok(b) => b,
            Err(why) => {
                let (e, up) = garbage(status, &ct, &[], why);
                return cx.refuse_with(e, Some(up));
            }
        };
        let parses = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok();
        if !(is_json(&ct) && parses) || status.is_redirection() || status.is_informational() {
            let (e, up) = garbage(status, &ct, &bytes, "not a JSON error");
            return cx.refuse_with(e, Some(up));
        }
        let scrubbed = scrubber.scrub_bytes(&bytes).map_or(bytes, Bytes::from);
        let mut response = Response::new(Body::from(scrubbed));
        *response.status_mut() = status;
        finish_head(&cx, &mut response, headers, &plan.dropped);
        cx.app
            .metrics
            .request(cx.route, cx.tenant_name(), status.as_u16());
        let mut end = RequestEnd::new(&cx, &plan, status.as_u16(), scrubber.clone());
        end.outcome = "error";
        drop(end);
        return response;
    }

    // Successes: the promised type, and a start that looks like it.
    let sse = is_sse(&ct);
    let type_ok = match plan.expect {
        Expect::Json => is_json(&ct),
        Expect::Sse => sse,
        Expect::Either => sse || is_json(&ct),
    };
    if !type_ok {
        let want = match plan.expect {
            Expect::Json => "not the JSON this route returns",
            Expect::Sse => "not the event stream that was asked for",
            Expect::Either => "neither JSON nor an event stream",
        };
        let (e, up) = garbage(status, &ct, &[], want);
        return cx.refuse_with(e, Some(up));
    }
    let mut first = Vec::new();
    loop {
        match starts_right(sse, &first) {
            Some(true) => break,
            Some(false) => {
                let (e, up) = garbage(status, &ct, &first, "whose body does not match its type");
                return cx.refuse_with(e, Some(up));
            }
            None => {}
        }
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => first.extend_from_slice(&chunk),
            Ok(None) => {
                let (e, up) = garbage(status, &ct, &first, "an empty or incomplete body");
                return cx.refuse_with(e, Some(up));
            }
            Ok(Some(Err(e))) => {
                tracing::info!(request_id = %cx.request_id, error = error_kind(&e), "upstream body failed");
                return cx.refuse(GatewayError::new(
                    Kind::Upstream,
                    "the upstream response failed",
                ));
            }
            Err(_) => {
                return cx.refuse(GatewayError::new(
                    Kind::Timeout,
                    "the upstream sent its headers but no body in time",
                ));
            }
        }
    }
    cx.app
        .metrics
        .request(cx.route, cx.tenant_name(), status.as_u16());
    let audit = (!plan.servers.is_empty()).then(|| {
        audit::spawn(
            audit::AuditContext {
                log: cx.live.audit.clone(),
                metrics: cx.app.metrics.clone(),
                tenant: cx.tenant_name().to_owned(),
                user: cx.user_id().map(str::to_owned),
                request_id: cx.request_id.clone(),
                vendor: plan.vendor,
                servers: plan.servers.clone(),
                scrubber: scrubber.clone(),
                trace: cx.trace.clone().map(|t| (t, scrubber.clone())),
            },
            sse,
        )
    });
    let hold_for_id = plan.owner.is_some() && !sse;
    let dropped = plan.dropped.clone();
    let mut end = RequestEnd::new(&cx, &plan, status.as_u16(), scrubber.clone());
    end.first_byte = Some(Instant::now());
    end.relaying = true;
    end._permit = Some(plan.permit);
    cx.app.metrics.stream_open(cx.tenant_name(), 1);
    let relay = Relay {
        sse,
        upstream: body,
        first: Some(Bytes::from(first)),
        pending: None,
        hold_for_id,
        scrubber,
        audit,
        summarizer: Summarizer::new(plan.vendor, sse),
        owner: plan.owner,
        idle,
        deadline: tokio::time::Instant::from_std(cx.started + limits.total_timeout),
        done: false,
        end,
    };
    let mut response = Response::new(Body::from_stream(futures_util::stream::unfold(
        relay,
        Relay::next,
    )));
    *response.status_mut() = status;
    finish_head(&cx, &mut response, headers, &dropped);
    response
}

fn finish_head(
    cx: &Ctx,
    response: &mut Response,
    headers: Vec<(HeaderName, HeaderValue)>,
    dropped: &[String],
) {
    let h = response.headers_mut();
    for (name, value) in headers {
        h.append(name, value);
    }
    if !dropped.is_empty()
        && let Ok(v) = HeaderValue::from_str(&dropped.join(", "))
    {
        h.insert(DROPPED_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cx.request_id) {
        h.insert(crate::REQUEST_ID_HEADER, v);
    }
}

async fn read_bounded(
    body: &mut ByteStream,
    idle: Duration,
    limit: usize,
) -> Result<Bytes, &'static str> {
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => {
                if out.len() + chunk.len() > limit {
                    return Err("an error body over 1 MiB");
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Bytes::from(out)),
            Ok(Some(Err(_))) => return Err("an error body that broke off"),
            Err(_) => return Err("an error body that did not arrive in time"),
        }
    }
}

/// The end of a relayed request: releases the stream slot and writes the audit line, whether
/// the body ended or the caller went away.
struct RequestEnd {
    app: Arc<App>,
    live: Arc<Live>,
    request_id: String,
    route: &'static str,
    tenant: String,
    user: Option<String>,
    vendor: Vendor,
    stream: bool,
    servers: Vec<ServerUse>,
    model: Option<String>,
    status: u16,
    started: Instant,
    first_byte: Option<Instant>,
    outcome: &'static str,
    summary: Summary,
    scrubber: Scrubber,
    relaying: bool,
    _permit: Option<StreamPermit>,
    trace: Option<RequestTrace>,
}

impl RequestEnd {
    /// `scrubber` removes the request's secrets (its own and the static ones) from what the
    /// end writes.
    fn new(cx: &Ctx, plan: &Plan, status: u16, scrubber: Scrubber) -> RequestEnd {
        RequestEnd {
            app: cx.app.clone(),
            live: cx.live.clone(),
            request_id: cx.request_id.clone(),
            route: cx.route,
            tenant: cx.tenant_name().to_owned(),
            user: cx.user_id().map(str::to_owned),
            vendor: plan.vendor,
            stream: plan.stream,
            servers: plan.servers.clone(),
            model: plan.model.clone(),
            status,
            started: cx.started,
            first_byte: None,
            outcome: "client_closed",
            summary: Summary::default(),
            scrubber,
            relaying: false,
            _permit: None,
            trace: cx.trace.clone(),
        }
    }
}

impl Drop for RequestEnd {
    fn drop(&mut self) {
        let tokens =
            self.summary.input_tokens.unwrap_or(0) + self.summary.output_tokens.unwrap_or(0);
        if let Some(permit) = self._permit.as_mut() {
            permit.charge(tokens);
        }
        if self.relaying {
            self.app.metrics.stream_open(&self.tenant, -1);
        }
        let elapsed = |t: Instant| t.duration_since(self.started).as_secs_f64() * 1000.0;
        if let Some(trace) = self.trace.take() {
            let s = &self.summary;
            trace.finish(&Finish {
                status: Some(self.status),
                outcome: self.outcome,
                response_id: s.response_id.as_deref(),
                response_model: s.model.as_deref(),
                input_tokens: s.input_tokens,
                output_tokens: s.output_tokens,
                finish_reason: s.finish.as_deref(),
            });
        }
        self.live.audit.request(
            &Finished {
                tenant: &self.tenant,
                user: self.user.as_deref(),
                request_id: &self.request_id,
                route: self.route,
                vendor: self.vendor,
                stream: self.stream,
                servers: &self.servers,
                requested_model: self.model.as_deref(),
                status: self.status,
                outcome: self.outcome,
                duration_ms: elapsed(Instant::now()),
                first_byte_ms: self.first_byte.map_or(0.0, elapsed),
                summary: &self.summary,
            },
            &self.scrubber,
        );
        tracing::debug!(
            request_id = %self.request_id,
            outcome = self.outcome,
            elapsed_ms = self.started.elapsed().as_millis() as u64,
            "relay closed"
        );
    }
}

struct Relay {
    upstream: ByteStream,
    sse: bool,
    /// The bytes read to check the start, sent first.
    first: Option<Bytes>,
    /// A whole-JSON chunk held until the response id is known (its owner recorded first).
    pending: Option<Bytes>,
    hold_for_id: bool,
    scrubber: Scrubber,
    audit: Option<UnboundedSender<Bytes>>,
    summarizer: Summarizer,
    owner: Option<Owner>,
    idle: Duration,
    deadline: tokio::time::Instant,
    done: bool,
    end: RequestEnd,
}

impl Relay {
    /// Takes in one upstream chunk: audit copy, summary, owner record; returns what to send.
    async fn take(&mut self, chunk: Bytes) -> Bytes {
        if let Some(tx) = &self.audit {
            let _ = tx.send(chunk.clone());
        }
        if let Some(id) = self.summarizer.feed(&chunk) {
            self.record(&id).await;
        }
        match self.scrubber.feed(&chunk) {
            None => chunk,
            Some(v) => Bytes::from(v),
        }
    }

    async fn record(&mut self, id: &str) {
        if let Some(owner) = &self.owner
            && self.end.vendor == Vendor::OpenAi
        {
            self.end.app.owners.record(id, owner);
        }
    }

    fn id_known(&self) -> bool {
        self.summarizer.partial().response_id.is_some()
    }

    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Relay)> {
        if let Some(first) = self.first.take() {
            let out = self.take(first).await;
            if self.hold_for_id && !self.id_known() {
                self.pending = Some(out);
            } else {
                return Some((Ok(out), self));
            }
        }
        loop {
            if self.done {
                return None;
            }
            let until = (tokio::time::Instant::now() + self.idle).min(self.deadline);
            match tokio::time::timeout_at(until, self.upstream.next()).await {
                Ok(Some(Ok(chunk))) => {
                    let out = self.take(chunk).await;
                    if self.hold_for_id && !self.id_known() {
                        // Send the previous chunk, hold this one.
                        match self.pending.replace(out) {
                            Some(prev) => return Some((Ok(prev), self)),
                            None => continue,
                        }
                    }
                    let out = match self.pending.take() {
                        Some(prev) => {
                            let mut joined = Vec::with_capacity(prev.len() + out.len());
                            joined.extend_from_slice(&prev);
                            joined.extend_from_slice(&out);
                            Bytes::from(joined)
                        }
                        None => out,
                    };
                    return Some((Ok(out), self));
                }
                Ok(None) => {
                    self.done = true;
                    self.audit = None;
                    let (summary, late_id) = self.summarizer.finish();
                    if let Some(id) = late_id {
                        self.record(&id).await;
                    }
                    self.end.outcome = outcome(self.end.status, &summary, self.sse);
                    self.end.summary = summary;
                    let mut rest = self.pending.take().map(|b| b.to_vec()).unwrap_or_default();
                    rest.extend(self.scrubber.finish());
                    if rest.is_empty() {
                        return None;
                    }
                    return Some((Ok(Bytes::from(rest)), self));
                }
                Ok(Some(Err(e))) => {
                    tracing::info!(request_id = %self.end.request_id, error = error_kind(&e), "upstream body failed");
                    self.done = true;
                    self.end.outcome = "upstream_failed";
                    self.end.summary = self.summarizer.partial().clone();
                    return Some((Err(std::io::Error::other("upstream body failed")), self));
                }
                Err(_) => {
                    tracing::info!(request_id = %self.end.request_id, "upstream body timed out");
                    self.done = true;
                    self.end.outcome = "timeout";
                    self.end.summary = self.summarizer.partial().clone();
                    return Some((Err(std::io::Error::other("upstream timed out")), self));
                }
            }
        }
    }
}

/// The audit outcome of a body that ended: the vendor's own verdict where it gave one.
fn outcome(status: u16, summary: &Summary, stream: bool) -> &'static str {
    if status >= 400 || summary.error.is_some() {
        return "error";
    }
    match summary.finish.as_deref() {
        Some("failed" | "error" | "cancelled") => "error",
        Some("incomplete") => "incomplete",
        Some(_) => "ok",
        None if stream => "incomplete",
        None => "ok",
    }
}
