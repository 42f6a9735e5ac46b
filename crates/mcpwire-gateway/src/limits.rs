//! Per-tenant limits: how many upstream requests a tenant may have in flight at once
//! (`max_concurrent_streams`). Counted by tenant name, so a reloaded configuration's new
//! limit applies at once to requests already counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::Tenant;
use crate::error::{GatewayError, Kind};

/// The counters of this process.
#[derive(Default)]
pub(crate) struct Limiter {
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

/// One slot of a tenant's stream limit, given back on drop.
pub(crate) struct StreamPermit {
    streams: Arc<Mutex<HashMap<String, usize>>>,
    tenant: String,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut s = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = s.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
        }
    }
}

impl Limiter {
    /// Takes a stream slot for `tenant`, or refuses with 429.
    pub(crate) fn acquire_stream(&self, tenant: &Tenant) -> Result<StreamPermit, GatewayError> {
        let mut s = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let n = s.entry(tenant.name.clone()).or_insert(0);
        if *n >= tenant.max_concurrent_streams {
            return Err(GatewayError::new(
                Kind::TooMany,
                format!(
                    "tenant `{}` already has {} requests in flight",
                    tenant.name, tenant.max_concurrent_streams
                ),
            ));
        }
        *n += 1;
        Ok(StreamPermit {
            streams: self.streams.clone(),
            tenant: tenant.name.clone(),
        })
    }
}
