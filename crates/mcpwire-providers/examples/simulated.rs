//! Sends one neutral request to both vendors, for real over HTTP but offline: the vendors are
//! `mcpwire-sim`'s simulator and the MCP server is its bearer-protected demo server, both on
//! 127.0.0.1. The simulator calls the MCP server the way the vendors do, so the request goes
//! through the same rendering, credentials, HTTP and normalisation as against the real APIs.
//!
//! ```sh
//! cargo run -p mcpwire-providers --example simulated
//! ```

use std::process::ExitCode;

use mcpwire_auth::{Credentials, Secret};
use mcpwire_providers::render::RenderOptions;
use mcpwire_providers::request::{Approval, McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint};
use mcpwire_schema::event::{EventBody, Vendor};
use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints the events
fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("simulated: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simulated: {e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let token = "demo-token";
    let demo = DemoServer::start(DemoOptions::new().with_token(token)).await?;
    let sim = Simulator::start(SimOptions::new()).await?;

    let mut config = ClientConfig::default();
    config.openai = Endpoint::openai()
        .base_url(sim.api_url())
        .api_key(Secret::new("the-simulator-takes-any-key"));
    config.anthropic = Endpoint::anthropic()
        .base_url(sim.api_url())
        .api_key(Secret::new("the-simulator-takes-any-key"));
    // The demo server listens on plain HTTP on 127.0.0.1, which strict rendering refuses
    // unless told that a loopback server is expected.
    let mut render = RenderOptions::strict();
    render.allow_insecure_loopback = true;
    config.render = render;
    let client = Client::new(config)?;

    let request = McpRequest::new("sim-model", "call demo.add {\"a\":2,\"b\":3}").server(
        McpServerSpec::new("demo", demo.url())
            .credentials(Credentials::Bearer(Secret::new(token)))
            .approval(Approval::Never),
    );
    for vendor in [Vendor::OpenAi, Vendor::Anthropic] {
        let response = client.send(vendor, &request).await?;
        println!("== {vendor}");
        for event in &response.events {
            match &event.body {
                EventBody::Text { text, .. } => println!("  text: {text}"),
                other => println!("  {}", other.kind()),
            }
        }
    }
    Ok(())
}
