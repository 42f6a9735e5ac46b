//! Live configuration: SIGHUP reloads the file (new requests see the change, a request
//! opened before finishes), a broken file is rejected with its line and the old configuration
//! keeps serving; `mcpwire gateway --check-config` validates without starting.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use mcpwire_testkit::Route;
use mcpwire_testkit::gateway_kit::{openai_upstream, tenant};
use serde_json::{Value, json};
use support::replicas::Replica;
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "gw-PLANTED-reload-key-9e0d";

/// `mcpwire gateway --check-config path` with the vendor key set.
fn check_config(path: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["gateway", "--check-config"])
        .arg(path)
        .env("RELOAD_VENDOR_KEY", "x")
        .output()
        .unwrap()
}

fn config(upstream: &str, extra_mcp: &str) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:0"

{openai}

{team_a}

[[tenants.mcp]]
name = "one"
url = "https://one.example.com/mcp"
{extra_mcp}"#,
        openai = openai_upstream(upstream, "RELOAD_VENDOR_KEY"),
        team_a = tenant("team-a", &mcpwire_gateway::config::key_hash_hex(KEY)),
    )
}

fn body(url: &str, stream: bool) -> Value {
    json!({"model": "m", "input": "hi", "stream": stream, "tools": [{"type": "mcp",
        "server_label": "s", "server_url": url, "require_approval": "never"}]})
}

async fn post(c: &reqwest::Client, gw: &str, url: &str, stream: bool) -> reqwest::Response {
    c.post(format!("{gw}/v1/responses"))
        .bearer_auth(KEY)
        .json(&body(url, stream))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_a_valid_file_and_rejects_a_broken_one() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let upstream = MockServer::start().await;
    // A stream takes 2 s; a whole response comes at once.
    let stream = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_r\"}}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_r\",\"status\":\"completed\"}}\n\n";
    let slow_stream = ResponseTemplate::new(200)
        .set_delay(Duration::from_secs(2))
        .set_body_raw(stream, "text/event-stream");
    Route::any("POST")
        .body_contains("\"stream\":true")
        .reply(&upstream, slow_stream)
        .await;
    let whole = json!({"id": "resp_w", "object": "response"});
    Route::any("POST")
        .reply(&upstream, ResponseTemplate::new(200).set_body_json(whole))
        .await;
    let dir = std::env::temp_dir().join(format!("mcpwire-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config(&upstream.uri(), "")).unwrap();
    let env = [("RELOAD_VENDOR_KEY", "planted-vendor-reload".to_owned())];
    let gw = Replica::start(&path, &env).await;
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let two = "https://two.example.com/mcp";
    assert_eq!(post(&c, &gw.url, two, false).await.status(), 403);

    // A stream opened under the old configuration...
    let open = tokio::spawn({
        let (c, url) = (c.clone(), gw.url.clone());
        async move {
            let r = post(&c, &url, "https://one.example.com/mcp", true).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...while the allowlist gains a server.
    std::fs::write(
        &path,
        config(
            &upstream.uri(),
            "\n[[tenants.mcp]]\nname = \"two\"\nurl = \"https://two.example.com/mcp\"\n",
        ),
    )
    .unwrap();
    gw.signal("HUP");
    let mut status = 0;
    for _ in 0..50 {
        status = post(&c, &gw.url, two, false).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the new server is accepted: {}", gw.logs());
    let (s, text) = open.await.unwrap();
    assert_eq!(s, 200);
    assert!(
        text.contains("response.completed"),
        "the open stream finished: {text}"
    );

    // A broken file: rejected, its line named, the last good configuration keeps serving.
    let broken = config(&upstream.uri(), "bogus = 1\n");
    let line = broken.lines().position(|l| l.starts_with("bogus")).unwrap() + 1;
    std::fs::write(&path, &broken).unwrap();
    gw.signal("HUP");
    let mut logs = String::new();
    for _ in 0..50 {
        logs = gw.logs();
        if logs.contains("reload rejected") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logs.contains("reload rejected"), "{logs}");
    assert!(logs.contains(&format!("line {line}")), "{logs}");
    assert_eq!(post(&c, &gw.url, two, false).await.status(), 200);
    let m = gw.metrics(&c).await;
    assert!(
        m.contains("mcpwire_config_reloads_total{result=\"ok\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("mcpwire_config_reloads_total{result=\"rejected\"} 1"),
        "{m}"
    );

    // --check-config says the same without starting anything.
    let out = check_config(&path);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("line {line}")));
    std::fs::write(&path, config(&upstream.uri(), "")).unwrap();
    let out = check_config(&path);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (1 tenant, 0 stores)"));
}
