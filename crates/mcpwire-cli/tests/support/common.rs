//! Set-up that CLI tests outside the gateway ones share: files in a temp directory of the test
//! process's own, and a mock MCP server that lists tools.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

/// Writes `contents` to `name` in `{temp dir}/{prefix}-{process id}` and returns its path.
pub fn temp_in(prefix: &str, name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// An MCP server (Streamable HTTP, JSON answers) that speaks protocol `version` and lists
/// `tools`; every other method is a `400`.
pub async fn mcp_server_listing(version: &'static str, tools: Value) -> MockServer {
    let server = MockServer::start().await;
    mcpwire_testkit::Route::any("POST")
        .reply(&server, move |r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let result = match body["method"].as_str().unwrap_or("") {
                "initialize" => {
                    json!({"protocolVersion": version, "capabilities": {"tools": {}},
                                       "serverInfo": {"name": "t", "version": "1"}})
                }
                "tools/list" => json!({"tools": tools}),
                "notifications/initialized" => return ResponseTemplate::new(202),
                _ => return ResponseTemplate::new(400),
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"jsonrpc": "2.0", "id": body["id"], "result": result}))
        })
        .await;
    server
}
