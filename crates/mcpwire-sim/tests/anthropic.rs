//! Anthropic Messages (MCP connector) through the simulator against the demo MCP server, whole
//! and streamed, for each beta.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn successful_call_each_beta_whole_and_streamed() {
    let env = env().await;
    for (beta, toolsets, listing) in [
        ("mcp-client-2025-04-04", false, false),
        ("mcp-client-2025-11-20", true, false),
        ("mcp-client-2026-09-15", true, true),
    ] {
        for stream in [false, true] {
            let mut body = json!({
                "model": "claude-sim",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "call demo.echo {\"text\":\"hello world\"}"}],
                "mcp_servers": [{"type": "url", "url": env.demo.url(), "name": "demo"}],
                "stream": stream,
            });
            if toolsets {
                body["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo"}]);
            }
            let reply = env.anthropic(Some(beta), &body).await;
            let events = reply.events();
            let mut expected = vec!["response_started"];
            if listing {
                expected.push("tools_listed");
            }
            expected.extend(["call", "call_result", "text", "response_completed"]);
            assert_eq!(settled_kinds(&events), expected, "{beta} stream={stream}");
            let result = &of_kind(&events, "call_result")[0];
            assert_eq!(result["is_error"], false);
            assert_eq!(result["content"][0]["text"], "hello world");
            assert_eq!(first_text(&events), "demo.echo returned hello world");
        }
    }
}

fn body(url: &str, prompt: &str, stream: bool) -> serde_json::Value {
    json!({
        "model": "claude-sim",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": prompt}],
        "mcp_servers": [{"type": "url", "url": url, "name": "demo"}],
        "tools": [{"type": "mcp_toolset", "mcp_server_name": "demo"}],
        "stream": stream,
    })
}

const V11: Option<&str> = Some("mcp-client-2025-11-20");

/// `env`'s answer (beta [`V11`]) to `prompt` with the demo server and all its tools.
async fn ask_demo(env: &Env, prompt: &str, stream: bool) -> Reply {
    env.anthropic(V11, &body(env.demo.url(), prompt, stream))
        .await
}

#[tokio::test]
async fn stream_has_the_recorded_shape() {
    let env = env().await;
    let reply = ask_demo(&env, "call demo.add {\"a\":2,\"b\":3}", true).await;
    let text = reply.text();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(names[0], "message_start");
    assert_eq!(*names.last().unwrap(), "message_stop");
    assert!(names.contains(&"ping"));
    assert!(text.contains(r#""content_block":{"type":"mcp_tool_use","#));
    assert!(text.contains(r#""input":{}"#));
    assert!(text.contains(r#"{"type":"input_json_delta","partial_json":""}"#));
    let events = normalize(&reply.body);
    assert_eq!(
        of_kind(&events, "call")[0]["arguments"],
        json!({"a": 2, "b": 3})
    );
    assert_eq!(
        of_kind(&events, "call_result")[0]["content"][0]["text"],
        "5"
    );
    let completed = &of_kind(&events, "response_completed")[0];
    assert_eq!(completed["stop_raw"], "end_turn");
}

#[tokio::test]
async fn failed_call_sets_is_error() {
    let env = env().await;
    for stream in [false, true] {
        let reply = ask_demo(&env, "call demo.fail {\"message\":\"boom\"}", stream).await;
        let events = reply.events();
        let result = &of_kind(&events, "call_result")[0];
        assert_eq!(result["is_error"], true);
        assert_eq!(result["content"][0]["text"], "boom");
        assert_eq!(first_text(&events), "demo.fail failed: boom");
    }
}

#[tokio::test]
async fn unknown_tool_and_malformed_arguments_give_error_results() {
    let env = env().await;
    let reply = ask_demo(
        &env,
        "call demo.nope {}\ncall demo.add {\"a\":\ncall x.echo {}",
        true,
    )
    .await;
    let events = reply.events();
    let results = of_kind(&events, "call_result");
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["is_error"] == true));
    let text = first_text(&events).as_str().unwrap().to_owned();
    assert!(text.contains("no MCP server named x"), "{text}");
}

#[tokio::test]
async fn toolset_configs_and_tool_configuration_select_tools() {
    let env = env().await;
    // 2026-09-15 allowlist: only echo is listed and callable.
    let mut allowlist = body(
        env.demo.url(),
        "call demo.add {\"a\":1,\"b\":1}\ncall demo.echo {\"text\":\"e\"}",
        false,
    );
    allowlist["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo",
        "default_config": {"enabled": false}, "configs": {"echo": {"enabled": true}}}]);
    let reply = env
        .anthropic(Some("mcp-client-2026-09-15"), &allowlist)
        .await;
    let events = reply.events();
    let listed = &of_kind(&events, "tools_listed")[0];
    assert_eq!(listed["tools"].as_array().unwrap().len(), 1);
    let results = of_kind(&events, "call_result");
    assert_eq!(results[0]["is_error"], true);
    assert_eq!(results[1]["is_error"], false);
    // Denylist.
    let mut denylist = body(env.demo.url(), "call demo.add {\"a\":1,\"b\":1}", false);
    denylist["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo", "configs": {"add": {"enabled": false}}}]);
    let events = normalize(&env.anthropic(V11, &denylist).await.body);
    assert_eq!(of_kind(&events, "call_result")[0]["is_error"], true);
    // 2025-04-04 tool_configuration.
    let legacy = json!({
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "call demo.add {\"a\":1,\"b\":1}\ncall demo.echo {\"text\":\"e\"}"}],
        "mcp_servers": [{"type": "url", "url": env.demo.url(), "name": "demo",
                         "tool_configuration": {"enabled": true, "allowed_tools": ["add"]}}],
    });
    let events = normalize(
        &env.anthropic(Some("mcp-client-2025-04-04"), &legacy)
            .await
            .body,
    );
    let results = of_kind(&events, "call_result");
    assert_eq!(results[0]["content"][0]["text"], "2");
    assert_eq!(results[1]["is_error"], true);
}

