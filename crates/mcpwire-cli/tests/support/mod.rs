//! Shared set-up for the gateway fleet tests: gateway replicas as real `mcpwire gateway`
//! processes, an authorization server that rotates refresh tokens (a private redis-server
//! comes from `mcpwire-testkit`).

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod replicas;
pub mod rotating_as;
