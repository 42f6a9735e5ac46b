//! A fleet of OS processes sharing one real `redis-server` and one scripted authorization
//! server: single-flight refresh, a lease holder killed mid-refresh, and a rotating server that
//! revokes the token family on refresh-token reuse.
//!
//! Each test re-runs this test binary as its replicas (`--ignored --exact <same test>` with
//! `MCPWIRE_FLEET_CHILD` set); in a replica the test body runs the replica side and asserts
//! there, so no test passes without doing its work.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // test helpers; replicas report on stdout

mod common;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use mcpwire_auth::{Entry, EntryKey, OAuthClient, OAuthConfig, RedisOptions, Secret};
use mcpwire_testkit::redis::RedisServer;
use serde_json::json;
use wiremock::{Request, Respond, ResponseTemplate};

const CHILD: &str = "MCPWIRE_FLEET_CHILD";
const REDIS: &str = "MCPWIRE_FLEET_REDIS";
const KEY: &str = "MCPWIRE_FLEET_KEY";
const SERVER: &str = "MCPWIRE_FLEET_SERVER";
const TASKS: &str = "MCPWIRE_FLEET_TASKS";
const RUN_FOR_MS: &str = "MCPWIRE_FLEET_RUN_FOR_MS";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} unset in a fleet replica"))
}

fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|t| t == test)
}

/// Refresh timing used by every replica: 3 s requests, so leases last 8 s.
fn fleet_config() -> OAuthConfig {
    let mut cfg = OAuthConfig::default();
    cfg.policy.timeout = Duration::from_secs(3);
    cfg.refresh_lease = Duration::from_secs(1);
    cfg
}

async fn fleet_client(redis_url: &str, key: &Secret) -> OAuthClient {
    let store = redis_store(redis_url, key, RedisOptions::default().tenant("fleet")).await;
    client_with(Arc::new(store), fleet_config())
}

/// The parent side of the fleet test `test`: a Redis, a store key and the scripted servers
/// the replicas (re-runs of `test`) share.
struct Fleet {
    test: &'static str,
    redis: RedisServer,
    key: Secret,
    s: Scripted,
}

impl Fleet {
    /// The fleet of `test`; `None` in one of its replicas, after running `replica` there.
    async fn start(test: &'static str, replica: impl Future<Output = ()>) -> Option<Self> {
        if is_child(test) {
            replica.await;
            return None;
        }
        let s = Scripted::discoverable().await;
        Some(Fleet {
            test,
            redis: RedisServer::start(),
            key: new_store_key(),
            s,
        })
    }

    /// Mounts the code grant (AT-1 / RT-1) and the refresh of RT-1 (AT-2 / RT-2, answered
    /// after `refresh_delay`), logs in and expires the access token.
    async fn login_expired(&self, refresh_delay: Duration) {
        grant_at1(&self.s, 3600).await;
        Route::post("/token")
            .body_contains("refresh_token=RT-1")
            .reply(
                &self.s.auth,
                token_json("AT-2", Some("RT-2"), 3600).set_delay(refresh_delay),
            )
            .await;
        let c = fleet_client(&self.redis.url(), &self.key).await;
        login_headless(&c, &self.s.server_url()).await;
        let store = c.store();
        let key = EntryKey::token(self.s.server_url());
        let v = store.get(&key).await.unwrap().unwrap();
        let mut t = v.entry.as_token().unwrap().clone();
        t.expires_at = Some(1);
        store
            .compare_and_set(&key, Some(v.version), Some(&Entry::Token(t)))
            .await
            .unwrap();
    }

