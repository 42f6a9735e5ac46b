//! The Redis store against a real `redis-server` started by each test (127.0.0.1, free port):
//! the store suite, encryption at rest (wrong key, rotation, no clear text in any value nor in
//! TRACE logs), Redis unreachable and Redis restarted mid-run.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::planted::{AT1, AT2, DCR_SECRET, RT1, RT2};
use common::*;
use mcpwire_auth::testing::{check_store, sample_token};
use mcpwire_auth::{CasOutcome, Entry, EntryKey, Error, OAuthConfig, Secret, TokenStore};
use mcpwire_auth::{RedisOptions, RedisStore, StoreKeys};
use mcpwire_testkit::redis::RedisServer;
use serde_json::json;

async fn store(url: &str, keys: &Secret, tenant: &str) -> RedisStore {
    redis_store(url, keys, RedisOptions::default().tenant(tenant)).await
}

/// The id of the current key of the store keys `keys`.
fn key_id(keys: &Secret) -> String {
    StoreKeys::parse(keys).unwrap().current_id().to_owned()
}

const MCP_URL: &str = "https://mcp.example.com/mcp";

/// Writes a new token entry (`sample_token(url, tag)`) for `url`; there must be none yet.
async fn put_token(store: &RedisStore, url: &str, tag: &str) {
    store
        .compare_and_set(
            &EntryKey::token(url),
            None,
            Some(&Entry::Token(sample_token(url, tag))),
        )
        .await
        .unwrap();
}

/// A fresh Redis, a store key, and two stores on it with that key for tenants `a` and `b`.
async fn two_stores(a: &str, b: &str) -> (RedisServer, Secret, RedisStore, RedisStore) {
    let redis = RedisServer::start();
    let keys = new_store_key();
    let sa = store(&redis.url(), &keys, a).await;
    let sb = store(&redis.url(), &keys, b).await;
    (redis, keys, sa, sb)
}

/// Every key and every value in the server, as text.
async fn dump(url: &str) -> Vec<(String, String)> {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut c)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&k)
            .query_async(&mut c)
            .await
            .unwrap();
        let value = match kind.as_str() {
            "string" => redis::cmd("GET")
                .arg(&k)
                .query_async::<String>(&mut c)
                .await
                .unwrap(),
            "hash" => redis::cmd("HGETALL")
                .arg(&k)
                .query_async::<Vec<String>>(&mut c)
                .await
                .unwrap()
                .join(" "),
            other => panic!("unexpected redis type {other} at {k}"),
        };
        out.push((k, value));
    }
    out
}

