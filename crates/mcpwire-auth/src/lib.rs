//! OAuth for remote MCP servers: get, refresh and store access tokens that are then handed to
//! an LLM vendor (OpenAI `tools[].authorization`, Anthropic `mcp_servers[].authorization_token`).
//!
//! * [`Secret`]: redacting, zeroising string; nothing here derives `Debug` over one.
//! * [`Credentials`] / [`Resolved`]: what the providers call before every vendor request.
//! * [`OAuthClient`]: the MCP authorization flow (2025-03-26 … 2026-07-28): probe, protected
//!   resource metadata, AS/OIDC discovery, issuer checks, pre-registration / CIMD / DCR, PKCE
//!   S256, RFC 8707 `resource`, RFC 9207 `iss`, scope selection and step-up, refresh; and the
//!   machine-to-machine extensions: client credentials (secret or `private_key_jwt`),
//!   JWT-bearer with a workload assertion, enterprise-managed authorization (ID-JAG); opt-in
//!   DPoP-bound tokens (RFC 9449).
//! * [`TokenStore`], [`MemoryStore`], [`FileStore`]: issuer+client+resource keyed storage with
//!   cross-process single-flight refresh.
//! * [`cli_support`]: the functions behind `mcpwire auth …`.
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

#[cfg(feature = "client")]
pub mod challenge;
#[cfg(feature = "client")]
pub mod cli_support;
#[cfg(feature = "client")]
mod client;
mod credentials;
#[cfg(feature = "client")]
pub mod discovery;
mod error;
#[cfg(feature = "client")]
mod http;
#[cfg(feature = "client")]
pub mod loopback;
pub mod redact;
pub mod secret;
#[cfg(feature = "client")]
mod store;
#[cfg(feature = "client")]
mod token;

#[cfg(feature = "client")]
pub use client::{
    IdpTokenExchange, LoginMode, OAuthClient, OAuthConfig, PendingAuthorization,
    PreRegisteredClient, TokenStatus,
};
pub use credentials::{Credentials, Resolved};
pub use error::{Error, Result};
#[cfg(feature = "client")]
pub use http::{HttpClient, Policy};
pub use secret::Secret;
#[cfg(feature = "client")]
pub use store::{
    ClientRecord, FileStore, MemoryStore, RegistrationKind, StoreData, StoreLock, TokenEntry,
    TokenKey, TokenStore,
};
#[cfg(feature = "client")]
pub use token::{AuthMethod, ClientAuth, DpopKey, SigningKey, TokenResponse, s256};
