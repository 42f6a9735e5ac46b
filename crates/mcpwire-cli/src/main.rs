//! `mcpwire`: check, normalise and (soon) send hosted-MCP payloads from the command line.
//!
//! The only crate that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod auth;
mod check;
mod demo;
mod gateway;
mod log;
mod normalize;
mod probe;
mod run;
mod term;
mod translate;

/// Hosted MCP through vendor APIs, without the glue.
#[derive(Debug, Parser)]
#[command(name = "mcpwire", version, about)]
struct Cli {
    /// Log to stderr: -v info, -vv debug, -vvv trace. `RUST_LOG` (e.g. `RUST_LOG=debug`,
    /// `RUST_LOG=mcpwire_providers=trace`) takes precedence. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    Auth(auth::AuthArgs),
    /// Will this MCP server work through OpenAI and Anthropic? Connects the way each vendor's
    /// hosted client does and checks transport, protocol, auth, tools; exit 0 when it would.
    Probe(probe::ProbeArgs),
    /// Print the gateway's audit file as per-request timelines (time, tenant, user, vendor,
    /// model, outcome, duration, tokens; each MCP listing, call and approval with its
    /// duration), or one JSON object per request with --json.
    Log(log::LogArgs),
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
    logging(cli.verbose);
    let result = match cli.command {
        Command::Check { files, quiet } => check::run(&files, quiet),
        Command::Normalize {
            from,
            settled,
            file,
        } => normalize::run(&file, from, settled),
        Command::Auth(command) => auth::run(command).into_result(),
        Command::Probe(args) => probe::run(args),
        Command::Run(args) => run::run(*args),
        Command::Demo => demo::run_demo(),
        Command::Translate {
            to,
            anthropic_beta,
            lossy,
            file,
        } => translate::run(&file, to, anthropic_beta, lossy),
        Command::Sim { port } => demo::run_sim(port),
        Command::Gateway(args) => gateway::run(args).into_result(),
        Command::Log(args) => log::run(args),
    };
    exit(result)
}

/// What a subcommand returns: an exit code, or the error that stopped its output.
trait Outcome {
    fn into_result(self) -> io::Result<ExitCode>;
}

impl Outcome for ExitCode {
    fn into_result(self) -> io::Result<ExitCode> {
        Ok(self)
    }
}

impl Outcome for io::Result<ExitCode> {
    fn into_result(self) -> io::Result<ExitCode> {
        self
    }
}

/// The exit code for a subcommand's result: a reader that closed the pipe early ends the
/// command quietly (exit 0, as `head` expects); any other output error (a full disk) is one
/// line on stderr and exit 1. Never a panic.
fn exit(result: io::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "mcpwire: cannot write the output: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A log subscriber on stderr: `RUST_LOG` when set, else the level `-v` asks for (nothing
/// without it). What the crates log is already free of secrets (origins only, no header
/// values, no tokens); the no-leak tests check it at TRACE.
fn logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().ok().or_else(|| {
        let level = match verbose {
            0 => return None,
            1 => "info",
            2 => "debug",
            _ => "trace",
        };
        Some(EnvFilter::new(level))
    });
    if let Some(filter) = filter {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(io::stderr)
            .try_init();
    }
}

/// The most read from a whole-JSON input (`check`, `normalize` of a JSON file, `translate`):
/// 64 MiB. A larger input is refused with a clear error instead of exhausting memory.
pub(crate) const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// The error for an input over [`MAX_INPUT`].
pub(crate) fn too_large() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "input larger than the {} MiB limit for a whole JSON document",
            MAX_INPUT / (1024 * 1024)
        ),
    )
}

/// Appends what is left of `input` to `bytes`, at most [`MAX_INPUT`] bytes in all.
pub(crate) fn read_bounded(input: impl Read, bytes: &mut Vec<u8>) -> io::Result<()> {
    let room = MAX_INPUT.saturating_sub(bytes.len() as u64);
    input.take(room + 1).read_to_end(bytes)?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(too_large());
    }
    Ok(())
}

/// Reads a file, or standard input for `-`, up to [`MAX_INPUT`] bytes.
pub(crate) fn read_input(path: &str) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == "-" {
        read_bounded(io::stdin().lock(), &mut bytes)?;
    } else {
        read_bounded(std::fs::File::open(path)?, &mut bytes)?;
    }
    Ok(bytes)
}
