//! The HTTP client: render, authenticate, send, retry, stream, normalise, continue approvals.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use mcpwire_auth::{Resolved, Secret};
use mcpwire_normalize::{anthropic as norm_anthropic, openai as norm_openai};
use mcpwire_schema::anthropic::{BetaVersion, MessageStreamEvent};
use mcpwire_schema::event::{Event, EventBody, Vendor};
use mcpwire_schema::openai::{Item, McpApprovalResponse, ResponseStreamEvent};
use mcpwire_schema::sse::{SseDecoder, SseEvent};
use mcpwire_schema::{Maybe, decode};
use serde_json::{Value, json};
use tracing::{Instrument, debug, info_span, trace, warn};

use crate::approval::{ApprovalHandler, ApprovalRequest, Decision};
use crate::error::{Error, ErrorKind, excerpt, from_response, scrub};
use crate::redact::origin;
use crate::render::{self, RenderOptions, Warning};
use crate::request::McpRequest;

/// Where to send one vendor's requests: the vendor itself, or a gateway in front of it.
#[non_exhaustive]
pub struct Endpoint {
    /// Base URL, e.g. `https://api.openai.com/v1` (the client appends `/responses` or
    /// `/messages`).
    pub base_url: String,
    /// The API key (OpenAI `Authorization: Bearer`, Anthropic `x-api-key`).
    pub api_key: Option<Secret>,
    /// Extra headers on every request (gateway keys such as `x-portkey-api-key`, routing
    /// headers); values are treated as secrets.
    pub headers: Vec<(String, Secret)>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &origin(&self.base_url))
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| format!("{n}: [redacted]"))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Endpoint {
    /// OpenAI's API.
    pub fn openai() -> Self {
        Endpoint {
            base_url: "https://api.openai.com/v1".to_owned(),
            api_key: None,
            headers: Vec::new(),
        }
    }

    /// Anthropic's API.
    pub fn anthropic() -> Self {
        Endpoint {
            base_url: "https://api.anthropic.com/v1".to_owned(),
            api_key: None,
            headers: Vec::new(),
        }
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: Secret) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Sets the base URL (a gateway or proxy).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Adds a header sent on every request.
    pub fn header(mut self, name: impl Into<String>, value: Secret) -> Self {
        self.headers.push((name.into(), value));
        self
    }
}

/// Retries with exponential backoff and jitter, on connect errors and 408/409/429/5xx/529.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff.
    pub initial_backoff: Duration,
    /// The longest backoff (and the longest `retry-after` honoured).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// Timeouts. A hosted MCP call can take a while, so first-byte and idle defaults are generous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// Until the response head arrives.
    pub first_byte: Duration,
    /// Between two chunks of the body (between events when streaming).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(600),
            idle: Duration::from_secs(120),
        }
    }
}

/// Client configuration.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// OpenAI (or a gateway in front of it).
    pub openai: Endpoint,
    /// Anthropic (or a gateway in front of it).
    pub anthropic: Endpoint,
    /// The MCP connector beta to use with Anthropic.
    pub anthropic_beta: BetaVersion,
    /// Strict or lossy rendering.
    pub render: RenderOptions,
    /// Retries.
    pub retry: RetryPolicy,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// OAuth tokens with less than this left are refreshed before a request: the vendor cannot
    /// refresh mid-call, so this should exceed the longest call.
    pub min_credential_ttl: Duration,
    /// At most this many follow-up rounds in [`Client::run`] (OpenAI approvals, Anthropic
    /// `pause_turn` continuations).
    pub max_approval_turns: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            openai: Endpoint::openai(),
            anthropic: Endpoint::anthropic(),
            anthropic_beta: BetaVersion::V2025_11_20,
            render: RenderOptions::default(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            min_credential_ttl: Duration::from_secs(300),
            max_approval_turns: 8,
        }
    }
}

/// A whole (non-streamed) response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response {
    /// The normalised events.
    pub events: Vec<Event>,
    /// The vendor's body, verbatim.
    pub raw: Value,
    /// The vendor's request id.
    pub request_id: Option<String>,
    /// Fields converted or dropped in lossy rendering.
    pub warnings: Vec<Warning>,
}

