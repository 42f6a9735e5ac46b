//! OAuth for remote MCP servers: get, refresh and store access tokens that are then handed to
//! an LLM vendor (OpenAI `tools[].authorization`, Anthropic `mcp_servers[].authorization_token`).
//!
//! * [`Secret`]: redacting, zeroising string; nothing here derives `Debug` over one.
//! * [`Credentials`] / [`Resolved`]: what the providers call before every vendor request.
//! * [`OAuthClient`] (configured by [`OAuthConfig`], [`Policy`], [`PreRegisteredClient`],
//!   [`IdpTokenExchange`]): the MCP authorization flow (2025-03-26 … 2026-07-28): probe,
//!   protected resource metadata, AS/OIDC discovery, issuer checks, pre-registration / CIMD /
//!   DCR, PKCE S256, RFC 8707 `resource`, RFC 9207 `iss`, scope selection and step-up, refresh;
//!   and the machine-to-machine extensions: client credentials (secret or `private_key_jwt`
//!   with a [`SigningKey`]), JWT-bearer with a workload assertion, enterprise-managed
//!   authorization (ID-JAG); opt-in DPoP-bound tokens (RFC 9449). One rule picks the
//!   [`AuthMethod`] for every grant; it is stored with the tokens and reused on refresh.
//! * [`TokenStore`]: the per-entry store trait (versioned compare-and-set, refresh lease,
//!   wait for change) that makes refresh single-flight across tasks, processes and replicas;
//!   [`MemoryStore`], [`FileStore`] and, with the `redis` feature, `RedisStore` (encrypted at
//!   rest, for a fleet of replicas). With the `testing` feature, `testing::check_store` is a
//!   conformance suite for any implementation.
//! * [`Error`]: one error type; OAuth `error` codes are an [`OAuthErrorCode`].
//! * [`challenge`] (`WWW-Authenticate` parsing), [`discovery`] (what [`OAuthClient::discover`]
//!   finds), [`loopback`] (the redirect listener, for callers that drive
//!   [`OAuthClient::begin_authorization`] / [`OAuthClient::complete_authorization`] themselves).
//!
//! Limits taken from token responses: an `expires_in` above one year is cut to one year; a
//! negative or non-numeric one, a `token_type` other than `Bearer` / `DPoP`, or a control
//! character (CR, LF, ...) in a token field is an [`Error::InvalidTokenField`] naming the field.
//!
//! ```
//! # async fn demo() -> mcpwire_auth::Result<()> {
//! use std::{sync::Arc, time::Duration};
//! use mcpwire_auth::{Credentials, MemoryStore, OAuthClient, OAuthConfig, Resolved};
//!
//! let client = Arc::new(OAuthClient::new(OAuthConfig::default(), Arc::new(MemoryStore::new()))?);
//! let creds = Credentials::OAuth(client);
//! // Not logged in yet, so this fails with `Error::NotLoggedIn`.
//! let r = creds.resolve("https://mcp.example.com/mcp", Duration::from_secs(120)).await;
//! assert!(matches!(r, Err(mcpwire_auth::Error::NotLoggedIn { .. })));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

/// The README's examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

#[cfg(feature = "client")]
pub mod challenge;
#[cfg(feature = "client")]
mod client;
mod credentials;
#[cfg(feature = "client")]
pub mod discovery;
mod error;
mod error_code;
#[cfg(feature = "client")]
mod http;
#[cfg(feature = "client")]
pub mod loopback;
pub mod redact;
mod secret;
#[cfg(feature = "client")]
mod store;
#[cfg(feature = "client")]
mod token;

#[cfg(feature = "client")]
pub use challenge::BearerChallenge;
#[cfg(feature = "client")]
pub use client::{
    IdpTokenExchange, LoginMode, OAuthClient, OAuthConfig, PendingAuthorization,
    PreRegisteredClient, TokenStatus,
};
pub use credentials::{Credentials, Resolved};
pub use error::{Error, Result};
pub use error_code::OAuthErrorCode;
#[cfg(feature = "client")]
pub use http::Policy;
pub use secret::Secret;
#[cfg(all(feature = "client", feature = "testing"))]
pub use store::testing;
#[cfg(feature = "client")]
pub use store::{
    CasOutcome, ClientRecord, Entry, EntryKey, FileStore, Lease, MemoryStore, PendingEntry,
    RegistrationKind, TokenEntry, TokenKey, TokenStore, Version, Versioned,
};
#[cfg(all(feature = "client", feature = "redis"))]
pub use store::{RedisOptions, RedisStore, StoreKeys};
/// Opens a token store named by a URL (`file:`, `file:PATH`, `memory:`, `redis://`,
/// `rediss://`): the one opener the CLI and the gateway share.
#[cfg(feature = "client")]
pub use store::{StoreKeySource, open as open_store};
#[cfg(feature = "client")]
pub use token::{AuthMethod, SigningKey};
