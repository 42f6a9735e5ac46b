//! OpenAI Responses through the simulator against the demo MCP server, whole and streamed:
//! calls, tool errors, approvals and their continuations, several servers, forwarded
//! credentials, hanging and broken servers, unknown tools and malformed arguments. Every body
//! passes `mcpwire check` and is normalised with `mcpwire-normalize`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use mcpwire_schema::event::Event;
use serde_json::{Value, json};

fn mcp_tool(label: &str, url: &str) -> Value {
    json!({"type": "mcp", "server_label": label, "server_url": url, "require_approval": "never"})
}

fn request(prompt: &str, tools: Value, stream: bool) -> Value {
    json!({"model": "gpt-sim", "input": prompt, "tools": tools, "stream": stream})
}

/// `env`'s answer to [`request`] with `tool` as the one tool.
async fn ask_with(env: &Env, prompt: &str, tool: &Value, stream: bool) -> Reply {
    env.openai(&request(prompt, json!([tool]), stream)).await
}

/// The events of a whole (not streamed) answer to `prompt` with `tool` as the one tool.
async fn whole_events(env: &Env, prompt: &str, tool: Value) -> Vec<Event<'static>> {
    normalize(&ask_with(env, prompt, &tool, false).await.body)
}

/// [`ask_with`] the demo server as the one MCP tool.
async fn ask_demo(env: &Env, prompt: &str, stream: bool) -> Reply {
    ask_with(env, prompt, &mcp_tool("demo", env.demo.url()), stream).await
}

/// [`ask_demo`] whole, then streamed: each answer with `stream` and its [`Reply::events`].
async fn ask_demo_both_ways(env: &Env, prompt: &str) -> Vec<(bool, Reply, Vec<Event<'static>>)> {
    let mut answers = Vec::new();
    for stream in [false, true] {
        let reply = ask_demo(env, prompt, stream).await;
        let events = reply.events();
        answers.push((stream, reply, events));
    }
    answers
}

