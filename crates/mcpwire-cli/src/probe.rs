//! `mcpwire probe URL`: will this MCP server work through OpenAI and Anthropic? Runs
//! [`mcpwire_probe::probe`] and prints a table per vendor (each check `pass` / `warn` /
//! `fail` with one line of why, then a verdict), or with `--json` the report as one JSON
//! document. Exit 0 when every vendor probed would work, 1 when one would not, 2 for bad
//! arguments.
//!
//! Everything the server (or its authorization server) sent is escaped through [`term`]
//! before it reaches the terminal; in the JSON document the characters that drive a terminal
//! are written as `\u` escapes. Header values and tokens are never printed.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mcpwire_auth::OAuthConfig;
use mcpwire_probe::{Check, ProbeOptions, Report, Status, Target, ToolCall, Verdict, probe};
use mcpwire_schema::event::Vendor;

use crate::run::{seconds, secret};
use crate::term;

/// Which vendors to probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VendorChoice {
    /// The OpenAI Responses API `{"type":"mcp"}` tool.
    Openai,
    /// The Anthropic Messages API MCP connector.
    Anthropic,
    /// Both.
    Both,
}

/// `mcpwire probe` arguments.
#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// The MCP server URL, exactly as it would be placed in vendor requests.
    url: String,
    /// A header the caller would have the vendor send (OpenAI `headers`): K=V, repeatable.
    /// V may be `@FILE` or `env:VAR`, to keep it out of `ps`. Anthropic can send only a
    /// bearer token: an `Authorization: Bearer` header becomes its token, others are dropped
    /// (and reported).
    #[arg(long = "header", value_name = "K=V")]
    headers: Vec<String>,
    /// A bearer token (OpenAI `authorization`, Anthropic `authorization_token`); `@FILE` or
    /// `env:VAR`.
    #[arg(long, value_name = "TOKEN", conflicts_with = "login")]
    token: Option<String>,
    /// Use the token `mcpwire auth login URL` stored for this server (refreshed when needed).
    #[arg(long)]
    login: bool,
    /// The token store for --login: `file:` (default), `file:PATH`, `redis://...`.
    #[arg(
        long,
        env = "MCPWIRE_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    store: Option<String>,
    /// The vendors to probe.
    #[arg(long, value_enum, default_value_t = VendorChoice::Both)]
    vendor: VendorChoice,
    /// After listing, call TOOL with ARGS (a JSON object), e.g. `--call search '{"q":"x"}'`.
    #[arg(long, num_args = 2, value_names = ["TOOL", "ARGS"])]
    call: Option<Vec<String>>,
    /// Seconds to wait for any one HTTP exchange with the server.
    #[arg(long, value_name = "SECS", default_value = "15", value_parser = seconds)]
    timeout: Duration,
    /// Print the report as one JSON document instead of tables.
    #[arg(long)]
    json: bool,
}

/// The probe's inputs from the arguments, or what is wrong with them.
fn options(args: &ProbeArgs) -> Result<(Target, ProbeOptions), String> {
    let mut target = Target::new(args.url.clone());
    for header in &args.headers {
        let (name, value) = header
            .split_once('=')
            .filter(|(n, v)| !n.trim().is_empty() && !v.is_empty())
            .ok_or_else(|| {
                let name = header.split_once('=').map_or("", |(n, _)| n);
                format!("--header: expected K=V, got `{name}=...`")
            })?;
        target = target.with_header(name.trim(), secret(value, "--header")?);
    }
    if let Some(token) = &args.token {
        target = target.with_bearer(secret(token, "--token")?);
    }
    let vendors = match args.vendor {
        VendorChoice::Openai => vec![Vendor::OpenAi],
        VendorChoice::Anthropic => vec![Vendor::Anthropic],
        VendorChoice::Both => vec![Vendor::OpenAi, Vendor::Anthropic],
    };
    let mut options = ProbeOptions::default()
        .with_vendors(vendors)
        .with_timeout(args.timeout);
    if let Some(call) = &args.call {
        let [tool, arguments] = call.as_slice() else {
            return Err("--call: expected TOOL ARGS".to_owned());
        };
        let arguments: serde_json::Value = serde_json::from_str(arguments)
            .map_err(|e| format!("--call: ARGS is not JSON: {e}"))?;
        if !arguments.is_object() {
            return Err("--call: ARGS must be a JSON object".to_owned());
        }
        options = options.with_call(ToolCall::new(tool.clone(), arguments));
    }
    Ok((target, options))
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        _ => "FAIL",
    }
}

