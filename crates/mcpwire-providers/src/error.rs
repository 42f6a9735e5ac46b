//! The client's error: opaque, with a [`kind`](Error::kind) to branch on, the HTTP status, the
//! vendor's request id, the MCP server it concerns when the vendor says, and a short excerpt of
//! the body from which every secret the client sent has been removed.

use std::fmt;
use std::time::Duration;

use mcpwire_schema::event::Vendor;

use crate::render::RenderError;

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The vendor rejected the API key (401/403), or MCP server credentials could not be
    /// obtained.
    Auth,
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
    /// A connect, first-byte or between-events timeout.
    Timeout,
    /// The response could not be decoded.
    Decode,
    /// An error event in the stream, after HTTP 200.
    Stream,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short lowercase name, e.g. `rate_limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::McpServer => "mcp_server",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Server => "server",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Decode => "decode",
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
        Error::new(ErrorKind::InvalidRequest, err.to_string()).with_source(err)
    }
}

/// Removes every occurrence of the given secrets from `text`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret.as_str(), "<redacted>");
    }
    out
}

/// The first `limit` characters of `text`.
pub(crate) fn excerpt(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_owned(),
    }
}

/// Classifies a vendor error response.
pub(crate) fn from_response(
    vendor: Vendor,
    status: u16,
    body: &str,
    request_id: Option<String>,
    secrets: &[String],
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
        match (status, error_type) {
            (_, "overloaded_error") | (529, _) => ErrorKind::Overloaded,
            (_, "rate_limit_error") | (429, _) => ErrorKind::RateLimited,
            (401 | 403, _) | (_, "authentication_error" | "permission_error") => ErrorKind::Auth,
            (408, _) | (504, _) | (_, "timeout_error") => ErrorKind::Timeout,
            (400..=499, _) => ErrorKind::InvalidRequest,
            (500..=599, _) => ErrorKind::Server,
            _ => ErrorKind::Other,
        }
    };
    let mut err = Error::new(kind, message).vendor(vendor);
    err.inner.status = Some(status);
    err.inner.request_id = request_id;
    err.inner.server = server;
    err.inner.body = Some(excerpt(&scrub(body, secrets), 512));
    err
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
