//! Regression tests for what an attack review of the gateway found: refusals in the audit
//! log, secrets in escaped spellings and in upstream headers, upstream garbage, refusals that
//! looked retryable, tool types in other casings, ambiguous keys, the audit file's mode and
//! `/metrics` access.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const URL: &str = "https://mcp.example.com/mcp";

async fn ok_upstream() -> MockServer {
    answering_json(json!({"id": "resp_1", "ok": true})).await
}

fn audit_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn wait_for_lines(path: &std::path::Path, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let lines = audit_lines(path);
        if lines.len() >= n {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    audit_lines(path)
}

#[tokio::test]
async fn every_refusal_has_one_audit_line_and_the_file_is_private() {
    let up = ok_upstream().await;
    let dir = tempdir();
    let audit = dir.join("audit.jsonl");
    let text = config_text(&up.uri(), URL, DEMO_BEARER, "", "")
        + &format!("\n[audit]\npath = {:?}\n", audit.display().to_string());
    let gw = start(&text).await;

    let mut expected = Vec::new();
    let send = async |key: &str, body: Value| {
        let r = post_openai(&gw, key, &body).await;
        let id = r.headers()[mcpwire_gateway::REQUEST_ID_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        (r.status().as_u16(), id)
    };
    let (s, id) = send("gw-wrong", openai_body(URL, "x", false)).await;
    expected.push((s, id, "unauthenticated", None, Value::Null));
    let mut evil = openai_body(URL, "x", false);
    evil["tools"][0]["server_url"] = json!("https://evil.example.net/t/KEY-IN-PATH/mcp");
    let (s, id) = send(GATEWAY_KEY, evil).await;
    expected.push((
        s,
        id,
        "forbidden",
        Some("team-a"),
        json!("https://evil.example.net"),
    ));
    let connector = json!({"model": "m", "input": "x", "tools": [{"type": "mcp", "server_label": "c", "connector_id": "connector_nope"}]});
    let (s, id) = send(GATEWAY_KEY, connector).await;
    expected.push((s, id, "forbidden", Some("team-a"), json!("connector_nope")));
    let (s, id) = send(GATEWAY_KEY, json!({"model": "m", "input": "x", "bogus": 1})).await;
    expected.push((s, id, "invalid_request", Some("team-a"), Value::Null));

    let lines = wait_for_lines(&audit, expected.len()).await;
    let refusals: Vec<&Value> = lines.iter().filter(|l| l["event"] == "refusal").collect();
    assert_eq!(refusals.len(), expected.len(), "{lines:?}");
    for (status, request_id, reason, tenant, target) in &expected {
        let line = refusals
            .iter()
            .find(|l| l["request_id"] == request_id.as_str())
            .unwrap_or_else(|| panic!("no audit line for {request_id}: {lines:?}"));
        assert_eq!(line["status"], *status, "{line}");
        assert_eq!(line["reason"], *reason, "{line}");
        assert_eq!(line["tenant"], json!(tenant), "{line}");
        assert_eq!(line["route"], "responses", "{line}");
        assert_eq!(line["target"], *target, "{line}");
        assert!(line["replica"].as_str().unwrap().contains(':'), "{line}");
        assert!(line["message"].is_string(), "{line}");
    }
    assert!(
        !std::fs::read_to_string(&audit)
            .unwrap()
            .contains("KEY-IN-PATH")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "audit log mode {mode:o}");
    }
}

#[tokio::test]
async fn upstream_garbage_is_a_502_in_the_vendors_shape() {
    let cases = [
        (
            ResponseTemplate::new(200).set_body_raw("<html>hi</html>", "text/html"),
            false,
            "text/html",
        ),
        (
            ResponseTemplate::new(500)
                .set_body_raw("<html>Internal Server Error</html>", "text/html"),
            false,
            "text/html",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("not json at all", "application/json"),
            false,
            "application/json",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"id": "r"})),
            true,
            "application/json",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("garbage\n\n", "text/event-stream"),
            true,
            "text/event-stream",
        ),
        (
            ResponseTemplate::new(502).set_body_raw("Bad Gateway", "text/plain"),
            false,
            "text/plain",
        ),
    ];
    for (template, stream, ct) in cases {
        let up = answering(template).await;
        let dir = tempdir();
        let audit = dir.join("audit.jsonl");
        let text = config_text(&up.uri(), URL, DEMO_BEARER, "", "")
            + &format!("\n[audit]\npath = {:?}\n", audit.display().to_string());
        let gw = start(&text).await;
        let r = team_a_openai(&gw, URL, "x", stream).await;
        assert_eq!(r.status(), 502, "{ct} stream={stream}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["type"], "server_error", "{b}");
        assert_eq!(b["error"]["code"], "upstream_invalid_response", "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains(ct), "{b}");
        let r = team_a_anthropic(&gw, URL, "x", stream).await;
        assert_eq!(r.status(), 502);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["type"], "error", "{b}");
        assert_eq!(b["error"]["type"], "api_error", "{b}");
        let lines = wait_for_lines(&audit, 2).await;
        let line = &lines[0];
        assert_eq!(line["event"], "refusal", "{line}");
        assert_eq!(line["reason"], "upstream_invalid_response", "{line}");
        assert_eq!(
            line["upstream"]["content_type"].as_str().unwrap(),
            ct,
            "{line}"
        );
        assert!(line["upstream"]["status"].is_u64(), "{line}");
    }
    // A JSON error body is still the vendor's own, relayed as it is.
    let up = answering(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "7")
            .set_body_json(json!({"error": {"message": "slow down", "type": "rate_limit_error"}})),
    )
    .await;
    let gw = start(&config_text(&up.uri(), URL, DEMO_BEARER, "", "")).await;
    let r = team_a_openai(&gw, URL, "x", false).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["message"],
        "slow down"
    );
}

