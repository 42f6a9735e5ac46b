//! The HTTP client against wiremock servers (and one raw TCP server) on 127.0.0.1 replaying the
//! recorded fixtures: whole and streamed responses, recorded error bodies, retries and their
//! timing, timeouts, an approval loop over two turns, a token refresh between turns, and
//! gateways. (`no_leaks.rs` captures the logs of these paths.)

#![cfg(feature = "client")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use mcpwire_auth::{Credentials, Secret};
use mcpwire_normalize::normalize_whole;
use mcpwire_providers::approval::{ApprovalHandler, ApproveAll, DenyAll};
use mcpwire_providers::request::{McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint, ErrorKind, RunOutcome, StreamItem};
use mcpwire_schema::event::{Event, EventBody, Vendor};
use mcpwire_testkit::fixtures::json_fixture;
use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

/// Turn 1 of the recorded zip1 approval loops: an approval request.
const APPROVAL_REQUEST: &str = "openai/response.approval-request-retry.zip1.json";
/// The recorded turn 2 after an approval: the approved call.
const APPROVED_CALL: &str = "openai/response.approval-approved-mcp-call.zip1.json";

/// Runs `req` for `vendor` against `server`, approving with `approvals`; the outcome and every
/// event delivered.
async fn run_keeping_events(
    server: &MockServer,
    vendor: Vendor,
    req: &McpRequest,
    approvals: Option<&dyn ApprovalHandler>,
) -> (RunOutcome, Vec<Event<'static>>) {
    let mut events = Vec::new();
    let outcome = client_for(server)
        .run(vendor, req, approvals, &mut |e: &Event<'static>| {
            events.push(e.clone())
        })
        .await
        .unwrap();
    (outcome, events)
}

#[tokio::test]
async fn whole_responses_replay_to_the_same_events_as_normalize() {
    for (vendor, file) in [
        (Vendor::OpenAi, "openai/response.mcp-call-success.exa.json"),
        (Vendor::OpenAi, "openai/response.approval-request.zip1.json"),
        (
            Vendor::OpenAi,
            "openai/response.connector-mcp-call-failed-http-error.googlecalendar.json",
        ),
        (
            Vendor::Anthropic,
            "anthropic/response.2025-04-04.mcp-echo.vercel-ai.json",
        ),
        (
            Vendor::Anthropic,
            "anthropic/response.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.json",
        ),
    ] {
        let server = MockServer::start().await;
        Route::post(route_of(vendor))
            .expect(1)
            .reply(
                &server,
                ok_fixture(file).insert_header("x-request-id", "req_123"),
            )
            .await;
        let bytes = fixture(file);
        let response = client_for(&server)
            .send(vendor, &request_for(vendor, false))
            .await
            .unwrap();
        assert_eq!(
            response.events,
            normalize_whole(&bytes, Some(vendor)).unwrap(),
            "{file}"
        );
        assert_eq!(
            serde_json::to_value(&response.body).unwrap(),
            serde_json::from_slice::<Value>(&bytes).unwrap(),
            "the typed body is lossless"
        );
        assert_eq!(response.request_id.as_deref(), Some("req_123"));
        let sent = &server.received_requests().await.unwrap()[0];
        assert!(
            body(sent).get("stream").is_none(),
            "whole responses are not streamed"
        );
    }
}

#[tokio::test]
async fn streams_replay_to_the_same_events_as_normalize_with_raw_payloads() {
    for file in [
        "openai/stream.mcp-call-success.exa.sse",
        "openai/stream.approval-approved-mcp-call.zip1.sse",
        "openai/stream.multi-server-list-tools-missing-output-item-done.sse",
        "anthropic/stream.2025-04-04.thinking-mcp-github-copilot.pydantic-ai.sse",
        "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
    ] {
        let vendor = vendor_of(file);
        let server = MockServer::start().await;
        Route::post(route_of(vendor))
            .header("accept", "text/event-stream")
            .expect(1)
            .reply(&server, ok_sse_fixture(file))
            .await;
        let bytes = fixture(file);
        let items: Vec<StreamItem> = client_for(&server)
            .stream(vendor, &request_for(vendor, true))
            .await
            .unwrap()
            .map(Result::unwrap)
            .collect()
            .await;
        let events: Vec<Event<'static>> = items
            .iter()
            .filter_map(|i| {
                if let StreamItem::Event(e) = i {
                    Some(e.clone())
                } else {
                    None
                }
            })
            .collect();
        let raws = items
            .iter()
            .filter(|i| matches!(i, StreamItem::Raw(_)))
            .count();
        assert_eq!(events, stream_events(vendor, &bytes), "{file}");
        assert_eq!(
            raws,
            mcpwire_schema::sse::decode_all(&bytes).unwrap().len(),
            "{file}: every vendor payload"
        );
        let sent = &server.received_requests().await.unwrap()[0];
        assert_eq!(body(sent)["stream"], json!(true));
    }
}

