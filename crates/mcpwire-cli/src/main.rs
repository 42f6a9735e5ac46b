//! `mcpwire`: check, normalise and (soon) send hosted-MCP payloads from the command line.
//!
//! The only crate that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod auth;
mod check;
mod demo;
mod gateway;
mod normalize;
mod run;
mod translate;

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
    /// Send one prompt with MCP servers to OpenAI or Anthropic (or a gateway or simulator) and
    /// print the normalised events.
    Run(Box<run::RunArgs>),
    /// The whole path, offline: a demo MCP server and the vendor simulator on 127.0.0.1, one
    /// request through both simulated vendors, their events side by side.
    Demo,
    /// Run the vendor simulator (OpenAI and Anthropic APIs that really call MCP servers) and a
    /// demo MCP server on 127.0.0.1 until Ctrl-C.
    Sim {
        /// Port for the simulator (0: any free port).
        #[arg(long, default_value_t = 8787)]
        port: u16,
    },
    /// Translate a request body between vendors (OpenAI Responses, Anthropic Messages with its
    /// MCP beta, or the neutral file form): the body on stdout, warnings and headers on stderr.
    Translate {
        /// The target vendor.
        #[arg(long, value_name = "openai|anthropic")]
        to: mcpwire_schema::event::Vendor,
        /// The Anthropic MCP beta to render (default: the source's, else 2025-11-20).
        #[arg(long, value_name = "VERSION")]
        anthropic_beta: Option<mcpwire_schema::anthropic::BetaVersion>,
        /// Convert or drop what the target cannot express, with a warning, instead of failing.
        #[arg(long)]
        lossy: bool,
        /// The request body (`-` for standard input).
        file: String,
    },
    /// An HTTP gateway in front of OpenAI / Anthropic that holds the MCP credentials and vendor
    /// keys and enforces a per-tenant MCP policy; apps change only their SDK's base URL.
    Gateway(gateway::GatewayArgs),
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
        Command::Run(args) => run::run(*args),
        Command::Demo => demo::run_demo(),
        Command::Translate {
            to,
            anthropic_beta,
            lossy,
            file,
        } => translate::run(&file, to, anthropic_beta, lossy),
        Command::Sim { port } => demo::run_sim(port),
        Command::Gateway(args) => gateway::run(args),
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