#[tokio::test]
async fn refusals_that_cannot_succeed_say_so() {
    let up = ok_upstream().await;
    // Anthropic cannot send header credentials: a configuration problem, never retryable.
    let gw = start(&config_text(
        &up.uri(),
        URL,
        r#"{ headers_env = { "X-Key" = "GW_DEMO_TOKEN" } }"#,
        "",
        "",
    ))
    .await;
    let r = team_a_anthropic(&gw, URL, "x", false).await;
    assert_eq!(r.status(), 424);
    assert_eq!(r.headers()["x-should-retry"], "false");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "mcp_credentials_unavailable", "{b}");
    // Each refusal kind against what both SDKs retry (408, 409, 429, 5xx, or x-should-retry).
    let mut unlisted = openai_body(URL, "x", false);
    unlisted["tools"][0]["server_url"] = json!("https://evil.example.net/mcp");
    for (key, body, status, retry) in [
        ("gw-wrong", openai_body(URL, "x", false), 401, "false"),
        (GATEWAY_KEY, unlisted, 403, "false"),
        (GATEWAY_KEY, json!({"model": "m", "bogus": 1}), 400, "false"),
        (
            GATEWAY_KEY,
            json!({"model": "m", "input": "x".repeat(70_000)}),
            413,
            "false",
        ),
    ] {
        let r = post_openai(&gw, key, &body).await;
        assert_eq!(r.status(), status);
        assert_eq!(r.headers()["x-should-retry"], retry, "{status}");
    }
    assert!(up.received_requests().await.unwrap().is_empty());
    // Upstream unreachable: retryable.
    let gw = start(&config_text("http://127.0.0.1:9", URL, DEMO_BEARER, "", "")).await;
    let r = team_a_openai(&gw, URL, "x", false).await;
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["x-should-retry"], "true");
}

