//! An offline vendor simulator that really calls MCP servers, and a demo MCP server to call.
//!
//! * [`Simulator`]: a loopback HTTP server speaking OpenAI `POST /v1/responses` (`{"type":"mcp"}`
//!   tools) and Anthropic `POST /v1/messages` (the MCP connector betas `mcp-client-2025-04-04`,
//!   `-2025-11-20`, `-2026-09-15`), whole or streamed. Like the vendors, it is a real MCP client
//!   (Streamable HTTP, `rmcp`): it lists tools (honouring `allowed_tools`, toolsets and pinned
//!   lists), forwards the caller's headers or token, calls tools, asks for approval when the
//!   OpenAI policy says so, and fails the way the vendors fail (HTTP 424 / 400 bodies, `mcp_call`
//!   errors, `is_error` results). Every MCP step is bounded by [`SimOptions::mcp_timeout`].
//! * [`demo_server`]: an MCP server with `echo {text}`, `add {a, b}`, `slow {ms}` and
//!   `fail {message}` (an `isError` result), optionally behind a bearer token.
//!
//! The "model" is deterministic, no LLM: each line `call <server>.<tool> <json-arguments>` of the
//! last user message is one tool call, in order (arguments default to `{}`); other lines are
//! ignored. The answer summarises the results, one line per call: `demo.add returned 5`,
//! `demo.fail failed: boom`, `demo.add was not approved`. With OpenAI approvals the turn stops at
//! the first call that needs approval; the continuation (`previous_response_id`,
//! `item_reference` or replayed items, then `mcp_approval_response`) makes the approved call.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
//!
//! let demo = DemoServer::start(DemoOptions::new()).await?;
//! let sim = Simulator::start(SimOptions::new()).await?;
//! let body = serde_json::json!({
//!     "model": "gpt-sim",
//!     "input": "call demo.add {\"a\":2,\"b\":3}",
//!     "tools": [{"type": "mcp", "server_label": "demo", "server_url": demo.url(),
//!                "require_approval": "never"}],
//! });
//! let response: serde_json::Value = reqwest::Client::new()
//!     .post(sim.responses_url())
//!     .json(&body)
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(response["output"][1]["output"], "5");
//! assert_eq!(response["output"][2]["content"][0]["text"], "demo.add returned 5");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })
//! # }
//! ```
//!
//! OpenAI streams reproduce the recorded quirks: `response.mcp_call.in_progress` twice per call,
//! and with several servers only the last tool listing gets `response.output_item.done`.
//!
//! Deliberate simplifications: no reasoning items, one approval request per turn, Anthropic
//! tool-call failures after listing (timeouts, closed connections) become `is_error` results
//! rather than a whole-request 400, and `connector_id` / `tunnel_id` tools are rejected.

/// The README's examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

mod anthropic;
mod demo;
mod http;
mod ids;
pub mod interop;
mod mcp;
mod openai;
mod scripted_model;
mod server;
mod state;

pub mod demo_server {
    //! The demo MCP server (`echo`, `add`, `slow`, `fail`) over Streamable HTTP at `/mcp`.
    pub use crate::demo::{DemoOptions, DemoServer, DemoServerHandle};
}

pub use demo::{DemoOptions, DemoServer, DemoServerHandle, TokenCheck};

// The only error type of the public API is `std::io::Error` (from `start` and
// `run_standalone`); it and the handles must cross threads and box into
// `Box<dyn Error + Send + Sync>`. A new public error type gets a line here.
const _: () = {
    const fn error<T: std::error::Error + Send + Sync + 'static>() {}
    const fn handle<T: Send + Sync + 'static>() {}
    error::<std::io::Error>();
    handle::<SimHandle>();
    handle::<DemoServerHandle>();
    handle::<Standalone>();
    handle::<interop::ServerEverything>();
};
pub use server::{SimHandle, SimOptions, Simulator, Standalone, run_standalone};
