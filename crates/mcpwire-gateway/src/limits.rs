//! Per-tenant limits, checked before a request is forwarded: `max_concurrent_streams`
//! (upstream requests in flight), `requests_per_minute` (a sliding window) and
//! `tokens_per_day` (input + output tokens of the responses that ended this UTC day, charged
//! when each ends). With `[shared]` they hold across every replica naming the same Redis
//! (`shared`); without it, or while that Redis cannot be reached, each process counts alone.
//! Limits are read from the tenant at each check, so a reloaded configuration applies at
//! once. With `[shared]`, the end of a request waits in [`Ended`] for the next admission
//! script to carry it to Redis (one round trip per request), or is sent alone when none comes
//! within `shared::FINISH_AFTER`, and at shutdown ([`Limiter::flush`]).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Tenant;
use crate::error::{GatewayError, Kind, RateLimit, RateLimited};
use crate::shared::{Done, FINISH_AFTER, Shared, Verdict};

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The current UTC day (days since 1970-01-01) and the time until the next.
fn utc_day() -> (u64, Duration) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    (now / 86_400, Duration::from_secs(86_400 - now % 86_400))
}

/// One tenant's counters in this process.
#[derive(Default)]
struct Counters {
    streams: usize,
    minute: VecDeque<Instant>,
    day: u64,
    tokens: u64,
}

#[derive(Default)]
struct Local {
    tenants: Mutex<HashMap<String, Counters>>,
}

impl Local {
    fn admit(&self, tenant: &Tenant, check_tokens: bool) -> Result<(u64, u64), GatewayError> {
        let mut all = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        let c = all.entry(tenant.name.clone()).or_default();
        let now = Instant::now();
        if c.streams >= tenant.max_concurrent_streams {
            return Err(streams_refusal(tenant));
        }
        while c
            .minute
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            c.minute.pop_front();
        }
        if let Some(rpm) = tenant.requests_per_minute
            && c.minute.len() as u64 >= rpm
        {
            let retry = c.minute.front().map_or(Duration::from_secs(1), |t| {
                Duration::from_secs(60).saturating_sub(now.duration_since(*t))
            });
            return Err(rpm_refusal(tenant, rpm, retry));
        }
        let (day, _) = utc_day();
        if c.day != day {
            c.day = day;
            c.tokens = 0;
        }
        if check_tokens
            && let Some(tpd) = tenant.tokens_per_day
            && c.tokens >= tpd
        {
            return Err(tokens_refusal(tenant, tpd, c.tokens));
        }
        c.streams += 1;
        c.minute.push_back(now);
        Ok((c.minute.len() as u64, c.tokens))
    }

    fn release(&self, tenant: &str, tokens: u64) {
        let mut all = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = all.get_mut(tenant) {
            c.streams = c.streams.saturating_sub(1);
            self.charge_in(c, tokens);
        }
    }

    fn charge(&self, tenant: &str, tokens: u64) {
        let mut all = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        let c = all.entry(tenant.to_owned()).or_default();
        self.charge_in(c, tokens);
    }

    fn charge_in(&self, c: &mut Counters, tokens: u64) {
        let (day, _) = utc_day();
        if c.day != day {
            c.day = day;
            c.tokens = 0;
        }
        c.tokens = c.tokens.saturating_add(tokens);
    }
}

fn streams_refusal(tenant: &Tenant) -> GatewayError {
    GatewayError::new(
        Kind::TooMany,
        format!(
            "tenant `{}` already has {} requests in flight",
            tenant.name, tenant.max_concurrent_streams
        ),
    )
}

fn rpm_refusal(tenant: &Tenant, limit: u64, retry: Duration) -> GatewayError {
    let secs = retry.as_secs_f64().ceil().max(1.0) as u64;
    GatewayError::new(
        Kind::TooMany,
        format!(
            "Rate limit reached for tenant `{}`: {limit} requests per minute. Try again in {secs}s.",
            tenant.name
        ),
    )
    .with_code("rate_limit_exceeded")
    .with_rate_limit(RateLimited {
        what: RateLimit::Requests,
        limit,
        remaining: 0,
        reset: Duration::from_secs(secs),
    })
}

fn tokens_refusal(tenant: &Tenant, limit: u64, used: u64) -> GatewayError {
    let (_, reset) = utc_day();
    GatewayError::new(
        Kind::TooMany,
        format!(
            "Token budget reached for tenant `{}`: {used} of {limit} tokens per day used; it renews at 00:00 UTC.",
            tenant.name
        ),
    )
    .with_code("rate_limit_exceeded")
    .with_rate_limit(RateLimited {
        what: RateLimit::Tokens,
        limit,
        remaining: 0,
        reset,
    })
    // Hours away: the SDKs' automatic retries, seconds apart, cannot succeed.
    .with_retry(reset <= Duration::from_secs(60))
}

/// The limits of this process, and of the fleet when shared.
pub(crate) struct Limiter {
    local: Arc<Local>,
    shared: Option<Arc<Shared>>,
    ended: Arc<Ended>,
    lease: Mutex<Duration>,
}

/// Requests that ended and whose end is not yet in the shared Redis.
#[derive(Default)]
struct Ended {
    done: Mutex<Vec<Done>>,
    /// Wakes the task that sends them when no admission carries them.
    wake: tokio::sync::Notify,
    /// Whether that task runs.
    sender: AtomicBool,
}

