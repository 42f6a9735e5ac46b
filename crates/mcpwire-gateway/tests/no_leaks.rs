//! Planted secrets (vendor keys, the MCP token, gateway keys) never appear in responses, logs at
//! TRACE, metrics or the audit log, over streamed and whole calls of both vendors, refusals,
//! OAuth refreshes and an upstream that echoes secrets back.
//!
//! Alone in its own test binary: the subscriber is process-wide.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// All a client sees of an answer: its headers and its body.
async fn headers_and_body(r: reqwest::Response) -> String {
    format!("{:?}", r.headers()) + &r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    // Everything the gateway's process logs, except the in-process simulator and demo server
    // (which stand in for the vendor and the MCP server and legitimately see the token).
    let filter = tracing_subscriber::EnvFilter::new("trace,mcpwire_sim=off,rmcp=off");
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let audit = tempdir().join("audit.jsonl");
    let audited = audit_table(&audit, &["arguments", "outputs"]);
    let (demo, _sim, gw) = sim_gateway("", &audited).await;
    let mut seen = String::new();
    for stream in [false, true] {
        let calls = "call demo.echo {\"text\":\"hello\"}\ncall demo.add {\"a\":1,\"b\":1}";
        let r = team_a_openai(&gw, demo.url(), calls, stream).await;
        assert_eq!(r.status(), 200);
        seen += &headers_and_body(r).await;
        let r = team_a_anthropic(
            &gw,
            demo.url(),
            "call demo.fail {\"message\":\"boom\"}",
            stream,
        )
        .await;
        assert_eq!(r.status(), 200);
        seen += &headers_and_body(r).await;
    }
    // Refusals with the other tenant's key and a wrong key.
    for key in [OTHER_KEY, "gw-wrong"] {
        let r = post_openai(&gw, key, &openai_body(demo.url(), "x", false)).await;
        seen += &r.text().await.unwrap();
    }
    seen += &metrics_text(&gw).await;

    // An upstream that echoes the vendor key and the MCP token, in a stream and a whole body.
    let echo = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"stream\":true"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!("event: response.created\ndata: {{\"type\":\"response.created\",\"response\":{{\"id\":\"r\",\"output\":[],\"note\":\"{OPENAI_KEY} {MCP_TOKEN}\"}}}}\n\n"),
            "text/event-stream",
        ))
        .mount(&echo)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"message": format!("{ANTHROPIC_KEY} {MCP_TOKEN}"), "type": "api_error"}})))
        .mount(&echo)
        .await;
    let gw2 = start(&config_text(&echo.uri(), demo.url(), DEMO_BEARER, "", "")).await;
    let r = post_openai(&gw2, GATEWAY_KEY, &openai_body(demo.url(), "x", true)).await;
    let t = r.text().await.unwrap();
    assert!(t.contains("[redacted] [redacted]"), "{t}");
    seen += &t;
    let r = post_anthropic(&gw2, GATEWAY_KEY, &anthropic_body(demo.url(), "x", false)).await;
    let t = r.text().await.unwrap();
    assert!(t.contains("[redacted] [redacted]"), "{t}");
    seen += &t;
    gw.shutdown().await;
    gw2.shutdown().await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let logs = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    assert!(logs.contains("forwarding"), "TRACE logs were captured");
    assert!(
        audit_text.contains("\"tool\":\"echo\"") && audit_text.contains("\"output\""),
        "{audit_text}"
    );
    for secret in planted() {
        assert!(!seen.contains(secret), "{secret} in a response or metrics");
        assert!(!logs.contains(secret), "{secret} in the logs");
        assert!(!audit_text.contains(secret), "{secret} in the audit log");
    }
}
