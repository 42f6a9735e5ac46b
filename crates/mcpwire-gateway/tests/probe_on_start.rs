//! `[server] probe_on_start`: every configured MCP server is probed in the background with the
//! credentials the gateway injects; results show on `/readyz`, failures never stop serving.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mcpwire_sim::{DemoOptions, DemoServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_are_probed_at_start_and_failures_are_not_fatal() {
    let demo = DemoServer::start(DemoOptions::new().with_token(MCP_TOKEN))
        .await
        .unwrap();
    let text = config_text(
        "http://127.0.0.1:9",
        demo.url(),
        DEMO_BEARER,
        "probe_on_start = true",
        "\n[[tenants.mcp]]\nname = \"gone\"\nurl = \"http://127.0.0.1:9/mcp\"\n",
    );
    let gw = start(&text).await;
    let mut ready = Value::Null;
    for _ in 0..150 {
        let r = get_path(&gw, "/readyz").await;
        assert_eq!(
            r.status(),
            200,
            "a failing probe must not make the gateway unready"
        );
        ready = r.json().await.unwrap();
        if ready["probes"].as_object().is_some_and(|p| p.len() == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let probes = ready["probes"]
        .as_object()
        .unwrap_or_else(|| panic!("{ready}"));
    let demo_key = probes.keys().find(|k| k.starts_with("demo ")).unwrap();
    assert_eq!(probes[demo_key]["ok"], true, "{ready}");
    let gone = &probes["gone (http://127.0.0.1:9)"];
    assert_eq!(gone["ok"], false, "{ready}");
    assert!(
        gone["summary"].as_str().unwrap().contains("reachability"),
        "{ready}"
    );
    assert!(!ready.to_string().contains(MCP_TOKEN));
}
