//! OpenAI Responses API: the hosted-MCP tool, its items, the response object, stream events and
//! error bodies.
//!
//! Field names follow the vendor's wire format exactly (`openai-openapi` schemas `MCPTool`,
//! `MCPToolCall`, `ResponseMCP*Event`, ...). Every struct keeps unknown fields in `extra`;
//! every tagged enum keeps unknown types in `Unknown`.

mod item;
mod response;
mod stream;
mod tool;

pub use item::*;
pub use response::*;
pub use stream::*;
pub use tool::*;
