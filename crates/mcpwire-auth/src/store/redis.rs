//! [`RedisStore`] (feature `redis`): the token store for a fleet of replicas.
//!
//! Layout under `<prefix>:<tenant>:` (defaults `mcpwire` and `default`):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `entry:<storage key>` | hash | `rev` (version), `kid` (key id), `ct` (AES-256-GCM sealed entry, base64) |
//! | `rev` | integer | the version counter (`INCR`), so versions are never reused |
//! | `lease:<storage key>` | string | the refresh lease holder, `SET NX PX` |
//! | `changed` (channel) | pub/sub | storage keys written, for the replicas' caches |
//!
//! No entry key ever gets a TTL (a TTL tied to the access token would delete the refresh token
//! with it); only leases expire. Compare-and-set and lease release are Lua scripts, so a
//! holder whose lease ran out never deletes the next holder's lease. The ciphertext is bound
//! to its Redis key (AEAD associated data), so records cannot be swapped between keys.
//!
//! Reads through [`TokenStore::get_cached`] are served from an in-process cache while the
//! store's pub/sub subscription is up; every write (by any replica) publishes the key and
//! evicts it everywhere. Everything else reads Redis.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::crypto::StoreKeys;
use super::{CasOutcome, Entry, EntryKey, Lease, TokenStore, Version, Versioned};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Options of a [`RedisStore`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisOptions {
    /// Key prefix (letters, digits, `_`, `-`, `.`). Default `mcpwire`.
    pub prefix: String,
    /// Tenant namespace under the prefix (same characters). Default `default`.
    pub tenant: String,
    /// Serve [`TokenStore::get_cached`] from an in-process cache kept coherent by pub/sub.
    /// Default `true`.
    pub cache: bool,
    /// Connection and response timeout. Default 5 s.
    pub timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: "mcpwire".into(),
            tenant: "default".into(),
            cache: true,
            timeout: Duration::from_secs(5),
        }
    }
}

impl RedisOptions {
    /// Sets the prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the tenant.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// Turns the cache on or off.
    pub fn cache(mut self, on: bool) -> Self {
        self.cache = on;
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

fn valid_name(field: &'static str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::StoreKey {
            reason: format!("redis {field} must be 1-64 letters, digits, '_', '-' or '.'"),
        })
    }
}

fn unavailable(e: redis::RedisError) -> Error {
    let mut message: String = e.to_string().chars().take(200).collect();
    if message.is_empty() {
        message = format!("{:?}", e.kind());
    }
    Error::StoreUnavailable {
        store: "redis",
        message,
    }
}

/// Compare-and-set: KEYS = entry, counter; ARGV = expected rev ('' = absent), kid, sealed
/// entry ('' = delete), channel, storage key. Returns the new rev, 0 after a delete, -1 on
/// conflict.
const CAS_SCRIPT: &str = r"
local cur = redis.call('HGET', KEYS[1], 'rev')
if (cur or '') ~= ARGV[1] then return -1 end
local rev = 0
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1])
else
  rev = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'rev', rev, 'kid', ARGV[2], 'ct', ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return rev
";

/// Compare-and-delete of a lease: KEYS = lease; ARGV = holder.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

#[derive(Default)]
struct Cache {
    map: Mutex<HashMap<String, Versioned>>,
    live: AtomicBool,
    generation: AtomicU64,
}

impl Cache {
    fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }

    fn evict(&self, storage_key: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.map.lock() {
            m.remove(storage_key);
        }
    }
}