    /// Starts one replica with `tasks` tasks (and `extra` in its environment).
    fn spawn(&self, tasks: usize, extra: &[(&str, String)]) -> tokio::process::Child {
        let mut cmd = tokio::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--ignored",
            "--exact",
            self.test,
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, self.test)
        .env(REDIS, self.redis.url())
        .env(KEY, self.key.expose())
        .env(SERVER, self.s.server_url())
        .env(TASKS, tasks.to_string())
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
        cmd.spawn().unwrap()
    }

    /// Runs `n` replicas with `tasks` tasks each (and `extra` in their environment) to the
    /// end: their `TOKEN` lines.
    async fn run_replicas(
        &self,
        n: usize,
        tasks: usize,
        extra: &[(&str, String)],
    ) -> Vec<(String, u64)> {
        tokens_of((0..n).map(|_| self.spawn(tasks, extra)).collect()).await
    }
}

/// Runs `TASKS` tasks in this replica, each calling `access_token` once, and prints one
/// `TOKEN <value> <seconds left>` line per task.
async fn replica_once() {
    let c = Arc::new(fleet_client(&env(REDIS), &Secret::new(env(KEY))).await);
    let server = env(SERVER);
    let tasks: usize = env(TASKS).parse().unwrap();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (c, server) = (c.clone(), server.clone());
        handles.push(tokio::spawn(async move {
            c.access_token(&server, Duration::from_secs(60)).await
        }));
    }
    for h in handles {
        let (at, left) = h.await.unwrap().unwrap();
        println!("TOKEN {} {}", at.expose(), left.unwrap().as_secs());
    }
}

/// The `TOKEN` lines of finished replicas; every replica must have succeeded.
async fn tokens_of(children: Vec<tokio::process::Child>) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for child in children {
        let o = child.wait_with_output().await.unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "replica failed: {stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // libtest may print "test <name> ... " in front of the first line.
        for line in stdout
            .lines()
            .filter_map(|l| l.split_once("TOKEN ").map(|(_, r)| r))
        {
            let (t, left) = line.split_once(' ').unwrap();
            out.push((t.to_owned(), left.parse().unwrap()));
        }
    }
    out
}

/// `n` tokens were handed out, every one AT-2 with more than 3000 s left.
fn assert_all_at2(tokens: &[(String, u64)], n: usize) {
    assert_eq!(tokens.len(), n);
    assert!(
        tokens.iter().all(|(t, left)| t == "AT-2" && *left > 3000),
        "{tokens:?}"
    );
}

/// 4 processes x 16 tasks ask for the same expired token: one refresh request reaches the
/// authorization server and all 64 callers get the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn fleet_of_4_processes_x_16_tasks_refreshes_once() {
    let test = "fleet_of_4_processes_x_16_tasks_refreshes_once";
    let Some(f) = Fleet::start(test, replica_once()).await else {
        return;
    };
    token_fallback(&f.s.auth, 400, "invalid_grant").await;
    f.login_expired(Duration::from_millis(300)).await;
    let tokens = f.run_replicas(4, 16, &[]).await;
    assert_all_at2(&tokens, 64);
    assert_eq!(
        refresh_requests(&f.s).await.len(),
        1,
        "exactly one refresh request"
    );
}

/// The replica holding the refresh lease is killed (SIGKILL) while its refresh request is in
/// flight: exactly one more refresh happens, after the lease expired, and every caller of the
/// surviving replicas gets the new token (none an expired one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn lease_holder_killed_mid_refresh() {
    let Some(f) = Fleet::start("lease_holder_killed_mid_refresh", replica_once()).await else {
        return;
    };
    // The first refresh never answers in time; the next one does.
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .times(1)
        .reply(
            &f.s.auth,
            token_json("AT-LOST", Some("RT-LOST"), 3600).set_delay(Duration::from_secs(60)),
        )
        .await;
    f.login_expired(Duration::ZERO).await;
    let mut victim = f.spawn(1, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while refresh_requests(&f.s).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the victim never started its refresh"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed_at = Instant::now();
    victim.start_kill().unwrap(); // SIGKILL
    let status = victim.wait().await.unwrap();
    assert!(!status.success());
    let tokens = f.run_replicas(3, 16, &[]).await;
    assert_all_at2(&tokens, 48);
    let refreshes = refresh_requests(&f.s).await;
    assert_eq!(refreshes.len(), 2, "the lost refresh and exactly one more");
    // Leases last 8 s (3 s request timeout + 5 s): the second refresh waited for expiry.
    assert!(
        killed_at.elapsed() >= Duration::from_secs(5),
        "the survivors refreshed before the dead holder's lease expired"
    );
}

