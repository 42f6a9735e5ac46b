//! Test set-up shared by the mcpwire crates' integration tests, so that each test keeps only
//! what it asserts:
//!
//! * [`Route`]: a wiremock route (`POST /token` whose body contains `grant_type=...`, at most
//!   `n` times, expected `n` times) in one line, and [`requests_to`], [`form`], [`query`],
//!   [`param`] to read what a mock server received;
//! * [`oauth`]: a scripted MCP resource server and OAuth authorization server on 127.0.0.1
//!   ([`oauth::Scripted`], [`oauth::RotatingServer`]) and the pieces they are made of;
//! * [`redis::RedisServer`]: a private `redis-server` on a free loopback port;
//! * [`mock_as::MockAs`]: a stateful OAuth authorization server (authorization code with
//!   PKCE, rotating refresh tokens, revocation, ID-JAG token exchange and JWT bearer) whose
//!   `/authorize` a test plays the browser against;
//! * [`conformance`]: the official MCP conformance suite's client scenarios as servers;
//! * [`fixtures`]: the recorded vendor payloads under `fixtures/` and wiremock answers that
//!   replay them;
//! * [`http_kit`]: set-up that several crates' tests share: a mock server answering every POST,
//!   a `429` reply, a raw TCP server, a child process serving a printed URL, a JSON lookup;
//! * [`gateway_kit`]: gateway config tables as TOML text, a delayed upstream answer and
//!   readers of HTTP answers, shared by the gateway's and the CLI's gateway tests;
//! * [`logs`]: every tracing event at TRACE captured into a buffer, for the `no_leaks` tests;
//! * [`auth_kit`]: a fresh temp directory for a token store or an `MCPWIRE_HOME`.
//!
//! Dev-only (`publish = false`); it depends on no mcpwire crate.

pub mod auth_kit;
pub mod conformance;
pub mod fixtures;
pub mod gateway_kit;
pub mod http_kit;
pub mod logs;
pub mod mock_as;
pub mod oauth;
pub mod redis;
mod route;

pub use route::{Route, form, param, query, requests_to};
