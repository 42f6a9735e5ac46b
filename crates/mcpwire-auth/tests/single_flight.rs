//! Single-flight refresh: N tasks in one process, or several processes sharing a file store,
//! cause exactly one refresh request.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcpwire_auth::{FileStore, MemoryStore, OAuthConfig, TokenStore};

const STORE_ENV: &str = "MCPWIRE_AUTH_SF_STORE";
const SERVER_ENV: &str = "MCPWIRE_AUTH_SF_SERVER";

/// A logged-in client whose access token has 1 s left; the AS answers exactly one refresh
/// (slowly, to widen the race) and rejects any reuse of RT-1 afterwards.
async fn expired_login(store: Arc<dyn TokenStore>) -> Scripted {
    let s = issuing_at1(0).await;
    Route::post("/token")
        .body_contains("grant_type=refresh_token")
        .times(1)
        .expect(1)
        .reply(
            &s.auth,
            token_json("AT-2", Some("RT-2"), 3600).set_delay(Duration::from_millis(300)),
        )
        .await;
    token_fallback(&s.auth, 400, "invalid_grant").await;
    let c = client_with(store, OAuthConfig::default());
    login_headless(&c, &s.server_url()).await;
    s
}

async fn n_tasks(store: Arc<dyn TokenStore>) {
    let s = expired_login(store.clone()).await;
    let c = Arc::new(client_with(store, OAuthConfig::default()));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = c.clone();
        let url = s.server_url();
        tasks.push(tokio::spawn(async move {
            c.access_token(&url, Duration::from_secs(60)).await
        }));
    }
    for t in tasks {
        let (at, left) = t.await.unwrap().unwrap();
        assert_eq!(at.expose(), "AT-2");
        assert!(left.unwrap() > Duration::from_secs(3000));
    }
    assert_eq!(refresh_requests(&s).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_flight_n_tasks_memory_store() {
    n_tasks(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_flight_n_tasks_file_store() {
    let path = temp_store("n-tasks");
    n_tasks(Arc::new(FileStore::new(&path))).await;
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

fn temp_store(name: &str) -> PathBuf {
    fresh_dir(&format!("mcpwire-auth-sf-{name}")).join("tokens.json")
}

/// Two child processes (this test binary re-executed) and this process refresh the same
/// file store at once: one refresh request in total, and all three get the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_two_processes_file_store() {
    let path = temp_store("procs");
    let s = expired_login(Arc::new(FileStore::new(&path))).await;
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for _ in 0..2 {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args([
            "--ignored",
            "--exact",
            "child_refresh_once",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STORE_ENV, &path)
        .env(SERVER_ENV, s.server_url())
        .kill_on_drop(true);
        children.push(tokio::spawn(async move { cmd.output().await }));
    }
    let me = client_with(Arc::new(FileStore::new(&path)), OAuthConfig::default());
    let url = s.server_url();
    let (at, _) = me
        .access_token(&url, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(at.expose(), "AT-2");
    for child in children {
        let out = child.await.unwrap().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {stdout}");
        assert!(stdout.contains("child got the rotated token"), "{stdout}");
    }
    assert_eq!(refresh_requests(&s).await.len(), 1);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// The child side of `single_flight_two_processes_file_store`, which runs it with
/// `--ignored --exact` and the store path and server URL in the environment. Run on its own it
/// fails: it never passes without refreshing.
#[tokio::test]
#[ignore = "child process of single_flight_two_processes_file_store, run by it"]
async fn child_refresh_once() {
    let store = std::env::var_os(STORE_ENV).unwrap_or_else(|| {
        panic!("{STORE_ENV} unset: run by single_flight_two_processes_file_store")
    });
    let server = std::env::var(SERVER_ENV).unwrap_or_else(|_| {
        panic!("{SERVER_ENV} unset: run by single_flight_two_processes_file_store")
    });
    let c = client_with(Arc::new(FileStore::new(store)), OAuthConfig::default());
    let (at, _) = c
        .access_token(&server, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(at.expose(), "AT-2");
    println!("child got the rotated token");
}