#[tokio::test]
async fn pinned_toolset_suppresses_the_listing() {
    let env = env().await;
    let mut pinned = body(env.demo.url(), "call demo.echo {\"text\":\"pinned\"}", true);
    pinned["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo",
        "tools": [{"name": "echo", "description": "echo", "input_schema": {"type": "object"}}]}]);
    let reply = env.anthropic(Some("mcp-client-2026-09-15"), &pinned).await;
    let events = reply.events();
    assert_eq!(settled_kinds(&events), CALL_TEXT);
    assert_eq!(
        of_kind(&events, "call_result")[0]["content"][0]["text"],
        "pinned"
    );
}

#[tokio::test]
async fn several_servers() {
    let env = env().await;
    let second = another_demo().await;
    let request = json!({
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "call one.add {\"a\":1,\"b\":2}\ncall two.echo {\"text\":\"hi\"}"}]}],
        "mcp_servers": [{"type": "url", "url": env.demo.url(), "name": "one"},
                        {"type": "url", "url": second.url(), "name": "two"}],
        "tools": [{"type": "mcp_toolset", "mcp_server_name": "one"}, {"type": "mcp_toolset", "mcp_server_name": "two"}],
        "stream": true,
    });
    let reply = env
        .anthropic(
            Some("mcp-client-2026-09-15, other-beta-2025-01-01"),
            &request,
        )
        .await;
    let events = reply.events();
    assert_eq!(settled_kinds(&events), two_listed_two_calls_text());
    assert_eq!(
        first_text(&events),
        "one.add returned 3\ntwo.echo returned hi"
    );
}

fn assert_400(reply: &Reply, message_part: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text());
    check(&reply.body);
    let body = reply.json();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(message_part), "{message}");
    let events = normalize(&reply.body);
    assert_eq!(kinds(&events), ["error"]);
}