/// A rotating authorization server: every refresh returns a new refresh token and revokes the
/// old one; presenting a revoked one revokes the whole family.
#[derive(Default)]
struct RotatingAs {
    state: Mutex<Rotation>,
}

#[derive(Default)]
struct Rotation {
    generation: u32,
    revoked: bool,
    reuse_seen: Vec<String>,
}

impl Respond for RotatingAs {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(req);
        let mut st = self.state.lock().unwrap();
        let invalid =
            || ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
        match get(&f, "grant_type") {
            Some("authorization_code") => {
                st.generation = 1;
            }
            Some("refresh_token") => {
                let presented = get(&f, "refresh_token").unwrap_or("").to_owned();
                if st.revoked {
                    return invalid();
                }
                if presented != format!("RT-{}", st.generation) {
                    st.reuse_seen.push(presented);
                    st.revoked = true;
                    return invalid();
                }
                st.generation += 1;
            }
            _ => return invalid(),
        }
        let g = st.generation;
        token_json(&format!("AT-{g}"), Some(&format!("RT-{g}")), 3)
    }
}

/// Every task of the replica calls `access_token` every 50 ms for `RUN_FOR_MS`; prints one
/// `TOKEN` line per call.
async fn replica_loop() {
    let c = Arc::new(fleet_client(&env(REDIS), &Secret::new(env(KEY))).await);
    let server = env(SERVER);
    let tasks: usize = env(TASKS).parse().unwrap();
    let run_for = Duration::from_millis(env(RUN_FOR_MS).parse().unwrap());
    let end = Instant::now() + run_for;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (c, server) = (c.clone(), server.clone());
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while Instant::now() < end {
                let (at, left) = c
                    .access_token(&server, Duration::from_secs(60))
                    .await
                    .unwrap();
                seen.push((at.expose().to_owned(), left.unwrap().as_secs()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        }));
    }
    for h in handles {
        for (t, left) in h.await.unwrap() {
            println!("TOKEN {t} {left}");
        }
    }
}

/// 4 processes x 16 tasks keep asking for a token whose lifetime is 3 s, at a server that
/// rotates refresh tokens and revokes the family on reuse: several rotations, no refresh
/// token presented twice, no revocation, no caller ever handed an expired token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn rotating_server_sees_no_reuse_across_4_processes() {
    let test = "rotating_server_sees_no_reuse_across_4_processes";
    let Some(f) = Fleet::start(test, replica_loop()).await else {
        return;
    };
    let rotating = Arc::new(RotatingAs::default());
    struct Shared(Arc<RotatingAs>);
    impl Respond for Shared {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            self.0.respond(req)
        }
    }
    Route::post("/token")
        .reply(&f.s.auth, Shared(rotating.clone()))
        .await;
    let c = fleet_client(&f.redis.url(), &f.key).await;
    login_headless(&c, &f.s.server_url()).await;
    let tokens = f.run_replicas(4, 16, &[(RUN_FOR_MS, "7000".into())]).await;
    let st = rotating.state.lock().unwrap();
    assert!(st.reuse_seen.is_empty(), "reused: {:?}", st.reuse_seen);
    assert!(!st.revoked);
    assert!(
        st.generation >= 3,
        "expected several rotations in 7 s of 3 s tokens, got {}",
        st.generation - 1
    );
    assert!(tokens.len() > 64 * 10, "{}", tokens.len());
    // Every token handed out had time left, and refreshes stayed one per lifetime: with the
    // clamp (half of 3 s) a rotation happens at most about every 1.5 s.
    assert!(
        tokens.iter().all(|(_, left)| *left >= 1),
        "an expired token was handed out"
    );
    let refreshes = st.generation - 1;
    assert!(refreshes <= 8, "{refreshes} refreshes in 7 s of 3 s tokens");
}
