//! The MCP connector beta versions.

use std::fmt;
use std::str::FromStr;

/// A version of the MCP connector beta, which knows its `anthropic-beta` header value.
///
/// ```
/// use mcpwire_schema::anthropic::BetaVersion;
/// let v: BetaVersion = "2025-11-20".parse().unwrap();
/// assert_eq!(v.header_value(), "mcp-client-2025-11-20");
/// assert_eq!("mcp-client-2026-09-15".parse::<BetaVersion>().unwrap(), BetaVersion::V2026_09_15);
/// assert!(v.uses_toolsets());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BetaVersion {
    /// `mcp-client-2025-04-04`: tool selection in `mcp_servers[].tool_configuration`
    /// (deprecated).
    V2025_04_04,
    /// `mcp-client-2025-11-20`: tool selection in `mcp_toolset` entries of `tools`.
    V2025_11_20,
    /// `mcp-client-2026-09-15`: adds `mcp_tool_listing` blocks and pinned toolset `tools`.
    V2026_09_15,
}

impl BetaVersion {
    /// Every known version, oldest first.
    pub const ALL: [BetaVersion; 3] = [
        BetaVersion::V2025_04_04,
        BetaVersion::V2025_11_20,
        BetaVersion::V2026_09_15,
    ];

    /// The newest version.
    pub const LATEST: BetaVersion = BetaVersion::V2026_09_15;

    /// The date, e.g. `2025-11-20`.
    pub fn date(self) -> &'static str {
        match self {
            BetaVersion::V2025_04_04 => "2025-04-04",
            BetaVersion::V2025_11_20 => "2025-11-20",
            BetaVersion::V2026_09_15 => "2026-09-15",
        }
    }

    /// The `anthropic-beta` header value, e.g. `mcp-client-2025-11-20`.
    pub fn header_value(self) -> &'static str {
        match self {
            BetaVersion::V2025_04_04 => "mcp-client-2025-04-04",
            BetaVersion::V2025_11_20 => "mcp-client-2025-11-20",
            BetaVersion::V2026_09_15 => "mcp-client-2026-09-15",
        }
    }

    /// `true` when tool selection lives in `mcp_toolset` entries (2025-11-20 and later).
    pub fn uses_toolsets(self) -> bool {
        self >= BetaVersion::V2025_11_20
    }

    /// `true` when responses carry `mcp_tool_listing` blocks and toolsets may pin `tools`.
    pub fn has_tool_listing(self) -> bool {
        self >= BetaVersion::V2026_09_15
    }

    /// Finds the MCP connector version in a (comma-separated) `anthropic-beta` header value.
    pub fn from_header(header: &str) -> Option<BetaVersion> {
        header.split(',').find_map(|part| part.trim().parse().ok())
    }
}

impl fmt::Display for BetaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_value())
    }
}

/// The error for a string that is not a known MCP connector beta.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "unknown MCP connector beta `{0}` (known: mcp-client-2025-04-04, mcp-client-2025-11-20, mcp-client-2026-09-15)"
)]
pub struct UnknownBeta(pub String);

impl FromStr for BetaVersion {
    type Err = UnknownBeta;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let date = s.strip_prefix("mcp-client-").unwrap_or(s);
        BetaVersion::ALL
            .into_iter()
            .find(|v| v.date() == date)
            .ok_or_else(|| UnknownBeta(s.to_owned()))
    }
}