fn verdict_label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Works => "works",
        Verdict::WorksWithWarnings => "works, with warnings",
        _ => "would not work",
    }
}

fn vendor_name(vendor: Vendor) -> &'static str {
    mcpwire_probe::rules::rules_for(vendor).map_or("?", |r| r.name)
}

/// At most this many items under a check.
const ITEMS_SHOWN: usize = 5;

fn write_check(out: &mut impl Write, check: &Check) -> io::Result<()> {
    writeln!(
        out,
        "  {:<4}  {:<16} {}",
        status_label(check.status),
        check.id.as_str(),
        term::line(&check.why)
    )?;
    if check.items.len() > 1 {
        for item in check.items.iter().take(ITEMS_SHOWN) {
            writeln!(out, "{:24}- {}", "", term::line(item))?;
        }
        if check.items.len() > ITEMS_SHOWN {
            writeln!(
                out,
                "{:24}... and {} more",
                "",
                check.items.len() - ITEMS_SHOWN
            )?;
        }
    }
    Ok(())
}

/// The tables: one per vendor, then the verdict line.
fn write_tables(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "server: {}", term::line(&report.server))?;
    for v in &report.vendors {
        writeln!(out, "\n{}:", vendor_name(v.vendor))?;
        for check in &v.checks {
            write_check(out, check)?;
        }
        writeln!(out, "  => {}", verdict_label(v.verdict))?;
    }
    let parts: Vec<String> = report
        .vendors
        .iter()
        .map(|v| format!("{} {}", vendor_name(v.vendor), verdict_label(v.verdict)))
        .collect();
    writeln!(out, "\nverdict: {}", parts.join("; "))
}

/// JSON text with the characters that drive a terminal (C1 controls, DEL, bidirectional
/// overrides) written as `\u` escapes; they can only occur inside strings, where the escape
/// means the same character.
fn terminal_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs `mcpwire probe`.
pub(crate) fn run(args: ProbeArgs) -> io::Result<ExitCode> {
    let (mut target, options) = match options(&args) {
        Ok(pair) => pair,
        Err(message) => {
            writeln!(io::stderr(), "mcpwire probe: {}", term::line(&message))?;
            return Ok(ExitCode::from(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            writeln!(io::stderr(), "mcpwire probe: {e}")?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let report = runtime.block_on(async {
        if args.login {
            let client = crate::auth::client_over(OAuthConfig::default(), args.store.as_deref())
                .await
                .map_err(|e| format!("--login: {}", crate::run::report(&e)))?;
            let (token, _) = client
                .access_token(&args.url, Duration::from_secs(60))
                .await
                .map_err(|e| format!("--login: {}", crate::run::report(&e)))?;
            target = target.with_bearer(token);
        }
        Ok::<Report, String>(probe(&target, &options).await)
    });
    let report = match report {
        Ok(r) => r,
        Err(message) => {
            writeln!(io::stderr(), "mcpwire probe: {message}")?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut out = io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
        writeln!(out, "{}", terminal_safe_json(&json))?;
    } else {
        write_tables(&mut out, &report)?;
    }
    out.flush()?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_made_terminal_safe_and_stays_json() {
        let json =
            serde_json::to_string(&serde_json::json!({"why": "a\u{202e}b\u{9b}c\u{7f}"})).unwrap();
        let safe = terminal_safe_json(&json);
        assert_eq!(safe, r#"{"why":"a\u202eb\u009bc\u007f"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["why"], "a\u{202e}b\u{9b}c\u{7f}");
    }
}
