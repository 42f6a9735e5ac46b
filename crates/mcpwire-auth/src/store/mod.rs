//! Token storage.
//!
//! [`TokenStore`] is the per-entry store trait: versioned reads, compare-and-set writes, a
//! per-key refresh lease that only its holder can release and that expires when the holder
//! dies, and a wait for another writer's change. Anyone can implement it (every type in its
//! signatures is public and constructible); the `testing` feature ships a conformance suite
//! (`testing::check_store`) for implementations. Here: [`MemoryStore`], [`FileStore`]
//! (mode 0600, atomic replace, cross-process lock file) and, with the `redis` feature,
//! `RedisStore` (encrypted at rest, for a fleet of replicas).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::{Secret, serialize_exposed, serialize_exposed_opt};
use crate::token::{AuthMethod, unix_now};

#[cfg(feature = "redis")]
mod crypto;
mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "redis")]
pub use crypto::StoreKeys;
pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisOptions, RedisStore};

mod open;
pub use open::{StoreKeySource, open};

/// Identity of a stored token: issuer + client + resource, and the end user it acts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// Authorization server issuer.
    pub issuer: String,
    /// Client ID at that issuer.
    pub client_id: String,
    /// RFC 8707 resource (verbatim PRM `resource`).
    pub resource: String,
    /// The end user these tokens act for (per-user credentials); `None`: the process's own.
    pub subject: Option<String>,
}

/// Tokens for one MCP server, bound to the issuer, client, resource and token endpoint that
/// produced them. A refresh is only ever sent to `token_endpoint`.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenEntry {
    /// MCP server URL the user logged in to.
    pub server_url: String,
    /// RFC 8707 resource, verbatim.
    pub resource: String,
    /// Issuer.
    pub issuer: String,
    /// Client ID.
    pub client_id: String,
    /// Token endpoint the tokens came from.
    pub token_endpoint: String,
    /// Access token.
    #[serde(serialize_with = "serialize_exposed")]
    pub access_token: Secret,
    /// Refresh token.
    #[serde(default, serialize_with = "serialize_exposed_opt")]
    pub refresh_token: Option<Secret>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// Granted (or else requested) scope.
    pub scope: Option<String>,
    /// The end user these tokens act for (per-user credentials, e.g. a gateway's
    /// `(tenant, user)`); `None`: the tokens of whoever runs the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Token type.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Obtained with the client-credentials grant (renewed by a new grant, not a refresh).
    #[serde(default)]
    pub client_credentials: bool,
    /// DPoP key (base64 PKCS#8) the tokens are bound to, if any.
    #[serde(default, serialize_with = "serialize_exposed_opt")]
    pub dpop_key: Option<Secret>,
    /// How the client authenticated at `token_endpoint` when these tokens were issued; a
    /// refresh authenticates the same way. `None` in entries stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<AuthMethod>,
    /// When the access token was issued, seconds since the Unix epoch (with `expires_at`, its
    /// whole lifetime). `None` in entries stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<u64>,
    /// The authorization server rejected the refresh token (`invalid_grant`): nothing is
    /// sent to it again until a new login replaces this entry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub login_required: bool,
}

fn bearer() -> String {
    "Bearer".into()
}

impl TokenEntry {
    /// The store key.
    pub fn key(&self) -> TokenKey {
        TokenKey {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            resource: self.resource.clone(),
            subject: self.subject.clone(),
        }
    }

    /// Remaining lifetime (`None` = unknown expiry; zero when expired).
    pub fn remaining(&self) -> Option<Duration> {
        self.expires_at
            .map(|e| Duration::from_secs(e.saturating_sub(unix_now())))
    }

    /// The access token's whole lifetime, when both ends are known.
    pub fn lifetime(&self) -> Option<Duration> {
        match (self.issued_at, self.expires_at) {
            (Some(i), Some(e)) => Some(Duration::from_secs(e.saturating_sub(i))),
            _ => None,
        }
    }

