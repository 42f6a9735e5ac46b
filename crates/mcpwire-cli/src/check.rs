//! `mcpwire check FILE...`.

use std::io::{self, Write};
use std::process::ExitCode;

use mcpwire_schema::check;

use crate::term;

/// Checks every file; one line per file, `FAIL <file>: <json path>: <why>` for failures. An
/// error writing the report stops the command (see `main`).
pub(crate) fn run(files: &[String], quiet: bool) -> io::Result<ExitCode> {
    let mut out = io::stdout().lock();
    let mut failed = 0;
    for file in files {
        let result = crate::read_input(file)
            .map_err(|err| format!("cannot read: {err}"))
            .and_then(|bytes| check::check(&bytes).map_err(|err| err.to_string()));
        match result {
            Ok(report) => {
                if quiet {
                    continue;
                }
                let mut line = format!("ok    {file}: {}", report.kind);
                if let Some(n) = report.array_len {
                    line.push_str(&format!(" (array of {n})"));
                }
                if let Some(n) = report.events {
                    line.push_str(&format!(", {n} events"));
                }
                line.push_str(", round trip ok");
                let summary = report.summary();
                if summary.is_empty() {
                    line.push_str(", nothing unknown");
                } else {
                    let kept: Vec<String> = summary
                        .iter()
                        .map(|(what, n)| format!("{what} (x{n})"))
                        .collect();
                    line.push_str(&format!(", kept unknown: {}", kept.join(", ")));
                }
                writeln!(out, "{}", term::line(&line))?;
            }
            Err(err) => {
                failed += 1;
                writeln!(out, "FAIL  {file}: {}", term::line(&err))?;
            }
        }
    }
    out.flush()?;
    if failed == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        let _ = writeln!(io::stderr(), "{failed} of {} file(s) failed", files.len());
        Ok(ExitCode::FAILURE)
    }
}
