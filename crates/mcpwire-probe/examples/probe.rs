//! Probes one MCP server for both vendors and prints the report as JSON:
//! `cargo run -p mcpwire-probe --example probe -- URL [TOKEN]` (exit 1 when a vendor would
//! not work). Without a URL it starts the demo MCP server of `mcpwire-sim` and probes that.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use mcpwire_auth::Secret;
use mcpwire_probe::{ProbeOptions, Target, probe};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let demo;
    let url = match args.next() {
        Some(url) => url,
        None => {
            demo = match mcpwire_sim::DemoServer::start(mcpwire_sim::DemoOptions::new()).await {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("cannot start the demo server: {e}");
                    return ExitCode::FAILURE;
                }
            };
            demo.url().to_owned()
        }
    };
    let mut target = Target::new(url);
    if let Some(token) = args.next() {
        target = target.with_bearer(Secret::new(token));
    }
    let report = probe(&target, &ProbeOptions::default()).await;
    match serde_json::to_string_pretty(&report) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("{e}"),
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
