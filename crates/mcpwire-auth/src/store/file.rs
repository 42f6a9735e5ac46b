//! [`FileStore`]: one JSON file, mode 0600, replaced atomically (temp file + rename); every
//! read-modify-write holds a sibling `<file>.lock` locked with `File::lock`, so processes
//! sharing the file exclude each other. Each entry carries its version (`rev`), and refresh
//! leases live in the file with a wall-clock deadline. Files written before versions existed
//! (format 1) are read as version 0 entries.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{
    CasOutcome, ClientRecord, Entry, EntryKey, Lease, PendingEntry, TokenEntry, TokenStore,
    Version, Versioned,
};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// On-disk format 2 (reads format 1, which had neither `rev` nor `leases`).
#[derive(Default, Serialize, Deserialize)]
struct Disk {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    next_rev: u64,
    #[serde(default)]
    tokens: Vec<Stamped<TokenEntry>>,
    #[serde(default)]
    clients: Vec<Stamped<ClientRecord>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<Stamped<PendingEntry>>,
    #[serde(default)]
    leases: Vec<DiskLease>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Stamped<T> {
    #[serde(default)]
    rev: u64,
    #[serde(flatten)]
    value: T,
}

#[derive(Serialize, Deserialize)]
struct DiskLease {
    key: String,
    holder: String,
    expires_at_ms: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Disk {
    fn next(&mut self) -> u64 {
        self.next_rev += 1;
        self.next_rev
    }

    fn all(&self) -> Vec<Versioned> {
        let tokens = self.tokens.iter().map(|s| Versioned {
            entry: Entry::Token(s.value.clone()),
            version: Version(s.rev),
        });
        let clients = self.clients.iter().map(|s| Versioned {
            entry: Entry::Client(s.value.clone()),
            version: Version(s.rev),
        });
        let pending = self.pending.iter().map(|s| Versioned {
            entry: Entry::Pending(s.value.clone()),
            version: Version(s.rev),
        });
        tokens.chain(clients).chain(pending).collect()
    }

    fn get(&self, key: &EntryKey) -> Option<Versioned> {
        match key {
            EntryKey::Token {
                server_url,
                subject,
            } => self
                .tokens
                .iter()
                .find(|s| &s.value.server_url == server_url && &s.value.subject == subject)
                .map(|s| Versioned {
                    entry: Entry::Token(s.value.clone()),
                    version: Version(s.rev),
                }),
            EntryKey::Client { issuer } => self
                .clients
                .iter()
                .find(|s| &s.value.issuer == issuer)
                .map(|s| Versioned {
                    entry: Entry::Client(s.value.clone()),
                    version: Version(s.rev),
                }),
            EntryKey::Pending { id } => {
                self.pending
                    .iter()
                    .find(|s| &s.value.id == id)
                    .map(|s| Versioned {
                        entry: Entry::Pending(s.value.clone()),
                        version: Version(s.rev),
                    })
            }
        }
    }

    fn remove(&mut self, key: &EntryKey) {
        match key {
            EntryKey::Token {
                server_url,
                subject,
            } => self
                .tokens
                .retain(|s| !(&s.value.server_url == server_url && &s.value.subject == subject)),
            EntryKey::Client { issuer } => self.clients.retain(|s| &s.value.issuer != issuer),
            EntryKey::Pending { id } => self.pending.retain(|s| &s.value.id != id),
        }
    }

    fn put(&mut self, entry: &Entry) -> u64 {
        self.remove(&entry.key());
        let rev = self.next();
        match entry {
            Entry::Token(t) => self.tokens.push(Stamped {
                rev,
                value: t.clone(),
            }),
            Entry::Client(c) => self.clients.push(Stamped {
                rev,
                value: c.clone(),
            }),
            Entry::Pending(p) => self.pending.push(Stamped {
                rev,
                value: p.clone(),
            }),
        }
        rev
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

fn task_failed<E>(_: E) -> Error {
    Error::store("store task failed", None)
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

    fn ensure_dir(path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
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

    fn lock_path(path: &Path) -> PathBuf {
        let mut p = path.to_path_buf().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// Opens and locks `<file>.lock` (blocking).
    fn lock_sync(path: &Path) -> Result<std::fs::File> {
        Self::ensure_dir(path)?;
        let f = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(Self::lock_path(path))
            .map_err(|e| Error::store("opening lock file", Some(e)))?;
        f.lock()
            .map_err(|e| Error::store("locking token store", Some(e)))?;
        Ok(f)
    }

    fn read_sync(path: &Path) -> Result<Disk> {
        match std::fs::read(path) {
            Ok(bytes) if bytes.is_empty() => Ok(Disk::default()),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::json("token store", &e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Disk::default()),
            Err(e) => Err(Error::store("reading token store", Some(e))),
        }
    }

    fn write_sync(path: &Path, disk: &mut Disk) -> Result<()> {
        Self::ensure_dir(path)?;
        disk.version = 2;
        let json = Secret::new(
            serde_json::to_string_pretty(disk).map_err(|e| Error::json("token store", &e))?,
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

    async fn read(&self) -> Result<Disk> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || Self::read_sync(&path))
            .await
            .map_err(task_failed)?
    }

    /// Runs `f` on the file's contents under the in-process and cross-process locks, and
    /// writes the result back when `f` says it changed something.
    async fn update<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Disk) -> (R, bool) + Send + 'static,
    ) -> Result<R> {
        let _inproc = self.lock.clone().lock_owned().await;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let _file = Self::lock_sync(&path)?;
            let mut disk = Self::read_sync(&path)?;
            let (r, dirty) = f(&mut disk);
            if dirty {
                Self::write_sync(&path, &mut disk)?;
            }
            Ok(r)
        })
        .await
        .map_err(task_failed)?
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn get(&self, key: &EntryKey) -> Result<Option<Versioned>> {
        Ok(self.read().await?.get(key))
    }

    async fn list(&self) -> Result<Vec<Versioned>> {
        Ok(self.read().await?.all())
    }

    async fn compare_and_set(
        &self,
        key: &EntryKey,
        expected: Option<Version>,
        entry: Option<&Entry>,
    ) -> Result<CasOutcome> {
        if let Some(e) = entry
            && e.key() != *key
        {
            return Err(Error::store("entry does not belong under this key", None));
        }
        let key = key.clone();
        let entry = entry.cloned();
        self.update(move |disk| {
            if disk.get(&key).map(|v| v.version) != expected {
                return (CasOutcome::Conflict, false);
            }
            match &entry {
                Some(e) => (CasOutcome::Written(Some(Version(disk.put(e)))), true),
                None => {
                    disk.remove(&key);
                    (CasOutcome::Written(None), true)
                }
            }
        })
        .await
    }

    async fn try_acquire_lease(&self, key: &EntryKey, ttl: Duration) -> Result<Option<Lease>> {
        let lease = Lease::new(key.clone(), ttl);
        let sk = key.storage_key();
        let (holder, ttl_ms) = (lease.holder.clone(), ttl.as_millis() as u64);
        let got = self
            .update(move |disk| {
                let now = now_ms();
                disk.leases.retain(|l| l.expires_at_ms > now);
                if disk.leases.iter().any(|l| l.key == sk) {
                    return (false, false);
                }
                disk.leases.push(DiskLease {
                    key: sk,
                    holder,
                    expires_at_ms: now + ttl_ms,
                });
                (true, true)
            })
            .await?;
        Ok(got.then_some(lease))
    }

    async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let sk = lease.key.storage_key();
        let holder = lease.holder.clone();
        self.update(move |disk| {
            let now = now_ms();
            let before = disk.leases.len();
            disk.leases
                .retain(|l| !(l.key == sk && l.holder == holder && l.expires_at_ms > now));
            let released = disk.leases.len() != before;
            (released, released)
        })
        .await
    }
}