#[tokio::test]
async fn a_stream_split_at_every_byte_boundary_gives_the_same_events() {
    let bytes = fixture("openai/stream.approval-approved-mcp-call.zip1.sse");
    let base = serve_one_byte_chunks(bytes.clone()).await;
    let client = Client::new(config_with(&base, &base)).unwrap();
    let events: Vec<Event<'static>> = client
        .stream(Vendor::OpenAi, &request(true))
        .await
        .unwrap()
        .events()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(events, stream_events(Vendor::OpenAi, &bytes));
}

#[tokio::test]
async fn recorded_error_bodies_map_to_kinds_servers_and_request_ids() {
    let cases: &[(Vendor, &str, u16, ErrorKind, Option<&str>)] = &[
        (
            Vendor::OpenAi,
            "openai/error.424-list-tools-failed.plaid.json",
            424,
            ErrorKind::McpServer,
            Some("plaid"),
        ),
        (
            Vendor::OpenAi,
            "openai/error.400-duplicate-approval-request-item.json",
            400,
            ErrorKind::InvalidRequest,
            None,
        ),
        (
            Vendor::Anthropic,
            "anthropic/error.400-invalid-mcp-authorization-token.json",
            400,
            ErrorKind::McpServer,
            Some("<MY_SERVER_NAME>"),
        ),
        (
            Vendor::Anthropic,
            "anthropic/error.400-mcp-connection-error.reconstructed.json",
            400,
            ErrorKind::McpServer,
            None,
        ),
    ];
    for (vendor, file, status, kind, mcp) in cases {
        let server = answering_exactly(
            1,
            json_fixture(*status, file).insert_header("request-id", "req_err"),
        )
        .await;
        let err = client_for(&server)
            .send(*vendor, &request_for(*vendor, false))
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.status(), err.mcp_server()),
            (*kind, Some(*status), *mcp),
            "{file}: {err}"
        );
        assert_eq!(err.request_id(), Some("req_err"));
        assert!(err.body_excerpt().is_some());
    }
    // 500 api_error: retried, then reported as a server error.
    let server = answering_exactly(
        3,
        json_fixture(
            500,
            "anthropic/error.500-api-error-mcp-timeout-2025-06.json",
        ),
    )
    .await;
    let err = anthropic_error(&fast_retry_client(&server)).await;
    assert_eq!(err.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn error_bodies_echoing_secrets_are_scrubbed() {
    let echo = format!(
        r#"{{"error":{{"message":"bad header {HEADER_VALUE} with key {API_KEY}","type":"invalid_request_error"}}}}"#
    );
    let server = answering(ResponseTemplate::new(400).set_body_string(echo)).await;
    let err = openai_error(&client_for(&server)).await;
    for text in [
        err.to_string(),
        format!("{err:?}"),
        err.body_excerpt().unwrap().to_owned(),
    ] {
        assert!(
            !text.contains(HEADER_VALUE) && !text.contains(API_KEY),
            "{text}"
        );
    }
}

#[tokio::test]
async fn retries_honour_retry_after_ms_and_stop_on_x_should_retry_false() {
    let server = MockServer::start().await;
    Route::any("POST")
        .times(2)
        .expect(2)
        .reply(&server, rate_limited("retry-after-ms", "300"))
        .await;
    Route::any("POST")
        .expect(1)
        .reply(
            &server,
            ok_fixture("openai/response.mcp-call-success.exa.json"),
        )
        .await;
    let start = Instant::now();
    client_for(&server)
        .send(Vendor::OpenAi, &request(false))
        .await
        .unwrap();
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(600),
        "two retry-after-ms waits: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");

    let server = answering_exactly(
        1,
        ResponseTemplate::new(503).insert_header("x-should-retry", "false"),
    )
    .await;
    let err = openai_error(&client_for(&server)).await;
    assert_eq!(err.kind(), ErrorKind::Server);

    // x-should-retry: true retries even a 400; a plain 400 is not retried.
    let server = answering_exactly(1, ResponseTemplate::new(400)).await;
    assert_eq!(
        openai_error(&client_for(&server)).await.kind(),
        ErrorKind::InvalidRequest
    );
    let server = answering_exactly(
        3,
        ResponseTemplate::new(400).insert_header("x-should-retry", "true"),
    )
    .await;
    openai_error(&fast_retry_client(&server)).await;
}

