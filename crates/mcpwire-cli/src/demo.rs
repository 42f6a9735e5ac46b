//! `mcpwire demo` and `mcpwire sim`: the whole path, offline. The demo starts the demo MCP
//! server (bearer-protected) and the vendor simulator on 127.0.0.1 ephemeral ports, sends one
//! neutral request through the providers crate to the simulated OpenAI and the simulated
//! Anthropic (streamed), prints the normalised events of both, and checks that the settled
//! event sequences agree.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use mcpwire_auth::{Credentials, Secret};
use mcpwire_providers::approval::ApproveAll;
use mcpwire_providers::render::RenderOptions;
use mcpwire_providers::request::{McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::{Event, EventBody, Vendor};
use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
use serde_json::{Value, json};

use crate::run::Printer;
use crate::term;

/// Why the demo stopped: its output failed (handled in `main`), or something else did.
enum Failure {
    Output(io::Error),
    Other(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Other(message)
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Failure::Output(err)
    }
}

/// The exit code for a result, or the output error for `main`.
fn finish(what: &str, result: Result<(), Failure>) -> io::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Failure::Output(err)) => Err(err),
        Err(Failure::Other(message)) => {
            let _ = writeln!(io::stderr(), "mcpwire {what}: {}", term::line(&message));
            Ok(ExitCode::FAILURE)
        }
    }
}

const DEMO_TOKEN: &str = "demo-token-not-a-secret";
const PROMPT: &str = "Echo a greeting and add two numbers.\ncall demo.echo {\"text\":\"hello from mcpwire\"}\ncall demo.add {\"a\":2,\"b\":3}";

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// What must agree between vendors: each settled event without ids, vendor or model.
fn projection(event: &Event<'_>) -> Option<Value> {
    if event.is_stream_only() {
        return None;
    }
    Some(match &event.body {
        EventBody::ResponseStarted { .. } => json!({"kind": "response_started"}),
        EventBody::ToolsListed { server, tools, .. } => {
            let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            json!({"kind": "tools_listed", "server": server, "tools": names})
        }
        EventBody::Call {
            server,
            tool,
            arguments,
            ..
        } => json!({"kind": "call", "server": server, "tool": tool, "arguments": arguments}),
        EventBody::CallResult {
            server,
            tool,
            is_error,
            content,
            ..
        } => {
            json!({"kind": "call_result", "server": server, "tool": tool, "is_error": is_error, "content": content})
        }
        EventBody::Text { text, .. } => json!({"kind": "text", "text": text}),
        EventBody::ResponseCompleted { stop, .. } => {
            json!({"kind": "response_completed", "stop": stop})
        }
        other => json!({"kind": other.kind()}),
    })
}

async fn demo() -> Result<(), Failure> {
    let mut out = io::stdout();
    let mcp = DemoServer::start(DemoOptions::new().with_token(DEMO_TOKEN))
        .await
        .map_err(|e| format!("demo MCP server: {e}"))?;
    let sim = Simulator::start(SimOptions::new().with_mcp_timeout(Duration::from_secs(10)))
        .await
        .map_err(|e| format!("simulator: {e}"))?;
    writeln!(out, "demo MCP server (bearer-protected): {}", mcp.url())?;
    writeln!(
        out,
        "vendor simulator: {}/v1/responses (OpenAI), {}/v1/messages (Anthropic)",
        sim.base_url(),
        sim.base_url()
    )?;
    writeln!(out, "prompt:\n  {}\n", PROMPT.replace('\n', "\n  "))?;

    let mut config = ClientConfig::default();
    let base = format!("{}/v1", sim.base_url());
    config.openai = Endpoint::openai()
        .base_url(&base)
        .api_key(Secret::new("sim-key"));
    config.anthropic = Endpoint::anthropic()
        .base_url(&base)
        .api_key(Secret::new("sim-key"));
    // The newest beta, so that Anthropic lists tools as OpenAI does.
    config.anthropic_beta = BetaVersion::V2026_09_15;
    let mut render = RenderOptions::strict();
    render.allow_insecure_loopback = true;
    config.render = render;
    let client = Client::new(config).map_err(|e| e.to_string())?;
    let request = McpRequest::new("sim-model", PROMPT)
        .server(
            McpServerSpec::new("demo", mcp.url())
                .credentials(Credentials::Bearer(Secret::new(DEMO_TOKEN))),
        )
        .max_output_tokens(1024)
        .stream(true);

    let mut outcomes: Vec<(Vendor, Vec<Event<'static>>)> = Vec::new();
    for vendor in [Vendor::OpenAi, Vendor::Anthropic] {
        writeln!(out, "== {vendor} (streamed) ==")?;
        let mut printer = Printer::new(false);
        let mut events = Vec::new();
        client
            .run(vendor, &request, Some(&ApproveAll), &mut |event: &Event<
                'static,
            >| {
                printer.print(event);
                events.push(event.clone());
            })
            .await
            .map_err(|e| format!("{vendor}: {}", crate::run::report(&e)))?;
        printer.end();
        printer.result()?;
        writeln!(out)?;
        outcomes.push((vendor, events));
    }

    let settled: Vec<Vec<Value>> = outcomes
        .iter()
        .map(|(_, events)| events.iter().filter_map(projection).collect())
        .collect();
    let kinds: Vec<&str> = settled[0]
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    if settled[0] == settled[1] {
        writeln!(
            out,
            "settled events agree across vendors ({} events): {}",
            settled[0].len(),
            kinds.join(" -> ")
        )?;
        Ok(())
    } else {
        for (i, (a, b)) in settled[0].iter().zip(&settled[1]).enumerate() {
            if a != b {
                return Err(Failure::Other(format!(
                    "settled events differ at {i}: openai {a} vs anthropic {b}"
                )));
            }
        }
        Err(Failure::Other(format!(
            "settled events differ in number: openai {} vs anthropic {}",
            settled[0].len(),
            settled[1].len()
        )))
    }
}

/// `mcpwire demo`.
pub(crate) fn run_demo() -> io::Result<ExitCode> {
    let result = match runtime() {
        Ok(rt) => rt.block_on(demo()),
        Err(e) => Err(Failure::Other(e.to_string())),
    };
    finish("demo", result)
}

/// `mcpwire sim [--port N]`: the simulator and a demo MCP server, until Ctrl-C.
pub(crate) fn run_sim(port: u16) -> io::Result<ExitCode> {
    let result = match runtime() {
        Ok(rt) => rt.block_on(async {
            let running = mcpwire_sim::run_standalone(port)
                .await
                .map_err(|e| e.to_string())?;
            let mut out = io::stdout();
            writeln!(out, "OpenAI Responses:   POST {}", running.openai_url)?;
            writeln!(out, "Anthropic Messages: POST {}", running.anthropic_url)?;
            writeln!(out, "demo MCP server:    {}", running.demo_mcp_url)?;
            writeln!(out)?;
            writeln!(out, "try:")?;
            writeln!(
                out,
                "  mcpwire run --vendor openai --model sim --mcp demo={} --base-url {}/v1 --stream 'call demo.add {{\"a\":2,\"b\":3}}'",
                running.demo_mcp_url,
                running.sim.base_url()
            )?;
            writeln!(out, "Ctrl-C stops.")?;
            tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
            drop(running);
            Ok::<(), Failure>(())
        }),
        Err(e) => Err(Failure::Other(e.to_string())),
    };
    finish("sim", result)
}
