//! `mcpwire log FILE`: the gateway's audit file as per-request timelines, the same story the
//! gateway's `/ui` request page tells (both read the lines through
//! `mcpwire_gateway::records`). One block per request, oldest first: a header line (time,
//! request id, outcome, status, tenant, user, vendor, model, duration, tokens), a refusal's
//! reason, then each MCP event at its offset from the request's start, with its duration as a
//! bar. `--json` prints one JSON object per request instead. Colour only on a terminal;
//! everything from the file is escaped for the terminal first ([`term`]).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use mcpwire_gateway::records::{self, RequestRecord, Step, format_utc};

use crate::term;

/// `mcpwire log` arguments.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// The audit file (JSON Lines, `[audit] path` of the gateway), or `-` for standard input.
    file: String,
    /// Only this request id.
    #[arg(long, value_name = "ID")]
    request: Option<String>,
    /// One JSON object per request instead of text.
    #[arg(long)]
    json: bool,
}

/// How much of a file's end is read (an audit file grows without end).
const TAIL: u64 = crate::MAX_INPUT;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn outcome(&self, outcome: &str) -> String {
        self.outcome_padded(outcome, 0)
    }

    /// The outcome, coloured, padded to `width` columns.
    fn outcome_padded(&self, outcome: &str, width: usize) -> String {
        let text = format!("{:<width$}", term::line(outcome));
        let code = match outcome {
            "ok" | "listed" => "32",
            "unfinished" | "approval_requested" | "client_closed" | "incomplete" => "33",
            _ => "31;1",
        };
        self.wrap(code, &text)
    }

    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
}

use records::format_duration as ms;

/// A bar of `width` cells: where the step ran within the request.
fn bar(start: f64, took: f64, total: f64, width: usize) -> String {
    let total = total.max(1.0);
    let from = ((start / total) * width as f64)
        .floor()
        .clamp(0.0, width as f64 - 1.0) as usize;
    let len = ((took / total) * width as f64).ceil().max(1.0) as usize;
    let to = (from + len).min(width);
    let mut out = String::with_capacity(width + 2);
    out.push('|');
    for i in 0..width {
        out.push(if (from..to).contains(&i) { '=' } else { ' ' });
    }
    out.push('|');
    out
}

fn step_line(s: &Step, start: f64, total: f64, p: &Paint) -> String {
    let l = |t: &str| term::line(t).into_owned();
    let at = ms((s.start_ms - start).max(0.0));
    let server = s.server.as_deref().unwrap_or("?");
    let (what, target) = match s.event.as_str() {
        "tools_listed" => ("tools", l(server)),
        "approval_requested" => (
            "approval",
            format!("{}.{}", l(server), l(s.tool.as_deref().unwrap_or("?"))),
        ),
        _ => (
            "call",
            format!("{}.{}", l(server), l(s.tool.as_deref().unwrap_or("?"))),
        ),
    };
    let mut line = format!(
        "  {:>9}  {what:<8} {target:<20} {}",
        format!("+{at}"),
        p.outcome_padded(&s.outcome, 7)
    );
    if let Some(latency) = s.latency_ms {
        line.push_str(&format!(
            "  {:>8}  {}",
            ms(latency),
            p.dim(&bar(s.start_ms - start, latency, total, 20))
        ));
    }
    if let Some(n) = s.tools {
        line.push_str(&format!("  {n} tools"));
    }
    if s.approval_id.is_some() {
        line.push_str("  (approved)");
    }
    if let Some(e) = &s.error {
        line.push_str(&format!("  {}", p.wrap("31", &l(e))));
    }
    line
}

