//! `mcpwire gateway --config FILE` as an operator runs it: configuration errors name the line,
//! and two gateway processes sharing a token file store refresh an expiring token once.

#![allow(clippy::unwrap_used)]

use mcpwire_testkit::Route;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "gw-cli-test-key";
const MCP_URL: &str = "https://mcp.example.com/mcp";

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("mcpwire-cli-gw-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sha256_hex(s: &str) -> String {
    mcpwire_gateway::config::key_hash_hex(s)
}

#[test]
fn config_errors_name_the_line() {
    let file = dir().join("bad.toml");
    std::fs::write(
        &file,
        "[upstream.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\napi_key_env = \"X_OPENAI\"\n\n[[tenants]]\nname = \"a\"\nkey_sha256 = [\"abc\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["gateway", "--config"])
        .arg(&file)
        .env("X_OPENAI", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 7"), "{err}");
    assert!(err.contains("64 hex digits"), "{err}");
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_gateway(config: &Path) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["gateway", "--config"])
        .arg(config)
        .env("X_OPENAI", "sk-vendor")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    // Keep reading so that the gateway's later lines never meet a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (Running(child), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateway_processes_sharing_a_store_refresh_once() {
    let auth = MockServer::start().await;
    Route::post("/token").expect(1).reply(&auth, ResponseTemplate::new(200)
                .set_delay(std::time::Duration::from_millis(300))
                .set_body_json(json!({"access_token": "fresh-access", "token_type": "Bearer", "expires_in": 3600})),).await;
    let upstream = MockServer::start().await;
    Route::any("POST")
        .reply(
            &upstream,
            ResponseTemplate::new(200).set_body_json(json!({"ok": true})),
        )
        .await;
    let d = dir();
    let store = d.join("shared-tokens.json");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        &store,
        serde_json::to_vec(&json!({"version": 1, "clients": [], "tokens": [{
            "server_url": MCP_URL, "resource": MCP_URL, "issuer": auth.uri(), "client_id": "c",
            "token_endpoint": format!("{}/token", auth.uri()), "access_token": "old-access",
            "refresh_token": "rt-1", "expires_at": now + 5, "scope": null, "token_type": "Bearer"}]}))
        .unwrap(),
    )
    .unwrap();
    let config = d.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[upstream.openai]\nbase_url = \"{}/v1\"\napi_key_env = \"X_OPENAI\"\n\n[stores.shared]\npath = {:?}\n\n[[tenants]]\nname = \"a\"\nkey_sha256 = [\"{}\"]\n\n[[tenants.mcp]]\nurl = \"{MCP_URL}\"\nauth = {{ oauth = \"shared\" }}\n",
            upstream.uri(),
            store.display().to_string(),
            sha256_hex(KEY)
        ),
    )
    .unwrap();
    let (_one, url_one) = spawn_gateway(&config);
    let (_two, url_two) = spawn_gateway(&config);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = json!({"model": "m", "input": "x", "tools": [{"type": "mcp", "server_label": "d", "server_url": MCP_URL}]});
    let calls = (0..32)
        .flat_map(|_| [url_one.clone(), url_two.clone()])
        .map(|url| {
            let client = client.clone();
            let body = body.clone();
            async move {
                client
                    .post(format!("{url}/v1/responses"))
                    .bearer_auth(KEY)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        });
    for status in futures_util::future::join_all(calls).await {
        assert_eq!(status, 200);
    }
    let got = upstream.received_requests().await.unwrap();
    assert_eq!(got.len(), 64);
    for r in &got {
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["tools"][0]["authorization"], "fresh-access");
    }
    auth.verify().await;
}
