//! Lossless, forward-compatible serde types for the hosted-MCP parts of the OpenAI Responses API
//! ([`openai`]) and the Anthropic Messages API MCP connector ([`anthropic`]), an incremental SSE
//! decoder ([`sse`]), and the mcpwire event model ([`event`]), our serialisable contract.
//!
//! Pure: no IO, no async runtime. Pick this crate alone when you only need the types; take
//! `mcpwire-normalize` to turn vendor output into [`event::Event`]s.
//!
//! Every type follows three rules:
//! * unknown fields are kept (`extra`, as exact JSON text: [`Json`]), and absent and `null`
//!   stay distinct ([`Maybe`]);
//! * an unknown `type` (item, block, event, delta, error) is kept verbatim in `Unknown` and
//!   re-serialises unchanged;
//! * a *known* type with a malformed body is an error naming the JSON path ([`decode`]).
//!
//! ```
//! use mcpwire_schema::openai::{Item, McpCallError};
//! let raw = r#"{"type":"mcp_call","id":"mcp_1","server_label":"dmcp","name":"roll",
//!               "arguments":"{}","output":null,"error":{"type":"http_error","code":401,
//!               "message":"Unauthorized"},"agent":null}"#;
//! let item: Item = mcpwire_schema::decode::from_str(raw).unwrap();
//! let Item::McpCall(call) = &item else { panic!() };
//! assert!(matches!(call.error.get(), Some(McpCallError::Http(e)) if e.code == 401));
//! assert!(call.output.is_null());                   // present and null
//! assert!(call.extra.contains_key("agent"));        // unknown field kept
//! let back = serde_json::to_value(&item).unwrap();  // and written back unchanged
//! assert_eq!(back, serde_json::from_str::<serde_json::Value>(raw).unwrap());
//!
//! let err = mcpwire_schema::decode::from_str::<Item>(r#"{"type":"mcp_call","id":"x"}"#).unwrap_err();
//! assert!(err.to_string().contains("missing field `server_label`"));
//! let unknown: Item = mcpwire_schema::decode::from_str(r#"{"type":"brand_new","x":1}"#).unwrap();
//! assert!(matches!(unknown, Item::Unknown(_)));
//! ```
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

/// The README's examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

#[macro_use]
mod macros;

pub mod anthropic;
pub mod check;
pub mod decode;
pub mod event;
pub mod inspect;
mod json;
mod maybe;
pub mod openai;
mod sensitive;
pub mod sse;
#[doc(hidden)]
pub mod wire;

pub use inspect::{Finding, Inspect};
pub use json::{Extra, Json};
pub use maybe::Maybe;
pub use sensitive::Sensitive;

/// Every public error type can cross threads and be boxed as `dyn Error + Send + Sync`.
const _: () = {
    const fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<decode::DecodeError>();
    send_sync_static::<sse::SseError>();
    send_sync_static::<anthropic::UnknownBeta>();
};
