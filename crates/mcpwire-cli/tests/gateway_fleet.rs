//! Gateway replicas sharing one Redis (a real `redis-server` on a free loopback port, real
//! `mcpwire gateway` processes): one refresh per expiry across replicas with a rotating
//! authorization server, a replica killed mid-refresh, stream and request limits held across
//! replicas, a Redis outage, and nothing secret in Redis.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcpwire_auth::{Entry, RedisOptions, RedisStore, Secret, StoreKeys, TokenEntry, TokenStore};
use mcpwire_testkit::Route;
use mcpwire_testkit::gateway_kit::{fetch_json, json_after, openai_upstream, tenant};
use mcpwire_testkit::redis::RedisServer;
use serde_json::{Value, json};
use support::replicas::Replica;
use support::rotating_as::RotatingAs;
use wiremock::{MockServer, ResponseTemplate};

const MCP_URL: &str = "https://mcp.example.com/mcp";
const GATEWAY_KEY: &str = "gw-PLANTED-fleet-key-3f1a";
const VENDOR_KEY: &str = "planted-vendor-fleet-77c1";

fn hash(key: &str) -> String {
    mcpwire_gateway::config::key_hash_hex(key)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

struct Fleet {
    redis: RedisServer,
    store_key: Secret,
    upstream: MockServer,
    dir: PathBuf,
}

impl Fleet {
    async fn start() -> Fleet {
        let upstream = MockServer::start().await;
        // Inputs that name a delay wait upstream; any other answers at once.
        for (input, secs, id) in [("wait4", 4, "resp_wait"), ("slow", 20, "resp_slow")] {
            let answer = json!({"id": id, "object": "response"});
            Route::any("POST")
                .body_contains(input)
                .reply(&upstream, json_after(Duration::from_secs(secs), answer))
                .await;
        }
        let completed = json!({
            "id": "resp_fleet", "object": "response", "status": "completed",
            "usage": {"input_tokens": 3, "output_tokens": 4}
        });
        Route::any("POST")
            .reply(
                &upstream,
                ResponseTemplate::new(200).set_body_json(completed),
            )
            .await;
        let dir = std::env::temp_dir().join(format!(
            "mcpwire-fleet-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Fleet {
            redis: RedisServer::start(),
            store_key: StoreKeys::generate().unwrap(),
            upstream,
            dir,
        }
    }

    /// An authorization server rotating refresh tokens (answering after `delay`), with the
    /// MCP server's tokens planted about to expire.
    async fn rotating_as(&self, delay: Duration) -> RotatingAs {
        let auth = RotatingAs::start(delay).await;
        self.plant_expiring(&auth.token_endpoint(), &auth.url).await;
        auth
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FLEET_VENDOR_KEY", VENDOR_KEY.to_owned()),
            ("FLEET_REDIS", self.redis.url()),
            ("FLEET_STORE", format!("{}?tenant=fleet", self.redis.url())),
            ("FLEET_STORE_KEY", self.store_key.expose().to_owned()),
        ]
    }

    /// A config: shared Redis, an OAuth store on it, tenant limits from `tenant_extra`.
    fn config(&self, name: &str, oauth: bool, tenant_extra: &str, store_extra: &str) -> PathBuf {
        let auth = if oauth {
            "auth = { oauth = \"main\" }"
        } else {
            ""
        };
        let text = format!(
            r#"
[server]
listen = "127.0.0.1:0"
response_timeout_secs = 30
stream_lease_secs = 2

{openai}

[shared]
url_env = "FLEET_REDIS"

[stores.main]
url_env = "FLEET_STORE"
key_env = "FLEET_STORE_KEY"
{store_extra}

{team_a}
{tenant_extra}

[[tenants.mcp]]
name = "docs"
url = "{MCP_URL}"
{auth}
"#,
            openai = openai_upstream(&self.upstream.uri(), "FLEET_VENDOR_KEY"),
            team_a = tenant("team-a", &hash(GATEWAY_KEY)),
        );
        let path = self.dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn store(&self) -> RedisStore {
        RedisStore::connect(
            &Secret::new(self.redis.url()),
            RedisOptions::default().tenant("fleet"),
            StoreKeys::parse(&self.store_key).unwrap(),
        )
        .await
        .unwrap()
    }

    /// Plants tokens for the MCP server whose access token is about to expire.
    async fn plant_expiring(&self, token_endpoint: &str, issuer: &str) {
        let t: TokenEntry = serde_json::from_value(json!({
            "server_url": MCP_URL, "resource": MCP_URL, "issuer": issuer,
            "client_id": "client-fleet", "token_endpoint": token_endpoint,
            "access_token": "at-fleet-old", "refresh_token": "rt-0",
            "expires_at": now() + 5, "scope": null
        }))
        .unwrap();
        let entry = Entry::Token(t);
        let store = self.store().await;
        store
            .compare_and_set(&entry.key(), None, Some(&entry))
            .await
            .unwrap();
    }

    /// The MCP token each upstream request carried.
    async fn tokens_sent(&self) -> Vec<String> {
        self.upstream
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let v: Value = serde_json::from_slice(&r.body).unwrap();
                v["tools"][0]["authorization"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn body(input: &str) -> Value {
    json!({"model": "m", "input": input, "tools": [{"type": "mcp", "server_label": "docs",
        "server_url": MCP_URL, "require_approval": "never"}]})
}

/// A request of `input` (with the MCP server as a tool) to `replica`, not sent yet.
fn request(c: &reqwest::Client, replica: &str, input: &str) -> reqwest::RequestBuilder {
    c.post(format!("{replica}/v1/responses"))
        .bearer_auth(GATEWAY_KEY)
        .json(&body(input))
}

async fn post(c: &reqwest::Client, replica: &str, input: &str) -> reqwest::Response {
    request(c, replica, input).send().await.unwrap()
}

/// The URL of `a` for even `i`, of `b` for odd: requests spread over both replicas.
fn alternate(i: usize, a: &Replica, b: &Replica) -> String {
    let replica = if i.is_multiple_of(2) { a } else { b };
    replica.url.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn two_replicas_refresh_a_rotating_token_once_and_redis_holds_no_secret() {
    let fleet = Fleet::start().await;
    let auth = fleet.rotating_as(Duration::from_millis(300)).await;
    let config = fleet.config("rotating", true, "", "");
    let a = Replica::start(&config, &fleet.env()).await;
    let b = Replica::start(&config, &fleet.env()).await;
    let c = client();
    let sends = (0..64).map(|i| {
        let (c, url) = (c.clone(), alternate(i, &a, &b));
        async move { post(&c, &url, "hi").await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(sends).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "{statuses:?}\n{}\n{}",
        a.logs(),
        b.logs()
    );
    {
        let st = auth.state.lock().unwrap();
        assert_eq!(st.issued, 1, "exactly one refresh: {st:?}");
        assert!(!st.revoked && st.reused.is_empty(), "{st:?}");
    }
    let sent = fleet.tokens_sent().await;
    assert_eq!(sent.len(), 64);
    assert!(sent.iter().all(|t| t == "at-fleet-1"), "{sent:?}");

    // Nothing in Redis is a token, a key or a gateway key in clear text.
    let (keys, everything) = fleet.redis.keys_and_values().await;
    assert!(
        keys.iter().any(|k| k.contains(":gw:")),
        "shared state in Redis: {keys:?}"
    );
    for secret in [
        "at-fleet-1",
        "at-fleet-old",
        "rt-1",
        "rt-0",
        fleet.store_key.expose(),
        GATEWAY_KEY,
        VENDOR_KEY,
    ] {
        assert!(!everything.contains(secret), "{secret} in Redis");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn a_replica_killed_mid_refresh_does_not_stop_the_other() {
    let fleet = Fleet::start().await;
    // Refreshes take 1 s; a lease lasts max(refresh_lease, token timeout + 5 s) = 7 s.
    let auth = fleet.rotating_as(Duration::from_secs(1)).await;
    let config = fleet.config(
        "killed",
        true,
        "",
        "refresh_lease_secs = 2\ntoken_timeout_secs = 2",
    );
    let mut a = Replica::start(&config, &fleet.env()).await;
    let b = Replica::start(&config, &fleet.env()).await;
    let c = client();
    let on_a = tokio::spawn({
        let (c, url) = (c.clone(), a.url.clone());
        async move { request(&c, &url, "hi").send().await }
    });
    // A holds the lease and its refresh is at the authorization server: kill it.
    for _ in 0..100 {
        if auth.state.lock().unwrap().received == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(auth.state.lock().unwrap().received, 1);
    a.kill().await;
    assert!(on_a.await.unwrap().is_err(), "the killed replica answered");
    let started = Instant::now();
    let r = post(&c, &b.url, "hi").await;
    assert_eq!(r.status(), 200, "{}", b.logs());
    assert!(
        started.elapsed() < Duration::from_secs(7 + 1 + 3),
        "B waited {:?}",
        started.elapsed()
    );
    {
        let st = auth.state.lock().unwrap();
        assert_eq!(st.issued, 1, "{st:?}");
        assert!(
            st.reused.is_empty() && !st.revoked,
            "a refresh token was reused: {st:?}"
        );
    }
    assert_eq!(fleet.tokens_sent().await, ["at-fleet-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn limits_hold_across_replicas_and_a_killed_replicas_streams_come_back() {
    let fleet = Fleet::start().await;
    let config = fleet.config("limits", false, "max_concurrent_streams = 4", "");
    let mut a = Replica::start(&config, &fleet.env()).await;
    let b = Replica::start(&config, &fleet.env()).await;
    let c = client();
    // 8 slow streams at once over both replicas: exactly 4 get through.
    let sends = (0..8).map(|i| {
        let (c, url) = (c.clone(), alternate(i, &a, &b));
        async move {
            let r = request(&c, &url, "wait4")
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            match r {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0, // still in flight: admitted
            }
        }
    });
    let statuses = futures_util::future::join_all(sends).await;
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(refused, 4, "{statuses:?}");
    // The admitted 4 end upstream after 4 s and give their slots back; then A takes all 4.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let (c, url) = (c.clone(), a.url.clone());
        held.push(tokio::spawn(async move {
            request(&c, &url, "slow").send().await
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        post(&c, &b.url, "quick").await.status(),
        429,
        "A holds all 4"
    );
    a.kill().await;
    let killed = Instant::now();
    let mut back = None;
    while killed.elapsed() < Duration::from_secs(8) {
        if post(&c, &b.url, "quick").await.status() == 200 {
            back = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let back = back.expect("the killed replica's slots never came back");
    assert!(
        back <= Duration::from_secs(2 + 1),
        "slots came back after {back:?}"
    );
    for h in held {
        h.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn requests_per_minute_hold_across_replicas() {
    let fleet = Fleet::start().await;
    let config = fleet.config("rpm", false, "requests_per_minute = 10", "");
    let a = Replica::start(&config, &fleet.env()).await;
    let b = Replica::start(&config, &fleet.env()).await;
    let c = client();
    let mut ok = 0;
    let mut refused = Vec::new();
    for i in 0..20 {
        let r = post(&c, &alternate(i, &a, &b), "quick").await;
        match r.status().as_u16() {
            200 => ok += 1,
            429 => refused.push(r),
            s => panic!("status {s}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(refused.len(), 10);
    let r = refused.pop().unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.headers()["x-ratelimit-limit-requests"], "10");
    assert_eq!(r.headers()["x-ratelimit-remaining-requests"], "0");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "requests", "{e}");
    assert_eq!(e["error"]["code"], "rate_limit_exceeded", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn redis_down_means_503_for_tokens_and_recovery_without_a_restart() {
    let mut fleet = Fleet::start().await;
    let auth = fleet.rotating_as(Duration::from_millis(10)).await;
    let config = fleet.config("outage", true, "", "");
    let a = Replica::start(&config, &fleet.env()).await;
    let c = client();
    assert_eq!(post(&c, &a.url, "hi").await.status(), 200, "{}", a.logs());
    fleet.redis.stop();
    // No token needed: limits fall back to this process, the request is served.
    let plain = c
        .post(format!("{}/v1/responses", a.url))
        .bearer_auth(GATEWAY_KEY)
        .json(&json!({"model": "m", "input": "no tools"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200, "{}", a.logs());
    // A token is needed: 503 in the vendor's shape, retryable; never an expired token.
    let r = post(&c, &a.url, "hi").await;
    assert_eq!(r.status(), 503, "{}", a.logs());
    assert_eq!(r.headers()["x-should-retry"], "true");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "store_unavailable", "{e}");
    // /readyz stays up and says what is unreachable.
    let ready = fetch_json(c.get(format!("{}/readyz", a.url))).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["shared"], "unreachable", "{ready}");
    assert!(
        ready["stores"]["main"]
            .as_str()
            .unwrap()
            .starts_with("unreachable"),
        "{ready}"
    );
    // Redis comes back (empty: persistence is off) with the token planted again.
    fleet.redis.restart();
    fleet
        .plant_expiring(&auth.token_endpoint(), &auth.url)
        .await;
    auth.state.lock().unwrap().current = "rt-0".into();
    let mut status = 0;
    for _ in 0..50 {
        status = post(&c, &a.url, "hi").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "{}", a.logs());
    let logs = a.logs();
    assert_eq!(
        logs.matches("shared state unreachable").count(),
        1,
        "logged once: {logs}"
    );
    let m = a.metrics(&c).await;
    assert!(
        m.contains("mcpwire_gateway_shared_state_fallbacks_total"),
        "{m}"
    );
    assert!(
        !m.contains("mcpwire_gateway_shared_state_fallbacks_total 0\n"),
        "{m}"
    );
}
