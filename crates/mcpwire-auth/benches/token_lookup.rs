//! Warm token lookups through `OAuthClient::access_token` on the Redis store, against a bare
//! Redis `GET` in the same run, for 1, 16 and 256 concurrent callers.
//!
//! `cargo bench -p mcpwire-auth --bench token_lookup` starts its own `redis-server` (see
//! `tests/common/redis_server.rs`; `MCPWIRE_REDIS_SERVER` names the binary when it is not on
//! the PATH) on a free loopback port with persistence off. Rows:
//!
//! * `redis GET`: one `GET` of a 200-byte value per lookup (the floor for any Redis read);
//! * `access_token, no cache`: each lookup reads and decrypts the entry from Redis;
//! * `access_token, cache`: the in-process cache in front of Redis, kept coherent by pub/sub
//!   (another replica's write evicts the entry everywhere).
//!
//! `MCPWIRE_BENCH_SECS` sets the seconds per cell (default 2).

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcpwire_auth::testing::sample_token;
use mcpwire_auth::{
    Entry, EntryKey, OAuthClient, OAuthConfig, RedisOptions, RedisStore, Secret, StoreKeys,
    TokenStore,
};

const URL: &str = "https://mcp.example.com/mcp";

struct Cell {
    ops: usize,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure<F, Fut>(callers: usize, secs: f64, lookup: F) -> Cell
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let lookup = Arc::new(lookup);
    // Warm-up.
    for _ in 0..50 {
        lookup().await;
    }
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let lookup = lookup.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            while Instant::now() < end {
                let t = Instant::now();
                lookup().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Cell {
        ops: all.len(),
        per_sec: all.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

async fn client(url: &str, keys: &Secret, cache: bool) -> Arc<OAuthClient> {
    let store = RedisStore::connect(
        &Secret::new(url),
        RedisOptions::default().tenant("bench").cache(cache),
        StoreKeys::parse(keys).unwrap(),
    )
    .await
    .unwrap();
    // Let the cache's subscription come up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Arc::new(OAuthClient::new(OAuthConfig::default(), Arc::new(store)).unwrap())
}

fn main() {
    let secs: f64 = std::env::var("MCPWIRE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let redis = mcpwire_testkit::redis::RedisServer::start();
    rt.block_on(async {
        let keys = StoreKeys::generate().unwrap();
        let url = redis.url();
        let writer = RedisStore::connect(
            &Secret::new(url.as_str()),
            RedisOptions::default().tenant("bench").cache(false),
            StoreKeys::parse(&keys).unwrap(),
        )
        .await
        .unwrap();
        let mut entry = sample_token(URL, "bench");
        entry.expires_at = Some(4_000_000_000);
        writer
            .compare_and_set(&EntryKey::token(URL), None, Some(&Entry::Token(entry)))
            .await
            .unwrap();
        let raw = redis::Client::open(url.as_str()).unwrap();
        let mut raw_conn = raw.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SET")
            .arg("bench:plain")
            .arg("x".repeat(200))
            .query_async(&mut raw_conn)
            .await
            .unwrap();
        let cached = client(&url, &keys, true).await;
        let uncached = client(&url, &keys, false).await;

        println!(
            "| callers | redis GET: lookups/s, p50, p99 | access_token no cache | access_token cache |"
        );
        println!("|---|---|---|---|");
        for callers in [1usize, 16, 256] {
            let conn = raw_conn.clone();
            let get = measure(callers, secs, move || {
                let mut c = conn.clone();
                async move {
                    let v: String = redis::cmd("GET")
                        .arg("bench:plain")
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    assert_eq!(v.len(), 200);
                }
            })
            .await;
            let c = uncached.clone();
            let plain = measure(callers, secs, move || {
                let c = c.clone();
                async move {
                    let (t, _) = c.access_token(URL, Duration::from_secs(60)).await.unwrap();
                    assert_eq!(t.expose(), "AT-bench");
                }
            })
            .await;
            let c = cached.clone();
            let warm = measure(callers, secs, move || {
                let c = c.clone();
                async move {
                    let (t, _) = c.access_token(URL, Duration::from_secs(60)).await.unwrap();
                    assert_eq!(t.expose(), "AT-bench");
                }
            })
            .await;
            let cell = |c: &Cell| {
                format!(
                    "{:.0}/s, {:.0} µs, {:.0} µs ({} lookups)",
                    c.per_sec,
                    c.p50.as_secs_f64() * 1e6,
                    c.p99.as_secs_f64() * 1e6,
                    c.ops
                )
            };
            println!(
                "| {callers} | {} | {} | {} |",
                cell(&get),
                cell(&plain),
                cell(&warm)
            );
        }
        // Coherence: another replica's write is seen by the cached client.
        let v = writer.get(&EntryKey::token(URL)).await.unwrap().unwrap();
        let mut t = v.entry.as_token().unwrap().clone();
        t.access_token = Secret::new("AT-rotated");
        let written = Instant::now();
        writer
            .compare_and_set(&EntryKey::token(URL), Some(v.version), Some(&Entry::Token(t)))
            .await
            .unwrap();
        loop {
            let (t, _) = cached
                .access_token(URL, Duration::from_secs(60))
                .await
                .unwrap();
            if t.expose() == "AT-rotated" {
                break;
            }
            assert!(written.elapsed() < Duration::from_secs(5), "cache never invalidated");
            tokio::task::yield_now().await;
        }
        println!(
            "\ncache invalidation: another replica's write seen after {:.0} µs",
            written.elapsed().as_secs_f64() * 1e6
        );
    });
}
