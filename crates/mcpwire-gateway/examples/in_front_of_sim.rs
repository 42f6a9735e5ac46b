//! A gateway in front of the vendor simulator, all on 127.0.0.1 and offline: the app holds
//! only its gateway key; the gateway holds the vendor key and the demo MCP server's token,
//! checks the request against the tenant's allowlist, injects the token and relays the answer.
//!
//! ```sh
//! cargo run -p mcpwire-gateway --example in_front_of_sim
//! ```

use std::process::ExitCode;

use mcpwire_gateway::Gateway;
use mcpwire_gateway::config::{Config, Env, key_hash_hex};
use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
use serde_json::{Value, json};

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints what it got
fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("in_front_of_sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("in_front_of_sim: {e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mcp_token = "demo-mcp-token";
    let gateway_key = "gw-example-key";
    let demo = DemoServer::start(DemoOptions::new().with_token(mcp_token)).await?;
    let sim = Simulator::start(SimOptions::new()).await?;

    // The configuration names environment variables; the values come from `env` here (from
    // the process environment with `Gateway::start`).
    let text = format!(
        r#"[server]
listen = "127.0.0.1:0"

[upstream.openai]
base_url = "{sim}/v1"
api_key_env = "VENDOR_KEY"

[upstream.anthropic]
base_url = "{sim}"
api_key_env = "VENDOR_KEY"

[[tenants]]
name = "example"
key_sha256 = ["{hash}"]

[[tenants.mcp]]
name = "demo"
url = "{url}"
allowed_tools = ["echo", "add"]
auth = {{ bearer_env = "DEMO_MCP_TOKEN" }}
"#,
        sim = sim.base_url(),
        hash = key_hash_hex(gateway_key),
        url = demo.url(),
    );
    let env: Env = [
        (
            "VENDOR_KEY".to_owned(),
            "the-simulator-takes-any-key".to_owned(),
        ),
        ("DEMO_MCP_TOKEN".to_owned(), mcp_token.to_owned()),
    ]
    .into_iter()
    .collect();
    let config = Config::parse(&text, &env)?;
    let gateway = Gateway::start_with_env(config, &env).await?;
    let http = reqwest::Client::new();

    // An OpenAI SDK pointed at `{gateway}/v1` sends this; note: no MCP token in it.
    let allowed = json!({
        "model": "sim",
        "input": "call demo.add {\"a\":2,\"b\":3}",
        "tools": [{"type": "mcp", "server_label": "demo", "server_url": demo.url(),
                   "require_approval": "never"}],
    });
    let response = http
        .post(format!("{}/v1/responses", gateway.url()))
        .bearer_auth(gateway_key)
        .json(&allowed)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    println!(
        "allowed server: {status}: {}",
        body["output"][2]["content"][0]["text"]
    );

    // A server the tenant may not use is refused before anything goes upstream.
    let elsewhere = json!({
        "model": "sim",
        "input": "call other.add {}",
        "tools": [{"type": "mcp", "server_label": "other",
                   "server_url": "https://mcp.elsewhere.example/mcp", "require_approval": "never"}],
    });
    let refused = http
        .post(format!("{}/v1/responses", gateway.url()))
        .bearer_auth(gateway_key)
        .json(&elsewhere)
        .send()
        .await?;
    let status = refused.status();
    let body: Value = refused.json().await?;
    println!("unlisted server: {status}: {}", body["error"]["message"]);

    gateway.shutdown().await;
    Ok(())
}
