//! State that replicas share through Redis (`[shared] url`): per-tenant limits and the owners
//! of response ids. Every key starts with `{prefix}:gw:` (prefix default `mcpwire`):
//!
//! | key | type | what | lifetime |
//! |---|---|---|---|
//! | `{p}:gw:streams:{tenant}` | sorted set | one member per open stream (a lease id), scored by its expiry | members expire after `stream_lease_secs` unless renewed; the key after twice that |
//! | `{p}:gw:rpm:{tenant}` | sorted set | one member per request of the last minute, scored by time | 60 s |
//! | `{p}:gw:tpd:{tenant}:{day}` | integer | tokens charged on that UTC day | 2 days |
//! | `{p}:gw:resp:{id}` | string | the owner (`tenant` or `tenant\nuser`) of a response id | 30 days |
//!
//! A request costs one round trip, before it is forwarded: the admission script checks and
//! takes every limit at once, with Redis' own clock. The end of a request (release the
//! stream, charge the tokens) does not cost one of its own: it waits in this replica and rides
//! on the next admission script, which applies it before it checks; when no request follows
//! within [`FINISH_AFTER`], one script ends every waiting request at once. A relayed response
//! id costs one write. Nothing secret is stored: tenant names, request ids and counts.
//!
//! When Redis cannot be reached the callers fall back to this process's own counters (see
//! `limits`): [`Shared`] notes the outage once in the log, counts it in
//! `mcpwire_gateway_shared_state_fallbacks_total`, and skips Redis for a second before
//! trying again, so an outage does not cost every request a time-out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::SharedConfig;
use crate::metrics::Metrics;

/// How long one Redis call may take before the request falls back.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failure, Redis is not tried again for this long.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long the end of a request waits for the next admission script to carry it before it is
/// sent alone: an idle replica releases its streams and charges its tokens this late.
pub(crate) const FINISH_AFTER: Duration = Duration::from_millis(20);

/// Lua that ends requests: for each pair `KEYS[k], KEYS[k+1]` (streams, tpd) from `KEYS[from]`
/// on, with `ARGV[a], ARGV[a+1]` (lease id, tokens) from `ARGV[from_arg]` on, releases the
/// lease and charges the tokens.
macro_rules! finish_lua {
    () => {
        r"
local function finish(from, from_arg)
  local a = from_arg
  for k = from, #KEYS, 2 do
    redis.call('ZREM', KEYS[k], ARGV[a])
    local n = tonumber(ARGV[a + 1])
    if n > 0 then
      redis.call('INCRBY', KEYS[k + 1], n)
      redis.call('EXPIRE', KEYS[k + 1], 172800)
    end
    a = a + 2
  end
end
"
    };
}

/// Ends the requests that ended before it (see [`Done`]), then checks and takes every limit
/// of one request (see the module docs for the keys).
/// KEYS: streams, rpm, tpd, then a (streams, tpd) pair per ended request.
/// ARGV: lease id, lease ms, max streams, rpm limit, tpd limit, then a (lease id, tokens) pair
/// per ended request.
/// Returns `{0, rpm used, tokens used}` when admitted, else `{limit, retry ms, used}` with
/// limit 1 (streams), 2 (requests per minute), 3 (tokens per day).
const ADMIT: &str = concat!(
    finish_lua!(),
    r"
finish(4, 6)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
local streams = tonumber(ARGV[3])
local rpm = tonumber(ARGV[4])
local tpd = tonumber(ARGV[5])
if streams > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  local open = redis.call('ZCARD', KEYS[1])
  if open >= streams then return {1, 1000, open} end
end
local used_rpm = 0
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
  used_rpm = redis.call('ZCARD', KEYS[2])
  if used_rpm >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {2, tonumber(oldest[2]) + 60000 - now, used_rpm}
  end
end
local used_tpd = 0
if tpd > 0 then
  used_tpd = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used_tpd >= tpd then return {3, 0, used_tpd} end
end
if streams > 0 then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease * 2)
end
if rpm > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
end
return {0, used_rpm + 1, used_tpd}
"
);

