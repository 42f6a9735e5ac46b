//! The adapters: one vendor-neutral hosted-MCP request ([`request::McpRequest`]), rendered for
//! the OpenAI Responses API or the Anthropic Messages API MCP connector ([`render`]), sent over
//! HTTP with fresh credentials, retries and timeouts, streamed and normalised into
//! [`mcpwire_schema::event::Event`]s.
//!
//! The HTTP client ([`Client`] and what it uses) is behind the default `client` feature; without
//! it the crate renders, parses and translates requests with no reqwest, tokio or rustls.

/// The README's examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

pub mod approval;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod config;
mod error;
pub mod neutral;
pub mod origin;
pub mod render;
pub mod request;
#[cfg(feature = "client")]
mod retry;
#[cfg(feature = "client")]
mod run;
#[cfg(feature = "client")]
mod stream;
pub mod translate;

#[cfg(feature = "client")]
pub use client::{Client, Response};
#[cfg(feature = "client")]
pub use config::{ClientConfig, Endpoint, Limits, RetryPolicy, Timeouts};
pub use error::{Error, ErrorKind};
#[cfg(feature = "client")]
pub use mcpwire_normalize::FinalResponse;
#[cfg(feature = "client")]
pub use run::RunOutcome;
#[cfg(feature = "client")]
pub use stream::{EventStream, StreamItem};

/// Every public error type can cross threads and be boxed as `dyn Error + Send + Sync +
/// 'static` (checked at compile time).
const _: fn() = || {
    fn assert<T: std::error::Error + Send + Sync + 'static>() {}
    assert::<Error>();
    assert::<render::RenderError>();
    assert::<neutral::FileError>();
    assert::<translate::TranslateError>();
};
