//! Rendering the neutral request into each vendor's body, and parsing a vendor body back into
//! the neutral form (so a request can be translated from one vendor to the other).
//!
//! Capability gaps are explicit: in [`Mode::Strict`] (the default) a field the target vendor
//! cannot express is an error naming the field; in [`Mode::Lossy`] it is converted or dropped
//! with a [`Warning`] per changed field.
//!
//! * [`openai()`] and [`anthropic()`] render a [`McpRequest`](crate::request::McpRequest) with the
//!   credentials the HTTP client resolved for this very request (`credentials[i]` belongs to
//!   `servers[i]`).
//! * [`from_openai`] and [`from_anthropic`] parse a vendor body back: what the neutral fields
//!   cannot hold goes into the request's `extra` maps (so the same vendor gets the same body
//!   back) and is reported as a [`Warning`] (because another vendor will not get it).
//!
//! ```
//! use mcpwire_auth::{Resolved, Secret};
//! use mcpwire_providers::render::{self, RenderOptions};
//! use mcpwire_providers::request::{McpRequest, McpServerSpec};
//! use mcpwire_schema::anthropic::BetaVersion;
//!
//! let request = McpRequest::new("claude-sonnet-4-5", "Roll 2d4+1")
//!     .server(McpServerSpec::new("dmcp", "https://dmcp-server.deno.dev/sse").allow_tools(["roll"]));
//! let creds = [Resolved::Bearer { token: Secret::new("planted-token-1"), expires_in: None }];
//! let out = render::anthropic(&request, &creds, BetaVersion::V2025_11_20, &RenderOptions::strict())?;
//! assert_eq!(out.headers, [("anthropic-beta".to_owned(), "mcp-client-2025-11-20".to_owned())]);
//! let body = serde_json::to_value(&out.body)?;
//! assert_eq!(body["max_tokens"], 4096);
//! assert_eq!(body["tools"][0]["configs"]["roll"]["enabled"], true);
//! assert!(!format!("{:?}", out.body).contains("planted-token-1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

mod anthropic;
mod common;
mod openai;
mod parse;

pub use self::anthropic::{DEFAULT_MAX_TOKENS, anthropic};
pub use self::openai::openai;
pub(crate) use self::parse::static_credentials as parse_static_credentials;
pub use self::parse::{detect_beta, from_anthropic, from_openai};

/// What to do with a field the target vendor cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Refuse: an error naming the field.
    #[default]
    Strict,
    /// Convert or drop it, with a warning.
    Lossy,
}

/// Rendering options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Strict or lossy.
    pub mode: Mode,
    /// Accept `http://` server URLs on loopback hosts for Anthropic (which requires https): for
    /// local simulators and tests only.
    pub allow_insecure_loopback: bool,
}

impl RenderOptions {
    /// Strict options.
    pub fn strict() -> Self {
        RenderOptions::default()
    }

    /// Lossy options.
    pub fn lossy() -> Self {
        RenderOptions {
            mode: Mode::Lossy,
            ..RenderOptions::default()
        }
    }
}

/// A field that was converted or dropped in lossy mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The neutral field, e.g. `servers[0].approval`.
    pub field: String,
    /// What happened to it.
    pub message: String,
}

impl Warning {
    /// A warning about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why a request cannot be rendered or parsed. Never contains a header value or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The target vendor cannot express this field (strict mode).
    #[error("{field}: {message}")]
    CapabilityGap {
        /// The neutral field.
        field: String,
        /// Why.
        message: String,
    },
    /// The request itself is invalid (duplicate server names, missing URL, ...).
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
}

/// A rendered vendor body with the HTTP headers it needs and the warnings of lossy mode.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rendered<T> {
    /// The body.
    pub body: T,
    /// Extra HTTP headers the body needs (e.g. `anthropic-beta`).
    pub headers: Vec<(String, String)>,
    /// Fields converted or dropped (lossy mode only).
    pub warnings: Vec<Warning>,
}
