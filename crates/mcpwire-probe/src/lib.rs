//! Will this MCP server work through OpenAI and Anthropic? [`probe`] connects to a remote MCP
//! server the way each vendor's hosted MCP client does (the OpenAI Responses API's
//! `{"type":"mcp"}` tool, the Anthropic Messages API MCP connector): their `User-Agent` and
//! `clientInfo`, the protocol versions and openings they are known to send, the headers they
//! can and cannot carry, Streamable HTTP then the deprecated HTTP+SSE transport. It lists the
//! tools and, when asked, calls one, and checks per vendor:
//!
//! * the URL (scheme, a host the vendor can reach), the headers it would send;
//! * reachability and TLS, the transport, the protocol version agreed and how;
//! * auth: none, credentials accepted, or after a 401 the OAuth chain (challenge, RFC 9728
//!   protected resource metadata, authorization server metadata, PKCE S256, registration) with
//!   the exact link that breaks;
//! * every tool name and input schema against the vendor's constraints, the size of the
//!   listing, listing and call latency.
//!
//! Every vendor rule lives once in [`rules::RULES`], with its public source and whether it is
//! documented, observed or inferred (`docs/probe.md` has the same table).
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use mcpwire_auth::Secret;
//! use mcpwire_probe::{ProbeOptions, Target, probe};
//!
//! let target = Target::new("https://mcp.example.com/mcp").with_bearer(Secret::new("token"));
//! let report = probe(&target, &ProbeOptions::default().with_timeout(Duration::from_secs(10))).await;
//! if !report.ok {
//!     eprintln!("{}", report.summary());
//! }
//! let json = serde_json::to_string(&report).unwrap(); // what `mcpwire probe --json` prints
//! # let _ = json; }
//! ```
//!
//! [`probe`] never fails: every problem, bad input included, is a failing [`Check`] in the
//! [`Report`]. It never panics, prints or logs a secret; the report holds the server's origin,
//! never its path or query, and no header value or token.

mod auth;
mod mcp;
mod report;
pub mod rules;
mod run;
mod target;
mod tools;

pub use report::{Check, CheckId, Report, Status, VendorReport, Verdict};
pub use target::{ProbeOptions, Target, ToolCall};

use std::time::Duration;

use mcpwire_auth::Secret;
use mcpwire_auth::redact::scrub_excerpt;

/// Probes `target` for each vendor of `options`, in order.
pub async fn probe(target: &Target, options: &ProbeOptions) -> Report {
    let server = origin_of(&target.url);
    let mut vendors = Vec::new();
    let http = match mcp::Http::new(options.timeout, options.max_body) {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(error = %e, "probe: no HTTP client");
            None
        }
    };
    let mut seen = Vec::new();
    for vendor in &options.vendors {
        if seen.contains(vendor) {
            continue;
        }
        seen.push(*vendor);
        let Some(rules) = rules::rules_for(*vendor) else {
            continue;
        };
        let report = match &http {
            Some(http) => run::probe_vendor(rules, target, options, http).await,
            None => VendorReport {
                vendor: *vendor,
                checks: vec![Check::new(
                    CheckId::Reachability,
                    Status::Fail,
                    "no HTTP client could be built",
                )],
                protocol_version: None,
                tools: None,
                verdict: Verdict::Fails,
            },
        };
        tracing::info!(vendor = %vendor, verdict = report.verdict.as_str(), server = %server, "probe");
        vendors.push(report);
    }
    let ok = !vendors.is_empty() && vendors.iter().all(|v| v.verdict.works());
    Report {
        server,
        vendors,
        ok,
    }
}

/// `scheme://host[:port]` of a URL, or a placeholder when it does not parse.
pub(crate) fn origin_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.host().is_some() => u.origin().ascii_serialization(),
        _ => "(not a URL)".to_owned(),
    }
}

/// Remote text cut to `limit` characters.
pub(crate) fn remote(text: &str, limit: usize) -> String {
    scrub_excerpt(text, [], limit)
}

/// Remote text with the target's secrets removed, cut to `limit` characters.
pub(crate) fn scrubbed(text: &str, secrets: &[&Secret], limit: usize) -> String {
    scrub_excerpt(text, secrets.iter().copied(), limit)
}

/// `1 tool`, `2 tools`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `12 ms`, `3.4 s`.
pub(crate) fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// `900 B`, `12.5 KiB`, `1.2 MiB`.
pub(crate) fn bytes(n: usize) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{:.1} MiB", f / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(human(Duration::from_millis(12)), "12 ms");
        assert_eq!(human(Duration::from_millis(3400)), "3.4 s");
        assert_eq!(bytes(900), "900 B");
        assert_eq!(bytes(12_800), "12.5 KiB");
        assert_eq!(bytes(1024 * 1024 + 200 * 1024), "1.2 MiB");
        assert_eq!(
            origin_of("https://h.example/mcp/KEY?x=1"),
            "https://h.example"
        );
        assert_eq!(origin_of("nope"), "(not a URL)");
    }
}
