//! Who created each stored response: the gateway records the tenant (and user) of every
//! OpenAI response id it relays, and `GET`/`DELETE /v1/responses/{id}`, cancel and
//! `previous_response_id` / `conversation` are served only to that owner. Everyone else gets
//! the vendor's own 404, as for an id that does not exist, so a foreign id's existence does
//! not leak. Records live as long as the vendor keeps a stored response (30 days), in this
//! process's memory and, with `[shared]`, in Redis for every replica (`{p}:gw:resp:{id}`).
//! The Redis write is sent as the id is first seen, beside the chunk that carries it; while
//! Redis cannot be reached a replica still knows the ids it relayed itself, and refuses
//! others with a retryable 503 rather than guess.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Tenant;
use crate::error::{GatewayError, Kind};
use crate::shared::Shared;

/// How long a record is kept: OpenAI keeps stored responses for 30 days.
pub(crate) const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// At most this many records in memory (the oldest go first).
const MEMORY_CAPACITY: usize = 200_000;

/// The owner of a response id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    /// Tenant name.
    pub(crate) tenant: String,
    /// End user, when the tenant names one.
    pub(crate) user: Option<String>,
}

impl Owner {
    /// The stored form: `tenant` or `tenant\nuser` (neither holds a newline).
    fn encode(&self) -> String {
        match &self.user {
            Some(u) => format!("{}\n{u}", self.tenant),
            None => self.tenant.clone(),
        }
    }

    fn decode(text: &str) -> Owner {
        match text.split_once('\n') {
            Some((t, u)) => Owner {
                tenant: t.to_owned(),
                user: Some(u.to_owned()),
            },
            None => Owner {
                tenant: text.to_owned(),
                user: None,
            },
        }
    }
}

/// Records in this process's memory.
#[derive(Default)]
struct Memory {
    map: HashMap<String, (Owner, Instant)>,
    order: VecDeque<String>,
}

/// The record store.
pub(crate) struct Owners {
    memory: Mutex<Memory>,
    shared: Option<Arc<Shared>>,
}

impl Owners {
    /// Records in memory, and in the shared Redis when there is one.
    pub(crate) fn new(shared: Option<Arc<Shared>>) -> Self {
        Owners {
            memory: Mutex::new(Memory::default()),
            shared,
        }
    }

    /// Records that `id` belongs to `owner`.
    pub(crate) fn record(&self, id: &str, owner: &Owner) {
        if let Some(shared) = &self.shared
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let (shared, id, text) = (shared.clone(), id.to_owned(), owner.encode());
            rt.spawn(async move { shared.set_owner(&id, &text, RETENTION).await });
        }
        let mut m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        if m.map.len() >= MEMORY_CAPACITY
            && let Some(old) = m.order.pop_front()
        {
            m.map.remove(&old);
        }
        if m.map
            .insert(id.to_owned(), (owner.clone(), Instant::now() + RETENTION))
            .is_none()
        {
            m.order.push_back(id.to_owned());
        }
    }

    /// The owner of `id`, if recorded and not expired.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Owner>, GatewayError> {
        let local = {
            let m = self.memory.lock().unwrap_or_else(|p| p.into_inner());
            m.map
                .get(id)
                .filter(|(_, until)| *until > Instant::now())
                .map(|(o, _)| o.clone())
        };
        if local.is_some() {
            return Ok(local);
        }
        let Some(shared) = &self.shared else {
            return Ok(None);
        };
        match shared.owner(id).await {
            Ok(found) => Ok(found.as_deref().map(Owner::decode)),
            Err(()) => Err(GatewayError::new(
                Kind::StoreUnavailable,
                "the gateway cannot check who owns this response right now (its shared state is unreachable); try again",
            )),
        }
    }

    /// Refuses `id` unless `tenant` (and `user`) own it, or the tenant accepts ids the gateway
    /// never relayed and nobody else owns it. The refusal is the vendor's 404.
    pub(crate) async fn check(
        &self,
        id: &str,
        tenant: &Tenant,
        user: Option<&str>,
        param: Option<&str>,
    ) -> Result<(), GatewayError> {
        let owned = match self.get(id).await? {
            Some(owner) => owner.tenant == tenant.name && owner.user.as_deref() == user,
            None => tenant.allow_foreign_response_ids,
        };
        if owned {
            return Ok(());
        }
        let what = if param == Some("conversation") {
            "conversation"
        } else {
            "response"
        };
        let mut e = GatewayError::new(Kind::NotFound, format!("No {what} found with id '{id}'."))
            .with_code("response_not_found");
        if let Some(p) = param {
            e = e.with_param(p);
        }
        Err(e)
    }
}