#[tokio::test]
async fn token_is_forwarded_and_rejections_are_the_vendors_errors() {
    let env = env_with_token("tok-ant-456").await;
    let mut request = body(env.demo.url(), "call demo.echo {\"text\":\"ok\"}", true);
    request["mcp_servers"][0]["authorization_token"] = json!("tok-ant-456");
    let reply = env.anthropic(V11, &request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(!reply.text().contains("tok-ant-456"));
    let events = normalize(&reply.body);
    assert_eq!(
        of_kind(&events, "call_result")[0]["content"][0]["text"],
        "ok"
    );
    for token in [json!("wrong"), serde_json::Value::Null] {
        request["mcp_servers"][0]["authorization_token"] = token;
        let reply = env.anthropic(V11, &request).await;
        assert_400(
            &reply,
            "Invalid authorization token for MCP server 'demo'. Please check your token and try again.",
        );
    }
}

#[tokio::test]
async fn unreachable_hanging_and_broken_servers_are_connection_errors_within_the_timeout() {
    let env = env_with_mcp_timeout(std::time::Duration::from_millis(800)).await;
    for url in broken_server_urls().await {
        let started = std::time::Instant::now();
        let reply = env.anthropic(V11, &body(&url, "hi", true)).await;
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_400(
            &reply,
            "Connection error while communicating with MCP server. The server may be unavailable or unresponsive.",
        );
    }
}

#[tokio::test]
async fn slow_tool_beyond_the_timeout_is_an_error_result() {
    let env = env_with_mcp_timeout(std::time::Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let reply = ask_demo(&env, "call demo.slow {\"ms\":5000}", false).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    let events = normalize(&reply.body);
    assert_eq!(of_kind(&events, "call_result")[0]["is_error"], true);
}

#[tokio::test]
async fn request_shape_is_validated_per_beta() {
    let env = env().await;
    let url = env.demo.url();
    let base = body(url, "hi", false);

    assert_400(&env.anthropic(None, &base).await, "mcp_servers");
    assert_400(
        &env.anthropic(Some("mcp-client-2099-01-01"), &base).await,
        "mcp-client-2099-01-01",
    );
    // 2025-04-04 has no mcp_toolset.
    assert_400(
        &env.anthropic(Some("mcp-client-2025-04-04"), &base).await,
        "mcp_toolset",
    );
    // 2025-11-20: every server referenced by exactly one toolset.
    let mut unreferenced = base.clone();
    unreferenced["tools"] = json!([]);
    assert_400(&env.anthropic(V11, &unreferenced).await, "not referenced");
    let mut twice = base.clone();
    twice["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo"}, {"type": "mcp_toolset", "mcp_server_name": "demo"}]);
    assert_400(&env.anthropic(V11, &twice).await, "more than one");
    let mut unknown = base.clone();
    unknown["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo"}, {"type": "mcp_toolset", "mcp_server_name": "ghost"}]);
    assert_400(
        &env.anthropic(V11, &unknown).await,
        "'ghost' is not defined",
    );
    // Pinned tools only in 2026-09-15.
    let mut pinned = base.clone();
    pinned["tools"][0]["tools"] = json!([{"name": "echo", "input_schema": {"type": "object"}}]);
    assert_400(&env.anthropic(V11, &pinned).await, "2026-09-15");
    // tool_configuration only in 2025-04-04.
    let mut configured = base.clone();
    configured["mcp_servers"][0]["tool_configuration"] = json!({"enabled": true});
    assert_400(&env.anthropic(V11, &configured).await, "tool_configuration");
    // Unique names.
    let mut duplicate = base.clone();
    duplicate["mcp_servers"] = json!([{"type": "url", "url": url, "name": "demo"}, {"type": "url", "url": url, "name": "demo"}]);
    assert_400(&env.anthropic(V11, &duplicate).await, "unique");
    // https, except for loopback hosts.
    let mut plain_http = base.clone();
    plain_http["mcp_servers"][0]["url"] = json!("http://example.com/mcp");
    assert_400(&env.anthropic(V11, &plain_http).await, "https://");
    // max_tokens is required.
    let mut no_max = base.clone();
    no_max.as_object_mut().unwrap().remove("max_tokens");
    assert_400(&env.anthropic(V11, &no_max).await, "max_tokens");
}

#[tokio::test]
async fn authorization_token_reaches_the_server_as_bearer() {
    let env = env().await;
    let (url, heads) = recording_server().await;
    let mut request = body(&url, "hi", false);
    request["mcp_servers"][0]["authorization_token"] = json!("tok-rec-321");
    let reply = env.anthropic(V11, &request).await;
    assert_400(&reply, "Invalid authorization token for MCP server 'demo'");
    let heads = heads.lock().unwrap().clone();
    assert!(!heads.is_empty());
    assert!(
        heads
            .iter()
            .all(|h| h.contains("authorization: bearer tok-rec-321")),
        "{heads:?}"
    );
}
