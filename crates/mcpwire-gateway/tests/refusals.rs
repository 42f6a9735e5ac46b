//! Every refusal has the vendor's error shape and status, and nothing reaches the upstream.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

const DEMO_URL: &str = "https://mcp.example.com/mcp";

async fn upstream() -> MockServer {
    answering_json(json!({"ok": true})).await
}

async fn gateway(server: &MockServer) -> mcpwire_gateway::GatewayHandle {
    start(&config_text(&server.uri(), DEMO_URL, DEMO_BEARER, "", "")).await
}

async fn raw(
    gw: &mcpwire_gateway::GatewayHandle,
    path: &str,
    anthropic: bool,
    key: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut rb = http()
        .post(format!("{}{path}", gw.url()))
        .body(body)
        .header("content-type", "application/json");
    rb = if anthropic {
        rb.header("x-api-key", key)
            .header("anthropic-beta", "mcp-client-2025-11-20")
    } else {
        rb.bearer_auth(key)
    };
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// [`raw`] with `body` as JSON to `/v1/responses`.
async fn raw_openai(gw: &mcpwire_gateway::GatewayHandle, key: &str, body: &Value) -> (u16, Value) {
    raw(
        gw,
        "/v1/responses",
        false,
        key,
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// [`raw`] with `body` as JSON to `/v1/messages`.
async fn raw_anthropic(
    gw: &mcpwire_gateway::GatewayHandle,
    key: &str,
    body: &Value,
) -> (u16, Value) {
    raw(
        gw,
        "/v1/messages",
        true,
        key,
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

fn assert_openai_error(body: &Value, code: u16, status: u16) {
    assert_eq!(status, code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["type"].is_string(), "{body}");
    assert!(
        body["error"].get("param").is_some() && body["error"].get("code").is_some(),
        "{body}"
    );
}

fn assert_anthropic_error(body: &Value, code: u16, status: u16, kind: &str) {
    assert_eq!(status, code, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn refusals_have_vendor_shapes_and_never_reach_upstream() {
    let server = upstream().await;
    let gw = gateway(&server).await;
    let ok_openai = openai_body(DEMO_URL, "hi", false);
    let ok_anthropic = anthropic_body(DEMO_URL, "hi", false);

    // Wrong, missing and other-vendor-header keys.
    let (s, b) = raw_openai(&gw, "gw-wrong", &ok_openai).await;
    assert_openai_error(&b, 401, s);
    assert_eq!(b["error"]["code"], "invalid_api_key");
    let (s, b) = raw_anthropic(&gw, "gw-wrong", &ok_anthropic).await;
    assert_anthropic_error(&b, 401, s, "authentication_error");
    let r = http()
        .post(format!("{}/v1/responses", gw.url()))
        .json(&ok_openai)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Unlisted MCP server (and one the other tenant is not allowed at all).
    let mut unlisted = ok_openai.clone();
    unlisted["tools"][0]["server_url"] = json!("https://evil.example.net/mcp");
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &unlisted).await;
    assert_openai_error(&b, 403, s);
    assert_eq!(b["error"]["param"], "tools[0].server_url");
    let (s, b) = raw_openai(&gw, OTHER_KEY, &ok_openai).await;
    assert_openai_error(&b, 403, s);
    let mut unlisted = ok_anthropic.clone();
    unlisted["mcp_servers"][0]["url"] = json!("https://mcp.example.com/other");
    let (s, b) = raw_anthropic(&gw, GATEWAY_KEY, &unlisted).await;
    assert_anthropic_error(&b, 403, s, "permission_error");

    // Connector ids: refused unless allowed; tunnels always.
    let connector = json!({"model": "m", "input": "x", "tools": [{"type": "mcp", "server_label": "c", "connector_id": "connector_gmail"}]});
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &connector).await;
    assert_openai_error(&b, 403, s);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connector_gmail")
    );
    let tunnel = json!({"model": "m", "input": "x", "tools": [{"type": "mcp", "server_label": "c", "tunnel_id": "tunnel_1"}]});
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &tunnel).await;
    assert_openai_error(&b, 403, s);

    // Oversized body (limit 64 KiB), with and without a content-length.
    let mut big = ok_openai.clone();
    big["input"] = json!("x".repeat(70_000));
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &big).await;
    assert_openai_error(&b, 413, s);
    let chunks =
        futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 8192])));
    let r = http()
        .post(format!("{}/v1/messages", gw.url()))
        .header("x-api-key", GATEWAY_KEY)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_anthropic_error(&r.json().await.unwrap(), 413, s, "request_too_large");

    // Duplicate keys (a second server_url would otherwise be a bypass) and malformed JSON.
    let dup = br#"{"model":"m","input":"x","tools":[{"type":"mcp","server_label":"d","server_url":"https://mcp.example.com/mcp","server_url":"https://evil.example.net/mcp"}]}"#;
    let (s, b) = raw(&gw, "/v1/responses", false, GATEWAY_KEY, dup.to_vec()).await;
    assert_openai_error(&b, 400, s);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate key `server_url`"),
        "{b}"
    );
    let (s, b) = raw(
        &gw,
        "/v1/messages",
        true,
        GATEWAY_KEY,
        br#"{"model":"m","model":"n"}"#.to_vec(),
    )
    .await;
    assert_anthropic_error(&b, 400, s, "invalid_request_error");
    let (s, b) = raw(
        &gw,
        "/v1/responses",
        false,
        GATEWAY_KEY,
        br#"{"model":"m","#.to_vec(),
    )
    .await;
    assert_openai_error(&b, 400, s);
    let (s, b) = raw(&gw, "/v1/messages", true, GATEWAY_KEY, b"not json".to_vec()).await;
    assert_anthropic_error(&b, 400, s, "invalid_request_error");

    // Unknown fields that could change meaning: inside an MCP entry, at the top level, and
    // MCP-looking tool types.
    let mut unknown = ok_openai.clone();
    unknown["tools"][0]["server_url_override"] = json!("https://evil.example.net/mcp");
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &unknown).await;
    assert_openai_error(&b, 400, s);
    assert_eq!(b["error"]["param"], "tools[0].server_url_override");
    let mut unknown = ok_anthropic.clone();
    unknown["mcp_servers_v2"] = json!([{"url": "https://evil.example.net/mcp"}]);
    let (s, b) = raw_anthropic(&gw, GATEWAY_KEY, &unknown).await;
    assert_anthropic_error(&b, 400, s, "invalid_request_error");
    let mut unknown = ok_openai.clone();
    unknown["tools"] = json!([{"type": "mcp_v2", "server_url": "https://evil.example.net/mcp"}]);
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &unknown).await;
    assert_openai_error(&b, 400, s);
    // The same label twice (the audit log and toolsets key on it).
    let mut twice = ok_openai.clone();
    twice["tools"] = json!([ok_openai["tools"][0].clone(), ok_openai["tools"][0].clone()]);
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &twice).await;
    assert_openai_error(&b, 400, s);
    assert_eq!(b["error"]["param"], "tools[1].server_label");
    // A known type with a malformed body names the path.
    let mut bad = ok_openai.clone();
    bad["tools"][0]["server_label"] = json!(5);
    let (s, b) = raw_openai(&gw, GATEWAY_KEY, &bad).await;
    assert_openai_error(&b, 400, s);
    // MCP servers without the beta header.
    let r = http()
        .post(format!("{}/v1/messages", gw.url()))
        .header("x-api-key", GATEWAY_KEY)
        .json(&ok_anthropic)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_anthropic_error(&r.json().await.unwrap(), 400, s, "invalid_request_error");

    // Unknown paths: 404 in the vendor's shape.
    let r = http()
        .get(format!("{}/v1/models", gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_openai_error(&r.json().await.unwrap(), 404, s);
    let r = http()
        .post(format!("{}/v1/messages/count_tokens", gw.url()))
        .header("x-api-key", GATEWAY_KEY)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_anthropic_error(&r.json().await.unwrap(), 404, s, "not_found_error");

    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a refused request reached the upstream"
    );
    let m = metrics_text(&gw).await;
    assert!(
        m.contains("mcpwire_gateway_refusals_total{route=\"responses\",reason=\"forbidden\"} 4"),
        "{m}"
    );

    // And an allowed request does reach it, with the vendor key and the injected token only.
    let r = post_openai(&gw, GATEWAY_KEY, &ok_openai).await;
    assert_eq!(r.status(), 200);
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].headers["authorization"],
        format!("Bearer {OPENAI_KEY}").as_str()
    );
    let sent: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(sent["tools"][0]["authorization"], MCP_TOKEN);
    assert_eq!(sent["tools"][0]["server_url"], DEMO_URL);
    let r = post_anthropic(&gw, GATEWAY_KEY, &ok_anthropic).await;
    assert_eq!(r.status(), 200);
    let got = server.received_requests().await.unwrap();
    assert_eq!(got[1].headers["x-api-key"], ANTHROPIC_KEY);
    assert_eq!(got[1].headers["anthropic-beta"], "mcp-client-2025-11-20");
    let sent: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(sent["mcp_servers"][0]["authorization_token"], MCP_TOKEN);
}

