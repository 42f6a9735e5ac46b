//! Per-user tokens on a shared Redis store (a real `redis-server` on a free port): two
//! gateway replicas, one user's expired token refreshed once for 16 concurrent requests over
//! both, another user's token untouched, and nothing of either in clear text in Redis.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mcpwire_auth::{EntryKey, RedisOptions, RedisStore, Secret, StoreKeys, TokenStore};
use mcpwire_testkit::gateway_kit::{fetch_json, tenant};
use mcpwire_testkit::redis::RedisServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn one_refresh_per_user_across_replicas_and_nothing_in_clear() {
    let redis = RedisServer::start();
    let key = StoreKeys::generate().unwrap();
    let (auth, demo, sim) = oauth_demo_and_sim().await;
    let (redis_url, store_url) = (redis.url(), format!("{}?tenant=users", redis.url()));
    let env = [
        ("GW_STORE", store_url.as_str()),
        ("GW_STORE_KEY", key.expose()),
        ("GW_REDIS", redis_url.as_str()),
    ];
    // Both replicas share one public URL (a load balancer's): the callback may land on either.
    let mut gws = Vec::new();
    let ports = [free_port(), free_port()];
    for port in ports {
        let text = format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{first}"

{openai}

[shared]
url_env = "GW_REDIS"

[stores.users]
url_env = "GW_STORE"
key_env = "GW_STORE_KEY"

{team_a}
users = {{ mode = "header" }}

[[tenants.mcp]]
name = "docs"
url = "{demo}"
auth = {{ oauth_per_user = {{ client_id = "gw-client" }} }}
"#,
            openai = openai_upstream(&sim.base_url()),
            first = ports[0],
            team_a = tenant(
                "team-a",
                &mcpwire_gateway::config::key_hash_hex(GATEWAY_KEY)
            ),
            demo = demo.url(),
        );
        gws.push(start_with(&text, &env).await);
    }
    let client = no_redirects();
    // Alice and Bob connect (the callback goes to the first replica's public URL).
    for user in ["alice", "bob"] {
        let connect = client
            .post(format!("{}/v1/mcpwire/connections", gws[1].url()))
            .bearer_auth(GATEWAY_KEY)
            .header("x-mcpwire-user", user)
            .json(&json!({"server": "docs"}));
        let b = fetch_json(connect).await;
        let r = client
            .get(b["authorization_url"].as_str().unwrap())
            .header("x-test-user", user)
            .send()
            .await
            .unwrap();
        let cb = r.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(client.get(&cb).send().await.unwrap().status(), 200);
    }
    // Alice's access token is about to expire.
    let store = RedisStore::connect(
        &Secret::new(redis.url()),
        RedisOptions::default().tenant("users"),
        StoreKeys::parse(&key).unwrap(),
    )
    .await
    .unwrap();
    let alice = EntryKey::user_token(demo.url(), "team-a:alice");
    let v = store
        .get(&alice)
        .await
        .unwrap()
        .expect("alice's tokens are in Redis");
    let mut t = v.entry.as_token().unwrap().clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    t.issued_at = Some(now - 3600);
    t.expires_at = Some(now + 5);
    store
        .compare_and_set(
            &alice,
            Some(v.version),
            Some(&mcpwire_auth::Entry::Token(t)),
        )
        .await
        .unwrap();
    let bob_before = store
        .get(&EntryKey::user_token(demo.url(), "team-a:bob"))
        .await
        .unwrap()
        .unwrap();

    let body = json!({"model": "gpt-sim", "input": "call docs.echo {\"text\":\"hi\"}",
        "tools": [{"type": "mcp", "server_label": "docs", "server_url": demo.url(), "require_approval": "never"}]});
    let sends = (0..16).map(|i| {
        let url = format!("{}/v1/responses", gws[i % 2].url());
        let (c, b) = (client.clone(), body.clone());
        async move {
            c.post(url)
                .bearer_auth(GATEWAY_KEY)
                .header("x-mcpwire-user", "alice")
                .json(&b)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let record = auth.record();
    assert_eq!(record.refreshes.get("alice"), Some(&1), "{record:?}");
    assert_eq!(record.refreshes.get("bob"), None, "{record:?}");
    let bob_after = store
        .get(&EntryKey::user_token(demo.url(), "team-a:bob"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bob_before.version, bob_after.version,
        "bob's tokens were not touched"
    );

    // Redis holds the users' tokens only encrypted.
    let (_, all) = redis.keys_and_values().await;
    for secret in [
        "at-alice",
        "rt-alice",
        "at-bob",
        "rt-bob",
        key.expose(),
        GATEWAY_KEY,
    ] {
        assert!(!all.contains(secret), "{secret} in Redis");
    }
}