fn short(v: &serde_json::Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

fn request_block(r: &RequestRecord, p: &Paint) -> String {
    let l = |t: &str| term::line(t).into_owned();
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_owned(), l);
    let what = match (&r.vendor, &r.model) {
        (None, None) => format!("route {}", opt(&r.route)),
        (v, m) => format!("{} {}", opt(v), opt(m)),
    };
    let mut out = format!(
        "{}  {}  {} {}  tenant {}  user {}  {what}",
        format_utc(r.start_ms),
        p.wrap("1", &l(&r.request_id)),
        p.outcome(&r.outcome),
        r.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
        opt(&r.tenant),
        opt(&r.user),
    );
    if let Some(d) = r.duration_ms {
        out.push_str(&format!("  {}", ms(d)));
    }
    if r.input_tokens.is_some() || r.output_tokens.is_some() {
        out.push_str(&format!(
            "  {}/{} tokens",
            r.input_tokens.map_or("-".to_owned(), |n| n.to_string()),
            r.output_tokens.map_or("-".to_owned(), |n| n.to_string())
        ));
    }
    out.push('\n');
    if let Some(f) = &r.refused {
        out.push_str(&format!(
            "  refused: {}: {}",
            p.wrap("31", &l(&f.reason)),
            l(&f.message)
        ));
        if let Some(param) = &f.param {
            out.push_str(&format!(" (field {})", l(param)));
        }
        if let Some(target) = &f.target {
            out.push_str(&format!(" [{}]", l(target)));
        }
        out.push('\n');
    }
    if let Some(e) = &r.error {
        out.push_str(&format!("  vendor error: {}\n", p.wrap("31", &l(e))));
    }
    let total = r
        .steps
        .iter()
        .map(|s| s.ts_ms as f64 - r.start_ms)
        .chain(r.duration_ms)
        .fold(0.0, f64::max);
    for s in &r.steps {
        out.push_str(&step_line(s, r.start_ms, total, p));
        out.push('\n');
        if let Some(a) = &s.arguments {
            out.push_str(&format!("             arguments {}\n", l(&short(a))));
        }
        if let Some(o) = &s.output {
            out.push_str(&format!("             output    {}\n", l(&short(o))));
        }
    }
    out
}

/// Runs the command: exit 0, or 1 when the file cannot be read.
pub(crate) fn run(args: LogArgs) -> io::Result<ExitCode> {
    let lines = if args.file == "-" {
        let bytes = crate::read_input("-")?;
        records::parse_lines(&String::from_utf8_lossy(&bytes))
    } else {
        let path = std::path::Path::new(&args.file);
        match path.metadata() {
            Ok(meta) if meta.len() > TAIL => {
                let _ = writeln!(
                    io::stderr(),
                    "mcpwire log: {} is larger than {} MiB: reading its last {} MiB",
                    term::line(&args.file),
                    TAIL >> 20,
                    TAIL >> 20
                );
            }
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(io::stderr(), "mcpwire log: {}: {e}", term::line(&args.file));
                return Ok(ExitCode::FAILURE);
            }
        }
        match records::read_tail(path, TAIL) {
            Ok(lines) => lines,
            Err(e) => {
                let _ = writeln!(io::stderr(), "mcpwire log: {}: {e}", term::line(&args.file));
                return Ok(ExitCode::FAILURE);
            }
        }
    };
    let mut all = records::group(&lines);
    all.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    if let Some(id) = &args.request {
        all.retain(|r| &r.request_id == id);
    }
    let mut out = io::stdout().lock();
    let paint = Paint {
        on: !args.json && io::stdout().is_terminal(),
    };
    for (i, r) in all.iter().enumerate() {
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::to_string(r).map_err(io::Error::other)?
            )?;
        } else {
            if i > 0 {
                writeln!(out)?;
            }
            write!(out, "{}", request_block(r, &paint))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_place_the_step_within_the_request() {
        assert_eq!(bar(0.0, 50.0, 100.0, 10), "|=====     |");
        assert_eq!(bar(90.0, 0.0, 100.0, 10), "|         =|");
        assert_eq!(bar(50.0, 500.0, 100.0, 4), "|  ==|");
    }

    #[test]
    fn remote_text_cannot_drive_the_terminal() {
        let lines = records::parse_lines(
            "{\"event\":\"refusal\",\"request_id\":\"r\\u001b[2J\",\"ts_ms\":1,\"reason\":\"x\",\"message\":\"m\\u001b]0;t\\u0007\"}",
        );
        let all = records::group(&lines);
        let block = request_block(&all[0], &Paint { on: false });
        assert!(
            !block.contains('\x1b') && !block.contains('\x07'),
            "{block}"
        );
        assert!(block.contains("r\\u{1b}[2J"));
    }
}
