//! `mcpwire translate --to anthropic|openai [--anthropic-beta VERSION] [--lossy] FILE`: read an
//! OpenAI Responses body, an Anthropic Messages body or a neutral request file, print the body
//! for the other vendor.
//!
//! stdout: the translated JSON body (pretty). stderr: one `warning: <field>: <what>` line per
//! field the target does not receive, then the HTTP headers the body needs as
//! `# <name>: <value>` lines. On failure: one `mcpwire translate: <field>: <why>` line, exit 1.

use std::io::{self, Write};
use std::process::ExitCode;

use mcpwire_providers::render::{RenderError, RenderOptions};
use mcpwire_providers::translate::{self, Source, TranslateError};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::Vendor;

use crate::term;

/// Translates `file` (`-` for stdin) to `to`. `beta` is the target Anthropic beta; without it
/// an Anthropic source keeps its own (detected from the body's shape) and anything else gets
/// [`translate::DEFAULT_BETA`]. `lossy` converts capability gaps with warnings instead of
/// failing.
pub(crate) fn run(
    file: &str,
    to: Vendor,
    beta: Option<BetaVersion>,
    lossy: bool,
) -> io::Result<ExitCode> {
    let bytes = match crate::read_input(file) {
        Ok(bytes) => bytes,
        Err(err) => return Ok(fail(&format!("cannot read {file}: {err}"))),
    };
    let beta = beta.unwrap_or_else(|| {
        let source = serde_json::from_slice(&bytes)
            .ok()
            .and_then(|value| translate::detect_source(&value).ok());
        match source {
            Some(Source::Anthropic(beta)) => beta,
            _ => translate::DEFAULT_BETA,
        }
    });
    let options = if lossy {
        RenderOptions::lossy()
    } else {
        RenderOptions::strict()
    };
    let out = match translate::translate(&bytes, to, beta, &options) {
        Ok(out) => out,
        Err(err @ TranslateError::Render(RenderError::CapabilityGap { .. })) if !lossy => {
            return Ok(fail(&format!(
                "{err} (--lossy converts or drops it with a warning)"
            )));
        }
        Err(err) => return Ok(fail(&err.to_string())),
    };
    let text = match serde_json::to_string_pretty(&out.body) {
        Ok(text) => text,
        Err(err) => return Ok(fail(&format!("cannot write JSON: {err}"))),
    };
    let mut stderr = io::stderr();
    for warning in &out.warnings {
        let _ = writeln!(stderr, "warning: {}", term::line(&warning.to_string()));
    }
    for (name, value) in &out.headers {
        let _ = writeln!(stderr, "# {}: {}", term::line(name), term::line(value));
    }
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "mcpwire translate: {}", term::line(message));
    ExitCode::FAILURE
}