/// One item of an [`EventStream`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamItem {
    /// A vendor event's `data`, verbatim (it precedes the events it produces).
    Raw(String),
    /// A normalised event.
    Event(Event),
}

/// What [`Client::run`] saw over every turn.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOutcome {
    /// Every normalised event, in order, across turns.
    pub events: Vec<Event>,
    /// The vendor's final response or message of each turn.
    pub responses: Vec<Value>,
    /// Fields converted or dropped in lossy rendering.
    pub warnings: Vec<Warning>,
}

/// Sends neutral requests to either vendor. Cheap to clone: one shared connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
}

/// How a turn continues an earlier one (OpenAI approvals, Anthropic `pause_turn`).
#[derive(Debug, Clone)]
enum Continuation {
    /// Anthropic `pause_turn`: the paused assistant content, re-sent as the last message.
    Resume { assistant: Vec<Value> },
    /// `previous_response_id` + the answers.
    Stored {
        response_id: String,
        answers: Vec<Value>,
    },
    /// `store: false`: the whole history replayed as input items, then the answers.
    Replay { items: Vec<Value> },
}

struct Prepared {
    url: String,
    headers: Vec<(String, String)>,
    body: Value,
    secrets: Vec<String>,
    warnings: Vec<Warning>,
}

impl Client {
    /// A client; one reqwest connection pool with redirects off and the connect timeout set.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcpwire/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Other, "cannot build the HTTP client").with_source(e)
            })?;
        Ok(Client {
            http,
            config: Arc::new(config),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn endpoint(&self, vendor: Vendor) -> &Endpoint {
        match vendor {
            Vendor::Anthropic => &self.config.anthropic,
            _ => &self.config.openai,
        }
    }

    /// Resolves credentials (fresh, refreshing OAuth tokens below the minimum lifetime), renders
    /// the body, applies a continuation, and builds the headers.
    async fn prepare(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        stream: bool,
        continuation: Option<&Continuation>,
    ) -> Result<Prepared, Error> {
        let mut secrets = Vec::new();
        let mut resolved = Vec::with_capacity(request.servers.len());
        for (i, server) in request.servers.iter().enumerate() {
            let url = server.url.as_deref().unwrap_or_default();
            let r = server
                .credentials
                .resolve(url, self.config.min_credential_ttl)
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Auth,
                        format!(
                            "servers[{i}] ({}): cannot obtain credentials: {e}",
                            server.name
                        ),
                    )
                    .vendor(vendor)
                })?;
            match &r {
                Resolved::Bearer { token, .. } => secrets.push(token.expose().to_owned()),
                Resolved::Headers(headers) => {
                    secrets.extend(headers.iter().map(|(_, v)| v.expose().to_owned()))
                }
                _ => {}
            }
            resolved.push(r);
        }
        let endpoint = self.endpoint(vendor);
        let base = endpoint.base_url.trim_end_matches('/');
        let mut headers: Vec<(String, String)> =
            vec![("content-type".to_owned(), "application/json".to_owned())];
        if stream {
            headers.push(("accept".to_owned(), "text/event-stream".to_owned()));
        }
        let (url, mut body, warnings) = match vendor {
            Vendor::Anthropic => {
                let rendered = render::anthropic(
                    request,
                    &resolved,
                    self.config.anthropic_beta,
                    &self.config.render,
                )?;
                headers.extend(rendered.headers);
                headers.push(("anthropic-version".to_owned(), "2023-06-01".to_owned()));
                if let Some(key) = &endpoint.api_key {
                    headers.push(("x-api-key".to_owned(), key.expose().to_owned()));
                }
                let body = serde_json::to_value(&rendered.body).map_err(|e| {
                    Error::new(ErrorKind::Other, "cannot encode the request").with_source(e)
                })?;
                (format!("{base}/messages"), body, rendered.warnings)
            }
            _ => {
                let rendered = render::openai(request, &resolved, &self.config.render)?;
                headers.extend(rendered.headers);
                if let Some(key) = &endpoint.api_key {
                    headers.push((
                        "authorization".to_owned(),
                        format!("Bearer {}", key.expose()),
                    ));
                }
                let body = serde_json::to_value(&rendered.body).map_err(|e| {
                    Error::new(ErrorKind::Other, "cannot encode the request").with_source(e)
                })?;
                (format!("{base}/responses"), body, rendered.warnings)
            }
        };
        if let Some(key) = &endpoint.api_key {
            secrets.push(key.expose().to_owned());
        }
        for (name, value) in &endpoint.headers {
            headers.push((name.clone(), value.expose().to_owned()));
            secrets.push(value.expose().to_owned());
        }
        if let Some(object) = body.as_object_mut() {
            if stream {
                object.insert("stream".to_owned(), Value::Bool(true));
            } else {
                object.remove("stream");
            }
            match continuation {
                Some(Continuation::Stored {
                    response_id,
                    answers,
                }) => {
                    object.insert(
                        "previous_response_id".to_owned(),
                        Value::String(response_id.clone()),
                    );
                    object.insert("input".to_owned(), Value::Array(answers.clone()));
                }
                Some(Continuation::Replay { items }) => {
                    object.insert("input".to_owned(), Value::Array(items.clone()));
                }
                Some(Continuation::Resume { assistant }) => {
                    if let Some(Value::Array(messages)) = object.get_mut("messages") {
                        messages.push(json!({"role": "assistant", "content": assistant}));
                    }
                }
                None => {}
            }
        }
        Ok(Prepared {
            url,
            headers,
            body,
            secrets,
            warnings,
        })
    }

    /// Sends with retries; returns a 2xx response head, the secrets to scrub, the warnings.
    async fn execute(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        stream: bool,
        continuation: Option<&Continuation>,
    ) -> Result<(reqwest::Response, Vec<String>, Vec<Warning>), Error> {
        let policy = self.config.retry;
        let mut attempt = 0u32;
        loop {
            // Fresh credentials on every attempt: an OAuth token may expire between retries.
            let prepared = self.prepare(vendor, request, stream, continuation).await?;
            let mut builder = self.http.post(&prepared.url).json(&prepared.body);
            for (name, value) in &prepared.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let result =
                tokio::time::timeout(self.config.timeouts.first_byte, builder.send()).await;
            // Every failure says whether it may be retried.
            let (err, retryable) = match result {
                Err(_) => (
                    Error::new(
                        ErrorKind::Timeout,
                        format!("no response within {:?}", self.config.timeouts.first_byte),
                    )
                    .vendor(vendor),
                    true,
                ),
                Ok(Err(e)) if e.is_timeout() => (
                    Error::new(ErrorKind::Timeout, "connect timeout").vendor(vendor),
                    true,
                ),
                Ok(Err(e)) => (
                    Error::new(
                        ErrorKind::Connect,
                        format!("cannot reach {}", origin(&prepared.url)),
                    )
                    .vendor(vendor)
                    .with_source(e.without_url()),
                    true,
                ),
                Ok(Ok(response)) if response.status().is_success() => {
                    debug!(
                        status = response.status().as_u16(),
                        request_id = request_id(&response).as_deref().unwrap_or(""),
                        "vendor answered"
                    );
                    return Ok((response, prepared.secrets, prepared.warnings));
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let id = request_id(&response);
                    let should_retry = response
                        .headers()
                        .get("x-should-retry")
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v == "true");
                    let delay = retry_after(response.headers());
                    let body = read_limited(response, 64 * 1024).await;
                    let mut err = from_response(vendor, status, &body, id, &prepared.secrets);
                    err.inner.retry_after = delay;
                    let retryable =
                        should_retry.unwrap_or(matches!(status, 408 | 409 | 429 | 500..=599));
                    (err, retryable)
                }
            };
            if !retryable || attempt >= policy.max_retries {
                return Err(err);
            }
            let delay = backoff(&policy, attempt, err.inner.retry_after);
            warn!(attempt = attempt + 1, kind = %err.inner.kind, status = err.inner.status.unwrap_or(0), delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Sends the request and waits for the whole response (whatever `request.stream` says).
    pub async fn send(&self, vendor: Vendor, request: &McpRequest) -> Result<Response, Error> {
        self.send_turn(vendor, request, None)
            .instrument(span(vendor, request))
            .await
    }

    async fn send_turn(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        continuation: Option<&Continuation>,
    ) -> Result<Response, Error> {
        let (response, secrets, warnings) =
            self.execute(vendor, request, false, continuation).await?;
        let request_id = request_id(&response);
        let bytes = read_body(response, self.config.timeouts.idle, vendor).await?;
        let raw: Value = serde_json::from_slice(&bytes).map_err(|e| {
            let mut err =
                Error::new(ErrorKind::Decode, format!("response is not JSON: {e}")).vendor(vendor);
            err.inner.body = Some(excerpt(
                &scrub(&String::from_utf8_lossy(&bytes), &secrets),
                512,
            ));
            err.inner.request_id.clone_from(&request_id);
            err
        })?;
        let context = context_of(continuation);
        let anthropic_message = match (&context, vendor) {
            (Some(_), Vendor::Anthropic) => {
                decode::from_slice::<mcpwire_schema::anthropic::Message>(&bytes).ok()
            }
            _ => None,
        };
        let events = match (anthropic_message, context) {
            // Results of calls made before a pause are attributed with the earlier content.
            (Some(message), Some(context)) => {
                Ok(norm_anthropic::normalize_message_with(&message, &context))
            }
            _ => mcpwire_normalize::normalize_whole(&bytes, Some(vendor)),
        }
        .map_err(|e| {
            let mut err = Error::new(ErrorKind::Decode, e.to_string()).vendor(vendor);
            err.inner.request_id.clone_from(&request_id);
            err
        })?;
        trace!(events = events.len(), "normalised");
        Ok(Response {
            events,
            raw,
            request_id,
            warnings,
        })
    }

    /// Sends the request as a stream (whatever `request.stream` says): raw vendor payloads and
    /// normalised events as they arrive. Retries happen only before the response head; once
    /// output has been delivered a failure ends the stream with an error. Dropping the stream
    /// cancels the request.
    pub async fn stream(&self, vendor: Vendor, request: &McpRequest) -> Result<EventStream, Error> {
        self.stream_turn(vendor, request, None)
            .instrument(span(vendor, request))
            .await
    }

    async fn stream_turn(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        continuation: Option<&Continuation>,
    ) -> Result<EventStream, Error> {
        let (response, _secrets, warnings) =
            self.execute(vendor, request, true, continuation).await?;
        let request_id = request_id(&response);
        Ok(EventStream {
            body: Box::pin(response.bytes_stream()),
            decoder: SseDecoder::new(),
            state: VendorState::new(vendor, context_of(continuation)),
            pending: VecDeque::new(),
            idle: self.config.timeouts.idle,
            sleep: None,
            done: false,
            vendor,
            request_id,
            warnings,
        })
    }

    /// Runs the request to its end: streams or not as `request.stream` says, hands every event
    /// to `on_event`, answers OpenAI approval requests with `approvals` and continues (with
    /// `previous_response_id` for stored responses, or by replaying the items when the request
    /// sets `store: false`; never both), re-sending the full server URLs and fresh credentials
    /// every turn. Without a handler, a response that asks for approvals simply ends there
    /// (its last event says `needs_approval`). An Anthropic response that stops with
    /// `pause_turn` (the server-side tool loop hit its limit) is continued by re-sending its
    /// content as the assistant message, as Anthropic documents.
    pub async fn run(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        approvals: Option<&dyn ApprovalHandler>,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunOutcome, Error> {
        self.run_inner(vendor, request, approvals, on_event)
            .instrument(span(vendor, request))
            .await
    }

    async fn run_inner(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        approvals: Option<&dyn ApprovalHandler>,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunOutcome, Error> {
        let mut outcome = RunOutcome {
            events: Vec::new(),
            responses: Vec::new(),
            warnings: Vec::new(),
        };
        let replay = request.extra.openai.get("store") == Some(&Value::Bool(false));
        let mut history: Vec<Value> = if replay {
            initial_items(request)
        } else {
            Vec::new()
        };
        let mut continuation: Option<Continuation> = None;
        for turn in 0..=self.config.max_approval_turns {
            debug!(turn, "turn");
            let final_response = if request.stream {
                let mut stream = self
                    .stream_turn(vendor, request, continuation.as_ref())
                    .await?;
                outcome.warnings.append(&mut stream.warnings);
                while let Some(item) = stream.next().await {
                    if let StreamItem::Event(event) = item? {
                        on_event(&event);
                        outcome.events.push(event);
                    }
                }
                stream.final_response()
            } else {
                let response = self
                    .send_turn(vendor, request, continuation.as_ref())
                    .await?;
                outcome.warnings.extend(response.warnings);
                for event in response.events {
                    on_event(&event);
                    outcome.events.push(event);
                }
                Some(response.raw)
            };
            let Some(final_response) = final_response else {
                return Ok(outcome);
            };
            outcome.responses.push(final_response.clone());
            if vendor == Vendor::Anthropic {
                // `pause_turn`: the server-side tool loop hit its limit; re-send the assistant
                // content as it is, with the same tools, to let it go on.
                if final_response.get("stop_reason").and_then(Value::as_str) != Some("pause_turn")
                    || turn == self.config.max_approval_turns
                {
                    return Ok(outcome);
                }
                let mut assistant = match continuation.take() {
                    Some(Continuation::Resume { assistant }) => assistant,
                    _ => Vec::new(),
                };
                if let Some(content) = final_response.get("content").and_then(Value::as_array) {
                    assistant.extend(content.iter().cloned());
                }
                debug!(turn, "pause_turn: continuing");
                continuation = Some(Continuation::Resume { assistant });
                continue;
            }
            if vendor != Vendor::OpenAi {
                return Ok(outcome);
            }
            let requests = approval_requests(&final_response);
            let Some(approvals) = approvals.filter(|_| !requests.is_empty()) else {
                return Ok(outcome);
            };
            if turn == self.config.max_approval_turns {
                return Err(Error::new(
                    ErrorKind::Other,
                    format!("still asking for approvals after {turn} rounds"),
                )
                .vendor(vendor));
            }
            let mut answers = Vec::new();
            for req in &requests {
                let decision = approvals.decide(req).await;
                debug!(approval_id = %req.approval_id, server = %req.server, tool = %req.tool, approved = matches!(decision, Decision::Approve), "approval");
                let mut answer = McpApprovalResponse::new(
                    req.approval_id.clone(),
                    matches!(decision, Decision::Approve),
                );
                if let Decision::Deny {
                    reason: Some(reason),
                } = decision
                {
                    answer.reason = Maybe::Value(reason);
                }
                answers.push(
                    serde_json::to_value(Item::McpApprovalResponse(answer)).unwrap_or(Value::Null),
                );
            }
            continuation = Some(if replay {
                if let Some(output) = final_response.get("output").and_then(Value::as_array) {
                    history.extend(output.iter().cloned());
                }
                history.extend(answers);
                Continuation::Replay {
                    items: history.clone(),
                }
            } else {
                let response_id = final_response
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Continuation::Stored {
                    response_id,
                    answers,
                }
            });
        }
        Ok(outcome)
    }
}

fn span(vendor: Vendor, request: &McpRequest) -> tracing::Span {
    let servers: Vec<&str> = request.servers.iter().map(|s| s.name.as_str()).collect();
    let origins: Vec<String> = request
        .servers
        .iter()
        .filter_map(|s| s.url.as_deref())
        .map(origin)
        .collect();
    info_span!("mcpwire.request", vendor = %vendor, model = %request.model, servers = %servers.join(","), server_origins = %origins.join(","))
}

/// For an Anthropic continuation, the `mcp_tool_use` blocks already sent, so that results of
/// those calls are attributed to their server and tool.
fn context_of(continuation: Option<&Continuation>) -> Option<norm_anthropic::Context> {
    let Some(Continuation::Resume { assistant }) = continuation else {
        return None;
    };
    let mut context = norm_anthropic::Context::new();
    for block in assistant {
        if let Ok(block) = decode::from_value(block) {
            context.observe(&block);
        }
    }
    Some(context)
}

/// The neutral input as OpenAI input items (for replaying history with `store: false`).
fn initial_items(request: &McpRequest) -> Vec<Value> {
    match &request.input {
        crate::request::Input::Text(text) => {
            vec![json!({"type": "message", "role": "user", "content": text})]
        }
        crate::request::Input::Messages(messages) => messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    crate::request::Role::Assistant => "assistant",
                    _ => "user",
                };
                json!({"type": "message", "role": role, "content": m.text})
            })
            .collect(),
    }
}

