//! The scripted MCP resource server and authorization server (wiremock, 127.0.0.1 only) from
//! `mcpwire-testkit`, and clients of this crate to point at them.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::sync::Arc;

use mcpwire_auth::{MemoryStore, OAuthClient, OAuthConfig, TokenStore};
pub use mcpwire_testkit::logs::LogBuffer;
pub use mcpwire_testkit::oauth::{
    AuthorizeRedirect, Scripted, authorization_server, json_reply, metadata, protected_resource,
    s256, token_json,
};
pub use mcpwire_testkit::{Route, form, param as get, query};

pub fn client_with(store: Arc<dyn TokenStore>, cfg: OAuthConfig) -> OAuthClient {
    OAuthClient::new(cfg, store).expect("client")
}

pub fn client() -> OAuthClient {
    client_with(Arc::new(MemoryStore::new()), OAuthConfig::default())
}
