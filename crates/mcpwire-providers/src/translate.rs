//! Translating a request body from one vendor to the other (`mcpwire translate`): detect the
//! source (an OpenAI Responses body, an Anthropic Messages body and its MCP beta, or the neutral
//! [`crate::neutral`] form), parse it into the neutral request, render it for the target
//! with the static credentials it carries.
//!
//! ```
//! use mcpwire_providers::render::RenderOptions;
//! use mcpwire_providers::translate::{self, Source};
//! use mcpwire_schema::{anthropic::BetaVersion, event::Vendor};
//!
//! let body = br#"{"model": "gpt-5", "input": "Roll 2d4+1", "tools": [{"type": "mcp",
//!     "server_label": "dmcp", "server_url": "https://dmcp-server.deno.dev/sse",
//!     "allowed_tools": ["roll"], "require_approval": "never"}]}"#;
//! let out = translate::translate(body, Vendor::Anthropic, BetaVersion::V2025_11_20, &RenderOptions::strict())?;
//! assert_eq!(out.source, Source::OpenAi);
//! assert_eq!(out.body["mcp_servers"][0]["name"], "dmcp");
//! assert_eq!(out.body["tools"][0]["default_config"]["enabled"], false);
//! assert_eq!(out.headers[0].1, "mcp-client-2025-11-20");
//! # Ok::<(), translate::TranslateError>(())
//! ```

use std::fmt;

use mcpwire_auth::Resolved;
use mcpwire_schema::anthropic::{BetaVersion, CreateMessage};
use mcpwire_schema::check::{self, Kind};
use mcpwire_schema::decode::{self, DecodeError};
use mcpwire_schema::event::Vendor;
use mcpwire_schema::openai::CreateResponse;
use serde_json::Value;

use crate::neutral::{self, FileError};
use crate::render::{self, RenderError, RenderOptions, Rendered, Warning};
use crate::request::McpRequest;

/// The Anthropic beta used when neither the caller nor the source names one: the current
/// documented version.
pub const DEFAULT_BETA: BetaVersion = BetaVersion::V2025_11_20;

/// What a translated body was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// An OpenAI Responses request.
    OpenAi,
    /// An Anthropic Messages request, with the beta detected from its shape.
    Anthropic(BetaVersion),
    /// The neutral JSON file form.
    Neutral,
}

impl Source {
    /// The vendor, if the source is a vendor body.
    pub fn vendor(self) -> Option<Vendor> {
        match self {
            Source::OpenAi => Some(Vendor::OpenAi),
            Source::Anthropic(_) => Some(Vendor::Anthropic),
            Source::Neutral => None,
        }
    }
}

/// A translated request body. Its `Debug` leaves the body out (it holds credentials).
#[derive(Clone)]
#[non_exhaustive]
pub struct Translated {
    /// The target vendor's body. It carries the static credentials of the source: do not log it.
    pub body: Value,
    /// HTTP headers the body needs (`anthropic-beta`).
    pub headers: Vec<(String, String)>,
    /// What the target does not receive: fields without a neutral equivalent (when the target
    /// is another vendor) and capability gaps converted in lossy mode.
    pub warnings: Vec<Warning>,
    /// What the input was.
    pub source: Source,
}

impl fmt::Debug for Translated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Translated")
            .field("body", &"<omitted: holds credentials>")
            .field("headers", &self.headers)
            .field("warnings", &self.warnings)
            .field("source", &self.source)
            .finish()
    }
}

