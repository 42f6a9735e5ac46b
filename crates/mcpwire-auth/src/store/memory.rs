//! [`MemoryStore`]: entries in a map, versions from one counter, leases with deadlines, and a
//! [`Notify`] that wakes waiters on every write.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex as StdMutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{CasOutcome, Entry, EntryKey, Lease, TokenStore, Version, Versioned};
use crate::error::{Error, Result};

#[derive(Default)]
struct State {
    entries: BTreeMap<EntryKey, Versioned>,
    leases: HashMap<EntryKey, (String, Instant)>,
    next_version: u64,
}

impl State {
    fn next(&mut self) -> Version {
        self.next_version += 1;
        Version(self.next_version)
    }
}

/// An in-memory store (one process; tests, short-lived tools).
#[derive(Default)]
pub struct MemoryStore {
    state: StdMutex<State>,
    changed: Notify,
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

    fn state(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| Error::store("memory store poisoned", None))
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn get(&self, key: &EntryKey) -> Result<Option<Versioned>> {
        Ok(self.state()?.entries.get(key).cloned())
    }

    async fn list(&self) -> Result<Vec<Versioned>> {
        Ok(self.state()?.entries.values().cloned().collect())
    }

    async fn compare_and_set(
        &self,
        key: &EntryKey,
        expected: Option<Version>,
        entry: Option<&Entry>,
    ) -> Result<CasOutcome> {
        let out = {
            let mut st = self.state()?;
            if st.entries.get(key).map(|v| v.version) != expected {
                return Ok(CasOutcome::Conflict);
            }
            match entry {
                Some(e) => {
                    let version = st.next();
                    st.entries.insert(
                        key.clone(),
                        Versioned {
                            entry: e.clone(),
                            version,
                        },
                    );
                    CasOutcome::Written(Some(version))
                }
                None => {
                    st.entries.remove(key);
                    CasOutcome::Written(None)
                }
            }
        };
        self.changed.notify_waiters();
        Ok(out)
    }

    async fn try_acquire_lease(&self, key: &EntryKey, ttl: Duration) -> Result<Option<Lease>> {
        let mut st = self.state()?;
        let now = Instant::now();
        if st.leases.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(None);
        }
        let lease = Lease::new(key.clone(), ttl);
        st.leases
            .insert(key.clone(), (lease.holder.clone(), now + ttl));
        Ok(Some(lease))
    }

    async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let released = {
            let mut st = self.state()?;
            let mine = st
                .leases
                .get(&lease.key)
                .is_some_and(|(h, until)| *h == lease.holder && *until > Instant::now());
            if mine {
                st.leases.remove(&lease.key);
            }
            mine
        };
        self.changed.notify_waiters();
        Ok(released)
    }

    async fn wait_for_change(
        &self,
        key: &EntryKey,
        seen: Option<Version>,
        timeout: Duration,
    ) -> Result<Option<Versioned>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            let now = self.get(key).await?;
            if now.as_ref().map(|v| v.version) != seen {
                return Ok(now);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.get(key).await;
            }
        }
    }
}
