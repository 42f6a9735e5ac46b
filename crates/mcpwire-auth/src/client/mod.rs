//! [`OAuthClient`]: discovery, registration, authorization (interactive or headless), token
//! exchange, client credentials, single-flight refresh, status and logout.

mod authorize;
mod config;
mod grants;
mod method;
mod registration;
mod tokens;

pub use authorize::PendingAuthorization;
pub use config::{IdpTokenExchange, LoginMode, OAuthConfig, PreRegisteredClient};
pub use tokens::TokenStatus;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::challenge::BearerChallenge;
use crate::discovery::{Discoverer, Discovery};
use crate::error::{Error, Result};
use crate::http::{HttpClient, check_url, is_loopback};
use crate::store::{EntryKey, TokenStore};

/// The OAuth client for MCP servers, bound to one token store.
///
/// ```no_run
/// # async fn demo() -> mcpwire_auth::Result<()> {
/// use std::{sync::Arc, time::Duration};
/// use mcpwire_auth::{FileStore, LoginMode, OAuthClient, OAuthConfig};
///
/// let store = Arc::new(FileStore::new(FileStore::default_path()?));
/// let client = OAuthClient::new(OAuthConfig::default(), store)?;
/// client
///     .login("https://mcp.example.com/mcp", None, LoginMode::Interactive { open_browser: true },
///            |url| eprintln!("open {url}"))
///     .await?;
/// let (token, _expires_in) = client
///     .access_token("https://mcp.example.com/mcp", Duration::from_secs(300))
///     .await?;
/// # let _ = token; Ok(()) }
/// ```
pub struct OAuthClient {
    config: OAuthConfig,
    http: HttpClient,
    store: Arc<dyn TokenStore>,
    /// One gate per entry: a single task of this process contends for the refresh lease.
    /// Shared by every [`OAuthClient::for_subject`] view.
    refresh_gates: Arc<std::sync::Mutex<HashMap<EntryKey, Arc<tokio::sync::Mutex<()>>>>>,
    /// The end user this client's tokens act for (`None`: its own).
    subject: Option<String>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub(super) fn scope_string(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

pub(super) fn push_unique(v: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for s in items {
        if !s.is_empty() && !v.contains(&s) {
            v.push(s);
        }
    }
}

impl OAuthClient {
    /// Creates a client. Fails if `redirect_uri` is neither loopback `http` nor `https`.
    pub fn new(config: OAuthConfig, store: Arc<dyn TokenStore>) -> Result<Self> {
        if let Some(r) = &config.redirect_uri {
            let u = check_url("redirect_uri", r, &config.policy, true)?;
            if u.scheme() == "http" && !is_loopback(&u) {
                return Err(Error::InsecureUrl {
                    field: "redirect_uri",
                    reason: "http is allowed on loopback only".into(),
                });
            }
        }
        if let Some(c) = &config.client_metadata_url {
            let u = check_url("client_metadata_url", c, &config.policy, true)?;
            if u.scheme() != "https" || u.path() == "/" {
                return Err(Error::InsecureUrl {
                    field: "client_metadata_url",
                    reason: "must be https with a path".into(),
                });
            }
        }
        let http = HttpClient::new(&config.policy)?;
        Ok(OAuthClient {
            config,
            http,
            store,
            refresh_gates: Default::default(),
            subject: None,
        })
    }

    /// The same client (configuration, store, HTTP, single-flight gates) acting for one end
    /// user: its tokens are stored and found under `(server, subject)`, apart from every other
    /// user's and from the client's own. A gateway uses `tenant` + user id as the subject.
    pub fn for_subject(&self, subject: impl Into<String>) -> OAuthClient {
        OAuthClient {
            config: self.config.clone(),
            http: self.http.clone(),
            store: self.store.clone(),
            refresh_gates: self.refresh_gates.clone(),
            subject: Some(subject.into()),
        }
    }

    /// The end user this client acts for, if any.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The key of this client's tokens for `server_url`.
    pub(super) fn token_key(&self, server_url: &str) -> EntryKey {
        EntryKey::Token {
            server_url: server_url.to_owned(),
            subject: self.subject.clone(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    pub(super) fn discoverer(&self) -> Discoverer<'_> {
        Discoverer {
            http: &self.http,
            policy: &self.config.policy,
            protocol_version: &self.config.protocol_version,
        }
    }

    /// Probes the server (unless a challenge is given) and discovers its authorization server.
    pub async fn discover(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
    ) -> Result<Discovery> {
        self.discoverer().discover(server_url, challenge).await
    }

    pub(super) fn pre_registered_for(&self, issuer: &str) -> Option<&PreRegisteredClient> {
        self.config
            .pre_registered
            .iter()
            .find(|p| p.issuer.as_deref() == Some(issuer))
            .or_else(|| {
                self.config
                    .pre_registered
                    .iter()
                    .find(|p| p.issuer.is_none())
            })
    }
}

/// The token endpoint from the authorization server metadata.
pub(super) fn token_endpoint(d: &Discovery) -> Result<String> {
    d.metadata
        .token_endpoint
        .clone()
        .ok_or_else(|| Error::invalid("authorization server metadata", "no token_endpoint"))
}
