//! Shared set-up for the gateway fleet tests: a private redis-server, gateway replicas as
//! real `mcpwire gateway` processes, an authorization server that rotates refresh tokens.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod redis_server;
pub mod replicas;
pub mod rotating_as;
