//! Functions behind `mcpwire auth login|token|status|logout`. They use the default file store
//! ([`FileStore::default_path`]) unless given another [`OAuthClient`].

use std::sync::Arc;
use std::time::Duration;

use crate::client::{LoginMode, OAuthClient, OAuthConfig, TokenStatus};
use crate::error::Result;
use crate::secret::Secret;
use crate::store::FileStore;

/// An [`OAuthClient`] over the default file store.
pub fn default_client(config: OAuthConfig) -> Result<OAuthClient> {
    let store = Arc::new(FileStore::new(FileStore::default_path()?));
    OAuthClient::new(config, store)
}

/// `mcpwire auth login <server_url>`: runs the authorization flow and stores the tokens.
/// Use `LoginMode::Interactive { open_browser }` for people (loopback listener on 127.0.0.1;
/// print the URL that `on_url` receives on stderr) and `LoginMode::Headless` for test
/// authorization servers that redirect straight back (e.g. the conformance suite's).
pub async fn login(
    client: &OAuthClient,
    server_url: &str,
    mode: LoginMode,
    on_url: impl FnOnce(&str),
) -> Result<TokenStatus> {
    client.login(server_url, None, mode, on_url).await
}

/// `mcpwire auth token <server_url>`: a valid access token, refreshed when less than
/// `min_remaining` is left. Print `token.expose()` and nothing else on stdout.
pub async fn token(
    client: &OAuthClient,
    server_url: &str,
    min_remaining: Duration,
) -> Result<Secret> {
    Ok(client.access_token(server_url, min_remaining).await?.0)
}

/// `mcpwire auth status`: servers, issuers, expiry; never token values.
pub async fn status(client: &OAuthClient) -> Result<Vec<TokenStatus>> {
    client.status().await
}

/// `mcpwire auth logout <server_url>`: removes the server's tokens; `Ok(false)` if none.
pub async fn logout(client: &OAuthClient, server_url: &str) -> Result<bool> {
    client.logout(server_url).await
}