#[tokio::test]
async fn exponential_backoff_with_jitter_between_retries() {
    let times = Arc::new(Mutex::new(Vec::new()));
    let seen = times.clone();
    let server = answering_exactly(3, move |_: &Request| {
        seen.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(529).set_body_string(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
    })
    .await;
    let mut config = config_for(&server);
    config.retry.initial_backoff = Duration::from_millis(200);
    let err = anthropic_error(&Client::new(config).unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    let t = times.lock().unwrap().clone();
    let (first, second) = (t[1] - t[0], t[2] - t[1]);
    // 200 ms then 400 ms, each minus up to 25% jitter. The lower bounds are exact (no retry
    // comes early, and the second wait is longer than any first wait can be: it grew); the
    // upper bounds only catch a runaway, leaving room for a loaded machine's scheduling.
    assert!(
        first >= Duration::from_millis(150) && first < Duration::from_secs(2),
        "{first:?}"
    );
    assert!(
        second >= Duration::from_millis(300) && second < Duration::from_secs(3),
        "{second:?}"
    );
}

#[tokio::test]
async fn no_retry_once_stream_output_has_been_delivered() {
    let bytes = fixture("openai/stream.approval-request.zip1.sse");
    let cut = bytes[..bytes.len() / 2].to_vec();
    let server = answering_exactly(
        1,
        ResponseTemplate::new(200).set_body_raw(cut, "text/event-stream"),
    )
    .await;
    let items: Vec<_> = client_for(&server)
        .stream(Vendor::OpenAi, &request(true))
        .await
        .unwrap()
        .collect()
        .await;
    assert!(
        items.iter().filter(|i| i.is_ok()).count() > 2,
        "output before the cut was delivered"
    );
    let err = items.into_iter().find_map(Result::err).unwrap();
    assert!(
        matches!(err.kind(), ErrorKind::Decode | ErrorKind::Stream),
        "{err}"
    );
}

#[tokio::test]
async fn first_byte_and_idle_timeouts() {
    let server = answering(ResponseTemplate::new(200).set_delay(Duration::from_secs(5))).await;
    let mut config = config_for(&server);
    config.timeouts.first_byte = Duration::from_millis(200);
    config.retry.max_retries = 0;
    let start = Instant::now();
    let err = openai_error(&Client::new(config).unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(2));

    let base = serve_head_then_stall().await;
    let mut config = config_with(&base, &base);
    config.timeouts.idle = Duration::from_millis(300);
    let start = Instant::now();
    let items: Vec<_> = Client::new(config)
        .unwrap()
        .stream(Vendor::OpenAi, &request(true))
        .await
        .unwrap()
        .collect()
        .await;
    let err = items.into_iter().find_map(Result::err).unwrap();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn approval_loop_over_two_turns_with_previous_response_id() {
    let server = MockServer::start().await;
    let turn1_json: Value = serde_json::from_slice(&fixture(APPROVAL_REQUEST)).unwrap();
    one_turn_each(
        &server,
        ok_fixture(APPROVAL_REQUEST),
        ok_fixture(APPROVED_CALL),
    )
    .await;
    let (outcome, events) =
        run_keeping_events(&server, Vendor::OpenAi, &request(false), Some(&ApproveAll)).await;
    let seen: Vec<&str> = events.iter().map(Event::kind).collect();
    assert_eq!(outcome.responses.len(), 2);
    let requests = server.received_requests().await.unwrap();
    let second = body(&requests[1]);
    let approval_id = "mcpr_04f6b17429cf2b02006949a68bf5808196b6f2008a315c9aa4";
    assert_eq!(second["previous_response_id"], turn1_json["id"]);
    assert_eq!(
        second["input"],
        json!([{"type":"mcp_approval_response","approval_request_id":approval_id,"approve":true}])
    );
    assert!(
        !second.to_string().contains("item_reference"),
        "never both previous_response_id and item_reference"
    );
    // The full server URL and the header values go again: OpenAI stores neither.
    for req in &requests {
        let tool = &body(req)["tools"][0];
        assert_eq!(
            tool["server_url"],
            "https://zip1.io/mcp/tenant/SECRET-PATH?key=SECRET-QUERY"
        );
        assert_eq!(tool["headers"]["x-tenant-key"], HEADER_VALUE);
    }
    // The approval link survives into the call's event.
    let call = events.iter().find(|e| e.kind() == "call").unwrap();
    assert!(
        matches!(&call.body, EventBody::Call { approval_id: Some(id), .. } if id == approval_id)
    );
    assert!(seen.contains(&"approval_requested") && seen.contains(&"call_result"));
}

#[tokio::test]
async fn approval_loop_replays_items_when_store_is_false_and_passes_denials() {
    let server = MockServer::start().await;
    let turn1_json: Value = serde_json::from_slice(&fixture(APPROVAL_REQUEST)).unwrap();
    let denied = ok_fixture("openai/response.approval-denied-continuation.zip1.json");
    first_then(&server, ok_fixture(APPROVAL_REQUEST), denied).await;
    let mut req = request(false);
    req.extra.openai.insert("store".to_owned(), json!(false));
    client_for(&server)
        .run(Vendor::OpenAi, &req, Some(&DenyAll), &mut |_| {})
        .await
        .unwrap();
    let second = body(&server.received_requests().await.unwrap()[1]);
    assert!(second.get("previous_response_id").is_none());
    let input = second["input"].as_array().unwrap();
    assert_eq!(
        input[0],
        json!({"type":"message","role":"user","content":"Shorten https://ai-sdk.dev/"})
    );
    assert_eq!(
        &input[1..4],
        turn1_json["output"].as_array().unwrap().as_slice(),
        "turn 1's items replayed"
    );
    assert_eq!(input[4]["type"], "mcp_approval_response");
    assert_eq!(input[4]["approve"], false);
}

#[tokio::test]
async fn gateway_base_url_and_headers() {
    let server = MockServer::start().await;
    Route::post("/portkey/v1/responses")
        .header("x-portkey-api-key", "pk-GATEWAY-KEY-1234")
        .header("x-portkey-provider", "openai")
        .header("authorization", format!("Bearer {API_KEY}").as_str())
        .expect(1)
        .reply(
            &server,
            ok_fixture("openai/response.mcp-call-success.exa.json"),
        )
        .await;
    let mut config = ClientConfig::default();
    config.openai = Endpoint::openai()
        .base_url(format!("{}/portkey/v1", server.uri()))
        .api_key(Secret::new(API_KEY))
        .header("x-portkey-api-key", Secret::new("pk-GATEWAY-KEY-1234"))
        .header("x-portkey-provider", Secret::new("openai"));
    Client::new(config)
        .unwrap()
        .send(Vendor::OpenAi, &request(false))
        .await
        .unwrap();
}

#[tokio::test]
async fn anthropic_headers_and_beta() {
    let server = MockServer::start().await;
    Route::post("/v1/messages")
        .header("x-api-key", API_KEY)
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "mcp-client-2025-11-20")
        .expect(1)
        .reply(
            &server,
            ok_fixture("anthropic/response.2025-04-04.mcp-echo.vercel-ai.json"),
        )
        .await;
    client_for(&server)
        .send(Vendor::Anthropic, &anthropic_request(false))
        .await
        .unwrap();
    let sent = body(&server.received_requests().await.unwrap()[0]);
    assert_eq!(sent["mcp_servers"][0]["authorization_token"], BEARER);
    assert_eq!(sent["tools"][0]["type"], "mcp_toolset");
}

#[tokio::test]
async fn oauth_token_refreshed_between_turns() {
    // Tokens that are already expired when issued (`expires_in: 0`), so every turn must
    // refresh (a token with life left is only renewed once per lifetime).
    let auth = MockAuthServer::start(0).await;
    let server = MockServer::start().await;
    first_then(
        &server,
        ok_fixture(APPROVAL_REQUEST),
        ok_fixture(APPROVED_CALL),
    )
    .await;
    let client = auth.logged_in_client().await;
    let req = McpRequest::new("gpt-test", "go").server(
        McpServerSpec::new("zip1", auth.resource()).credentials(Credentials::OAuth(client)),
    );
    client_for(&server)
        .run(Vendor::OpenAi, &req, Some(&ApproveAll), &mut |_| {})
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let tokens: Vec<Value> = requests
        .iter()
        .map(|r| body(r)["tools"][0]["authorization"].clone())
        .collect();
    assert_eq!(
        tokens,
        [json!("access-2"), json!("access-3")],
        "a fresh token each turn (access-1 came from login)"
    );
    assert_eq!(auth.refreshes().await, 2);
}

#[tokio::test]
async fn anthropic_pause_turn_is_continued_with_the_assistant_content() {
    let server = MockServer::start().await;
    let mut paused: Value = serde_json::from_slice(&fixture(
        "anthropic/response.2025-04-04.mcp-echo.vercel-ai.json",
    ))
    .unwrap();
    paused["stop_reason"] = json!("pause_turn");
    let content = paused["content"].clone();
    one_turn_each(
        &server,
        ResponseTemplate::new(200).set_body_json(paused),
        ok_fixture("anthropic/response.2025-04-04.thinking-mcp-deepwiki.pydantic-ai.json"),
    )
    .await;
    let (outcome, events) =
        run_keeping_events(&server, Vendor::Anthropic, &anthropic_request(false), None).await;
    assert_eq!(outcome.responses.len(), 2);
    let requests = server.received_requests().await.unwrap();
    let (first, second) = (body(&requests[0]), body(&requests[1]));
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        first["messages"].as_array().unwrap().len() + 1
    );
    assert_eq!(
        messages.last().unwrap(),
        &json!({"role": "assistant", "content": content})
    );
    assert_eq!(
        second["mcp_servers"], first["mcp_servers"],
        "the same servers and token again"
    );
    let stops = bodies_of(&events, "response_completed");
    assert_eq!(stops.len(), 2);
    assert!(matches!(
        stops[0],
        EventBody::ResponseCompleted {
            stop: mcpwire_schema::event::Stop::Paused,
            ..
        }
    ));
}

#[tokio::test]
async fn results_after_a_pause_are_attributed_to_the_call_made_before_it() {
    // Turn 1 pauses after an mcp_tool_use; turn 2 (the recorded in-flight continuation) begins
    // with that call's mcp_tool_result, whose server and tool come from turn 1's content.
    let server = MockServer::start().await;
    let continuation: Value = serde_json::from_slice(&fixture(
        "anthropic/response.2025-04-04.continuation-starts-with-mcp-tool-result.pydantic-ai.json",
    ))
    .unwrap();
    let tool_use_id = continuation["content"][0]["tool_use_id"].clone();
    let paused = json!({"id": "msg_paused", "type": "message", "role": "assistant", "model": "m", "stop_reason": "pause_turn",
        "content": [{"type": "mcp_tool_use", "id": tool_use_id, "name": "ask_question", "server_name": "deepwiki", "input": {}}]});
    first_then(
        &server,
        ResponseTemplate::new(200).set_body_json(paused),
        ResponseTemplate::new(200).set_body_json(continuation),
    )
    .await;
    let (_, events) =
        run_keeping_events(&server, Vendor::Anthropic, &anthropic_request(false), None).await;
    let results = bodies_of(&events, "call_result");
    assert!(
        matches!(results[0], EventBody::CallResult { server: Some(s), tool: Some(t), .. } if s == "deepwiki" && t == "ask_question"),
        "{:?}",
        results[0]
    );
}

#[tokio::test]
async fn a_missing_login_is_login_required_with_the_auth_error_as_source() {
    let server = MockServer::start().await;
    let oauth = mcpwire_auth::OAuthClient::new(
        mcpwire_auth::OAuthConfig::default(),
        Arc::new(mcpwire_auth::MemoryStore::default()),
    )
    .unwrap();
    let req = McpRequest::new("gpt-test", "hi").server(
        McpServerSpec::new("notion", "https://mcp.notion.example/mcp")
            .credentials(Credentials::OAuth(Arc::new(oauth))),
    );
    let err = client_for(&server)
        .send(Vendor::OpenAi, &req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LoginRequired);
    let source = std::error::Error::source(&err).unwrap();
    let auth = source.downcast_ref::<mcpwire_auth::Error>().unwrap();
    assert!(
        matches!(auth, mcpwire_auth::Error::NotLoggedIn { .. }),
        "{auth:?}"
    );
    // The cause is the source, not repeated in the message.
    assert!(!err.to_string().contains(&auth.to_string()), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_whole_body_over_the_limit_is_too_large_and_names_the_limit() {
    let server = answering(ok_fixture("openai/response.mcp-call-success.exa.json")).await;
    let mut config = config_for(&server);
    config.limits.max_body = 100;
    let err = openai_error(&Client::new(config).unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.to_string().contains("100-byte limit"), "{err}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let server = answering_exactly(1, rate_limited("retry-after", "120")).await;
    let start = Instant::now();
    let err = openai_error(&client_for(&server)).await;
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.to_string().contains("not retried"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
}