/// Ends requests: releases their stream leases and charges their tokens.
/// KEYS: a (streams, tpd) pair per request. ARGV: a (lease id, tokens) pair per request.
const FINISH: &str = concat!(finish_lua!(), "finish(1, 1)\nreturn 1\n");

/// A request that ended and whose end is not yet in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) tenant: String,
    /// The UTC day it was admitted on (its tokens count there).
    pub(crate) day: u64,
    pub(crate) lease_id: String,
    pub(crate) tokens: u64,
}

/// Renews a stream lease. KEYS: streams. ARGV: lease id, lease ms.
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
";

/// What the admission script decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Admitted: requests used in the last minute (this one included), tokens used today.
    Admitted { rpm_used: u64, tokens_used: u64 },
    /// Too many open streams.
    Streams { open: u64 },
    /// Too many requests in the last minute; the oldest leaves the window in `retry`.
    Rpm { retry: Duration },
    /// The day's token budget is spent.
    Tokens { used: u64 },
}

/// The connection to the shared Redis.
pub(crate) struct Shared {
    conn: ConnectionManager,
    prefix: String,
    admit: redis::Script,
    finish: redis::Script,
    renew: redis::Script,
    metrics: Arc<Metrics>,
    down: AtomicBool,
    /// Until when (ms since `epoch`) Redis is skipped after a failure.
    skip_until: AtomicU64,
    epoch: Instant,
}

