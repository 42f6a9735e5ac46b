//! `mcpwire`: check, normalise and (soon) send hosted-MCP payloads from the command line.
//!
//! The only crate that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod auth;
mod check;
mod normalize;

/// Hosted MCP through vendor APIs, without the glue.
#[derive(Debug, Parser)]
#[command(name = "mcpwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Detect what each file is, parse it with the typed schema, report what was kept without
    /// being modelled, and verify the round trip. Exit 0 only if every file passes.
    Check {
        /// Files to check (`-` for standard input).
        #[arg(required = true)]
        files: Vec<String>,
        /// Print only failures.
        #[arg(short, long)]
        quiet: bool,
    },
    /// OAuth tokens for MCP servers: login, token, status, logout.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Normalise a vendor response (JSON) or raw SSE stream to mcpwire events, one JSON object
    /// per line. Vendor and stream/whole are detected.
    Normalize {
        /// The vendor, when detection should not decide.
        #[arg(long, value_name = "openai|anthropic")]
        from: Option<mcpwire_schema::event::Vendor>,
        /// Drop the stream-only kinds (`call_started`, `call_arguments_delta`, `text_delta`).
        #[arg(long)]
        settled: bool,
        /// The input file, or `-` for standard input.
        file: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files, quiet } => check::run(&files, quiet),
        Command::Normalize {
            from,
            settled,
            file,
        } => normalize::run(&file, from, settled),
        Command::Auth(command) => auth::run(command),
    }
}

/// Reads a file, or standard input for `-`.
pub(crate) fn read_input(path: &str) -> std::io::Result<Vec<u8>> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}
