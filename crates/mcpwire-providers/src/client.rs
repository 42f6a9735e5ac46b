//! The HTTP client: render, authenticate, send with retries under one deadline, read a whole
//! response (bounded) or open a stream. The run loop over turns is in [`crate::run`].

use std::sync::Arc;

use futures_util::StreamExt;
use mcpwire_auth::{Resolved, Secret};
use mcpwire_normalize::{FinalResponse, StreamNormalizer};
use mcpwire_normalize::{anthropic as norm_anthropic, openai as norm_openai};
use mcpwire_schema::decode;
use mcpwire_schema::event::{Event, Vendor};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tracing::{Instrument, debug, trace, warn};

use crate::config::{ClientConfig, Endpoint};
use crate::error::{Error, ErrorKind, excerpt, from_response};
use crate::origin::origin;
use crate::render::{self, Warning};
use crate::request::McpRequest;
use crate::retry::{Deadline, backoff, check_retry_after, retry_after};
use crate::run::{Continuation, span};
use crate::stream::EventStream;

/// How much of an error body is read (the excerpt shown is shorter).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A whole (non-streamed) response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response {
    /// The normalised events.
    pub events: Vec<Event<'static>>,
    /// The vendor's response, typed (lossless: serialising it gives the vendor's JSON back).
    pub body: FinalResponse,
    /// The vendor's request id.
    pub request_id: Option<String>,
    /// Fields converted or dropped in lossy rendering.
    pub warnings: Vec<Warning>,
}

/// Sends neutral requests to either vendor. Cheap to clone: one shared connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    pub(crate) config: Arc<ClientConfig>,
}

/// A request ready to send. The secrets are kept as [`Secret`]s, to scrub what comes back.
struct Prepared {
    url: String,
    headers: HeaderMap,
    body: Value,
    secrets: Vec<Secret>,
    warnings: Vec<Warning>,
}

/// A 2xx response head, with what is needed to read it.
pub(crate) struct Answer {
    response: reqwest::Response,
    secrets: Vec<Secret>,
    warnings: Vec<Warning>,
}

