//! `mcpwire translate --to anthropic|openai [--anthropic-beta VERSION] [--lossy] FILE`: read an
//! OpenAI Responses body, an Anthropic Messages body or a neutral request file, print the body
//! for the other vendor.
//!
//! stdout: the translated JSON body (pretty). stderr: one `warning: <field>: <what>` line per
//! field the target does not receive, then the HTTP headers the body needs as
//! `# <name>: <value>` lines. On failure: one `mcpwire translate: <field>: <why>` line, exit 1.

use std::process::ExitCode;

use mcpwire_providers::render::{RenderError, RenderOptions};
use mcpwire_providers::translate::{self, Source, TranslateError};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::Vendor;

/// Translates `file` (`-` for stdin) to `to`. `beta` is the target Anthropic beta; without it
/// an Anthropic source keeps its own (detected from the body's shape) and anything else gets
/// [`translate::DEFAULT_BETA`]. `lossy` converts capability gaps with warnings instead of
/// failing.
pub(crate) fn run(file: &str, to: Vendor, beta: Option<BetaVersion>, lossy: bool) -> ExitCode {
    let bytes = match crate::read_input(file) {
        Ok(bytes) => bytes,
        Err(err) => return fail(&format!("cannot read {file}: {err}")),
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
            return fail(&format!(
                "{err} (--lossy converts or drops it with a warning)"
            ));
        }
        Err(err) => return fail(&err.to_string()),
    };
    let text = match serde_json::to_string_pretty(&out.body) {
        Ok(text) => text,
        Err(err) => return fail(&format!("cannot write JSON: {err}")),
    };
    for warning in &out.warnings {
        eprintln!("warning: {warning}");
    }
    for (name, value) in &out.headers {
        eprintln!("# {name}: {value}");
    }
    println!("{text}");
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("mcpwire translate: {message}");
    ExitCode::FAILURE
}
