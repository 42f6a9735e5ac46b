//! The adapters: one vendor-neutral hosted-MCP request ([`request::McpRequest`]), rendered for
//! the OpenAI Responses API or the Anthropic Messages API MCP connector ([`render`]), sent over
//! HTTP with fresh credentials, retries and timeouts, streamed and normalised into
//! [`mcpwire_schema::event::Event`]s.

pub mod approval;
mod client;
mod error;
pub mod file;
pub mod redact;
pub mod render;
pub mod request;
pub mod translate;

pub use client::{
    Client, ClientConfig, Endpoint, EventStream, Response, RetryPolicy, RunOutcome, StreamItem,
    Timeouts,
};
pub use error::{Error, ErrorKind};
