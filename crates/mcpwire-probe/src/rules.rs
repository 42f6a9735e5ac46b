//! What each vendor's hosted MCP client does and accepts: the one table ([`RULES`]) every
//! check reads. Each value names its public source next to it, and says whether it is
//! documented by the vendor, observed on the wire by others, or inferred by us;
//! `docs/probe.md` lists the same rules with the same sources.
//!
//! Nothing here is a guess presented as fact: where no vendor source exists the value is an
//! inference, marked [`Basis::Inferred`], and the checks built on it say so in their output.

use std::time::Duration;

use mcpwire_schema::event::Vendor;

/// How sure a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Basis {
    /// The vendor's own documentation says so.
    Documented,
    /// Seen on the wire by people running MCP servers (server logs, bug reports).
    Observed,
    /// Our inference from neighbouring documented behaviour; not confirmed for hosted MCP.
    Inferred,
}

impl Basis {
    /// `documented`, `observed` or `inferred`.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Documented => "documented",
            Basis::Observed => "observed",
            Basis::Inferred => "inferred",
        }
    }
}

/// How a vendor's client opens a connection: one way of agreeing on a protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Opening {
    /// The 2026-07-28 stateless revision: `server/discover` carrying the version in `_meta`,
    /// then every request carries it again; no `initialize`, no session.
    Discover {
        /// The version sent.
        version: &'static str,
    },
    /// The handshake of 2024-11-05 to 2025-11-25: `initialize` proposing a version, the
    /// server answering with the version it will speak, then `notifications/initialized`.
    Initialize {
        /// The version proposed.
        version: &'static str,
    },
}

impl Opening {
    /// The protocol version this opening sends.
    pub fn version(self) -> &'static str {
        match self {
            Opening::Discover { version } | Opening::Initialize { version } => version,
        }
    }

    /// `server/discover` or `initialize`.
    pub fn method(self) -> &'static str {
        match self {
            Opening::Discover { .. } => "server/discover",
            Opening::Initialize { .. } => "initialize",
        }
    }
}

/// One way a vendor's client opens a connection, with how sure we are that it does.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attempt {
    /// What is sent.
    pub opening: Opening,
    /// How sure we are that this vendor's hosted client sends it.
    pub basis: Basis,
    /// Where that comes from.
    pub source: &'static str,
}

/// A limit with a warning and a failure threshold.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Limit<T> {
    /// Above this: warn.
    pub warn: T,
    /// Above this: fail.
    pub fail: T,
    /// How sure we are.
    pub basis: Basis,
    /// Where it comes from.
    pub source: &'static str,
}

