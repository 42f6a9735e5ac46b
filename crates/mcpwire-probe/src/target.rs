//! What to probe ([`Target`]: the URL and the credentials a caller would hand the vendor) and
//! how ([`ProbeOptions`]: vendors, timeout, an optional tool call).

use std::fmt;
use std::time::Duration;

use mcpwire_auth::Secret;
use mcpwire_schema::event::Vendor;

/// The server and the credentials a caller would put in the vendor request: static headers
/// (OpenAI `tools[].headers`) and a bearer token (OpenAI `authorization`, Anthropic
/// `authorization_token`). Values are [`Secret`]s; `Debug` shows header names only.
#[derive(Clone)]
#[non_exhaustive]
pub struct Target {
    /// The MCP server URL, exactly as it would be placed in the vendor request.
    pub url: String,
    /// Static headers (name, value).
    pub headers: Vec<(String, Secret)>,
    /// A bearer token.
    pub bearer: Option<Secret>,
}

impl Target {
    /// A server without credentials.
    pub fn new(url: impl Into<String>) -> Self {
        Target {
            url: url.into(),
            headers: Vec::new(),
            bearer: None,
        }
    }

    /// Adds a static header.
    pub fn with_header(mut self, name: impl Into<String>, value: Secret) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// Sets the bearer token.
    pub fn with_bearer(mut self, token: Secret) -> Self {
        self.bearer = Some(token);
        self
    }

    /// Every secret value of this target (for scrubbing remote text).
    pub(crate) fn secrets(&self) -> Vec<&Secret> {
        self.headers
            .iter()
            .map(|(_, v)| v)
            .chain(self.bearer.as_ref())
            .collect()
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Target")
            .field("url", &crate::origin_of(&self.url))
            .field("headers", &names)
            .field("bearer", &self.bearer.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// One tool call to make after listing (`mcpwire probe --call TOOL ARGS`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolCall {
    /// The tool name.
    pub name: String,
    /// The arguments (a JSON object).
    pub arguments: serde_json::Value,
}

impl ToolCall {
    /// A call with these arguments.
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        ToolCall {
            name: name.into(),
            arguments,
        }
    }
}

/// How to probe.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProbeOptions {
    /// The vendors to probe, in this order. Default: OpenAI, then Anthropic.
    pub vendors: Vec<Vendor>,
    /// The longest wait for any one HTTP exchange (connect, headers and body). Default 15 s.
    pub timeout: Duration,
    /// The most read from one response body. Default 4 MiB.
    pub max_body: usize,
    /// A tool call to make after listing.
    pub call: Option<ToolCall>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            vendors: vec![Vendor::OpenAi, Vendor::Anthropic],
            timeout: Duration::from_secs(15),
            max_body: 4 * 1024 * 1024,
            call: None,
        }
    }
}

impl ProbeOptions {
    /// Probes only these vendors.
    pub fn with_vendors(mut self, vendors: impl IntoIterator<Item = Vendor>) -> Self {
        self.vendors = vendors.into_iter().collect();
        self
    }

    /// Sets the per-exchange timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the body cap.
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Calls a tool after listing.
    pub fn with_call(mut self, call: ToolCall) -> Self {
        self.call = Some(call);
        self
    }
}
