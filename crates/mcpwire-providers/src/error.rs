//! The client's error: opaque, with a [`kind`](Error::kind) to branch on, the HTTP status, the
//! vendor's request id, the MCP server it concerns when the vendor says, and a short excerpt of
//! the body from which every secret the client sent has been removed.

// Without the `client` feature only the type and `From<RenderError>` are used.
#![cfg_attr(not(feature = "client"), allow(dead_code))]

use std::fmt;
use std::time::Duration;

use mcpwire_auth::Secret;
use mcpwire_schema::event::Vendor;

use crate::render::RenderError;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The vendor rejected the API key (401/403), or MCP server credentials could not be
    /// obtained (the `mcpwire_auth::Error` is the [`source`](std::error::Error::source)).
    Auth,
    /// An MCP server needs a login first (`mcpwire auth login`), or its refresh token was
    /// rejected: no retry helps until someone logs in.
    LoginRequired,
    /// Rate limited (429).
    RateLimited,
    /// The vendor could not use an MCP server (OpenAI 424 `external_connector_error`, Anthropic
    /// "Connection error while communicating with MCP server", "Invalid authorization token for
    /// MCP server ...").
    McpServer,
    /// The request is invalid (400/404/422), or cannot be rendered for this vendor.
    InvalidRequest,
    /// The vendor is overloaded (529, `overloaded_error`).
    Overloaded,
    /// The vendor failed (5xx).
    Server,
    /// No connection, or it broke.
    Connect,
    /// A connect, first-byte or between-events timeout, or the overall deadline.
    Timeout,
    /// The response could not be decoded.
    Decode,
    /// The response body is larger than the configured limit.
    TooLarge,
    /// The vendor reported a failure after HTTP 200: an error event in the stream, a
    /// `response.failed`, a response with `status: "failed"`, or an `{"error": ...}` body.
    Stream,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short lowercase name, e.g. `rate_limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::LoginRequired => "login_required",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::McpServer => "mcp_server",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Server => "server",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Decode => "decode",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Stream => "stream",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the providers client. Never contains a header value, token or API key.
/// `Display` prints this error's own message; its cause, when there is one, is the
/// [`source`](std::error::Error::source) (not repeated in the message).
#[derive(Debug)]
pub struct Error {
    pub(crate) inner: Box<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) kind: ErrorKind,
    pub(crate) vendor: Option<Vendor>,
    pub(crate) status: Option<u16>,
    pub(crate) request_id: Option<String>,
    pub(crate) server: Option<String>,
    pub(crate) message: String,
    pub(crate) body: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                vendor: None,
                status: None,
                request_id: None,
                server: None,
                message: message.into(),
                body: None,
                retry_after: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<&str>) -> Self {
        self.inner.request_id = request_id.map(str::to_owned);
        self
    }

    pub(crate) fn vendor(mut self, vendor: Vendor) -> Self {
        self.inner.vendor = Some(vendor);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status, when the vendor answered.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The vendor's request id (`x-request-id` / `request-id`), for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The MCP server the error concerns, when the vendor names it.
    pub fn mcp_server(&self) -> Option<&str> {
        self.inner.server.as_deref()
    }

    /// The start of the vendor's error body, with every secret the client sent removed.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }

    /// The delay the vendor asked for (`retry-after`, `retry-after-ms`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The vendor.
    pub fn vendor_name(&self) -> Option<Vendor> {
        self.inner.vendor
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner.kind)?;
        if let Some(vendor) = self.inner.vendor {
            write!(f, " ({vendor}")?;
            if let Some(status) = self.inner.status {
                write!(f, " {status}")?;
            }
            f.write_str(")")?;
        }
        write!(f, ": {}", self.inner.message)?;
        if let Some(server) = &self.inner.server {
            write!(f, " [mcp server: {server}]")?;
        }
        if let Some(id) = &self.inner.request_id {
            write!(f, " [request id: {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<RenderError> for Error {
    fn from(err: RenderError) -> Self {
        Error::new(ErrorKind::InvalidRequest, "cannot render the request").with_source(err)
    }
}

impl Error {
    /// MCP server credentials could not be obtained for `servers[index]` (`name`): the auth
    /// error is kept as the source, and its kind decides ours (a login is needed, the network
    /// failed, or anything else about auth).
    pub(crate) fn credentials(index: usize, name: &str, err: mcpwire_auth::Error) -> Self {
        let kind = match &err {
            mcpwire_auth::Error::NotLoggedIn { .. }
            | mcpwire_auth::Error::LoginRequired { .. }
            | mcpwire_auth::Error::RefreshRejected => ErrorKind::LoginRequired,
            #[cfg(feature = "client")]
            mcpwire_auth::Error::Http { .. } => ErrorKind::Connect,
            _ => ErrorKind::Auth,
        };
        Error::new(
            kind,
            format!("servers[{index}] ({name}): cannot obtain credentials"),
        )
        .with_source(err)
    }

    /// The vendor reported a failure in a 200 response (an error event, a failed response).
    pub(crate) fn vendor_failure(vendor: Vendor, error_type: &str, message: &str) -> Self {
        let kind = match classify(None, error_type) {
            ErrorKind::Other => ErrorKind::Stream,
            kind => kind,
        };
        Error::new(kind, format!("{error_type}: {message}")).vendor(vendor)
    }
}

/// The start of `text` with every secret removed, for error excerpts.
pub(crate) fn excerpt(text: &str, secrets: &[Secret]) -> String {
    mcpwire_auth::redact::scrub_excerpt(text, secrets, 512)
}

/// The kind of a vendor error from its HTTP status (when there is one) and `error.type`.
fn classify(status: Option<u16>, error_type: &str) -> ErrorKind {
    match (status.unwrap_or(0), error_type) {
        (_, "overloaded_error") | (529, _) => ErrorKind::Overloaded,
        (_, "rate_limit_error" | "rate_limit_exceeded") | (429, _) => ErrorKind::RateLimited,
        (401 | 403, _) | (_, "authentication_error" | "permission_error") => ErrorKind::Auth,
        (408, _) | (504, _) | (_, "timeout_error") => ErrorKind::Timeout,
        (_, "invalid_request_error" | "not_found_error") | (400..=499, _) => {
            ErrorKind::InvalidRequest
        }
        (_, "api_error" | "server_error") | (500..=599, _) => ErrorKind::Server,
        _ => ErrorKind::Other,
    }
}

/// Classifies a vendor error response. Everything taken from it (message, body, request id)
/// is scrubbed of the secrets the client sent.
pub(crate) fn from_response(
    vendor: Vendor,
    status: u16,
    body: &str,
    request_id: Option<String>,
    secrets: &[Secret],
) -> Error {
    let value: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let error = value.as_ref().and_then(|v| v.get("error"));
    let error_type = error
        .and_then(|e| e.get("type"))
        .and_then(|t| t.as_str())
        .unwrap_or("");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
        .map_or_else(|| format!("HTTP {status}"), |m| scrub(m, secrets));
    let request_id = request_id.or_else(|| {
        value
            .as_ref()
            .and_then(|v| v.get("request_id"))
            .and_then(|r| r.as_str())
            .map(str::to_owned)
    });
    let (mcp, server) = mcp_failure(vendor, status, error_type, &message);
    let kind = if mcp {
        ErrorKind::McpServer
    } else {
        classify(Some(status), error_type)
    };
    let mut err = Error::new(kind, message).vendor(vendor);
    err.inner.status = Some(status);
    err.inner.request_id = request_id.map(|id| scrub(&id, secrets));
    err.inner.server = server;
    err.inner.body = Some(excerpt(body, secrets));
    err
}

fn scrub(text: &str, secrets: &[Secret]) -> String {
    mcpwire_auth::redact::scrub(text, secrets)
}

/// Whether a vendor error is about an MCP server, and which one when the message names it.
fn mcp_failure(
    vendor: Vendor,
    status: u16,
    error_type: &str,
    message: &str,
) -> (bool, Option<String>) {
    let quoted = |m: &str| -> Option<String> {
        let start = m.find('\'')? + 1;
        let end = m[start..].find('\'')? + start;
        Some(m[start..end].to_owned())
    };
    match vendor {
        Vendor::OpenAi if status == 424 || error_type == "external_connector_error" => {
            (true, quoted(message))
        }
        Vendor::Anthropic if message.contains("MCP server") || message.contains("mcp server") => (
            true,
            if message.contains("for MCP server '") {
                quoted(message)
            } else {
                None
            },
        ),
        _ => (false, None),
    }
}