fn header(name: &str, value: &str, sensitive: bool) -> Result<(HeaderName, HeaderValue), Error> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid header name `{name}`"),
        )
    })?;
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        // Never echo the value: it may be a secret.
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid value for header `{name}`"),
        )
    })?;
    value.set_sensitive(sensitive);
    Ok((name, value))
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

    /// The endpoint of `vendor`; an error for a vendor this build cannot send to.
    fn endpoint(&self, vendor: Vendor) -> Result<&Endpoint, Error> {
        match vendor {
            Vendor::OpenAi => Ok(&self.config.openai),
            Vendor::Anthropic => Ok(&self.config.anthropic),
            other => Err(unsupported(other)),
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
        let endpoint = self.endpoint(vendor)?;
        let mut secrets: Vec<Secret> = Vec::new();
        let mut resolved = Vec::with_capacity(request.servers.len());
        for (i, server) in request.servers.iter().enumerate() {
            let url = server.url.as_deref().unwrap_or_default();
            let r = server
                .credentials
                .resolve(url, self.config.min_credential_ttl)
                .await
                .map_err(|e| Error::credentials(i, &server.name, e).vendor(vendor))?;
            match &r {
                Resolved::Bearer { token, .. } => secrets.push(token.clone()),
                Resolved::Headers(headers) => {
                    secrets.extend(headers.iter().map(|(_, v)| v.clone()))
                }
                _ => {}
            }
            resolved.push(r);
        }
        let base = endpoint.base_url.trim_end_matches('/');
        let mut headers = HeaderMap::new();
        let mut add = |name: &str, value: &str, sensitive: bool| -> Result<(), Error> {
            let (name, value) = header(name, value, sensitive)?;
            headers.append(name, value);
            Ok(())
        };
        add("content-type", "application/json", false)?;
        if stream {
            add("accept", "text/event-stream", false)?;
        }
        let (url, mut body, warnings) = match vendor {
            Vendor::Anthropic => {
                let rendered = render::anthropic(
                    request,
                    &resolved,
                    self.config.anthropic_beta,
                    &self.config.render,
                )?;
                for (name, value) in &rendered.headers {
                    add(name, value, false)?;
                }
                add("anthropic-version", "2023-06-01", false)?;
                if let Some(key) = &endpoint.api_key {
                    add("x-api-key", key.expose(), true)?;
                }
                (
                    format!("{base}/messages"),
                    encode(&rendered.body)?,
                    rendered.warnings,
                )
            }
            Vendor::OpenAi => {
                let rendered = render::openai(request, &resolved, &self.config.render)?;
                for (name, value) in &rendered.headers {
                    add(name, value, false)?;
                }
                if let Some(key) = &endpoint.api_key {
                    // Built inside a `Secret`, so that the copy is zeroised too.
                    let bearer = Secret::new(format!("Bearer {}", key.expose()));
                    add("authorization", bearer.expose(), true)?;
                }
                (
                    format!("{base}/responses"),
                    encode(&rendered.body)?,
                    rendered.warnings,
                )
            }
            other => return Err(unsupported(other)),
        };
        for (name, value) in &endpoint.headers {
            add(name, value.expose(), true)?;
            secrets.push(value.clone());
        }
        if let Some(key) = &endpoint.api_key {
            secrets.push(key.clone());
        }
        if let Some(object) = body.as_object_mut() {
            if stream {
                object.insert("stream".to_owned(), Value::Bool(true));
            } else {
                object.remove("stream");
            }
            if let Some(continuation) = continuation {
                continuation.apply(object);
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

    /// Sends with retries until `deadline`; returns a 2xx response head.
    pub(crate) async fn execute(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        stream: bool,
        continuation: Option<&Continuation>,
        deadline: Deadline,
    ) -> Result<Answer, Error> {
        let policy = self.config.retry;
        let mut attempt = 0u32;
        loop {
            if deadline.remaining().is_zero() {
                return Err(deadline.error(vendor));
            }
            // Fresh credentials on every attempt: an OAuth token may expire between retries.
            let prepared = self.prepare(vendor, request, stream, continuation).await?;
            let builder = self
                .http
                .post(&prepared.url)
                .headers(prepared.headers)
                .json(&prepared.body);
            let first_byte = self.config.timeouts.first_byte.min(deadline.remaining());
            let result = tokio::time::timeout(first_byte, builder.send()).await;
            // Every failure says whether it may be retried.
            let (mut err, retryable) = match result {
                Err(_) if deadline.remaining().is_zero() => return Err(deadline.error(vendor)),
                Err(_) => (
                    Error::new(
                        ErrorKind::Timeout,
                        format!("no response within {first_byte:?}"),
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
                        request_id = request_id(&response, &prepared.secrets)
                            .as_deref()
                            .unwrap_or(""),
                        "vendor answered"
                    );
                    return Ok(Answer {
                        response,
                        secrets: prepared.secrets,
                        warnings: prepared.warnings,
                    });
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let id = request_id(&response, &prepared.secrets);
                    let should_retry = response
                        .headers()
                        .get("x-should-retry")
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v == "true");
                    let delay = retry_after(response.headers());
                    let body = read_excerpt(response, ERROR_BODY_LIMIT, deadline).await;
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
            if let Some(asked) = err.inner.retry_after
                && let Err(why) = check_retry_after(&policy, &deadline, asked)
            {
                err.inner.message = format!("{} (not retried: {why})", err.inner.message);
                return Err(err);
            }
            let delay = backoff(&policy, attempt, err.inner.retry_after);
            if delay >= deadline.remaining() {
                return Err(err);
            }
            warn!(attempt = attempt + 1, kind = %err.inner.kind, status = err.inner.status.unwrap_or(0), delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Sends the request and waits for the whole response (whatever `request.stream` says).
    /// The body is read up to [`Limits::max_body`](crate::Limits::max_body), and the whole
    /// call ends by [`Timeouts::total`](crate::Timeouts::total).
    pub async fn send(&self, vendor: Vendor, request: &McpRequest) -> Result<Response, Error> {
        let deadline = Deadline::after(self.config.timeouts.total);
        self.send_turn(vendor, request, None, deadline)
            .instrument(span(vendor, request))
            .await
    }

    pub(crate) async fn send_turn(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        continuation: Option<&Continuation>,
        deadline: Deadline,
    ) -> Result<Response, Error> {
        let answer = self
            .execute(vendor, request, false, continuation, deadline)
            .await?;
        let request_id = request_id(&answer.response, &answer.secrets);
        let bytes = self
            .read_body(answer.response, vendor, request_id.as_deref(), deadline)
            .await?;
        let body = decode_final(vendor, &bytes, &answer.secrets, request_id.as_deref())?;
        drop(bytes);
        let events = match &body {
            FinalResponse::OpenAi(response) => norm_openai::normalize_response(response),
            // Results of calls made before a pause are attributed with the earlier content.
            FinalResponse::Anthropic(message) => norm_anthropic::normalize_message_with(
                message,
                &continuation
                    .and_then(Continuation::context)
                    .unwrap_or_default(),
            ),
            _ => return Err(unsupported(vendor)),
        };
        trace!(events = events.len(), "normalised");
        Ok(Response {
            events,
            body,
            request_id,
            warnings: answer.warnings,
        })
    }

    /// Sends the request as a stream (whatever `request.stream` says): raw vendor payloads and
    /// normalised events as they arrive. Retries happen only before the response head; once
    /// output has been delivered a failure ends the stream with an error. The stream ends
    /// with a timeout error at [`Timeouts::total`](crate::Timeouts::total). Dropping the
    /// stream cancels the request.
    pub async fn stream(&self, vendor: Vendor, request: &McpRequest) -> Result<EventStream, Error> {
        let deadline = Deadline::after(self.config.timeouts.total);
        self.stream_turn(vendor, request, None, deadline)
            .instrument(span(vendor, request))
            .await
    }

    pub(crate) async fn stream_turn(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        continuation: Option<&Continuation>,
        deadline: Deadline,
    ) -> Result<EventStream, Error> {
        let normalizer = match vendor {
            Vendor::OpenAi => StreamNormalizer::OpenAi(norm_openai::StreamNormalizer::new()),
            Vendor::Anthropic => {
                StreamNormalizer::Anthropic(norm_anthropic::StreamNormalizer::with_context(
                    continuation
                        .and_then(Continuation::context)
                        .unwrap_or_default(),
                ))
            }
            other => return Err(unsupported(other)),
        };
        let answer = self
            .execute(vendor, request, true, continuation, deadline)
            .await?;
        let request_id = request_id(&answer.response, &answer.secrets);
        let content_type = answer
            .response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.contains("json") || content_type.contains("html") {
            // A 200 that is not a stream: the vendor's (or a proxy's) error, shown as such.
            let status = answer.response.status().as_u16();
            let body = read_excerpt(answer.response, ERROR_BODY_LIMIT, deadline).await;
            return Err(not_a_stream(
                vendor,
                status,
                &content_type,
                &body,
                request_id,
                &answer.secrets,
            ));
        }
        Ok(EventStream::new(
            Box::pin(answer.response.bytes_stream()),
            normalizer,
            self.config.timeouts.idle,
            deadline,
            vendor,
            request_id,
            answer.warnings,
        ))
    }

    /// Reads a whole body: at most `limits.max_body` bytes, each chunk within the idle timeout,
    /// all of it before the deadline. One buffer; nothing is copied.
    async fn read_body(
        &self,
        response: reqwest::Response,
        vendor: Vendor,
        request_id: Option<&str>,
        deadline: Deadline,
    ) -> Result<Vec<u8>, Error> {
        let limit = self.config.limits.max_body;
        let idle = self.config.timeouts.idle;
        let too_large = || {
            Error::new(
                ErrorKind::TooLarge,
                format!(
                    "the response body is larger than the {limit}-byte limit (Limits::max_body, `mcpwire run --max-body`)"
                ),
            )
            .vendor(vendor)
            .with_request_id(request_id)
        };
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(limit));
        let mut stream = response.bytes_stream();
        loop {
            let wait = idle.min(deadline.remaining());
            match tokio::time::timeout(wait, stream.next()).await {
                Err(_) if deadline.remaining().is_zero() => {
                    return Err(deadline.error(vendor).with_request_id(request_id));
                }
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("body stalled for {idle:?}"),
                    )
                    .vendor(vendor)
                    .with_request_id(request_id));
                }
                Ok(None) => return Ok(body),
                Ok(Some(Ok(chunk))) => {
                    if body.len() + chunk.len() > limit {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(Some(Err(e))) => {
                    return Err(Error::new(
                        ErrorKind::Connect,
                        "connection broke while reading the body",
                    )
                    .vendor(vendor)
                    .with_request_id(request_id)
                    .with_source(e.without_url()));
                }
            }
        }
    }
}

fn encode(body: &impl serde::Serialize) -> Result<Value, Error> {
    serde_json::to_value(body)
        .map_err(|e| Error::new(ErrorKind::Other, "cannot encode the request").with_source(e))
}

/// The error for a vendor this build does not know.
pub(crate) fn unsupported(vendor: Vendor) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!("vendor `{vendor}` is not supported by this build"),
    )
}

/// The typed final response of a whole body; a 200 whose body is `{"error": ...}` is the
/// vendor's error.
fn decode_final(
    vendor: Vendor,
    bytes: &[u8],
    secrets: &[Secret],
    request_id: Option<&str>,
) -> Result<FinalResponse, Error> {
    let decoded = match vendor {
        Vendor::OpenAi => decode::from_slice(bytes).map(FinalResponse::OpenAi),
        Vendor::Anthropic => decode::from_slice(bytes).map(FinalResponse::Anthropic),
        other => return Err(unsupported(other)),
    };
    decoded.map_err(|e| {
        let text = String::from_utf8_lossy(bytes);
        if let Some(err) = error_body(vendor, 200, &text, request_id, secrets) {
            return err;
        }
        let mut err = Error::new(
            ErrorKind::Decode,
            format!("the response body is not a {vendor} response: {e}"),
        )
        .vendor(vendor)
        .with_request_id(request_id);
        err.inner.body = Some(excerpt(&text, secrets));
        err
    })
}

/// The vendor's error when a 2xx body is a JSON object with an `error` object (a failure
/// the vendor reported with a success status).
fn error_body(
    vendor: Vendor,
    status: u16,
    text: &str,
    request_id: Option<&str>,
    secrets: &[Secret],
) -> Option<Error> {
    let is_error = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("error").map(Value::is_object))
        .unwrap_or(false);
    if !is_error {
        return None;
    }
    let mut err = from_response(vendor, status, text, request_id.map(str::to_owned), secrets);
    if err.inner.kind == ErrorKind::Other {
        err.inner.kind = ErrorKind::Stream;
    }
    Some(err)
}

/// A 200 to a streamed request that is JSON or HTML instead of SSE.
fn not_a_stream(
    vendor: Vendor,
    status: u16,
    content_type: &str,
    body: &str,
    request_id: Option<String>,
    secrets: &[Secret],
) -> Error {
    if let Some(err) = error_body(vendor, status, body, request_id.as_deref(), secrets) {
        return err;
    }
    let mut err = Error::new(
        ErrorKind::Decode,
        format!("expected an SSE stream (text/event-stream), got {content_type}"),
    )
    .vendor(vendor)
    .with_request_id(request_id.as_deref());
    err.inner.status = Some(status);
    err.inner.body = Some(excerpt(body, secrets));
    err
}

/// The vendor's request id (`x-request-id` / `request-id`), scrubbed of what was sent: a
/// hostile endpoint may echo a key in it.
fn request_id(response: &reqwest::Response, secrets: &[Secret]) -> Option<String> {
    ["x-request-id", "request-id"].iter().find_map(|h| {
        response
            .headers()
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .map(|id| mcpwire_auth::redact::scrub(id, secrets))
    })
}

/// The first `limit` bytes of an error body (never fails: an error is being reported).
async fn read_excerpt(response: reqwest::Response, limit: usize, deadline: Deadline) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    let read = async {
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk);
            if body.len() >= limit {
                body.truncate(limit);
                break;
            }
        }
    };
    let _ = tokio::time::timeout_at(deadline.at(), read).await;
    String::from_utf8_lossy(&body).into_owned()
}