impl Shared {
    /// Connects lazily: a Redis that is down at start means per-process limits until it
    /// comes up.
    pub(crate) fn new(config: &SharedConfig, metrics: Arc<Metrics>) -> Result<Shared, String> {
        if config.url.expose().starts_with("rediss://") {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(config.url.expose())
            .map_err(|_| "shared.url: not a valid redis:// or rediss:// URL".to_owned())?;
        let cm = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, cm)
            .map_err(|e| format!("shared: {}", &format!("{:?}", e.kind())))?;
        Ok(Shared {
            conn,
            prefix: format!("{}:gw:", config.prefix),
            admit: redis::Script::new(ADMIT),
            finish: redis::Script::new(FINISH),
            renew: redis::Script::new(RENEW),
            metrics,
            down: AtomicBool::new(false),
            skip_until: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.prefix.clone();
        k.push_str(&parts.join(":"));
        k
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Whether Redis is worth a try now.
    fn available(&self) -> bool {
        self.now_ms() >= self.skip_until.load(Ordering::Relaxed)
    }

    fn failed(&self, what: &str, e: &str) {
        self.skip_until.store(
            self.now_ms() + RETRY_AFTER.as_millis() as u64,
            Ordering::Relaxed,
        );
        self.metrics.shared_fallback();
        if !self.down.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                operation = what,
                error = e,
                "shared state unreachable: limits are enforced per process until it returns"
            );
        }
    }

    fn succeeded(&self) {
        if self.down.swap(false, Ordering::SeqCst) {
            tracing::info!("shared state reachable again");
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &str,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Option<T> {
        if !self.available() {
            self.metrics.shared_fallback();
            return None;
        }
        let mut c = self.conn.clone();
        match tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async::<T>(&mut c)).await {
            Ok(Ok(v)) => {
                self.succeeded();
                Some(v)
            }
            Ok(Err(e)) => {
                self.failed(what, &format!("{:?}", e.kind()));
                None
            }
            Err(_) => {
                self.failed(what, "timed out");
                None
            }
        }
    }

    /// Runs the admission script, which first ends `done`; `None` when Redis cannot be
    /// reached (then `done` may or may not have been applied).
    pub(crate) async fn admit(
        &self,
        tenant: &str,
        day: u64,
        lease_id: &str,
        lease: Duration,
        limits: [u64; 3],
        done: &[Done],
    ) -> Option<Verdict> {
        let mut inv = self.admit.prepare_invoke();
        inv.key(self.key(&["streams", tenant]))
            .key(self.key(&["rpm", tenant]))
            .key(self.key(&["tpd", tenant, &day.to_string()]))
            .arg(lease_id)
            .arg(lease.as_millis() as u64)
            .arg(limits[0])
            .arg(limits[1])
            .arg(limits[2]);
        self.add_done(&mut inv, done);
        let r: Vec<i64> = self.run("admit", inv).await?;
        let at = |i: usize| r.get(i).copied().unwrap_or(0).max(0) as u64;
        Some(match at(0) {
            0 => Verdict::Admitted {
                rpm_used: at(1),
                tokens_used: at(2),
            },
            1 => Verdict::Streams { open: at(2) },
            2 => Verdict::Rpm {
                retry: Duration::from_millis(at(1).max(1)),
            },
            _ => Verdict::Tokens { used: at(2) },
        })
    }

    /// Ends requests in one round trip (releases their leases, charges their tokens); `false`
    /// when Redis cannot be reached.
    pub(crate) async fn finish(&self, done: &[Done]) -> bool {
        if done.is_empty() {
            return true;
        }
        let mut inv = self.finish.prepare_invoke();
        self.add_done(&mut inv, done);
        self.run::<i64>("finish", inv).await.is_some()
    }

    /// The keys and arguments of ended requests, as the `finish` Lua function reads them.
    fn add_done(&self, inv: &mut redis::ScriptInvocation<'_>, done: &[Done]) {
        for d in done {
            inv.key(self.key(&["streams", &d.tenant]))
                .key(self.key(&["tpd", &d.tenant, &d.day.to_string()]))
                .arg(&d.lease_id)
                .arg(d.tokens);
        }
    }

    /// Renews a stream lease.
    pub(crate) async fn renew(&self, tenant: &str, lease_id: &str, lease: Duration) {
        let mut inv = self.renew.prepare_invoke();
        inv.key(self.key(&["streams", tenant]))
            .arg(lease_id)
            .arg(lease.as_millis() as u64);
        let _ = self.run::<i64>("renew", inv).await;
    }

    /// Records the owner of a response id (encoded by the caller) for `ttl`.
    pub(crate) async fn set_owner(&self, id: &str, owner: &str, ttl: Duration) -> bool {
        if !self.available() {
            self.metrics.shared_fallback();
            return false;
        }
        let mut c = self.conn.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(&["resp", id]))
            .arg(owner)
            .arg("EX")
            .arg(ttl.as_secs());
        let set = cmd.query_async::<()>(&mut c);
        match tokio::time::timeout(CALL_TIMEOUT, set).await {
            Ok(Ok(())) => {
                self.succeeded();
                true
            }
            Ok(Err(e)) => {
                self.failed("record owner", &format!("{:?}", e.kind()));
                false
            }
            Err(_) => {
                self.failed("record owner", "timed out");
                false
            }
        }
    }

    /// The recorded owner of a response id; `Err` when Redis cannot be reached.
    pub(crate) async fn owner(&self, id: &str) -> Result<Option<String>, ()> {
        if !self.available() {
            self.metrics.shared_fallback();
            return Err(());
        }
        let mut c = self.conn.clone();
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(&["resp", id]));
        let get = cmd.query_async::<Option<String>>(&mut c);
        match tokio::time::timeout(CALL_TIMEOUT, get).await {
            Ok(Ok(v)) => {
                self.succeeded();
                Ok(v)
            }
            Ok(Err(e)) => {
                self.failed("read owner", &format!("{:?}", e.kind()));
                Err(())
            }
            Err(_) => {
                self.failed("read owner", "timed out");
                Err(())
            }
        }
    }

    /// One round trip, for `/readyz`.
    pub(crate) async fn ping(&self) -> bool {
        let mut c = self.conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut c);
        matches!(tokio::time::timeout(CALL_TIMEOUT, ping).await, Ok(Ok(_)))
    }
}