    /// The minimum remaining lifetime actually asked of this token: `min_remaining`, clamped
    /// to half the token's lifetime, so that a token issued for less than the caller's minimum
    /// is renewed once per lifetime instead of on every call.
    pub fn refresh_threshold(&self, min_remaining: Duration) -> Duration {
        match self.lifetime() {
            Some(l) => min_remaining.min(l / 2),
            None => min_remaining,
        }
    }

    /// Whether the token must be renewed to have at least `min_remaining` left (clamped by
    /// [`refresh_threshold`](Self::refresh_threshold)). An expired token always needs it.
    pub fn needs_refresh(&self, min_remaining: Duration) -> bool {
        self.remaining()
            .is_some_and(|r| r.is_zero() || r < self.refresh_threshold(min_remaining))
    }

    /// Whether this entry serves the given server URL.
    pub fn serves(&self, server_url: &str) -> bool {
        self.server_url == server_url || self.resource == server_url
    }
}

impl fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEntry")
            .field("server_url", &self.server_url)
            .field("resource", &self.resource)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("token_endpoint", &self.token_endpoint)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("dpop_key", &self.dpop_key)
            .field("auth_method", &self.auth_method)
            .field("issued_at", &self.issued_at)
            .field("login_required", &self.login_required)
            .finish()
    }
}

/// How a client identity was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegistrationKind {
    /// Configured by the operator.
    PreRegistered,
    /// Client ID metadata document URL.
    MetadataDocument,
    /// RFC 7591 dynamic registration.
    Dynamic,
}

/// A client registration, keyed by issuer (credentials are never reused across issuers).
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientRecord {
    /// Issuer this client belongs to.
    pub issuer: String,
    /// Client ID.
    pub client_id: String,
    /// Client secret (kept across refreshes).
    #[serde(default, serialize_with = "serialize_exposed_opt")]
    pub client_secret: Option<Secret>,
    /// Token endpoint auth method.
    pub auth_method: AuthMethod,
    /// Redirect URIs registered.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Provenance.
    pub kind: RegistrationKind,
}

impl fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRecord")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_method", &self.auth_method)
            .field("kind", &self.kind)
            .finish()
    }
}

/// The key of one stored [`Entry`]: the tokens of an MCP server, or the client registration at
/// an issuer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKey {
    /// Tokens for the MCP server at this URL (for one end user, with a subject).
    Token {
        /// The MCP server URL the user logged in to.
        server_url: String,
        /// The end user (per-user credentials); `None`: the client's own tokens.
        subject: Option<String>,
    },
    /// The client registered at this issuer.
    Client {
        /// The authorization server issuer.
        issuer: String,
    },
    /// An authorization request in flight, by the SHA-256 (hex) of its `state`.
    Pending {
        /// Hex SHA-256 of the state (the state itself is never a key).
        id: String,
    },
}

impl EntryKey {
    /// The key of a server's tokens.
    pub fn token(server_url: impl Into<String>) -> Self {
        EntryKey::Token {
            server_url: server_url.into(),
            subject: None,
        }
    }

    /// The key of one end user's tokens for a server.
    pub fn user_token(server_url: impl Into<String>, subject: impl Into<String>) -> Self {
        EntryKey::Token {
            server_url: server_url.into(),
            subject: Some(subject.into()),
        }
    }

    /// The key of an issuer's client registration.
    pub fn client(issuer: impl Into<String>) -> Self {
        EntryKey::Client {
            issuer: issuer.into(),
        }
    }

    /// A stable, unambiguous string for this key (`token:<url>`,
    /// `user:<percent-encoded subject>:token:<url>` or `client:<issuer>`), for stores that
    /// index by string.
    pub fn storage_key(&self) -> String {
        match self {
            EntryKey::Token {
                server_url,
                subject: None,
            } => format!("token:{server_url}"),
            EntryKey::Token {
                server_url,
                subject: Some(s),
            } => format!("user:{}:token:{server_url}", encode_subject(s)),
            EntryKey::Client { issuer } => format!("client:{issuer}"),
            EntryKey::Pending { id } => format!("pending:{id}"),
        }
    }