#[tokio::test]
async fn successful_call_whole_and_streamed() {
    let env = env().await;
    let prompt = "please add\ncall demo.add {\"a\":2,\"b\":3}";
    for (stream, reply, events) in ask_demo_both_ways(&env, prompt).await {
        assert_eq!(settled_kinds(&events), LISTED_CALL_TEXT, "stream={stream}");
        let listed = &of_kind(&events, "tools_listed")[0];
        let names: Vec<&str> = listed["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["add", "echo", "fail", "slow"]);
        let call = &of_kind(&events, "call")[0];
        assert_eq!(call["arguments"], json!({"a": 2, "b": 3}));
        let result = &of_kind(&events, "call_result")[0];
        assert_eq!(result["is_error"], false);
        assert_eq!(result["content"][0]["text"], "5");
        assert_eq!(first_text(&events), "demo.add returned 5");
        if stream {
            let kinds = kinds(&events);
            assert!(kinds.contains(&"call_started") && kinds.contains(&"call_arguments_delta"));
            assert!(reply.text().contains("\"obfuscation\""));
        }
    }
}

#[tokio::test]
async fn no_directive_calls_nothing() {
    let env = env().await;
    let reply = ask_demo(&env, "hello", false).await;
    let events = reply.events();
    assert_eq!(
        settled_kinds(&events),
        [
            "response_started",
            "tools_listed",
            "text",
            "response_completed"
        ]
    );
    assert_eq!(first_text(&events), "No MCP tool was called.");
}

#[tokio::test]
async fn failed_call_is_a_tool_execution_error() {
    let env = env().await;
    let prompt = "call demo.fail {\"message\":\"boom\"}";
    for (stream, reply, events) in ask_demo_both_ways(&env, prompt).await {
        let result = &of_kind(&events, "call_result")[0];
        assert_eq!(result["is_error"], true, "{result}");
        assert_eq!(result["error"]["kind"], "tool_execution", "{result}");
        assert_eq!(result["content"][0]["text"], "boom");
        let text = reply.text();
        assert!(text.contains("\"mcp_tool_execution_error\"") && text.contains("\"failed\""));
        if stream {
            assert!(text.contains("event: response.mcp_call.failed"));
        }
    }
}

#[tokio::test]
async fn unknown_tool_and_malformed_arguments_fail_the_call() {
    let env = env().await;
    let prompt = "call demo.nope {}\ncall demo.add {\"a\":\ncall demo.add {\"a\":\"x\",\"b\":1}\ncall other.echo {}";
    let reply = ask_demo(&env, prompt, true).await;
    let events = reply.events();
    let results = of_kind(&events, "call_result");
    assert_eq!(results.len(), 3);
    for result in &results {
        assert_eq!(result["is_error"], true);
    }
    // Unknown tool and unparsable arguments: the simulator never calls the server.
    assert_eq!(results[0]["error"]["kind"], "protocol");
    assert_eq!(results[1]["error"]["kind"], "protocol");
    // Wrongly typed arguments reach the server; rmcp answers with an isError result.
    assert_eq!(
        results[2]["error"]["kind"], "tool_execution",
        "{}",
        results[2]
    );
    assert!(
        results[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    let text = first_text(&events).as_str().unwrap().to_owned();
    assert!(text.contains("no MCP server named other"), "{text}");
}

/// How many tools the first `tools_listed` event lists.
fn listed_count(events: &[Event<'_>]) -> usize {
    of_kind(events, "tools_listed")[0]["tools"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn allowed_tools_filter_the_listing() {
    let env = env().await;
    let mut tool = mcp_tool("demo", env.demo.url());
    tool["allowed_tools"] = json!(["echo"]);
    let events = whole_events(&env, "call demo.add {\"a\":1,\"b\":1}", tool).await;
    assert_eq!(listed_count(&events), 1);
    assert_eq!(of_kind(&events, "call_result")[0]["is_error"], true);
    let mut tool = mcp_tool("demo", env.demo.url());
    tool["allowed_tools"] = json!({"read_only": true});
    let events = whole_events(&env, "hi", tool).await;
    assert_eq!(listed_count(&events), 2);
}

fn approval_request_of(response: &Value) -> Value {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "mcp_approval_request")
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn approval_request_then_previous_response_id_continuation() {
    let env = env().await;
    let tool = json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url()});
    let first = ask_with(&env, "call demo.add {\"a\":2,\"b\":3}", &tool, false).await;
    let events = first.events();
    assert_eq!(
        settled_kinds(&events),
        [
            "response_started",
            "tools_listed",
            "approval_requested",
            "response_completed"
        ]
    );
    let response = first.json();
    let approval = approval_request_of(&response);
    assert_eq!(approval["name"], "add");
    for stream in [false, true] {
        let body = json!({
            "model": "gpt-sim",
            "previous_response_id": response["id"],
            "input": [{"type": "mcp_approval_response", "approve": true, "approval_request_id": approval["id"]}],
            "tools": [tool],
            "stream": stream,
        });
        let reply = env.openai(&body).await;
        let events = reply.events();
        // The listing is in context (previous response), so it is not repeated.
        assert_eq!(settled_kinds(&events), CALL_TEXT);
        let call = &of_kind(&events, "call")[0];
        assert_eq!(call["approval_id"], approval["id"]);
        assert_eq!(
            of_kind(&events, "call_result")[0]["content"][0]["text"],
            "5"
        );
    }
    // Denied: no call, the model says so.
    let body = json!({
        "previous_response_id": response["id"],
        "input": [{"type": "mcp_approval_response", "approve": false, "approval_request_id": approval["id"]}],
        "tools": [tool],
    });
    let reply = env.openai(&body).await;
    let events = normalize(&reply.body);
    assert!(of_kind(&events, "call").is_empty());
    assert_eq!(first_text(&events), "demo.add was not approved");
}

#[tokio::test]
async fn approval_continuation_with_replayed_items_and_item_reference() {
    let env = env().await;
    let tool = json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url(),
                      "require_approval": {"never": {"tool_names": ["echo"]}}});
    // store: false, then replay the output items (stateless / ZDR).
    let first = env
        .openai(
            &json!({"input": "call demo.add {\"a\":1,\"b\":2}", "tools": [tool], "store": false}),
        )
        .await;
    let response = first.json();
    let approval = approval_request_of(&response);
    let mut input: Vec<Value> =
        vec![json!({"role": "user", "content": "call demo.add {\"a\":1,\"b\":2}"})];
    input.extend(response["output"].as_array().unwrap().iter().cloned());
    input.push(json!({"type": "mcp_approval_response", "approve": true, "approval_request_id": approval["id"]}));
    let reply = env
        .openai(&json!({"input": input, "tools": [tool], "store": false, "stream": true}))
        .await;
    let events = reply.events();
    assert_eq!(settled_kinds(&events), CALL_TEXT);
    assert_eq!(of_kind(&events, "call")[0]["approval_id"], approval["id"]);
    // A stored response was not kept.
    let reply = env
        .openai(&json!({"previous_response_id": response["id"], "input": "hi", "tools": [tool]}))
        .await;
    assert_eq!(reply.status, 400);

    // Stored: an item_reference to the approval request (no previous_response_id) re-lists.
    let first = env
        .openai(&json!({"input": "call demo.add {\"a\":1,\"b\":2}", "tools": [tool]}))
        .await;
    let response = first.json();
    let approval = approval_request_of(&response);
    let input = json!([
        {"type": "item_reference", "id": approval["id"]},
        {"type": "mcp_approval_response", "approve": true, "approval_request_id": approval["id"]},
    ]);
    let reply = env
        .openai(&json!({"input": input, "tools": [tool], "stream": true}))
        .await;
    let events = normalize(&reply.body);
    assert_eq!(settled_kinds(&events), LISTED_CALL_TEXT);

    // Both previous_response_id and an item_reference to the same request: 400.
    let reply = env
        .openai(&json!({"previous_response_id": response["id"], "input": input, "tools": [tool]}))
        .await;
    assert_eq!(reply.status, 400);
    check(&reply.body);
    let body = reply.json();
    assert_eq!(
        body["error"]["message"],
        format!(
            "Duplicate item found with id {}. Remove duplicate items from your input and try again.",
            approval["id"].as_str().unwrap()
        )
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "input");
}

#[tokio::test]
async fn approval_filter_never_skips_the_request() {
    let env = env().await;
    let tool = json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url(),
                      "require_approval": {"never": {"read_only": true}}});
    let events = whole_events(
        &env,
        "call demo.echo {\"text\":\"x\"}\ncall demo.slow {\"ms\":1}",
        tool,
    )
    .await;
    assert_eq!(
        settled_kinds(&events),
        [
            "response_started",
            "tools_listed",
            "call",
            "call_result",
            "approval_requested",
            "response_completed"
        ]
    );
}

