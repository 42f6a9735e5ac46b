//! Records an audit file for `fixtures/audit/` (what `mcpwire log` is snapshot-tested on): a
//! gateway in front of the simulator and a bearer-protected demo MCP server, replica
//! `gw-fixture`, arguments and outputs recorded, and five requests: OpenAI streamed (listing,
//! three calls, one failing, one output holding markup), Anthropic whole (one call), Anthropic
//! streamed on the 2026-09-15 beta (listing, two calls, one failing), a refusal (a server the
//! tenant may not use) and one with a wrong gateway key.
//!
//! ```sh
//! cargo run -p mcpwire-gateway --example record_audit -- fixtures/audit/gateway.five-requests.jsonl
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use mcpwire_gateway::config::{Config, key_hash_hex};
use mcpwire_gateway::{Gateway, REQUEST_ID_HEADER};
use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
use serde_json::json;

const KEY: &str = "gw-example-key-not-secret";
const MCP_TOKEN: &str = "mcp-example-token-not-secret";

#[tokio::main]
async fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: record_audit OUT.jsonl");
    let _ = std::fs::remove_file(&out);
    let demo = DemoServer::start(DemoOptions::new().with_token(MCP_TOKEN))
        .await
        .unwrap();
    let sim = Simulator::start(SimOptions::new()).await.unwrap();
    let base = sim.base_url();
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
replica_id = "gw-fixture"

[upstream.openai]
base_url = "{base}/v1"
api_key_env = "OPENAI_KEY"

[upstream.anthropic]
base_url = "{base}"
api_key_env = "ANTHROPIC_KEY"

[audit]
path = "{out}"
include_arguments = true
include_outputs = true

[[tenants]]
name = "support-bot"
key_sha256 = ["{hash}"]

[[tenants.mcp]]
name = "demo"
url = "{demo}"
auth = {{ bearer_env = "DEMO_TOKEN" }}
"#,
        hash = key_hash_hex(KEY),
        demo = demo.url(),
    );
    let env: mcpwire_gateway::config::Env = [
        ("OPENAI_KEY", "planted-openai-key-not-secret"),
        ("ANTHROPIC_KEY", "planted-anthropic-key-not-secret"),
        ("DEMO_TOKEN", MCP_TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let gw = Gateway::start_with_env(Config::parse(&text, &env).unwrap(), &env)
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = gw.url();

    let openai = |input: &str, server: &str, stream: bool| {
        json!({"model": "gpt-sim", "input": input, "stream": stream,
               "tools": [{"type": "mcp", "server_label": "demo", "server_url": server, "require_approval": "never"}]})
    };
    let anthropic = |input: &str, stream: bool| {
        json!({"model": "claude-sim", "max_tokens": 256, "stream": stream,
               "messages": [{"role": "user", "content": input}],
               "mcp_servers": [{"type": "url", "url": demo.url(), "name": "demo"}],
               "tools": [{"type": "mcp_toolset", "mcp_server_name": "demo"}]})
    };
    let sends = [
        (
            "responses",
            KEY,
            None,
            openai(
                "call demo.echo {\"text\":\"<b>bold</b> & \\\"quoted\\\"\"}\ncall demo.add {\"a\":2,\"b\":3}\ncall demo.fail {\"message\":\"upstream index is offline\"}",
                demo.url(),
                true,
            ),
        ),
        (
            "messages",
            KEY,
            Some("mcp-client-2025-11-20"),
            anthropic("call demo.add {\"a\":40,\"b\":2}", false),
        ),
        (
            "messages",
            KEY,
            Some("mcp-client-2026-09-15"),
            anthropic(
                "call demo.echo {\"text\":\"hello\"}\ncall demo.fail {\"message\":\"quota exceeded\"}",
                true,
            ),
        ),
        (
            "responses",
            KEY,
            None,
            openai("hi", "https://tools.not-allowed.example/mcp", false),
        ),
        (
            "responses",
            "wrong-key",
            None,
            openai("hi", demo.url(), false),
        ),
    ];
    for (route, key, beta, body) in sends {
        let rb = match route {
            "responses" => http.post(format!("{url}/v1/responses")).bearer_auth(key),
            _ => http
                .post(format!("{url}/v1/messages"))
                .header("x-api-key", key)
                .header("anthropic-version", "2023-06-01")
                .header("anthropic-beta", beta.unwrap_or("mcp-client-2025-11-20")),
        };
        let r = rb.json(&body).send().await.unwrap();
        let status = r.status();
        let id = r.headers()[REQUEST_ID_HEADER].to_str().unwrap().to_owned();
        r.text().await.unwrap();
        println!("{route} {status} {id}");
        // Let the audit task write the MCP lines before the next request starts.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    gw.shutdown().await;
    println!("wrote {out}");
}
