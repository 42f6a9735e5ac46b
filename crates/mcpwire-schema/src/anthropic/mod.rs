//! Anthropic Messages API, MCP connector beta: `mcp_servers`, the `mcp_toolset` tool, the
//! `mcp_tool_use` / `mcp_tool_result` / `mcp_tool_listing` content blocks, messages, stream
//! events and error bodies, for the three beta versions.
//!
//! The beta header, not the body shape, selects semantics: keep a [`BetaVersion`] with every
//! request.

mod beta;
mod block;
mod message;
mod request;
mod stream;

pub use beta::*;
pub use block::*;
pub use message::*;
pub use request::*;
pub use stream::*;
