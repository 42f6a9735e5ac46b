//! What a probe found: a [`Report`] with one [`VendorReport`] per vendor, each a list of
//! [`Check`]s (`pass` / `warn` / `fail` and one line of why) and a [`Verdict`]. It serialises
//! to the document `mcpwire probe --json` prints, and holds no secret: no header value, no
//! token, no URL path or query (only the server's origin).

use serde::Serialize;

use mcpwire_schema::event::Vendor;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Fine.
    Pass,
    /// Works, with a caveat (or could not be checked without credentials).
    Warn,
    /// This vendor would not work with the server.
    Fail,
}

impl Status {
    /// `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// What is checked, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckId {
    /// The URL: scheme, and whether the vendor's servers can reach its host at all.
    Url,
    /// Which of the caller's headers the vendor's client would send.
    Headers,
    /// The server answers HTTP (TCP, TLS).
    Reachability,
    /// Streamable HTTP, the deprecated HTTP+SSE, or neither.
    Transport,
    /// A protocol version both sides speak, and how it was agreed.
    Protocol,
    /// No authorization, an accepted token, or an OAuth chain a token can be obtained through.
    Auth,
    /// `tools/list` answered (all pages).
    Listing,
    /// Every tool name against the vendor's pattern.
    ToolNames,
    /// Every input schema against the vendor's constraints.
    ToolSchemas,
    /// Size of the listing (and number of tools).
    ListingSize,
    /// How long listing the tools took.
    ListingLatency,
    /// The tool call asked for with `--call`.
    Call,
}

impl CheckId {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Url => "url",
            CheckId::Headers => "headers",
            CheckId::Reachability => "reachability",
            CheckId::Transport => "transport",
            CheckId::Protocol => "protocol",
            CheckId::Auth => "auth",
            CheckId::Listing => "listing",
            CheckId::ToolNames => "tool_names",
            CheckId::ToolSchemas => "tool_schemas",
            CheckId::ListingSize => "listing_size",
            CheckId::ListingLatency => "listing_latency",
            CheckId::Call => "call",
        }
    }
}

/// One check.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Check {
    /// What was checked.
    pub id: CheckId,
    /// The outcome.
    pub status: Status,
    /// One line of why. Text the server sent is included as sent (cut, with our secrets
    /// scrubbed); escape it before printing it to a terminal.
    pub why: String,
    /// Details, one per offending item (tool names, schemas), when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// How long the step took, in milliseconds, for timed steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

impl Check {
    /// A check without items or timing.
    pub fn new(id: CheckId, status: Status, why: impl Into<String>) -> Self {
        Check {
            id,
            status,
            why: why.into(),
            items: Vec::new(),
            elapsed_ms: None,
        }
    }

    pub(crate) fn with_items(mut self, items: Vec<String>) -> Self {
        self.items = items;
        self
    }

    pub(crate) fn with_elapsed(mut self, elapsed: std::time::Duration) -> Self {
        self.elapsed_ms = Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
        self
    }
}

/// Would the vendor work with this server?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Every check passed.
    Works,
    /// No check failed; some warned.
    WorksWithWarnings,
    /// At least one check failed.
    Fails,
}

impl Verdict {
    /// From the worst status of the checks.
    pub fn of(checks: &[Check]) -> Verdict {
        match checks.iter().map(|c| c.status).max() {
            Some(Status::Fail) => Verdict::Fails,
            Some(Status::Warn) => Verdict::WorksWithWarnings,
            _ => Verdict::Works,
        }
    }

    /// Whether the vendor would work (possibly with warnings).
    pub fn works(self) -> bool {
        self != Verdict::Fails
    }

    /// `works`, `works_with_warnings` or `fails`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Works => "works",
            Verdict::WorksWithWarnings => "works_with_warnings",
            Verdict::Fails => "fails",
        }
    }
}

/// What one vendor would make of the server.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct VendorReport {
    /// The vendor.
    pub vendor: Vendor,
    /// The checks, in the order they ran. A check that could not run because an earlier one
    /// failed is left out; one that needs credentials the probe was not given is a `warn`
    /// saying so.
    pub checks: Vec<Check>,
    /// The protocol version agreed, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// The number of tools listed, if listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<usize>,
    /// The verdict.
    pub verdict: Verdict,
}

impl VendorReport {
    /// The check with this id, if it ran.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }
}

/// The whole probe: one report per vendor probed.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The server's origin (`https://host[:port]`); the path and query are left out, as they
    /// may carry a key.
    pub server: String,
    /// One report per vendor, in the order asked for.
    pub vendors: Vec<VendorReport>,
    /// Whether every vendor probed would work (possibly with warnings).
    pub ok: bool,
}

impl Report {
    /// The report of one vendor, if it was probed.
    pub fn vendor(&self, vendor: Vendor) -> Option<&VendorReport> {
        self.vendors.iter().find(|v| v.vendor == vendor)
    }

    /// One line for a log: the verdict per vendor and the first failing check of each.
    ///
    /// ```
    /// # use mcpwire_probe::Report;
    /// # fn show(r: &Report) { let _ = r.summary(); }
    /// ```
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .vendors
            .iter()
            .map(|v| match v.failures().next() {
                Some(c) => format!(
                    "{}: {} ({}: {})",
                    v.vendor,
                    v.verdict.as_str(),
                    c.id.as_str(),
                    c.why
                ),
                None => format!("{}: {}", v.vendor, v.verdict.as_str()),
            })
            .collect();
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_is_the_worst_status() {
        let pass = Check::new(CheckId::Url, Status::Pass, "ok");
        let warn = Check::new(CheckId::Auth, Status::Warn, "hm");
        let fail = Check::new(CheckId::Transport, Status::Fail, "no");
        assert_eq!(Verdict::of(&[]), Verdict::Works);
        assert_eq!(Verdict::of(std::slice::from_ref(&pass)), Verdict::Works);
        assert_eq!(
            Verdict::of(&[pass.clone(), warn.clone()]),
            Verdict::WorksWithWarnings
        );
        assert_eq!(Verdict::of(&[warn, fail, pass]), Verdict::Fails);
        assert!(!Verdict::Fails.works());
        assert!(Verdict::WorksWithWarnings.works());
    }
}