#[tokio::test]
async fn upstream_down_or_slow_is_a_gateway_error() {
    // Down: a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let gw = start(&config_text(
        &format!("http://127.0.0.1:{port}"),
        DEMO_URL,
        DEMO_BEARER,
        "",
        "",
    ))
    .await;
    let r = team_a_openai(&gw, DEMO_URL, "x", false).await;
    let s = r.status().as_u16();
    assert_openai_error(&r.json().await.unwrap(), 502, s);
    let r = team_a_anthropic(&gw, DEMO_URL, "x", false).await;
    let s = r.status().as_u16();
    assert_anthropic_error(&r.json().await.unwrap(), 502, s, "api_error");

    // Slow: headers later than response_timeout_secs (2 s).
    let slow =
        answering(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(4))).await;
    let gw = gateway(&slow).await;
    let r = team_a_openai(&gw, DEMO_URL, "x", false).await;
    let s = r.status().as_u16();
    assert_openai_error(&r.json().await.unwrap(), 504, s);
}

#[tokio::test]
async fn upstream_errors_pass_through_scrubbed() {
    let server = answering(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": format!("Incorrect API key provided: {OPENAI_KEY}; token {MCP_TOKEN}"), "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}
        }))).await;
    let gw = gateway(&server).await;
    let r = team_a_openai(&gw, DEMO_URL, "x", false).await;
    assert_eq!(r.status(), 401);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("Incorrect API key provided: [redacted]; token [redacted]"),
        "{text}"
    );
}