#[tokio::test]
async fn several_servers() {
    let env = env().await;
    let second = another_demo().await;
    for stream in [false, true] {
        let body = request(
            "call one.add {\"a\":1,\"b\":2}\ncall two.echo {\"text\":\"hi\"}",
            json!([
                mcp_tool("one", env.demo.url()),
                mcp_tool("two", second.url())
            ]),
            stream,
        );
        let reply = env.openai(&body).await;
        let events = normalize(&reply.body);
        assert_eq!(settled_kinds(&events), two_listed_two_calls_text());
        assert_eq!(
            first_text(&events),
            "one.add returned 3\ntwo.echo returned hi"
        );
    }
}

#[tokio::test]
async fn credentials_are_forwarded_and_never_echoed() {
    let env = env_with_token("tok-secret-123").await;
    let with_authorization = json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url(),
        "require_approval": "never", "authorization": "tok-secret-123"});
    let with_headers = json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url(),
        "require_approval": "never", "headers": {"Authorization": "Bearer tok-secret-123", "X-Extra": "v"}});
    for tool in [with_authorization, with_headers] {
        for stream in [false, true] {
            let reply = ask_with(&env, "call demo.echo {\"text\":\"ok\"}", &tool, stream).await;
            let events = reply.events();
            assert_eq!(
                of_kind(&events, "call_result")[0]["content"][0]["text"],
                "ok"
            );
            let text = reply.text();
            assert!(!text.contains("tok-secret-123"));
            assert!(text.contains("<redacted>"));
        }
    }
    // Wrong or missing token: 424 before any event, even when streaming.
    for tool in [
        json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url(), "authorization": "wrong"}),
        json!({"type": "mcp", "server_label": "demo", "server_url": env.demo.url()}),
    ] {
        for stream in [false, true] {
            let reply = ask_with(&env, "hi", &tool, stream).await;
            assert_eq!(reply.status, 424);
            check(&reply.body);
            assert_eq!(
                reply.json(),
                json!({"error": {
                    "message": "Error retrieving tool list from MCP server: 'demo'. Http status code: 401 (Unauthorized)",
                    "type": "external_connector_error", "param": "tools", "code": "http_error"}})
            );
            let events = normalize(&reply.body);
            assert_eq!(kinds(&events), ["error"]);
        }
    }
}

#[tokio::test]
async fn unreachable_hanging_and_broken_servers_fail_with_424_within_the_timeout() {
    let env = env_with_mcp_timeout(Duration::from_millis(800)).await;
    for url in broken_server_urls().await {
        let started = Instant::now();
        let reply = ask_with(&env, "hi", &mcp_tool("broken", &url), true).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{url}: {:?}",
            started.elapsed()
        );
        assert_eq!(reply.status, 424, "{url}: {}", reply.text());
        check(&reply.body);
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.starts_with("Error retrieving tool list from MCP server: 'broken'."),
            "{message}"
        );
    }
}

#[tokio::test]
async fn slow_tool_beyond_the_timeout_fails_the_call() {
    let env = env_with_mcp_timeout(Duration::from_millis(500)).await;
    let started = Instant::now();
    let reply = ask_demo(&env, "call demo.slow {\"ms\":5000}", true).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let events = reply.events();
    let result = &of_kind(&events, "call_result")[0];
    assert_eq!(result["is_error"], true);
    assert_eq!(result["error"]["kind"], "http", "{result}");
}

#[tokio::test]
async fn headers_and_authorization_reach_the_server() {
    let env = env().await;
    let (url, heads) = recording_server().await;
    let tool = json!({"type": "mcp", "server_label": "rec", "server_url": url,
        "headers": {"X-Tenant": "acme-42"}, "authorization": "tok-rec-789"});
    let reply = env.openai(&request("hi", json!([tool]), false)).await;
    assert_eq!(reply.status, 424);
    let heads = heads.lock().unwrap().clone();
    assert!(!heads.is_empty());
    assert!(
        heads.iter().all(|h| h.contains("x-tenant: acme-42")),
        "{heads:?}"
    );
    assert!(
        heads
            .iter()
            .all(|h| h.contains("authorization: bearer tok-rec-789")),
        "{heads:?}"
    );
}
