//! What a [`Client`](crate::Client) is configured with: endpoints, retries, timeouts, limits.

use std::fmt;
use std::time::Duration;

use mcpwire_auth::Secret;
use mcpwire_schema::anthropic::BetaVersion;

use crate::origin::origin;
use crate::render::RenderOptions;

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
    /// The longest computed backoff.
    pub max_backoff: Duration,
    /// The longest `retry-after` / `retry-after-ms` honoured: a vendor asking for more (or for
    /// more than is left of [`Timeouts::total`]) ends the request with its error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Timeouts. A hosted MCP call can take a while, so first-byte and idle defaults are generous;
/// `total` bounds the whole call, retries and every turn of [`Client::run`](crate::Client::run)
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// Until the response head arrives.
    pub first_byte: Duration,
    /// Between two chunks of the body (between events when streaming).
    pub idle: Duration,
    /// The overall deadline of one `send`, `stream` (until its last event) or `run`, shared by
    /// every attempt and turn.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(300),
            idle: Duration::from_secs(120),
            total: Duration::from_secs(600),
        }
    }
}

/// Size limits on what the vendor sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest whole (non-streamed) response body read; a larger one fails with
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge). Streams are read event by event and
    /// are bounded by the SSE decoder instead.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 * 1024 * 1024,
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
    /// Size limits.
    pub limits: Limits,
    /// OAuth tokens with less than this left are refreshed before a request: the vendor cannot
    /// refresh mid-call, so this should exceed the longest call.
    pub min_credential_ttl: Duration,
    /// At most this many follow-up rounds in [`Client::run`](crate::Client::run) (OpenAI approvals, Anthropic
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
            limits: Limits::default(),
            min_credential_ttl: Duration::from_secs(300),
            max_approval_turns: 8,
        }
    }
}
