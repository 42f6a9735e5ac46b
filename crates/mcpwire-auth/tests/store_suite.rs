//! The store conformance suite (`testing::check_store`) against every store in this
//! crate and against a store written here, outside the crate, from public types only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mcpwire_auth::testing::check_store;
use mcpwire_auth::{
    CasOutcome, Entry, EntryKey, Error, FileStore, Lease, MemoryStore, Result, TokenStore, Version,
    Versioned,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_suite() {
    check_store(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_passes_the_suite() {
    let dir = std::env::temp_dir().join(format!(
        "mcpwire-store-suite-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let path = dir.join("tokens.json");
    check_store(Arc::new(FileStore::new(&path))).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600), "the token file must be private");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A store as a user of the crate would write one: JSON strings in a map, the default
/// polling `wait_for_change`.
#[derive(Default)]
struct JsonMapStore {
    inner: Mutex<Inner>,
    /// A defect the suite must catch: compare-and-set ignores the expected version.
    ignores_versions: bool,
}

#[derive(Default)]
struct Inner {
    values: HashMap<String, (u64, String)>,
    leases: HashMap<String, (String, Instant)>,
    counter: u64,
}

impl JsonMapStore {
    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock().map_err(|_| Error::Store {
            context: "poisoned".into(),
            source: None,
        })
    }
}

#[async_trait]
impl TokenStore for JsonMapStore {
    async fn get(&self, key: &EntryKey) -> Result<Option<Versioned>> {
        let inner = self.inner()?;
        inner
            .values
            .get(&key.storage_key())
            .map(|(v, json)| {
                Ok(Versioned {
                    entry: Entry::from_json(json)?,
                    version: Version(*v),
                })
            })
            .transpose()
    }

    async fn list(&self) -> Result<Vec<Versioned>> {
        let inner = self.inner()?;
        inner
            .values
            .values()
            .map(|(v, json)| {
                Ok(Versioned {
                    entry: Entry::from_json(json)?,
                    version: Version(*v),
                })
            })
            .collect()
    }

    async fn compare_and_set(
        &self,
        key: &EntryKey,
        expected: Option<Version>,
        entry: Option<&Entry>,
    ) -> Result<CasOutcome> {
        let mut inner = self.inner()?;
        let sk = key.storage_key();
        let current = inner.values.get(&sk).map(|(v, _)| Version(*v));
        if current != expected && !self.ignores_versions {
            return Ok(CasOutcome::Conflict);
        }
        Ok(match entry {
            Some(e) => {
                inner.counter += 1;
                let v = inner.counter;
                let json = e.to_json()?.expose().to_owned();
                inner.values.insert(sk, (v, json));
                CasOutcome::Written(Some(Version(v)))
            }
            None => {
                inner.values.remove(&sk);
                CasOutcome::Written(None)
            }
        })
    }

    async fn try_acquire_lease(&self, key: &EntryKey, ttl: Duration) -> Result<Option<Lease>> {
        let mut inner = self.inner()?;
        let sk = key.storage_key();
        if inner
            .leases
            .get(&sk)
            .is_some_and(|(_, until)| *until > Instant::now())
        {
            return Ok(None);
        }
        let lease = Lease::new(key.clone(), ttl);
        inner
            .leases
            .insert(sk, (lease.holder.clone(), Instant::now() + ttl));
        Ok(Some(lease))
    }

    async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let mut inner = self.inner()?;
        let sk = lease.key.storage_key();
        let mine = inner
            .leases
            .get(&sk)
            .is_some_and(|(h, until)| *h == lease.holder && *until > Instant::now());
        if mine {
            inner.leases.remove(&sk);
        }
        Ok(mine)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_written_outside_the_crate_passes_the_suite() {
    check_store(Arc::new(JsonMapStore::default())).await;
}

/// The suite must catch a broken store: one whose compare-and-set ignores the version.
#[tokio::test]
#[should_panic(expected = "store check `cas`")]
async fn the_suite_rejects_a_store_that_ignores_versions() {
    let broken = JsonMapStore {
        ignores_versions: true,
        ..JsonMapStore::default()
    };
    check_store(Arc::new(broken)).await;
}