/// The approval requests a completed OpenAI response ends with.
fn approval_requests(response: &Value) -> Vec<ApprovalRequest> {
    let Some(output) = response.get("output").and_then(Value::as_array) else {
        return Vec::new();
    };
    let answered: Vec<&str> = output
        .iter()
        .filter_map(|i| i.get("approval_request_id").and_then(Value::as_str))
        .collect();
    output
        .iter()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("mcp_approval_request"))
        .filter_map(|i| {
            let id = i.get("id")?.as_str()?;
            if answered.contains(&id) {
                return None;
            }
            let args = i.get("arguments").and_then(Value::as_str).unwrap_or("{}");
            Some(ApprovalRequest {
                approval_id: id.to_owned(),
                server: i
                    .get("server_label")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                tool: i
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                arguments: serde_json::from_str(args)
                    .unwrap_or_else(|_| Value::String(args.to_owned())),
            })
        })
        .collect()
}

fn request_id(response: &reqwest::Response) -> Option<String> {
    ["x-request-id", "request-id"].iter().find_map(|h| {
        response
            .headers()
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// `retry-after-ms`, then `retry-after` (seconds).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_millis(ms as u64));
    }
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The delay before retry number `attempt + 1`: the vendor's `retry-after` when it is sane
/// (at most `max_backoff`), else exponential backoff with up to 25% jitter.
pub(crate) fn backoff(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(delay) = retry_after.filter(|d| *d <= policy.max_backoff) {
        return delay;
    }
    let base = policy
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(policy.max_backoff);
    let jitter = 1.0 - 0.25 * rand::random::<f64>();
    base.mul_f64(jitter)
}

async fn read_limited(response: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

async fn read_body(
    response: reqwest::Response,
    idle: Duration,
    vendor: Vendor,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                return Err(
                    Error::new(ErrorKind::Timeout, format!("body stalled for {idle:?}"))
                        .vendor(vendor),
                );
            }
            Ok(None) => return Ok(body),
            Ok(Some(Ok(chunk))) => body.extend_from_slice(&chunk),
            Ok(Some(Err(e))) => {
                return Err(Error::new(
                    ErrorKind::Connect,
                    "connection broke while reading the body",
                )
                .vendor(vendor)
                .with_source(e.without_url()));
            }
        }
    }
}