/// Everything the probe knows about one vendor's hosted MCP client.
#[derive(Debug)]
#[non_exhaustive]
pub struct VendorRules {
    /// The vendor.
    pub vendor: Vendor,
    /// Its name in sentences (`OpenAI`, `Anthropic`).
    pub name: &'static str,
    /// The `User-Agent` the client sends, if known.
    pub user_agent: Option<(&'static str, Basis, &'static str)>,
    /// `clientInfo` (`name`, `version`) it identifies with.
    pub client_info: (&'static str, &'static str, Basis, &'static str),
    /// The openings it is known or thought to use, in the order the probe tries them.
    pub attempts: &'static [Attempt],
    /// The versions it goes on with when a server answers `initialize` with another version
    /// than the one proposed (MCP lifecycle: the client disconnects from a version it does not
    /// support).
    pub accepts: (&'static [&'static str], Basis, &'static str),
    /// Whether it falls back to the deprecated HTTP+SSE transport (2024-11-05).
    pub legacy_sse: (bool, Basis, &'static str),
    /// Whether the caller can make it send arbitrary HTTP headers (else only a bearer token).
    pub custom_headers: (bool, Basis, &'static str),
    /// Whether the server URL must be `https://`.
    pub requires_https: (bool, Basis, &'static str),
    /// Tool names: the longest accepted, in characters.
    pub name_max: (usize, Basis, &'static str),
    /// Tool names: the characters accepted besides ASCII letters and digits.
    pub name_extra_chars: (&'static str, Basis, &'static str),
    /// Input schemas: whether `anyOf` / `oneOf` / `allOf` at the top level are refused.
    pub schema_no_root_combinators: (bool, Basis, &'static str),
    /// The number of tools, if the vendor caps it.
    pub tool_count: Option<Limit<usize>>,
    /// The size of the listing (the `tools` arrays as sent, in bytes).
    pub listing_bytes: Limit<usize>,
    /// How long listing the tools (all pages) may take.
    pub listing_time: Limit<Duration>,
    /// How long one tool call may take.
    pub call_time: Limit<Duration>,
}

/// An input schema must be a JSON Schema object with `"type": "object"`: the MCP schema
/// defines `Tool.inputSchema` that way (2025-03-26 and later), both vendors build their tool
/// definitions from it (OpenAI function `parameters`, Anthropic `input_schema`, both objects).
pub const SCHEMA_OBJECT_SOURCE: &str = "MCP schema `Tool.inputSchema` (type \"object\"); OpenAI function `parameters` and Anthropic `input_schema` are JSON Schema objects (vendor tool-use docs)";

const OPENAI_UA: &str = "openai-mcp/1.0.0";
const OPENAI_OBSERVED: &str = "User-Agent and clientInfo `openai-mcp/1.0.0` seen by MCP server operators, e.g. open-source server code detecting OpenAI's client by it (2025-2026)";

const SIZE_SOURCE: &str = "mcpwire heuristic: every tool definition is put in the model's context on each request (vendor tool-use docs); ~100 KiB is ~25k tokens, 1 MiB does not fit a 200k-token context";
const TIME_SOURCE: &str = "mcpwire heuristic: neither vendor documents its MCP timeouts; an Anthropic connector timeout was reported as an error (anthropics/anthropic-sdk-typescript#784), claude.ai connectors are reported to wait about 10 s";

/// Size and time limits: neither vendor documents one, so both get mcpwire's heuristic.
const LISTING_BYTES: Limit<usize> = Limit {
    warn: 100 * 1024,
    fail: 1024 * 1024,
    basis: Basis::Inferred,
    source: SIZE_SOURCE,
};
const LISTING_TIME: Limit<Duration> = Limit {
    warn: Duration::from_secs(3),
    fail: Duration::from_secs(10),
    basis: Basis::Inferred,
    source: TIME_SOURCE,
};
const CALL_TIME: Limit<Duration> = Limit {
    warn: Duration::from_secs(10),
    fail: Duration::from_secs(60),
    basis: Basis::Inferred,
    source: TIME_SOURCE,
};

/// The vendors' rules, one row each.
pub static RULES: [VendorRules; 2] = [
    VendorRules {
        vendor: Vendor::OpenAi,
        name: "OpenAI",
        user_agent: Some((OPENAI_UA, Basis::Observed, OPENAI_OBSERVED)),
        client_info: ("openai-mcp", "1.0.0", Basis::Observed, OPENAI_OBSERVED),
        attempts: &[
            Attempt {
                opening: Opening::Initialize {
                    version: "2025-11-25",
                },
                basis: Basis::Observed,
                source: "`initialize` from OpenAI's client in MCP server logs (Responses API, 2025: junksamiad/utjfc_reg_agent); proposing 2025-11-25 in 2026 reports from ChatGPT connectors (same client)",
            },
            Attempt {
                opening: Opening::Discover {
                    version: "2026-07-28",
                },
                basis: Basis::Inferred,
                source: "2026-07-28 `server/discover` seen from `openai-mcp/1.0.0` on ChatGPT connectors (2026 compatibility notes of MCP server projects); not documented for the Responses API",
            },
        ],
        accepts: (
            &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
            Basis::Inferred,
            "the versions released up to the one it proposes (MCP lifecycle); the guide names both Streamable HTTP (2025-03-26+) and HTTP/SSE (2024-11-05)",
        ),
        legacy_sse: (
            true,
            Basis::Documented,
            "OpenAI guide \"Connectors and MCP servers\": Streamable HTTP or HTTP/SSE transport",
        ),
        custom_headers: (
            true,
            Basis::Documented,
            "OpenAI Responses API `tools[].headers` and `authorization` (openai-openapi `MCPTool`)",
        ),
        requires_https: (
            false,
            Basis::Inferred,
            "not documented; plain http sends tokens and headers in clear text",
        ),
        name_max: (
            64,
            Basis::Inferred,
            "OpenAI function names: letters, digits, `_`, `-`, at most 64 (function calling guide); the Responses API refuses other tool names with `string does not match pattern '^[a-zA-Z0-9_-]+$'` (openai/codex#8174); applying it to listed MCP tools is our inference",
        ),
        name_extra_chars: ("_-", Basis::Inferred, "as above"),
        schema_no_root_combinators: (
            false,
            Basis::Inferred,
            "no report of OpenAI refusing them for non-strict tools",
        ),
        tool_count: Some(Limit {
            warn: 128,
            fail: usize::MAX,
            basis: Basis::Inferred,
            source: "OpenAI refuses more than 128 function tools (`Invalid 'tools': array too long ... maximum length 128`); reported for MCP listings too (0x4m4/hexstrike-ai#89), not documented; use allowed_tools",
        }),
        listing_bytes: LISTING_BYTES,
        listing_time: LISTING_TIME,
        call_time: CALL_TIME,
    },
    VendorRules {
        vendor: Vendor::Anthropic,
        name: "Anthropic",
        user_agent: None,
        client_info: (
            "Anthropic/API",
            "1.0.0",
            Basis::Observed,
            "clientInfo reported for the MCP connector in 2025 (discussion of anthropics/anthropic-sdk-typescript#784)",
        ),
        attempts: &[
            Attempt {
                opening: Opening::Initialize {
                    version: "2025-11-25",
                },
                basis: Basis::Observed,
                source: "claude.ai sends `initialize` with 2025-11-25 (anthropics/claude-ai-mcp#70, 2026); the API connector is Anthropic's same hosted client (inferred)",
            },
            Attempt {
                opening: Opening::Initialize {
                    version: "2025-03-26",
                },
                basis: Basis::Observed,
                source: "MCP connector `initialize` with 2025-03-26 reported in 2025 (discussion of anthropics/anthropic-sdk-typescript#784)",
            },
        ],
        accepts: (
            &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
            Basis::Inferred,
            "the versions released up to the one it proposes (MCP lifecycle); the docs name Streamable HTTP and SSE",
        ),
        legacy_sse: (
            true,
            Basis::Documented,
            "Anthropic MCP connector docs: Streamable HTTP or SSE transport",
        ),
        custom_headers: (
            false,
            Basis::Documented,
            "Anthropic `mcp_servers[]` has `authorization_token` (sent as a bearer token) and no header field (MCP connector docs)",
        ),
        requires_https: (
            true,
            Basis::Documented,
            "Anthropic MCP connector docs: the URL must start with https:// (an http URL drew a 400, anthropics/anthropic-sdk-python#1013)",
        ),
        name_max: (
            64,
            Basis::Observed,
            "Anthropic's hosted MCP client refuses tool names not matching `^[a-zA-Z0-9_-]{1,64}$` (`FrontendRemoteMcpToolDefinition.name`, anthropics/claude-code#36921, evoila/meho#2745: one bad name withholds the whole server); the Messages API's own tool-name pattern is the same family",
        ),
        name_extra_chars: ("_-", Basis::Observed, "as above"),
        schema_no_root_combinators: (
            true,
            Basis::Observed,
            "Messages API: `input_schema does not support oneOf, allOf, or anyOf at the top level` (anthropics/claude-code#40075, cloudflare/mcp-server-cloudflare#224); for the connector inferred",
        ),
        tool_count: None,
        listing_bytes: LISTING_BYTES,
        listing_time: LISTING_TIME,
        call_time: CALL_TIME,
    },
];

/// The rules of one vendor (`None` for a vendor this probe does not know yet).
pub fn rules_for(vendor: Vendor) -> Option<&'static VendorRules> {
    RULES.iter().find(|r| r.vendor == vendor)
}

impl VendorRules {
    /// Why a tool name is refused, if it is. Names are counted in characters.
    pub fn name_problem(&self, name: &str) -> Option<String> {
        let (max, _, _) = self.name_max;
        let (extra, _, _) = self.name_extra_chars;
        if name.is_empty() {
            return Some("empty name".to_owned());
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
        {
            let what = match c {
                ' ' => "a space".to_owned(),
                c if c.is_ascii_graphic() => format!("`{c}`"),
                c => format!("U+{:04X}", u32::from(c)),
            };
            return Some(format!(
                "contains {what} (allowed: letters, digits, {})",
                extra
                    .chars()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        let len = name.chars().count();
        (len > max).then(|| format!("{len} characters (at most {max})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_has_rules_and_sources() {
        for vendor in [Vendor::OpenAi, Vendor::Anthropic] {
            let r = rules_for(vendor).unwrap_or_else(|| panic!("no rules for {vendor}"));
            assert!(!r.attempts.is_empty());
            for a in r.attempts {
                assert!(!a.source.is_empty());
            }
            assert!(r.listing_bytes.warn < r.listing_bytes.fail);
            assert!(r.listing_time.warn < r.listing_time.fail);
        }
    }

    #[test]
    fn tool_names() {
        let r = rules_for(Vendor::Anthropic).unwrap();
        assert_eq!(r.name_problem("get_weather-2"), None);
        assert_eq!(
            r.name_problem("get weather").as_deref(),
            Some("contains a space (allowed: letters, digits, `_` `-`)")
        );
        assert!(r.name_problem("admin.tools.list").unwrap().contains("`.`"));
        assert!(r.name_problem("wetter\u{e9}").unwrap().contains("U+00E9"));
        assert_eq!(
            r.name_problem(&"a".repeat(65)).as_deref(),
            Some("65 characters (at most 64)")
        );
        assert_eq!(r.name_problem(&"a".repeat(64)), None);
        assert_eq!(r.name_problem("").as_deref(), Some("empty name"));
    }
}
