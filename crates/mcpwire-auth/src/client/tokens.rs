//! Stored tokens: building entries from token responses, single-flight refresh, DPoP proofs,
//! status and logout.

use std::time::Duration;

use tracing::debug;

use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::http::check_url;
use crate::secret::Secret;
use crate::store::{StoreData, TokenEntry};
use crate::token::unix_now;
use crate::token::{ClientAuth, DpopKey, TokenRequest, TokenResponse};

use super::OAuthClient;
use super::method::Identity;

/// What is known about the stored tokens of one server; never contains token values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenStatus {
    /// MCP server URL.
    pub server_url: String,
    /// RFC 8707 resource.
    pub resource: String,
    /// Issuer.
    pub issuer: String,
    /// Client ID.
    pub client_id: String,
    /// Expiry (Unix seconds).
    pub expires_at: Option<u64>,
    /// Remaining lifetime.
    pub expires_in: Option<Duration>,
    /// Whether a refresh token is stored.
    pub has_refresh_token: bool,
    /// Scope.
    pub scope: Option<String>,
    /// Token type: `Bearer`, or `DPoP` for DPoP-bound tokens.
    pub token_type: String,
}

impl From<&TokenEntry> for TokenStatus {
    fn from(e: &TokenEntry) -> Self {
        TokenStatus {
            server_url: e.server_url.clone(),
            resource: e.resource.clone(),
            issuer: e.issuer.clone(),
            client_id: e.client_id.clone(),
            expires_at: e.expires_at,
            expires_in: e.remaining(),
            has_refresh_token: e.refresh_token.is_some(),
            scope: e.scope.clone(),
            token_type: e.token_type.clone(),
        }
    }
}

impl OAuthClient {
    pub(super) fn entry_from(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        token_endpoint: &str,
        resp: TokenResponse,
        requested_scope: Option<String>,
        client_credentials: bool,
    ) -> TokenEntry {
        TokenEntry {
            server_url: d.server_url.clone(),
            resource: d.resource.clone(),
            issuer: d.issuer.clone(),
            client_id: client.client_id.clone(),
            token_endpoint: token_endpoint.to_owned(),
            access_token: resp.access_token,
            refresh_token: resp.refresh_token,
            expires_at: resp
                .expires_in
                .map(|e| unix_now().saturating_add(e.as_secs())),
            scope: resp.scope.or(requested_scope),
            token_type: resp.token_type,
            client_credentials,
            dpop_key: None,
            auth_method: Some(client.method),
        }
    }

    pub(super) async fn persist(&self, entry: TokenEntry) -> Result<TokenStatus> {
        let _lock = self.store.lock().await?;
        let mut data = self.store.load().await?;
        let status = TokenStatus::from(&entry);
        data.upsert(entry);
        self.store.save(&data).await?;
        Ok(status)
    }

    /// A valid access token for a server, refreshed first when less than `min_remaining` is
    /// left. Refreshes are single-flight: concurrent callers in this process, and processes
    /// sharing a [`FileStore`](crate::FileStore), cause one refresh request; a rotated refresh
    /// token is persisted before the new access token is returned.
    pub async fn access_token(
        &self,
        server_url: &str,
        min_remaining: Duration,
    ) -> Result<(Secret, Option<Duration>)> {
        let data = self.store.load().await?;
        let entry = data.find(server_url).ok_or_else(|| Error::NotLoggedIn {
            server: server_url.to_owned(),
        })?;
        if !entry.needs_refresh(min_remaining) {
            return Ok((entry.access_token.clone(), entry.remaining()));
        }
        let _lock = self.store.lock().await?;
        let mut data = self.store.load().await?;
        let entry = data
            .find(server_url)
            .cloned()
            .ok_or_else(|| Error::NotLoggedIn {
                server: server_url.to_owned(),
            })?;
        if !entry.needs_refresh(min_remaining) {
            debug!("token was refreshed by another caller");
            return Ok((entry.access_token.clone(), entry.remaining()));
        }
        let fresh = self.refresh_entry(&entry, &data).await?;
        let out = (fresh.access_token.clone(), fresh.remaining());
        data.upsert(fresh);
        self.store.save(&data).await?;
        Ok(out)
    }