#[tokio::test]
async fn other_casings_of_known_tool_types_are_refused() {
    let up = ok_upstream().await;
    let gw = start(&config_text(&up.uri(), URL, DEMO_BEARER, "", "")).await;
    for t in ["MCP", "Mcp", "mCp", "FUNCTION"] {
        let mut b = openai_body(URL, "x", false);
        b["tools"][0]["type"] = json!(t);
        b["tools"][0]["server_url"] = json!("https://evil.example.net/mcp");
        let r = post_openai(&gw, GATEWAY_KEY, &b).await;
        assert_eq!(r.status(), 400, "{t}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["param"], "tools[0].type", "{e}");
    }
    for t in ["MCP_TOOLSET", "Mcp-Toolset"] {
        let mut b = anthropic_body(URL, "x", false);
        b["tools"][0]["type"] = json!(t);
        let r = post_anthropic(&gw, GATEWAY_KEY, &b).await;
        assert_eq!(r.status(), 400, "{t}");
    }
    assert!(up.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn ambiguous_keys_are_refused() {
    let up = ok_upstream().await;
    let gw = start(&config_text(&up.uri(), URL, DEMO_BEARER, "", "")).await;
    let body = serde_json::to_vec(&openai_body(URL, "x", false)).unwrap();
    // Two Authorization headers (the first is the tenant's).
    let r = http()
        .post(format!("{}/v1/responses", gw.url()))
        .header("authorization", format!("Bearer {GATEWAY_KEY}"))
        .header("authorization", format!("Bearer {OTHER_KEY}"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // One tenant's Authorization, another's x-api-key.
    for path in ["/v1/responses", "/v1/messages"] {
        let r = http()
            .post(format!("{}{path}", gw.url()))
            .header("authorization", format!("Bearer {GATEWAY_KEY}"))
            .header("x-api-key", OTHER_KEY)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
    assert!(up.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn metrics_can_require_a_bearer_token() {
    let up = ok_upstream().await;
    let token = "metrics-PLANTED-scraper-1";
    let text = config_text(&up.uri(), URL, DEMO_BEARER, "", "")
        + &format!(
            "\n[metrics]\nbearer_sha256 = [\"{}\"]\n",
            mcpwire_gateway::config::key_hash_hex(token)
        );
    let gw = start(&text).await;
    let url = format!("{}/metrics", gw.url());
    let r = http().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.text().await.unwrap().contains("team-a"));
    let r = http()
        .get(&url)
        .bearer_auth(GATEWAY_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a gateway key is not a metrics token");
    let r = http().get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("mcpwire_gateway_"));
}

#[tokio::test]
async fn secrets_in_escaped_spellings_and_upstream_headers_are_scrubbed() {
    // A token that JSON must escape, echoed back by the "MCP server" (here the upstream) in
    // every spelling an encoder may choose.
    let token = "tok\"PLANTED\\quote-9";
    let escaped = serde_json::to_string(token).unwrap();
    let escaped = &escaped[1..escaped.len() - 1];
    let unicode: String = token
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let dash_only = escaped.replace('-', "\\u002d");
    let twice = serde_json::to_string(escaped).unwrap();
    let twice = &twice[1..twice.len() - 1];
    let body = format!(
        "{{\"id\":\"resp_1\",\"object\":\"response\",\"output\":[{{\"type\":\"mcp_call\",\"output\":\"{escaped} {unicode} {dash_only} {twice}\"}}]}}"
    );
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"stream\":true"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                format!("event: response.created\ndata: {{\"type\":\"response.created\",\"response\":{{\"id\":\"resp_2\",\"note\":\"{escaped}\"}}}}\n\nevent: response.completed\ndata: {{\"type\":\"response.completed\",\"response\":{{\"id\":\"resp_2\",\"status\":\"completed\",\"note\":\"{unicode}\"}}}}\n\n"),
                "text/event-stream",
            ),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", format!("req_{OPENAI_KEY}"))
                .insert_header("x-echo", OPENAI_KEY)
                .insert_header("openai-organization", "org-platform-PLANTED")
                .insert_header("openai-project", "proj-platform")
                .insert_header("set-cookie", "session=platform")
                .insert_header("x-ratelimit-remaining-requests", "99")
                .set_body_raw(body, "application/json"),
        )
        .mount(&upstream)
        .await;
    let dir = tempdir();
    let audit = dir.join("audit.jsonl");
    let text = config_text(
        &upstream.uri(),
        URL,
        r#"{ bearer_env = "GW_QUOTE_TOKEN" }"#,
        "",
        "",
    ) + &audit_table(&audit, &["outputs"]);
    let gw = start_with(&text, &[("GW_QUOTE_TOKEN", token)]).await;

    let r = team_a_openai(&gw, URL, "x", false).await;
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    assert_eq!(text.matches("[redacted]").count(), 4, "{text}");
    for spelling in [token, escaped, unicode.as_str(), dash_only.as_str(), twice] {
        assert!(!text.contains(spelling), "{spelling} in {text}");
    }
    assert_eq!(headers["x-request-id"], "req_[redacted]");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "99");
    for name in [
        "x-echo",
        "openai-organization",
        "openai-project",
        "set-cookie",
    ] {
        assert!(!headers.contains_key(name), "{name} was relayed");
    }
    let r = team_a_openai(&gw, URL, "x", true).await;
    let text = r.text().await.unwrap();
    assert_eq!(text.matches("[redacted]").count(), 2, "{text}");
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    for spelling in [
        token,
        escaped,
        unicode.as_str(),
        dash_only.as_str(),
        twice,
        OPENAI_KEY,
    ] {
        assert!(
            !audit_text.contains(spelling),
            "{spelling} in the audit log"
        );
    }
}