/// Why a body cannot be translated. Never contains a header value or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranslateError {
    /// Not JSON, or a request whose known fields are malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// JSON that is not a request body.
    #[error("not a request body: this is {0}")]
    NotARequest(String),
    /// A neutral file with an error.
    #[error(transparent)]
    File(#[from] FileError),
    /// Parsing or rendering failed (invalid request, or a capability gap in strict mode).
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Reads what `value` is: a vendor request (and its beta) or a neutral file.
pub fn detect_source(value: &Value) -> Result<Source, TranslateError> {
    if value.get("servers").is_some()
        && value.get("tools").is_none()
        && value.get("mcp_servers").is_none()
    {
        return Ok(Source::Neutral);
    }
    match check::detect(value)? {
        Kind::OpenAiRequest => Ok(Source::OpenAi),
        Kind::AnthropicRequest => {
            let body: CreateMessage = decode::from_value(value)?;
            Ok(Source::Anthropic(render::detect_beta(&body)))
        }
        other => Err(TranslateError::NotARequest(other.to_string())),
    }
}

/// Parses a request body (either vendor, or the neutral file form) into the neutral request,
/// with the warnings of parsing.
pub fn parse(body_json: &[u8]) -> Result<(McpRequest, Source, Vec<Warning>), TranslateError> {
    let value: Value = decode::from_slice(body_json)?;
    let source = detect_source(&value)?;
    let (request, warnings) = match source {
        Source::OpenAi => render::from_openai(&decode::from_value::<CreateResponse>(&value)?)?,
        Source::Anthropic(beta) => {
            render::from_anthropic(&decode::from_value::<CreateMessage>(&value)?, beta)?
        }
        Source::Neutral => (neutral::from_value(&value)?, Vec::new()),
    };
    Ok((request, source, warnings))
}

/// Resolves static credentials (none, bearer, headers) without IO, one per server, for
/// rendering offline. OAuth credentials are refused: the HTTP client resolves them.
pub fn resolve_static(request: &McpRequest) -> Result<Vec<Resolved>, RenderError> {
    render::parse_static_credentials(request)
}

/// A rendered body of either vendor. Typed, so credentials stay in
/// [`Sensitive`](mcpwire_schema::Sensitive) and `Debug` never shows them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VendorBody {
    /// `POST /v1/responses`.
    OpenAi(CreateResponse),
    /// `POST /v1/messages`.
    Anthropic(CreateMessage),
}

impl VendorBody {
    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        match self {
            VendorBody::OpenAi(_) => Vendor::OpenAi,
            VendorBody::Anthropic(_) => Vendor::Anthropic,
        }
    }

    /// The body as JSON, credentials included: send it, never log it.
    pub fn to_json(&self) -> Value {
        let value = match self {
            VendorBody::OpenAi(body) => serde_json::to_value(body),
            VendorBody::Anthropic(body) => serde_json::to_value(body),
        };
        // Wire types serialise into JSON without failing (string keys only).
        value.unwrap_or(Value::Null)
    }
}

/// Renders a neutral request for `to` (`beta` only matters for Anthropic) with its static
/// credentials ([`resolve_static`]).
pub fn render_to(
    request: &McpRequest,
    to: Vendor,
    beta: BetaVersion,
    options: &RenderOptions,
) -> Result<Rendered<VendorBody>, RenderError> {
    let credentials = resolve_static(request)?;
    match to {
        Vendor::OpenAi => {
            let out = render::openai(request, &credentials, options)?;
            Ok(Rendered {
                body: VendorBody::OpenAi(out.body),
                headers: out.headers,
                warnings: out.warnings,
            })
        }
        Vendor::Anthropic => {
            let out = render::anthropic(request, &credentials, beta, options)?;
            Ok(Rendered {
                body: VendorBody::Anthropic(out.body),
                headers: out.headers,
                warnings: out.warnings,
            })
        }
        other => Err(RenderError::Invalid {
            field: "vendor".to_owned(),
            message: format!("cannot render for `{other}`: not supported by this build"),
        }),
    }
}

/// Translates a request body to `to`: parse (detecting the source), then render.
///
/// `beta` is the target Anthropic beta (use the source's, from [`detect_source`], to keep it,
/// or [`DEFAULT_BETA`]). When the target is the source vendor, the body comes back equal
/// (except the documented normalisations: an absent OpenAI `require_approval` is written as
/// `"always"`, an absent Anthropic `max_tokens` as the default, a 2025-04-04
/// `tool_configuration` in its canonical form, and non-MCP tools after the MCP tools) and only
/// rendering warnings are reported;
/// otherwise the parse warnings list what the target does not receive.
pub fn translate(
    body_json: &[u8],
    to: Vendor,
    beta: BetaVersion,
    options: &RenderOptions,
) -> Result<Translated, TranslateError> {
    let (request, source, parse_warnings) = parse(body_json)?;
    let rendered = render_to(&request, to, beta, options)?;
    let mut warnings = if source.vendor() == Some(to) {
        Vec::new()
    } else {
        parse_warnings
    };
    warnings.extend(rendered.warnings);
    Ok(Translated {
        body: rendered.body.to_json(),
        headers: rendered.headers,
        warnings,
        source,
    })
}
