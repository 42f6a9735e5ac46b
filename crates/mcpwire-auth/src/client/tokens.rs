//! Stored tokens: building entries from token responses, single-flight refresh across tasks,
//! processes and replicas, DPoP proofs, status and logout.
//!
//! A refresh runs only under the store's refresh lease for the entry, re-reads the entry
//! under it, and writes the result with compare-and-set before the new access token is
//! returned; callers that find the lease taken wait for the entry to change and read the new
//! token instead of refreshing themselves. Within one process a per-entry gate lets one task
//! contend for the lease while the others wait on it.

use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::error_code::OAuthErrorCode;
use crate::http::check_url;
use crate::secret::Secret;
use crate::store::{
    CasOutcome, ClientRecord, Entry, EntryKey, RegistrationKind, TokenEntry, Versioned, find_token,
};
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
    /// The refresh token was rejected; a new login is needed.
    pub login_required: bool,
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
            login_required: e.login_required,
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
            issued_at: Some(unix_now()),
            login_required: false,
            subject: self.subject.clone(),
        }
    }

    /// The stored tokens serving `server_url` (by server URL, else by resource).
    pub(super) async fn stored_token(&self, server_url: &str) -> Result<Option<Versioned>> {
        if let Some(v) = self.store.get(&self.token_key(server_url)).await? {
            return Ok(Some(v));
        }
        if self.subject.is_some() {
            // A user's tokens are stored under exactly this key; listing every user's entries
            // to match a resource alias would cost a scan per unconnected request.
            return Ok(None);
        }
        let all = self.store.list().await?;
        Ok(find_token(&all, server_url, None).cloned())
    }

    async fn logged_in(&self, server_url: &str) -> Result<(Versioned, TokenEntry)> {
        let v = self
            .stored_token(server_url)
            .await?
            .ok_or_else(|| Error::NotLoggedIn {
                server: server_url.to_owned(),
            })?;
        let t = v
            .entry
            .as_token()
            .cloned()
            .ok_or_else(|| Error::store("a client record is stored under a token key", None))?;
        Ok((v, t))
    }

    /// The client registration stored for `issuer`.
    pub(super) async fn stored_client(&self, issuer: &str) -> Result<Option<ClientRecord>> {
        Ok(self
            .store
            .get(&EntryKey::client(issuer))
            .await?
            .and_then(|v| v.entry.as_client().cloned()))
    }

    /// Writes `entry` whatever is stored under its key (a login or a new registration
    /// replaces what was there).
    pub(super) async fn put(&self, entry: Entry) -> Result<()> {
        let key = entry.key();
        for _ in 0..16 {
            let seen = self.store.get(&key).await?.map(|v| v.version);
            if let CasOutcome::Written(_) =
                self.store.compare_and_set(&key, seen, Some(&entry)).await?
            {
                return Ok(());
            }
        }
        Err(Error::store(
            "the entry kept changing while it was written",
            None,
        ))
    }

    /// Drops the client registration `client_id` at `issuer` if it is still the stored one.
    pub(super) async fn forget_client(&self, issuer: &str, client_id: &str) -> Result<()> {
        let key = EntryKey::client(issuer);
        if let Some(v) = self.store.get(&key).await?
            && v.entry
                .as_client()
                .is_some_and(|c| c.client_id == client_id)
        {
            self.store
                .compare_and_set(&key, Some(v.version), None)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn persist(&self, entry: TokenEntry) -> Result<TokenStatus> {
        let status = TokenStatus::from(&entry);
        self.put(Entry::Token(entry)).await?;
        Ok(status)
    }

    fn lease_ttl(&self) -> Duration {
        self.config
            .refresh_lease
            .max(self.config.policy.timeout + Duration::from_secs(5))
    }

    fn gate(&self, key: &EntryKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self
            .refresh_gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gates.entry(key.clone()).or_default().clone()
    }

    /// A valid access token for a server, refreshed first when less than `min_remaining` is
    /// left (clamped to half the token's lifetime, see [`TokenEntry::refresh_threshold`]).
    ///
    /// Refreshes are single-flight across tasks, processes and replicas that share the store:
    /// one caller takes the store's refresh lease, refreshes, and writes the new entry (with a
    /// rotated refresh token) before anyone uses the new access token; the others wait for that
    /// entry. A rejected refresh token marks the entry login-required
    /// ([`Error::LoginRequired`] from then on, without contacting the authorization server);
    /// `invalid_client` forgets a dynamic registration only; transient failures are retried
    /// with backoff while the lease lasts. A store error is returned as such: an expired
    /// token is never handed out.
    pub async fn access_token(
        &self,
        server_url: &str,
        min_remaining: Duration,
    ) -> Result<(Secret, Option<Duration>)> {
        let cached = match self.store.get_cached(&self.token_key(server_url)).await? {
            Some(v) => v.entry.as_token().cloned(),
            None => None,
        };
        let entry = match cached {
            Some(e) => e,
            None => self.logged_in(server_url).await?.1,
        };
        if let Some(ok) = usable(&entry, min_remaining)? {
            return Ok(ok);
        }
        let key = self.token_key(&entry.server_url);
        let gate = self.gate(&key);
        let _gate = gate.lock().await;
        let ttl = self.lease_ttl();
        let deadline = tokio::time::Instant::now() + ttl * 2 + self.config.policy.timeout;
        loop {
            let (v, entry) = self.logged_in(server_url).await?;
            if let Some(ok) = usable(&entry, min_remaining)? {
                return Ok(ok);
            }
            if let Some(lease) = self.store.try_acquire_lease(&key, ttl).await? {
                let started = tokio::time::Instant::now();
                let out = self
                    .refresh_leased(&key, server_url, min_remaining, started + ttl)
                    .await;
                match self.store.release_lease(&lease).await {
                    Ok(true) => {}
                    Ok(false) => warn!("the refresh lease ran out before the refresh finished"),
                    Err(e) => warn!(error = %e, "releasing the refresh lease failed"),
                }
                return out;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(Error::RefreshWait {
                    server: server_url.to_owned(),
                });
            }
            debug!("another caller holds the refresh lease; waiting for its result");
            self.store
                .wait_for_change(&key, Some(v.version), left.min(Duration::from_millis(500)))
                .await?;
        }
    }

    /// The refresh itself, under the lease (which ends at `lease_end`).
    async fn refresh_leased(
        &self,
        key: &EntryKey,
        server_url: &str,
        min_remaining: Duration,
        lease_end: tokio::time::Instant,
    ) -> Result<(Secret, Option<Duration>)> {
        let mut pause = Duration::from_millis(200);
        loop {
            let (v, entry) = self.logged_in(server_url).await?;
            if let Some(ok) = usable(&entry, min_remaining)? {
                debug!("token was refreshed by another caller");
                return Ok(ok);
            }
            match self.refresh_entry(&entry).await {
                Ok(fresh) => {
                    let out = (fresh.access_token.clone(), fresh.remaining());
                    self.store_refreshed(key, v, &entry, fresh).await?;
                    return Ok(out);
                }
                Err(Error::RefreshRejected) => {
                    warn!(issuer = %entry.issuer, "refresh token rejected; marking the entry login-required");
                    let marked = TokenEntry {
                        login_required: true,
                        ..entry.clone()
                    };
                    self.store
                        .compare_and_set(key, Some(v.version), Some(&Entry::Token(marked)))
                        .await?;
                    return Err(Error::RefreshRejected);
                }
                Err(e @ Error::TokenEndpoint { .. }) if invalid_client(&e) => {
                    if let Some(c) = self.stored_client(&entry.issuer).await?
                        && c.kind == RegistrationKind::Dynamic
                        && c.client_id == entry.client_id
                    {
                        warn!(issuer = %entry.issuer, "client registration rejected; forgetting it");
                        self.forget_client(&entry.issuer, &entry.client_id).await?;
                    }
                    return Err(e);
                }
                Err(e) if transient(&e) => {
                    let next_try = tokio::time::Instant::now() + pause;
                    if next_try + self.config.policy.timeout >= lease_end {
                        return Err(e);
                    }
                    warn!(error = %e, "transient refresh failure; backing off");
                    tokio::time::sleep_until(next_try).await;
                    pause *= 2;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes a refreshed entry over the one it was refreshed from. Should the entry have
    /// changed meanwhile (the lease ran out, or a new login), the write is retried only while
    /// the stored refresh token is still the one just redeemed; otherwise the newer entry wins.
    async fn store_refreshed(
        &self,
        key: &EntryKey,
        read: Versioned,
        old: &TokenEntry,
        fresh: TokenEntry,
    ) -> Result<()> {
        let fresh = Entry::Token(fresh);
        let mut expected = read.version;
        for _ in 0..4 {
            match self
                .store
                .compare_and_set(key, Some(expected), Some(&fresh))
                .await?
            {
                CasOutcome::Written(_) => return Ok(()),
                CasOutcome::Conflict => {
                    let Some(now) = self.store.get(key).await? else {
                        return Ok(());
                    };
                    let same_family = now
                        .entry
                        .as_token()
                        .is_some_and(|t| t.refresh_token == old.refresh_token);
                    if !same_family {
                        warn!("the entry changed during the refresh; keeping the newer one");
                        return Ok(());
                    }
                    expected = now.version;
                }
            }
        }
        Err(Error::store(
            "the entry kept changing while the refresh was written",
            None,
        ))
    }

    async fn refresh_entry(&self, entry: &TokenEntry) -> Result<TokenEntry> {
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
        let stored = self.stored_client(&entry.issuer).await?;
        let Identity { auth: client, key } = self.refresh_identity(entry, stored.as_ref()).await?;
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
            issued_at: Some(unix_now()),
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
        let entry = self.logged_in(server_url).await?.1;
        let Some(k) = &entry.dpop_key else {
            return Ok(None);
        };
        let key = DpopKey::from_pkcs8_b64(k)?;
        key.proof(htm, url, Some(&entry.access_token), nonce)
            .map(Some)
    }

    /// Stored servers, issuers and expiry; never token values.
    pub async fn status(&self) -> Result<Vec<TokenStatus>> {
        let mut all = self.store.list().await?;
        all.sort_by_key(|v| v.entry.key());
        Ok(all
            .iter()
            .filter_map(|v| v.entry.as_token())
            .filter(|t| t.subject == self.subject)
            .map(TokenStatus::from)
            .collect())
    }

    /// Revokes the tokens stored for a server at its authorization server (RFC 7009: the
    /// refresh token, else the access token, when the metadata offers a
    /// `revocation_endpoint`), then removes them, whatever the authorization server said.
    /// Returns whether the authorization server confirmed a revocation.
    pub async fn revoke(&self, server_url: &str) -> Result<bool> {
        let Some(entry) = self
            .stored_token(server_url)
            .await?
            .and_then(|v| v.entry.as_token().cloned())
        else {
            return Ok(false);
        };
        let mut revoked = false;
        let endpoint = match self.discoverer().as_metadata(&entry.issuer, true).await {
            Ok(Some(md)) => md.revocation_endpoint,
            _ => None,
        };
        if let Some(endpoint) = endpoint {
            let attempt = async {
                check_url("revocation_endpoint", &endpoint, &self.config.policy, true)?;
                let stored = self.stored_client(&entry.issuer).await?;
                let Identity { auth: client, key } =
                    self.refresh_identity(&entry, stored.as_ref()).await?;
                let (token, hint) = match &entry.refresh_token {
                    Some(rt) => (rt.clone(), "refresh_token"),
                    None => (entry.access_token.clone(), "access_token"),
                };
                TokenRequest {
                    token_endpoint: &endpoint,
                    params: vec![
                        ("token", token.expose().to_owned()),
                        ("token_type_hint", hint.to_owned()),
                    ],
                    secrets: vec![token],
                    client: &client,
                    signing_key: key.as_deref(),
                    audience: &entry.issuer,
                    dpop: None,
                }
                .revoke(&self.http)
                .await
            };
            match attempt.await {
                Ok(()) => revoked = true,
                Err(e) => {
                    warn!(issuer = %entry.issuer, error = %e, "token revocation failed; removing the tokens anyway")
                }
            }
        }
        self.logout(server_url).await?;
        Ok(revoked)
    }

    /// Removes the tokens stored for a server. Returns whether anything was removed.
    pub async fn logout(&self, server_url: &str) -> Result<bool> {
        let mut removed = false;
        for v in self.store.list().await? {
            if v.entry
                .as_token()
                .is_some_and(|t| t.serves(server_url) && t.subject == self.subject)
            {
                let key = v.entry.key();
                if let CasOutcome::Written(_) = self
                    .store
                    .compare_and_set(&key, Some(v.version), None)
                    .await?
                {
                    removed = true;
                }
            }
        }
        Ok(removed)
    }
}

/// The stored token and its remaining lifetime if it serves `min_remaining`; `None` when it
/// must be refreshed; an error when only a new login helps.
fn usable(
    entry: &TokenEntry,
    min_remaining: Duration,
) -> Result<Option<(Secret, Option<Duration>)>> {
    if entry.login_required {
        return Err(Error::LoginRequired {
            server: entry.server_url.clone(),
            reason: "the refresh token was rejected",
        });
    }
    Ok((!entry.needs_refresh(min_remaining))
        .then(|| (entry.access_token.clone(), entry.remaining())))
}

fn invalid_client(e: &Error) -> bool {
    matches!(
        e,
        Error::TokenEndpoint {
            error: OAuthErrorCode::InvalidClient,
            ..
        }
    )
}

/// A failure that may pass: network errors, 5xx and 429, `temporarily_unavailable`.
fn transient(e: &Error) -> bool {
    match e {
        Error::Http { .. } => true,
        Error::HttpStatus { status, .. } => *status >= 500 || *status == 429,
        Error::TokenEndpoint { status, error, .. } => {
            *status >= 500 || *status == 429 || *error == OAuthErrorCode::TemporarilyUnavailable
        }
        _ => false,
    }
}