    /// Parses [`storage_key`](Self::storage_key) output.
    pub fn from_storage_key(s: &str) -> Option<Self> {
        if let Some(u) = s.strip_prefix("token:") {
            Some(EntryKey::token(u))
        } else if let Some(rest) = s.strip_prefix("user:") {
            let (subject, url) = rest.split_once(":token:")?;
            Some(EntryKey::user_token(url, decode_subject(subject)?))
        } else if let Some(id) = s.strip_prefix("pending:") {
            Some(EntryKey::Pending { id: id.to_owned() })
        } else {
            s.strip_prefix("client:").map(EntryKey::client)
        }
    }
}

/// An authorization request in flight, kept in the store so that whichever process shares the
/// store receives the callback can complete it, once: the PKCE verifier, the expected issuer,
/// the client, what it is bound to. Holds secrets (serialise it only into storage).
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingEntry {
    /// Hex SHA-256 of the `state`.
    pub id: String,
    /// The MCP server the tokens are for.
    pub server_url: String,
    /// The end user the tokens will act for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What the caller bound the request to (opaque to the store; e.g. a gateway's tenant,
    /// user, server name and return URL).
    pub binding: String,
    /// When it stops being accepted, seconds since the Unix epoch.
    pub expires_at: u64,
    #[serde(serialize_with = "serialize_exposed")]
    pub(crate) verifier: Secret,
    pub(crate) redirect_uri: String,
    pub(crate) expected_issuer: String,
    pub(crate) iss_required: bool,
    pub(crate) client: ClientRecord,
    pub(crate) requested_scope: Option<String>,
}

impl fmt::Debug for PendingEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingEntry")
            .field("id", &self.id)
            .field("server_url", &self.server_url)
            .field("subject", &self.subject)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes what could make a storage key ambiguous (`%`, `:`) or unprintable.
fn encode_subject(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b == b'%' || b == b':' || !(0x21..0x7f).contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn decode_subject(s: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next()?, it.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

/// One stored value. It holds secrets: serialise it only into storage
/// ([`to_json`](Self::to_json)), never into logs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// A server's tokens.
    Token(TokenEntry),
    /// A client registration.
    Client(ClientRecord),
    /// An authorization request in flight (see [`crate::OAuthClient::begin_stored_authorization`]).
    Pending(PendingEntry),
}

impl Entry {
    /// Its key.
    pub fn key(&self) -> EntryKey {
        match self {
            Entry::Token(t) => EntryKey::Token {
                server_url: t.server_url.clone(),
                subject: t.subject.clone(),
            },
            Entry::Client(c) => EntryKey::client(&c.issuer),
            Entry::Pending(p) => EntryKey::Pending { id: p.id.clone() },
        }
    }

    /// The JSON a store persists (secrets in clear: encrypt it or keep it private).
    pub fn to_json(&self) -> Result<Secret> {
        serde_json::to_string(self)
            .map(Secret::new)
            .map_err(|e| Error::json("token store entry", &e))
    }

    /// Parses [`to_json`](Self::to_json) output.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| Error::json("token store entry", &e))
    }

    /// The token entry, if this is one.
    pub fn as_token(&self) -> Option<&TokenEntry> {
        match self {
            Entry::Token(t) => Some(t),
            _ => None,
        }
    }

    /// The client record, if this is one.
    pub fn as_client(&self) -> Option<&ClientRecord> {
        match self {
            Entry::Client(c) => Some(c),
            _ => None,
        }
    }

    /// The authorization request in flight, if this is one.
    pub fn as_pending(&self) -> Option<&PendingEntry> {
        match self {
            Entry::Pending(p) => Some(p),
            _ => None,
        }
    }
}

