//! Token storage: the [`TokenStore`] trait, an in-memory store and a file store (mode 0600,
//! atomic replace, cross-process lock file with `File::lock`).
//!
//! Every read-modify-write happens under [`TokenStore::lock`], which excludes other tasks of
//! this process and, for [`FileStore`], other processes sharing the file.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Error, Result};
use crate::secret::{Secret, serialize_exposed, serialize_exposed_opt};
use crate::token::{AuthMethod, unix_now};

/// Identity of a stored token: issuer + client + resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// Authorization server issuer.
    pub issuer: String,
    /// Client ID at that issuer.
    pub client_id: String,
    /// RFC 8707 resource (verbatim PRM `resource`).
    pub resource: String,
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
        }
    }

    /// Remaining lifetime (`None` = unknown expiry; zero when expired).
    pub fn remaining(&self) -> Option<Duration> {
        self.expires_at
            .map(|e| Duration::from_secs(e.saturating_sub(unix_now())))
    }

    /// Whether the token must be renewed to have at least `min_remaining` left.
    pub fn needs_refresh(&self, min_remaining: Duration) -> bool {
        self.remaining().is_some_and(|r| r < min_remaining)
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

/// Everything a store holds.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct StoreData {
    /// Format version.
    #[serde(default)]
    pub version: u32,
    /// Tokens.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// Client registrations.
    #[serde(default)]
    pub clients: Vec<ClientRecord>,
}

impl fmt::Debug for StoreData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreData")
            .field("tokens", &self.tokens)
            .field("clients", &self.clients)
            .finish()
    }
}

impl StoreData {
    /// The newest token entry serving a server URL.
    pub fn find(&self, server_url: &str) -> Option<&TokenEntry> {
        self.tokens.iter().rev().find(|t| t.serves(server_url))
    }

    /// Inserts or replaces an entry (same key), and drops other entries for the same server
    /// (e.g. from a previous authorization server).
    pub fn upsert(&mut self, entry: TokenEntry) {
        let key = entry.key();
        self.tokens
            .retain(|t| t.key() != key && t.server_url != entry.server_url);
        self.tokens.push(entry);
    }

    /// The client registered at an issuer.
    pub fn client(&self, issuer: &str) -> Option<&ClientRecord> {
        self.clients.iter().find(|c| c.issuer == issuer)
    }

    /// Inserts or replaces the client for its issuer.
    pub fn upsert_client(&mut self, c: ClientRecord) {
        self.clients.retain(|x| x.issuer != c.issuer);
        self.clients.push(c);
    }
}

/// Held while a read-modify-write is in progress; released on drop.
pub struct StoreLock {
    _inproc: OwnedMutexGuard<()>,
    _file: Option<std::fs::File>,
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreLock")
    }
}

/// Persistence for tokens and client registrations.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Reads everything.
    async fn load(&self) -> Result<StoreData>;
    /// Replaces everything. Call only while holding [`lock`](Self::lock).
    async fn save(&self, data: &StoreData) -> Result<()>;
    /// Exclusive lock over read-modify-write cycles (cross-process for file stores).
    async fn lock(&self) -> Result<StoreLock>;
}

/// An in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    data: StdMutex<StoreData>,
    lock: Arc<Mutex<()>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self) -> Result<StoreData> {
        Ok(self
            .data
            .lock()
            .map_err(|_| Error::store("memory store poisoned", None))?
            .clone())
    }
    async fn save(&self, data: &StoreData) -> Result<()> {
        *self
            .data
            .lock()
            .map_err(|_| Error::store("memory store poisoned", None))? = data.clone();
        Ok(())
    }
    async fn lock(&self) -> Result<StoreLock> {
        Ok(StoreLock {
            _inproc: self.lock.clone().lock_owned().await,
            _file: None,
        })
    }
}

/// A JSON file store: mode 0600, atomic replace (temp file + rename), and a sibling
/// `<file>.lock` locked with `File::lock` for cross-process exclusion.
pub struct FileStore {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish()
    }
}

#[cfg(unix)]
fn private_options() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.mode(0o600);
    o
}

#[cfg(not(unix))]
fn private_options() -> std::fs::OpenOptions {
    std::fs::OpenOptions::new()
}

impl FileStore {
    /// A store at `path` (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore {
            path: path.into(),
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// The default path: `$MCPWIRE_HOME/tokens.json`, else `$XDG_CONFIG_HOME/mcpwire/tokens.json`,
    /// else `~/.config/mcpwire/tokens.json`.
    pub fn default_path() -> Result<PathBuf> {
        if let Some(h) = std::env::var_os("MCPWIRE_HOME").filter(|h| !h.is_empty()) {
            return Ok(PathBuf::from(h).join("tokens.json"));
        }
        if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|h| !h.is_empty()) {
            return Ok(PathBuf::from(x).join("mcpwire").join("tokens.json"));
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Error::store("no MCPWIRE_HOME or HOME to place the token store", None)
            })?;
        Ok(PathBuf::from(home)
            .join(".config")
            .join("mcpwire")
            .join("tokens.json"))
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn ensure_dir(&self) -> Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::store("creating store directory", Some(e)))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
        Ok(())
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    fn read_sync(path: &Path) -> Result<StoreData> {
        match std::fs::read(path) {
            Ok(bytes) if bytes.is_empty() => Ok(StoreData::default()),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::json("token store", &e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoreData::default()),
            Err(e) => Err(Error::store("reading token store", Some(e))),
        }
    }

    fn write_sync(path: &Path, data: &StoreData) -> Result<()> {
        let mut d = data.clone();
        d.version = 1;
        let json = Secret::new(
            serde_json::to_string_pretty(&d).map_err(|e| Error::json("token store", &e))?,
        );
        let mut tmp = path.to_path_buf().into_os_string();
        tmp.push(format!(
            ".tmp.{}.{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let tmp = PathBuf::from(tmp);
        let io = |c: &str| {
            let c = c.to_owned();
            move |e| Error::store(c, Some(e))
        };
        let mut f = private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io("creating temp file"))?;
        f.write_all(json.expose().as_bytes())
            .map_err(io("writing temp file"))?;
        f.sync_all().map_err(io("syncing temp file"))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io("renaming temp file"))?;
        Ok(())
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self) -> Result<StoreData> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || Self::read_sync(&path))
            .await
            .map_err(|_| Error::store("store task failed", None))?
    }

    async fn save(&self, data: &StoreData) -> Result<()> {
        self.ensure_dir()?;
        let path = self.path.clone();
        let data = data.clone();
        tokio::task::spawn_blocking(move || Self::write_sync(&path, &data))
            .await
            .map_err(|_| Error::store("store task failed", None))?
    }

    async fn lock(&self) -> Result<StoreLock> {
        let inproc = self.lock.clone().lock_owned().await;
        self.ensure_dir()?;
        let lock_path = self.lock_path();
        let file = tokio::task::spawn_blocking(move || -> Result<std::fs::File> {
            let f = private_options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(|e| Error::store("opening lock file", Some(e)))?;
            f.lock()
                .map_err(|e| Error::store("locking token store", Some(e)))?;
            Ok(f)
        })
        .await
        .map_err(|_| Error::store("store task failed", None))??;
        Ok(StoreLock {
            _inproc: inproc,
            _file: Some(file),
        })
    }
}