    async fn refresh_entry(&self, entry: &TokenEntry, data: &StoreData) -> Result<TokenEntry> {
        if entry.client_credentials {
            // Renew with a new grant at the same issuer (metadata re-validated).
            let md = self
                .discoverer()
                .as_metadata(&entry.issuer, true)
                .await?
                .ok_or_else(|| Error::Discovery {
                    what: format!("no authorization server metadata for {}", entry.issuer),
                })?;
            let d = Discovery {
                server_url: entry.server_url.clone(),
                resource: entry.resource.clone(),
                prm: None,
                challenge: None,
                issuer: entry.issuer.clone(),
                metadata: md,
                source: crate::discovery::MetadataSource::ProtectedResource,
            };
            let mut e = self.client_credentials_grant(&d).await?;
            e.scope = e.scope.or(entry.scope.clone());
            return Ok(e);
        }
        let rt = entry.refresh_token.clone().ok_or(Error::LoginRequired {
            server: entry.server_url.clone(),
            reason: "no refresh token",
        })?;
        let Identity { auth: client, key } = self.refresh_identity(entry, data).await?;
        check_url(
            "token_endpoint",
            &entry.token_endpoint,
            &self.config.policy,
            true,
        )?;
        let dpop = entry
            .dpop_key
            .as_ref()
            .map(DpopKey::from_pkcs8_b64)
            .transpose()?;
        let mut params = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt.expose().to_owned()),
            ("resource", entry.resource.clone()),
        ];
        if let Some(s) = &entry.scope {
            params.push(("scope", s.clone()));
        }
        debug!(issuer = %entry.issuer, "refreshing access token");
        let req = TokenRequest {
            token_endpoint: &entry.token_endpoint,
            params,
            secrets: vec![rt.clone()],
            client: &client,
            signing_key: key.as_deref(),
            audience: &entry.issuer,
            dpop: dpop.as_ref(),
        };
        let resp = req.send(&self.http).await?;
        Ok(TokenEntry {
            access_token: resp.access_token,
            refresh_token: resp.refresh_token.or(Some(rt)),
            expires_at: resp
                .expires_in
                .map(|e| unix_now().saturating_add(e.as_secs())),
            scope: resp.scope.or(entry.scope.clone()),
            token_type: resp.token_type,
            auth_method: Some(client.method),
            ..entry.clone()
        })
    }

    /// A DPoP proof for a request to the MCP server (`htm`, `url`), bound to the stored access
    /// token (`ath`), with the server's nonce if it asked for one. `None` when the stored
    /// tokens are not DPoP-bound. Present the token as `Authorization: DPoP <token>` with the
    /// proof in the `DPoP` header.
    pub async fn dpop_proof(
        &self,
        server_url: &str,
        htm: &str,
        url: &str,
        nonce: Option<&str>,
    ) -> Result<Option<Secret>> {
        let data = self.store.load().await?;
        let entry = data.find(server_url).ok_or_else(|| Error::NotLoggedIn {
            server: server_url.to_owned(),
        })?;
        let Some(k) = &entry.dpop_key else {
            return Ok(None);
        };
        let key = DpopKey::from_pkcs8_b64(k)?;
        key.proof(htm, url, Some(&entry.access_token), nonce)
            .map(Some)
    }

    /// Stored servers, issuers and expiry; never token values.
    pub async fn status(&self) -> Result<Vec<TokenStatus>> {
        Ok(self
            .store
            .load()
            .await?
            .tokens
            .iter()
            .map(TokenStatus::from)
            .collect())
    }

    /// Removes the tokens stored for a server. Returns whether anything was removed.
    pub async fn logout(&self, server_url: &str) -> Result<bool> {
        let _lock = self.store.lock().await?;
        let mut data = self.store.load().await?;
        let before = data.tokens.len();
        data.tokens.retain(|t| !t.serves(server_url));
        let removed = data.tokens.len() != before;
        if removed {
            self.store.save(&data).await?;
        }
        Ok(removed)
    }
}
