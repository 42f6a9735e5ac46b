//! Translates a hosted-MCP request body from one vendor to the other (or renders a neutral
//! request file for a vendor), the way `mcpwire translate` does. Strict: a field the target
//! cannot express is an error naming it. Needs no `client` feature.
//!
//! ```sh
//! cargo run -p mcpwire-providers --example translate -- anthropic fixtures/openai/request.*.json
//! cargo run -p mcpwire-providers --example translate -- openai fixtures/neutral/basic.json
//! ```
//!
//! The body printed carries the source's static credentials, as the vendor needs them.

use std::process::ExitCode;

use mcpwire_providers::render::RenderOptions;
use mcpwire_providers::translate;
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::Vendor;

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints the body
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (to, file) = match args.as_slice() {
        [to, file] if to == "openai" => (Vendor::OpenAi, file),
        [to, file] if to == "anthropic" => (Vendor::Anthropic, file),
        _ => {
            eprintln!("usage: translate openai|anthropic FILE");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = RenderOptions::strict();
    match translate::translate(&bytes, to, BetaVersion::V2025_11_20, &options) {
        Ok(out) => {
            for (name, value) in &out.headers {
                eprintln!("header {name}: {value}");
            }
            for warning in &out.warnings {
                eprintln!("not carried over: {warning}");
            }
            println!("{}", out.body);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            ExitCode::FAILURE
        }
    }
}