/// Aborts the subscription task when the store is dropped.
struct TaskGuard(tokio::task::JoinHandle<()>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A [`TokenStore`] on Redis: entries sealed with AES-256-GCM, versioned compare-and-set and
/// owned leases in Lua, optional pub/sub-coherent cache. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Arc<StoreKeys>,
    ns: Arc<str>,
    cache: Option<Arc<Cache>>,
    _task: Option<Arc<TaskGuard>>,
    cas: Arc<redis::Script>,
    release: Arc<redis::Script>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("namespace", &self.ns)
            .field("keys", &self.keys)
            .field("cache", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://` or `rediss://`, which may carry a password, hence a
    /// [`Secret`]) and fails with [`Error::StoreUnavailable`] when Redis does not answer.
    pub async fn connect(url: &Secret, options: RedisOptions, keys: StoreKeys) -> Result<Self> {
        valid_name("prefix", &options.prefix)?;
        valid_name("tenant", &options.tenant)?;
        if url.expose().starts_with("rediss://") {
            // rustls needs a process-wide provider; ours is ring (no cmake). Ignore "already set".
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(url.expose()).map_err(|_| Error::InvalidUrl {
            field: "redis store url",
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(2);
        let conn = tokio::time::timeout(
            options.timeout,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| Error::StoreUnavailable {
            store: "redis",
            message: "connection timed out".into(),
        })?
        .map_err(unavailable)?;
        let ns: Arc<str> = format!("{}:{}:", options.prefix, options.tenant).into();
        let (cache, task) = if options.cache {
            let cache = Arc::new(Cache::default());
            let task = tokio::spawn(watch(
                client,
                format!("{ns}changed"),
                Arc::downgrade(&cache),
            ));
            (Some(cache), Some(Arc::new(TaskGuard(task))))
        } else {
            (None, None)
        };
        Ok(RedisStore {
            conn,
            keys: Arc::new(keys),
            ns,
            cache,
            _task: task,
            cas: Arc::new(redis::Script::new(CAS_SCRIPT)),
            release: Arc::new(redis::Script::new(RELEASE_SCRIPT)),
        })
    }

    /// Opens a store from a URL whose query may set `prefix`, `tenant` and `cache=off`
    /// (removed before connecting), with keys from [`StoreKeys::from_env`].
    pub async fn open(url: &Secret) -> Result<Self> {
        Self::open_with_keys(url, StoreKeys::from_env()?).await
    }

    /// [`RedisStore::open`] with the given keys.
    pub async fn open_with_keys(url: &Secret, keys: StoreKeys) -> Result<Self> {
        let mut u = url::Url::parse(url.expose()).map_err(|_| Error::InvalidUrl {
            field: "redis store url",
        })?;
        let mut options = RedisOptions::default();
        let mut rest = Vec::new();
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "prefix" => options.prefix = v.into_owned(),
                "tenant" => options.tenant = v.into_owned(),
                "cache" => options.cache = !matches!(v.as_ref(), "off" | "false" | "0"),
                _ => rest.push((k.into_owned(), v.into_owned())),
            }
        }
        if rest.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(rest);
        }
        Self::connect(&Secret::new(String::from(u)), options, keys).await
    }

    /// The Redis key of an entry.
    pub fn entry_key(&self, key: &EntryKey) -> String {
        format!("{}entry:{}", self.ns, key.storage_key())
    }

    fn lease_key(&self, key: &EntryKey) -> String {
        format!("{}lease:{}", self.ns, key.storage_key())
    }

    fn decode(
        &self,
        redis_key: &str,
        fields: (Option<u64>, Option<String>, Option<String>),
    ) -> Result<Option<Versioned>> {
        let (Some(rev), Some(kid), Some(ct)) = fields else {
            return Ok(None);
        };
        let plain = self.keys.open(&kid, &ct, redis_key.as_bytes())?;
        Ok(Some(Versioned {
            entry: Entry::from_json(plain.expose())?,
            version: Version(rev),
        }))
    }

    async fn read(&self, redis_key: &str) -> Result<Option<Versioned>> {
        let mut c = self.conn.clone();
        let fields: (Option<u64>, Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(redis_key)
            .arg("rev")
            .arg("kid")
            .arg("ct")
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        self.decode(redis_key, fields)
    }
}

/// Keeps the cache coherent: evicts every key another writer announces; while unsubscribed
/// the cache is off and empty.
async fn watch(client: redis::Client, channel: String, cache: Weak<Cache>) {
    let mut pause = Duration::from_millis(100);
    loop {
        if let Ok(mut ps) = client.get_async_pubsub().await
            && ps.subscribe(&channel).await.is_ok()
        {
            let Some(c) = cache.upgrade() else { return };
            c.clear();
            c.live.store(true, Ordering::SeqCst);
            drop(c);
            pause = Duration::from_millis(100);
            let mut messages = ps.on_message();
            while let Some(msg) = messages.next().await {
                let Some(c) = cache.upgrade() else { return };
                match msg.get_payload::<String>() {
                    Ok(k) => c.evict(&k),
                    Err(_) => c.clear(),
                }
            }
        }
        let Some(c) = cache.upgrade() else { return };
        c.live.store(false, Ordering::SeqCst);
        c.clear();
        drop(c);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn check(&self) -> Result<()> {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    async fn get(&self, key: &EntryKey) -> Result<Option<Versioned>> {
        self.read(&self.entry_key(key)).await
    }

    async fn get_cached(&self, key: &EntryKey) -> Result<Option<Versioned>> {
        let Some(cache) = self
            .cache
            .as_ref()
            .filter(|c| c.live.load(Ordering::SeqCst))
        else {
            return self.get(key).await;
        };
        let sk = key.storage_key();
        if let Some(v) = cache.map.lock().ok().and_then(|m| m.get(&sk).cloned()) {
            return Ok(Some(v));
        }
        let generation = cache.generation.load(Ordering::SeqCst);
        let v = self.get(key).await?;
        if let Some(v) = &v
            && cache.live.load(Ordering::SeqCst)
            && let Ok(mut m) = cache.map.lock()
            && cache.generation.load(Ordering::SeqCst) == generation
        {
            m.insert(sk, v.clone());
        }
        Ok(v)
    }

    async fn list(&self) -> Result<Vec<Versioned>> {
        let mut c = self.conn.clone();
        let pattern = format!("{}entry:*", self.ns);
        let mut cursor: u64 = 0;
        let mut names = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(200)
                .query_async(&mut c)
                .await
                .map_err(unavailable)?;
            names.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        names.sort();
        names.dedup();
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(v) = self.read(&n).await? {
                out.push(v);
            }
        }
        Ok(out)
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
        let redis_key = self.entry_key(key);
        let (kid, sealed) = match entry {
            Some(e) => self.keys.seal(&e.to_json()?, redis_key.as_bytes())?,
            None => (String::new(), String::new()),
        };
        let sk = key.storage_key();
        let mut c = self.conn.clone();
        let rev: i64 = self
            .cas
            .key(&redis_key)
            .key(format!("{}rev", self.ns))
            .arg(expected.map(|v| v.0.to_string()).unwrap_or_default())
            .arg(kid)
            .arg(sealed)
            .arg(format!("{}changed", self.ns))
            .arg(&sk)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        if let Some(cache) = &self.cache {
            cache.evict(&sk);
        }
        Ok(match rev {
            -1 => CasOutcome::Conflict,
            0 => CasOutcome::Written(None),
            n => CasOutcome::Written(Some(Version(n as u64))),
        })
    }

    async fn try_acquire_lease(&self, key: &EntryKey, ttl: Duration) -> Result<Option<Lease>> {
        let lease = Lease::new(key.clone(), ttl);
        let mut c = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.lease_key(key))
            .arg(&lease.holder)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(set.map(|_| lease))
    }

    async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let mut c = self.conn.clone();
        let n: i64 = self
            .release
            .key(self.lease_key(&lease.key))
            .arg(&lease.holder)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(n == 1)
    }
}