/// Per-vendor stream state: the normaliser and the accumulator of the final response.
enum VendorState {
    OpenAi(norm_openai::StreamNormalizer, norm_openai::Accumulator),
    Anthropic(
        norm_anthropic::StreamNormalizer,
        norm_anthropic::Accumulator,
    ),
}

impl VendorState {
    fn new(vendor: Vendor, context: Option<norm_anthropic::Context>) -> Self {
        match vendor {
            Vendor::Anthropic => VendorState::Anthropic(
                norm_anthropic::StreamNormalizer::with_context(context.unwrap_or_default()),
                norm_anthropic::Accumulator::new(),
            ),
            _ => VendorState::OpenAi(
                norm_openai::StreamNormalizer::new(),
                norm_openai::Accumulator::new(),
            ),
        }
    }

    fn push(
        &mut self,
        data: &str,
        out: &mut Vec<Event>,
    ) -> Result<(), mcpwire_schema::decode::DecodeError> {
        match self {
            VendorState::OpenAi(n, acc) => {
                let event: ResponseStreamEvent = decode::from_str(data)?;
                acc.push(&event);
                n.push(&event, out);
            }
            VendorState::Anthropic(n, acc) => {
                let event: MessageStreamEvent = decode::from_str(data)?;
                acc.push(&event);
                n.push(&event, out);
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<Event>) -> Result<(), mcpwire_normalize::Error> {
        match self {
            VendorState::OpenAi(n, _) => n.finish(out),
            VendorState::Anthropic(n, _) => n.finish(out),
        }
    }
}

/// The events of a streamed response; a [`Stream`] of [`StreamItem`]s. Dropping it cancels
/// the request.
pub struct EventStream {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    decoder: SseDecoder,
    state: VendorState,
    pending: VecDeque<Result<StreamItem, Error>>,
    idle: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
    vendor: Vendor,
    request_id: Option<String>,
    warnings: Vec<Warning>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("vendor", &self.vendor)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// The vendor's request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Fields converted or dropped in lossy rendering.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Only the normalised events.
    pub fn events(self) -> impl Stream<Item = Result<Event, Error>> + Send {
        self.filter_map(|item| async move {
            match item {
                Ok(StreamItem::Event(event)) => Some(Ok(event)),
                Ok(StreamItem::Raw(_)) => None,
                Err(err) => Some(Err(err)),
            }
        })
    }

    /// The final response rebuilt from the stream (OpenAI: the `response.completed` response;
    /// Anthropic: the accumulated message), once the stream has ended.
    pub fn final_response(self) -> Option<Value> {
        match self.state {
            VendorState::OpenAi(_, acc) => acc.finish().and_then(|r| serde_json::to_value(r).ok()),
            VendorState::Anthropic(_, acc) => {
                acc.finish().and_then(|m| serde_json::to_value(m).ok())
            }
        }
    }

    fn decode_error(&self, message: String) -> Error {
        let mut err = Error::new(ErrorKind::Decode, message).vendor(self.vendor);
        err.inner.request_id.clone_from(&self.request_id);
        err
    }

    fn handle(&mut self, events: Vec<SseEvent>) {
        let mut out = Vec::new();
        for sse in events {
            if sse.data.trim() == "[DONE]" {
                continue;
            }
            self.pending
                .push_back(Ok(StreamItem::Raw(sse.data.clone())));
            match self.state.push(&sse.data, &mut out) {
                Ok(()) => {
                    for event in out.drain(..) {
                        if let EventBody::Error { error } = &event.body {
                            debug!(error_type = %error.error_type, "error event in stream");
                        }
                        self.pending.push_back(Ok(StreamItem::Event(event)));
                    }
                }
                Err(e) => {
                    let err = self.decode_error(e.to_string());
                    self.pending.push_back(Err(err));
                    self.done = true;
                    return;
                }
            }
        }
    }
}

impl Stream for EventStream {
    type Item = Result<StreamItem, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let idle = this.idle;
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    this.sleep = None;
                    let mut events = Vec::new();
                    let framing = this.decoder.feed(&chunk, &mut events);
                    this.handle(events);
                    if let Err(e) = framing {
                        let err = this.decode_error(e.to_string());
                        this.pending.push_back(Err(err));
                        this.done = true;
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let mut err = Error::new(ErrorKind::Connect, "the stream broke")
                        .vendor(this.vendor)
                        .with_source(e.without_url());
                    err.inner.request_id.clone_from(&this.request_id);
                    this.pending.push_back(Err(err));
                    this.done = true;
                }
                Poll::Ready(None) => {
                    this.done = true;
                    let mut events = Vec::new();
                    let framing = this.decoder.finish(&mut events);
                    this.handle(events);
                    let mut out = Vec::new();
                    let end = this.state.finish(&mut out);
                    this.pending
                        .extend(out.into_iter().map(|e| Ok(StreamItem::Event(e))));
                    if let Err(e) = framing {
                        let err = this.decode_error(e.to_string());
                        this.pending.push_back(Err(err));
                    } else if let Err(e) = end {
                        let mut err =
                            Error::new(ErrorKind::Stream, e.to_string()).vendor(this.vendor);
                        err.inner.request_id.clone_from(&this.request_id);
                        this.pending.push_back(Err(err));
                    }
                }
                Poll::Pending => {
                    if sleep.as_mut().poll(cx).is_ready() {
                        this.sleep = None;
                        let mut err =
                            Error::new(ErrorKind::Timeout, format!("no stream data for {idle:?}"))
                                .vendor(this.vendor);
                        err.inner.request_id.clone_from(&this.request_id);
                        this.pending.push_back(Err(err));
                        this.done = true;
                        continue;
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
