//! Stored responses belong to the tenant that created them through the gateway: another
//! tenant's `GET` / `DELETE` / cancel and `previous_response_id` get the vendor's 404 and
//! nothing goes upstream; an id the gateway never relayed is refused unless the tenant opts
//! in with `allow_foreign_response_ids`.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An OpenAI upstream that creates `resp_whole_A` (JSON) or `resp_stream_A` (SSE) and
/// serves any stored response by id.
async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .and(wiremock::matchers::body_partial_json(json!({"stream": true})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_stream_A\",\"object\":\"response\",\"status\":\"in_progress\"}}\n\n\
             event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_stream_A\",\"object\":\"response\",\"status\":\"completed\",\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}}\n\n",
            "text/event-stream",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "resp_whole_A", "object": "response", "status": "completed", "output": []
        })))
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/v1/responses/[A-Za-z0-9_]+(/cancel)?$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "resp_whole_A", "object": "response", "status": "completed",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": "tenant A's secret answer"}]}]
        })))
        .mount(&server)
        .await;
    server
}

fn config(base: &str, allow_foreign: bool) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{openai}

[[tenants]]
name = "team-a"
key_sha256 = ["{a}"]
allow_foreign_response_ids = {allow_foreign}

[[tenants]]
name = "team-b"
key_sha256 = ["{b}"]
"#,
        openai = openai_upstream(base),
        a = mcpwire_gateway::config::key_hash_hex(GATEWAY_KEY),
        b = mcpwire_gateway::config::key_hash_hex(OTHER_KEY),
    )
}

async fn create(gw: &mcpwire_gateway::GatewayHandle, key: &str, extra: Value) -> (u16, String) {
    let mut body = json!({"model": "gpt-x", "input": "hi"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = post_openai(gw, key, &body).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn by_id(
    gw: &mcpwire_gateway::GatewayHandle,
    key: &str,
    verb: &str,
    id: &str,
) -> (u16, Value) {
    let url = format!("{}/v1/responses/{id}", gw.url());
    let rb = match verb {
        "GET" => http().get(url),
        "DELETE" => http().delete(url),
        _ => http().post(format!("{url}/cancel")),
    };
    let r = rb.bearer_auth(key).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn by_id_requests(server: &[wiremock::Request]) -> usize {
    server
        .iter()
        .filter(|r| r.url.path().starts_with("/v1/responses/"))
        .count()
}

fn assert_not_found(status: u16, body: &Value, id: &str) {
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(id), "{body}");
    assert!(!body.to_string().contains("secret answer"));
}

#[tokio::test]
async fn another_tenant_cannot_read_delete_cancel_or_continue_a_response() {
    let up = upstream().await;
    let gw = start(&config(&up.uri(), false)).await;

    // Tenant A creates two responses, whole and streamed.
    let (s, text) = create(&gw, GATEWAY_KEY, json!({})).await;
    assert_eq!(s, 200, "{text}");
    assert!(text.contains("resp_whole_A"));
    let (s, text) = create(&gw, GATEWAY_KEY, json!({"stream": true})).await;
    assert_eq!(s, 200, "{text}");
    assert!(text.contains("resp_stream_A"));

    // Tenant B: every by-id route and a continuation is the vendor's 404; nothing upstream.
    for id in ["resp_whole_A", "resp_stream_A"] {
        for verb in ["GET", "DELETE", "CANCEL"] {
            let (s, b) = by_id(&gw, OTHER_KEY, verb, id).await;
            assert_not_found(s, &b, id);
        }
        let (s, text) = create(&gw, OTHER_KEY, json!({"previous_response_id": id})).await;
        let b: Value = serde_json::from_str(&text).unwrap();
        assert_not_found(s, &b, id);
        assert_eq!(b["error"]["param"], "previous_response_id");
    }
    let received = up.received_requests().await.unwrap();
    assert_eq!(
        by_id_requests(&received),
        0,
        "a foreign id reached the vendor"
    );
    assert_eq!(
        received.len(),
        2,
        "only tenant A's two creates went upstream"
    );

    // Tenant A: its own ids are served, and continued.
    for verb in ["GET", "DELETE", "CANCEL"] {
        let (s, b) = by_id(&gw, GATEWAY_KEY, verb, "resp_whole_A").await;
        assert_eq!(s, 200, "{verb}: {b}");
    }
    let (s, _) = by_id(&gw, GATEWAY_KEY, "GET", "resp_stream_A").await;
    assert_eq!(s, 200);
    let (s, text) = create(
        &gw,
        GATEWAY_KEY,
        json!({"previous_response_id": "resp_stream_A"}),
    )
    .await;
    assert_eq!(s, 200, "{text}");

    // An id the gateway never relayed is refused, to its "owner" too, and so is a
    // conversation it never saw.
    let (s, b) = by_id(&gw, GATEWAY_KEY, "GET", "resp_elsewhere").await;
    assert_not_found(s, &b, "resp_elsewhere");
    let (s, text) = create(&gw, GATEWAY_KEY, json!({"conversation": "conv_elsewhere"})).await;
    assert_not_found(s, &serde_json::from_str(&text).unwrap(), "conv_elsewhere");
    let (s, text) = create(
        &gw,
        GATEWAY_KEY,
        json!({"conversation": {"id": "conv_elsewhere"}}),
    )
    .await;
    assert_not_found(s, &serde_json::from_str(&text).unwrap(), "conv_elsewhere");
}

#[tokio::test]
async fn foreign_ids_can_be_allowed_but_never_another_tenants() {
    let up = upstream().await;
    let gw = start(&config(&up.uri(), true)).await;
    // Never relayed: allowed for a tenant that opted in.
    let (s, b) = by_id(&gw, GATEWAY_KEY, "GET", "resp_elsewhere").await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = create(&gw, GATEWAY_KEY, json!({"conversation": "conv_elsewhere"})).await;
    assert_eq!(s, 200);
    // Created by tenant B through the gateway: still refused to A.
    let (s, text) = create(&gw, OTHER_KEY, json!({})).await;
    assert_eq!(s, 200, "{text}");
    let (s, b) = by_id(&gw, GATEWAY_KEY, "GET", "resp_whole_A").await;
    assert_not_found(s, &b, "resp_whole_A");
}