async fn ttl_ms(url: &str, key: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn redis_store_passes_the_suite() {
    let redis = RedisServer::start();
    let keys = new_store_key();
    check_store(Arc::new(store(&redis.url(), &keys, "suite").await)).await;
    // The same server, another tenant, no cache: the suite again.
    let opts = RedisOptions::default().tenant("suite-2").cache(false);
    let uncached = redis_store(&redis.url(), &keys, opts).await;
    check_store(Arc::new(uncached)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn entries_never_expire_and_tenants_are_separate() {
    let (redis, keys, a, b) = two_stores("tenant-a", "tenant-b").await;
    let key = EntryKey::token(MCP_URL);
    let mut t = sample_token(MCP_URL, "a");
    t.expires_at = Some(1); // long expired: the record must stay (it holds the refresh token)
    a.compare_and_set(&key, None, Some(&Entry::Token(t)))
        .await
        .unwrap();
    assert!(b.get(&key).await.unwrap().is_none());
    assert_eq!(ttl_ms(&redis.url(), &a.entry_key(&key)).await, -1);
    assert!(a.entry_key(&key).starts_with("mcpwire:tenant-a:entry:"));
    let opts = RedisOptions::default().prefix("acme").tenant("tenant-a");
    let other_prefix = redis_store(&redis.url(), &keys, opts).await;
    assert!(other_prefix.get(&key).await.unwrap().is_none());
    let lease = a
        .try_acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let lease_ttl = ttl_ms(
        &redis.url(),
        "mcpwire:tenant-a:lease:token:https://mcp.example.com/mcp",
    )
    .await;
    assert!(lease_ttl > 0 && lease_ttl <= 30_000, "{lease_ttl}");
    assert!(a.release_lease(&lease).await.unwrap());
    let bad_tenant = RedisOptions::default().tenant("bad:tenant");
    assert!(matches!(
        connect_redis(&redis.url(), &keys, bad_tenant).await,
        Err(Error::StoreKey { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn wrong_key_is_an_error_naming_the_key_id() {
    let redis = RedisServer::start();
    let (k1, k2) = (new_store_key(), new_store_key());
    let writer = store(&redis.url(), &k1, "t").await;
    let url = "https://mcp.example.com/mcp";
    put_token(&writer, url, "1").await;
    let k1_id = key_id(&k1);
    let reader = store(&redis.url(), &k2, "t").await;
    match reader.get(&EntryKey::token(url)).await {
        Err(Error::StoreDecrypt { key_id, .. }) => assert_eq!(key_id, k1_id),
        other => panic!("expected a decrypt error, got {other:?}"),
    }
    // Through the OAuth client: the same typed error, never "not logged in".
    let c = client_with(Arc::new(reader), OAuthConfig::default());
    let err = c
        .access_token(url, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::StoreDecrypt { key_id, .. } if *key_id == k1_id),
        "{err:?}"
    );
    assert!(err.to_string().contains(&k1_id), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn key_rotation_reads_old_records_and_writes_with_the_new_key() {
    let redis = RedisServer::start();
    let (old, new) = (new_store_key(), new_store_key());
    let (old_id, new_id) = (key_id(&old), key_id(&new));
    let before = store(&redis.url(), &old, "t").await;
    let (u1, u2) = ("https://one.example.com/mcp", "https://two.example.com/mcp");
    put_token(&before, u1, "1").await;
    let rotated = store(
        &redis.url(),
        &Secret::new(format!("{},{}", new.expose(), old.expose())),
        "t",
    )
    .await;
    let v = rotated.get(&EntryKey::token(u1)).await.unwrap().unwrap();
    assert_eq!(v.entry.as_token().unwrap().access_token.expose(), "AT-1");
    put_token(&rotated, u2, "2").await;
    let kid = |k: &str| {
        let k = k.to_owned();
        let url = redis.url();
        async move {
            dump(&url)
                .await
                .into_iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v)
                .unwrap()
        }
    };
    assert!(
        kid(&rotated.entry_key(&EntryKey::token(u1)))
            .await
            .contains(&old_id)
    );
    assert!(
        kid(&rotated.entry_key(&EntryKey::token(u2)))
            .await
            .contains(&new_id)
    );
    // Rewriting an old record re-encrypts it with the new key.
    assert!(matches!(
        rotated
            .compare_and_set(&EntryKey::token(u1), Some(v.version), Some(&v.entry))
            .await
            .unwrap(),
        CasOutcome::Written(Some(_))
    ));
    assert!(
        kid(&rotated.entry_key(&EntryKey::token(u1)))
            .await
            .contains(&new_id)
    );
    let only_new = store(&redis.url(), &new, "t").await;
    assert!(only_new.get(&EntryKey::token(u1)).await.unwrap().is_some());
}

/// Login (dynamic registration with a secret), a refresh with rotation, status, logout of
/// nothing: no planted secret in any Redis key or value, nor in TRACE logs.
#[tokio::test(flavor = "current_thread")]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn no_clear_text_secret_in_redis_or_trace_logs() {
    let cap = LogBuffer::default();
    cap.install_global();
    let redis = RedisServer::start();
    let (s, mut md) = Scripted::with_metadata().await;
    md["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
    authorization_server(
        &s.auth,
        md,
        json!({
            "client_id": "dcr-1", "client_secret": DCR_SECRET,
            "token_endpoint_auth_method": "client_secret_post"
        }),
        "code-1",
        None,
    )
    .await;
    s.mount_grant("authorization_code", token_json(AT1, Some(RT1), 0))
        .await;
    s.mount_grant("refresh_token", token_json(AT2, Some(RT2), 3600))
        .await;
    let keys = new_store_key();
    let rs = store(&redis.url(), &keys, "planted").await;
    let st: Arc<dyn TokenStore> = Arc::new(rs.clone());
    let c = client_with(st.clone(), OAuthConfig::default());
    login_headless(&c, &s.server_url()).await;
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        AT2
    );
    let mut texts = vec![
        format!("{:?}", st.list().await.unwrap()),
        format!("{:?}", c.status().await.unwrap()),
        format!("{rs:?}"),
    ];
    let all = dump(&redis.url()).await;
    assert!(
        all.iter().any(|(k, _)| k.contains(":entry:client:")),
        "the client record must be in redis: {all:?}"
    );
    for (k, v) in &all {
        texts.push(format!("{k} = {v}"));
    }
    texts.push(cap.text());
    let text = texts.join("\n");
    for secret in [AT1, RT1, AT2, RT2, DCR_SECRET, keys.expose()] {
        assert!(!text.contains(secret), "{secret} appears in clear text");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn unreachable_redis_is_a_clear_error_never_an_expired_token() {
    let keys = new_store_key();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = format!("redis://127.0.0.1:{port}/");
    let opts = RedisOptions::default().timeout(Duration::from_secs(2));
    let err = connect_redis(&nowhere, &keys, opts).await.unwrap_err();
    assert!(
        matches!(err, Error::StoreUnavailable { store: "redis", .. }),
        "{err:?}"
    );

    // Up at first, then gone while the token needs a refresh.
    let mut redis = RedisServer::start();
    let s = Scripted::discoverable().await;
    s.mount_token(token_json("AT-1", Some("RT-1"), 0)).await;
    let opts = RedisOptions::default().timeout(Duration::from_secs(2));
    let st = redis_store(&redis.url(), &keys, opts).await;
    let c = client_with(Arc::new(st), OAuthConfig::default());
    login_headless(&c, &s.server_url()).await;
    redis.stop();
    let err = c
        .access_token(&s.server_url(), Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::StoreUnavailable { store: "redis", .. }),
        "{err:?}"
    );
    let refreshes = refresh_requests(&s).await.len();
    assert_eq!(refreshes, 0, "no refresh without the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn redis_restarted_mid_run() {
    let mut redis = RedisServer::start_persistent();
    let s = issuing_at1(3600).await;
    Route::post("/token")
        .body_contains("refresh_token=RT-1")
        .expect(1)
        .reply(&s.auth, token_json("AT-2", Some("RT-2"), 3600))
        .await;
    let keys = new_store_key();
    let opts = RedisOptions::default().timeout(Duration::from_secs(2));
    let st = redis_store(&redis.url(), &keys, opts).await;
    let c = client_with(Arc::new(st.clone()), OAuthConfig::default());
    login_headless(&c, &s.server_url()).await;
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        "AT-1"
    );
    redis.restart();
    // Age the token through the reconnected store: the refresh happens after the restart.
    let key = EntryKey::token(s.server_url());
    let mut v = None;
    for _ in 0..50 {
        match st.get(&key).await {
            Ok(got) => {
                v = got;
                break;
            }
            Err(Error::StoreUnavailable { .. }) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let v = v.expect("the entry survived the restart");
    let mut aged = v.entry.as_token().unwrap().clone();
    aged.expires_at = Some(1);
    st.compare_and_set(&key, Some(v.version), Some(&Entry::Token(aged)))
        .await
        .unwrap();
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        "AT-2"
    );
    assert_eq!(
        token_text(&c, &s.server_url(), Duration::from_secs(60)).await,
        "AT-2"
    );
}

/// Two replicas with caches: replica A's cached read is evicted when replica B writes, so A
/// sees B's entry (through `get_cached`) without a refresh of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn another_replicas_write_invalidates_the_cache() {
    let (_redis, _keys, a, b) = two_stores("cache", "cache").await;
    let url = MCP_URL;
    let key = EntryKey::token(url);
    b.compare_and_set(&key, None, Some(&Entry::Token(sample_token(url, "1"))))
        .await
        .unwrap();
    // Let A's subscription come up, then fill its cache.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at = |v: Option<mcpwire_auth::Versioned>| {
        v.unwrap()
            .entry
            .as_token()
            .unwrap()
            .access_token
            .expose()
            .to_owned()
    };
    assert_eq!(at(a.get_cached(&key).await.unwrap()), "AT-1");
    let v1 = b.get(&key).await.unwrap().unwrap().version;
    b.compare_and_set(&key, Some(v1), Some(&Entry::Token(sample_token(url, "2"))))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if at(a.get_cached(&key).await.unwrap()) == "AT-2" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "replica A kept serving the old entry from its cache"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