/// The version of a stored entry. A store gives every write of a key a version it never gave
/// that key before (also after a delete), so a stale reader's compare-and-set always fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version(pub u64);

/// An entry with the version it was read at.
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The entry.
    pub entry: Entry,
    /// Its version.
    pub version: Version,
}

/// The result of [`TokenStore::compare_and_set`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// Written; the new version (`None` after a delete).
    Written(Option<Version>),
    /// The entry changed since it was read; nothing was written.
    Conflict,
}

/// A refresh lease on one key, held by whoever acquired it until it is released or its
/// time-to-live runs out (so a dead holder never blocks the others for long).
#[derive(Clone, PartialEq, Eq)]
pub struct Lease {
    /// The key it covers.
    pub key: EntryKey,
    /// Random holder identity: only a release naming it frees the lease.
    pub holder: String,
    /// How long the lease lasts after acquisition.
    pub ttl: Duration,
}

impl Lease {
    /// A lease request with a fresh random holder identity.
    pub fn new(key: EntryKey, ttl: Duration) -> Self {
        Lease {
            key,
            holder: format!("{:032x}", rand::random::<u128>()),
            ttl,
        }
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Per-entry persistence for tokens and client registrations, shared by every task, process
/// and replica that uses the same store. Run `testing::check_store` (feature `testing`)
/// against an implementation.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Reads one entry and its version.
    async fn get(&self, key: &EntryKey) -> Result<Option<Versioned>>;

    /// Reads one entry, possibly from a cache that may lag another writer by a moment. Use it
    /// only to serve a token that is still valid, never to decide on or perform a refresh.
    /// The default is [`get`](Self::get).
    async fn get_cached(&self, key: &EntryKey) -> Result<Option<Versioned>> {
        self.get(key).await
    }

    /// Every entry (for status listings and lookups by resource).
    async fn list(&self) -> Result<Vec<Versioned>>;

    /// Writes `entry` under `key` (deletes it when `None`) only if its version is still
    /// `expected` (`None`: only if absent). Atomic with respect to every other writer.
    async fn compare_and_set(
        &self,
        key: &EntryKey,
        expected: Option<Version>,
        entry: Option<&Entry>,
    ) -> Result<CasOutcome>;

    /// Tries once to take the refresh lease on `key` for `ttl`. `None` when someone else
    /// holds an unexpired lease.
    async fn try_acquire_lease(&self, key: &EntryKey, ttl: Duration) -> Result<Option<Lease>>;

    /// Releases a lease if `lease.holder` still holds it; `false` when it had expired or
    /// another holder took it (which is then left alone).
    async fn release_lease(&self, lease: &Lease) -> Result<bool>;

    /// Whether the store can be reached now (`/readyz`, start-up checks). The default says
    /// yes; stores behind a network answer with a round trip.
    async fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Waits until the entry's version differs from `seen` or `timeout` passes, and returns
    /// the entry as it then is. The default polls [`get`](Self::get) with backoff (10 ms
    /// doubling to 200 ms); stores that can be notified do better.
    async fn wait_for_change(
        &self,
        key: &EntryKey,
        seen: Option<Version>,
        timeout: Duration,
    ) -> Result<Option<Versioned>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            let now = self.get(key).await?;
            if now.as_ref().map(|v| v.version) != seen {
                return Ok(now);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(now);
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

/// The entry serving `server_url` among `all` (by server URL, else by resource), newest
/// version first.
pub(crate) fn find_token<'a>(
    all: &'a [Versioned],
    server_url: &str,
    subject: Option<&str>,
) -> Option<&'a Versioned> {
    all.iter()
        .filter(|v| {
            v.entry
                .as_token()
                .is_some_and(|t| t.serves(server_url) && t.subject.as_deref() == subject)
        })
        .max_by_key(|v| v.version)
}