impl Ended {
    fn take(&self) -> Vec<Done> {
        std::mem::take(&mut *self.done.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Queues `done`, and makes sure it reaches Redis within [`FINISH_AFTER`] even when no
    /// admission follows.
    fn push(self: &Arc<Self>, done: Done, shared: &Arc<Shared>, local: &Arc<Local>) {
        self.done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(done);
        if !self.sender.swap(true, Ordering::SeqCst) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    let (ended, shared, local) = (self.clone(), shared.clone(), local.clone());
                    rt.spawn(async move {
                        loop {
                            ended.wake.notified().await;
                            tokio::time::sleep(FINISH_AFTER).await;
                            ended.send(&shared, &local).await;
                        }
                    });
                }
                // No runtime to send it from: the lease expires by itself.
                Err(_) => self.sender.store(false, Ordering::SeqCst),
            }
        }
        self.wake.notify_one();
    }

    /// Sends every waiting end in one script; when Redis cannot be reached, their tokens are
    /// at least counted here and their leases expire by themselves.
    async fn send(&self, shared: &Shared, local: &Local) {
        let done = self.take();
        if !shared.finish(&done).await {
            charge_locally(local, &done);
        }
    }
}

fn charge_locally(local: &Local, done: &[Done]) {
    for d in done {
        local.charge(&d.tenant, d.tokens);
    }
}

enum Slot {
    Local,
    Shared {
        shared: Arc<Shared>,
        ended: Arc<Ended>,
        lease_id: String,
        day: u64,
        renew: tokio::task::AbortHandle,
    },
}

/// A request's place in its tenant's limits, given back (and its tokens charged) on drop.
pub(crate) struct StreamPermit {
    local: Arc<Local>,
    tenant: String,
    slot: Slot,
    tokens: u64,
}

impl StreamPermit {
    /// Sets the tokens the response used (charged when the permit is dropped).
    pub(crate) fn charge(&mut self, tokens: u64) {
        self.tokens = tokens;
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.slot, Slot::Local) {
            Slot::Local => self.local.release(&self.tenant, self.tokens),
            Slot::Shared {
                shared,
                ended,
                lease_id,
                day,
                renew,
            } => {
                renew.abort();
                let done = Done {
                    tenant: std::mem::take(&mut self.tenant),
                    day,
                    lease_id,
                    tokens: self.tokens,
                };
                ended.push(done, &shared, &self.local);
            }
        }
    }
}

impl Limiter {
    pub(crate) fn new(shared: Option<Arc<Shared>>, lease: Duration) -> Limiter {
        Limiter {
            local: Arc::default(),
            shared,
            ended: Arc::default(),
            lease: Mutex::new(lease),
        }
    }

    /// Sends the ends of requests still waiting for an admission to carry them (at shutdown).
    pub(crate) async fn flush(&self) {
        if let Some(shared) = &self.shared {
            self.ended.send(shared, &self.local).await;
        }
    }

    /// The lease a reloaded configuration sets.
    pub(crate) fn set_lease(&self, lease: Duration) {
        *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = lease;
    }

    /// Admits one request of `tenant` (`check_tokens`: refuse when the day's token budget is
    /// spent), or refuses it with 429.
    pub(crate) async fn admit(
        &self,
        tenant: &Tenant,
        request_id: &str,
        check_tokens: bool,
    ) -> Result<StreamPermit, GatewayError> {
        let permit = |slot| StreamPermit {
            local: self.local.clone(),
            tenant: tenant.name.clone(),
            slot,
            tokens: 0,
        };
        let Some(shared) = &self.shared else {
            self.local.admit(tenant, check_tokens)?;
            return Ok(permit(Slot::Local));
        };
        let lease = *self.lease.lock().unwrap_or_else(|p| p.into_inner());
        let (day, _) = utc_day();
        let limits = [
            tenant.max_concurrent_streams as u64,
            tenant.requests_per_minute.unwrap_or(0),
            if check_tokens {
                tenant.tokens_per_day.unwrap_or(0)
            } else {
                0
            },
        ];
        let done = self.ended.take();
        match shared
            .admit(&tenant.name, day, request_id, lease, limits, &done)
            .await
        {
            None => {
                charge_locally(&self.local, &done);
                self.local.admit(tenant, check_tokens)?;
                Ok(permit(Slot::Local))
            }
            Some(Verdict::Admitted { .. }) => {
                let renew = {
                    let (shared, tenant, id) =
                        (shared.clone(), tenant.name.clone(), request_id.to_owned());
                    tokio::spawn(async move {
                        loop {
                            tokio::time::sleep(lease / 3).await;
                            shared.renew(&tenant, &id, lease).await;
                        }
                    })
                    .abort_handle()
                };
                Ok(permit(Slot::Shared {
                    shared: shared.clone(),
                    ended: self.ended.clone(),
                    lease_id: request_id.to_owned(),
                    day,
                    renew,
                }))
            }
            Some(Verdict::Streams { .. }) => Err(streams_refusal(tenant)),
            Some(Verdict::Rpm { retry }) => Err(rpm_refusal(
                tenant,
                tenant.requests_per_minute.unwrap_or(0),
                retry,
            )),
            Some(Verdict::Tokens { used }) => Err(tokens_refusal(
                tenant,
                tenant.tokens_per_day.unwrap_or(0),
                used,
            )),
        }
    }
}
