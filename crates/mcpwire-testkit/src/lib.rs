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
//! * [`logs`]: every tracing event at TRACE captured into a buffer, for the `no_leaks` tests.
//!
//! Dev-only (`publish = false`); it depends on no mcpwire crate.

pub mod conformance;
pub mod fixtures;
pub mod logs;
pub mod mock_as;
pub mod oauth;
pub mod redis;
mod route;

pub use route::{Route, form, param, query, requests_to};
