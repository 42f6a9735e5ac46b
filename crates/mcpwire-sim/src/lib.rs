//! An offline vendor simulator that really calls MCP servers, and a demo MCP server.
//!
//! * [`Simulator`]: a loopback HTTP server speaking OpenAI `POST /v1/responses` and Anthropic
//!   `POST /v1/messages`, acting as the vendors' hosted MCP client over Streamable HTTP (`rmcp`).
//! * [`demo_server`]: an MCP server with `echo`, `add`, `slow` and `fail` tools.
//!
//! The "model" is deterministic: each line `call <server>.<tool> <json-arguments>` of the last
//! user message is one tool call; the answer summarises the results (`demo.add returned 5`).

mod anthropic;
pub mod demo_server {
    //! The demo MCP server (`echo`, `add`, `slow`, `fail`) over Streamable HTTP.
    pub use crate::demo::{DemoOptions, DemoServer, DemoServerHandle};
}
mod demo;
mod mcp;
mod model;
mod openai;
mod server;
mod util;

pub use demo::{DemoOptions, DemoServer, DemoServerHandle};
pub use server::{SimHandle, SimOptions, Simulator, Standalone, run_standalone};
