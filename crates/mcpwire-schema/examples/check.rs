//! Checks vendor payloads the way `mcpwire check` does: what each file is, whether it decodes
//! and round-trips, and what it holds that this version keeps without understanding.
//!
//! ```sh
//! cargo run -p mcpwire-schema --example check -- fixtures/openai/*.json fixtures/anthropic/*.sse
//! ```
//!
//! Exits 1 if any file fails, printing `FAIL <file>: <why>` for it.

use std::process::ExitCode;

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints its findings
fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: check FILE...");
        return ExitCode::from(2);
    }
    let mut failed = false;
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) => {
                println!("FAIL {file}: {e}");
                failed = true;
                continue;
            }
        };
        match mcpwire_schema::check::check(&bytes) {
            Ok(report) => {
                println!("ok   {file}: {}", report.kind);
                for (what, count) in report.summary() {
                    println!("       kept, not understood: {what} (x{count})");
                }
            }
            Err(e) => {
                println!("FAIL {file}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
