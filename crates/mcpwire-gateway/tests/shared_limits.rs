//! `[shared]` limits on a real `redis-server` (started on a free port): one Redis round trip
//! per request, because the end of a request rides on the next admission script.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use mcpwire_gateway::config::key_hash_hex;
use mcpwire_testkit::gateway_kit::tenant;
use mcpwire_testkit::redis::RedisServer;

/// Calls of `cmd` since the last `CONFIG RESETSTAT` (`INFO commandstats`).
async fn calls(conn: &mut redis::aio::MultiplexedConnection, cmd: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    let prefix = format!("cmdstat_{cmd}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// With `max_concurrent_streams = 1`, back-to-back requests are all admitted: the end of each
/// (its stream released, its tokens charged) is applied by the next request's admission
/// script before that script checks. So N requests cost N scripts plus the few that end a
/// request alone when no other follows in time (at least the last one's, once the replica is
/// idle); before, every request cost two. Once idle, no stream is left open in Redis and the
/// day's tokens are what the responses used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask test runs it"]
async fn the_end_of_a_request_rides_on_the_next_admission() {
    let redis = RedisServer::start();
    let (demo, sim) = demo_and_sim().await;
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"

{openai}

[shared]
url_env = "GW_REDIS"

{team_a}
max_concurrent_streams = 1
requests_per_minute = 1000
tokens_per_day = 100000000

[[tenants.mcp]]
name = "demo"
url = "{demo}"
auth = {DEMO_BEARER}
"#,
        openai = openai_upstream(&sim.base_url()),
        team_a = tenant("team-a", &key_hash_hex(GATEWAY_KEY)),
        demo = demo.url(),
    );
    let redis_url = redis.url();
    let gw = start_with(&text, &[("GW_REDIS", redis_url.as_str())]).await;
    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();

    let mut tokens = 0;
    let mut ask = async |i: usize| {
        let r = team_a_openai(&gw, demo.url(), &format!("echo {i}"), false).await;
        assert_eq!(r.status(), 200, "request {i}");
        let body: serde_json::Value = r.json().await.unwrap();
        let usage = &body["usage"];
        tokens +=
            usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap();
        // The replica's end of this request happens as its body ends: give it a moment
        // (well under the 20 ms after which it would be sent alone).
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // The first request loads the scripts (EVALSHA then a fallback); count from the second.
    ask(0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    const N: usize = 12;
    for i in 1..=N {
        ask(i).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let scripts = calls(&mut conn, "evalsha").await + calls(&mut conn, "eval").await;
    assert!(
        scripts > N as u64 && scripts <= (N + N / 2) as u64,
        "{N} requests ran {scripts} scripts (one admission each, and an end sent alone only \
         when no admission carried it)"
    );
    let open: u64 = redis::cmd("ZCARD")
        .arg("mcpwire:gw:streams:team-a")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(open, 0, "every stream released once the replica is idle");
    let day = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    let charged: Option<u64> = redis::cmd("GET")
        .arg(format!("mcpwire:gw:tpd:team-a:{day}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(tokens > 0);
    assert_eq!(charged, Some(tokens), "every response's tokens charged");
}
