//! Traces: an in-process OTLP/HTTP receiver decodes (with `opentelemetry-proto`) what the
//! gateway exports for a streamed OpenAI request and a streamed Anthropic one against the
//! simulator, each listing the demo server's tools and calling two of them (one fails). The
//! span tree, names and attributes are checked, a caller's `traceparent` is continued, and no
//! planted secret is in any exported byte (outputs are recorded here, scrubbed). With the
//! collector down, requests still succeed and the dropped-span counter rises.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;

/// What the receiver got: every request body as sent.
type Bodies = Arc<Mutex<Vec<Bytes>>>;

async fn collector() -> (String, Bodies) {
    let bodies: Bodies = Arc::default();
    let b = bodies.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let b = b.clone();
            async move {
                b.lock().unwrap().push(body);
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), bodies)
}

/// A decoded span with its resource's `service.name`.
struct Got {
    span: Span,
    service: String,
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn s(span: &Span, key: &str) -> String {
    match attr(span, key) {
        Some(Any::StringValue(v)) => v.clone(),
        other => panic!("{key} of {}: {other:?}", span.name),
    }
}

fn int(span: &Span, key: &str) -> i64 {
    match attr(span, key) {
        Some(Any::IntValue(v)) => *v,
        other => panic!("{key} of {}: {other:?}", span.name),
    }
}

fn decode(bodies: &Bodies) -> Vec<Got> {
    let mut out = Vec::new();
    for body in bodies.lock().unwrap().iter() {
        let req = ExportTraceServiceRequest::decode(body.as_ref()).unwrap();
        for rs in req.resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Any::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    out.push(Got {
                        span,
                        service: service.clone(),
                    });
                }
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The end user the app names (`x-mcpwire-user`).
const USER: &str = "alice@example.com";

/// The prompt: list (implicitly), one call that works and echoes a planted secret, one that
/// fails.
fn prompt() -> String {
    format!("call demo.echo {{\"text\":\"{MCP_TOKEN}\"}}\ncall demo.fail {{\"message\":\"boom\"}}")
}

struct Env {
    _demo: mcpwire_sim::DemoServerHandle,
    _sim: mcpwire_sim::SimHandle,
    gw: mcpwire_gateway::GatewayHandle,
    demo_url: String,
}

async fn setup(otlp: &str) -> Env {
    let (demo, sim) = demo_and_sim().await;
    let text = sim_config(
        &sim,
        &demo,
        "replica_id = \"gw-trace-1\"",
        ALL_TOOLS_SLOW_APPROVED,
    )
    // The app names its end user: the request span carries it as `user.id`.
    .replace(
        "connectors = [{ id = \"connector_allowed\" }]",
        "connectors = [{ id = \"connector_allowed\" }]\nusers = { mode = \"header\" }",
    ) + &format!(
        "\n[audit]\ninclude_arguments = true\ninclude_outputs = true\n\n[telemetry]\notlp_endpoint = \"{otlp}\"\nservice_name = \"gw-test\"\n"
    );
    let gw = start(&text).await;
    Env {
        demo_url: demo.url().to_owned(),
        _demo: demo,
        _sim: sim,
        gw,
    }
}

/// Sends a streamed request and reads it to the end: (request id, body text).
async fn send(env: &Env, vendor: &str, traceparent: Option<&str>) -> (String, String) {
    let (url, body) = match vendor {
        "openai" => (
            format!("{}/v1/responses", env.gw.url()),
            openai_body(&env.demo_url, &prompt(), true),
        ),
        _ => {
            let mut b = anthropic_body(&env.demo_url, &prompt(), true);
            b["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "demo"}]);
            (format!("{}/v1/messages", env.gw.url()), b)
        }
    };
    let mut rb = http().post(url).json(&body);
    rb = match vendor {
        "openai" => rb.bearer_auth(GATEWAY_KEY),
        _ => rb
            .header("x-api-key", GATEWAY_KEY)
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", "mcp-client-2026-09-15"),
    };
    rb = rb.header("x-mcpwire-user", USER);
    if let Some(tp) = traceparent {
        rb = rb.header("traceparent", tp);
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), 200, "{vendor}");
    let id = request_id(&r);
    let text = r.text().await.unwrap();
    (id, text)
}

async fn wait_for(bodies: &Bodies, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
    for _ in 0..200 {
        let got = decode(bodies);
        if done(&got) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = decode(bodies);
    let names: Vec<(String, String, String)> = got
        .iter()
        .map(|g| {
            (
                g.span.name.clone(),
                hex(&g.span.span_id),
                hex(&g.span.parent_span_id),
            )
        })
        .collect();
    panic!("the collector did not get the spans in 10 s: {names:?}");
}

fn check_tree(got: &[Got], request_id: &str, vendor: &str, model: &str) -> Span {
    let root = got
        .iter()
        .find(|g| {
            matches!(attr(&g.span, "mcpwire.request_id"), Some(Any::StringValue(v)) if v == request_id)
        })
        .unwrap_or_else(|| panic!("no span for {request_id}"));
    assert_eq!(root.service, "gw-test");
    let r = &root.span;
    assert_eq!(r.name, format!("chat {model}"));
    assert_eq!(r.kind, 3, "SPAN_KIND_CLIENT");
    assert_eq!(s(r, "gen_ai.operation.name"), "chat");
    assert_eq!(s(r, "gen_ai.provider.name"), vendor);
    assert_eq!(s(r, "gen_ai.request.model"), model);
    assert!(!s(r, "gen_ai.response.id").is_empty());
    assert!(int(r, "gen_ai.usage.input_tokens") > 0);
    assert!(int(r, "gen_ai.usage.output_tokens") > 0);
    assert!(matches!(
        attr(r, "gen_ai.response.finish_reasons"),
        Some(Any::ArrayValue(a)) if a.values.len() == 1
    ));
    assert_eq!(s(r, "mcpwire.tenant"), "team-a");
    assert_eq!(s(r, "mcpwire.replica"), "gw-trace-1");
    assert_eq!(s(r, "mcpwire.outcome"), "ok");
    assert_eq!(int(r, "http.response.status_code"), 200);
    assert_eq!(s(r, "user.id"), USER);

    let mut children: Vec<&Span> = got
        .iter()
        .map(|g| &g.span)
        .filter(|c| c.parent_span_id == r.span_id && c.trace_id == r.trace_id)
        .collect();
    children.sort_by_key(|c| c.start_time_unix_nano);
    let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["tools/list", "tools/call echo", "tools/call fail"],
        "{vendor}"
    );
    let (list, echo, fail) = (children[0], children[1], children[2]);
    assert_eq!(s(list, "mcp.method.name"), "tools/list");
    assert_eq!(s(list, "mcpwire.mcp.server"), "demo");
    // The floor on `slow` switches it off at Anthropic (the connector cannot ask first).
    let tools = if vendor == "anthropic" { 3 } else { 4 };
    assert_eq!(int(list, "mcpwire.mcp.tools"), tools);
    for call in [echo, fail] {
        assert_eq!(s(call, "mcp.method.name"), "tools/call");
        assert_eq!(s(call, "gen_ai.operation.name"), "execute_tool");
        assert_eq!(s(call, "mcpwire.mcp.server"), "demo");
        assert_eq!(s(call, "mcpwire.mcp.server_label"), "demo");
        assert!(!s(call, "gen_ai.tool.call.id").is_empty());
        assert!(call.end_time_unix_nano >= call.start_time_unix_nano);
    }
    assert_eq!(s(echo, "gen_ai.tool.name"), "echo");
    assert_eq!(s(echo, "mcpwire.mcp.outcome"), "ok");
    assert!(attr(echo, "error.type").is_none());
    assert_ne!(echo.status.as_ref().map_or(0, |st| st.code), 2);
    // The output was recorded (the audit config opts in) with the planted token scrubbed.
    let output = s(echo, "gen_ai.tool.call.result");
    assert!(output.contains("[redacted]"), "{output}");
    assert_eq!(s(fail, "gen_ai.tool.name"), "fail");
    assert_eq!(s(fail, "mcpwire.mcp.outcome"), "error");
    assert_eq!(s(fail, "error.type"), "tool_error");
    assert_eq!(fail.status.as_ref().unwrap().code, 2, "STATUS_CODE_ERROR");
    r.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_vendors_export_a_request_span_with_its_mcp_spans() {
    let (otlp, bodies) = collector().await;
    let env = setup(&otlp).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let (oai_id, oai_body) =
        send(&env, "openai", Some(&format!("00-{trace_id}-{parent}-01"))).await;
    assert!(oai_body.contains("response.completed"));
    let (ant_id, ant_body) = send(&env, "anthropic", None).await;
    assert!(ant_body.contains("message_stop"));

    let got = wait_for(&bodies, |got| {
        let ends = |id: &str| {
            let root = got.iter().find(|g| {
                matches!(attr(&g.span, "mcpwire.request_id"), Some(Any::StringValue(v)) if v == id)
            });
            root.is_some_and(|r| {
                got.iter()
                    .filter(|c| c.span.parent_span_id == r.span.span_id)
                    .count()
                    >= 3
            })
        };
        ends(&oai_id) && ends(&ant_id)
    })
    .await;

    let oai = check_tree(&got, &oai_id, "openai", "gpt-sim");
    assert_eq!(
        hex(&oai.trace_id),
        trace_id,
        "the caller's trace is continued"
    );
    assert_eq!(hex(&oai.parent_span_id), parent);
    let ant = check_tree(&got, &ant_id, "anthropic", "claude-sim");
    assert!(ant.parent_span_id.is_empty(), "no traceparent: a root span");
    assert_ne!(ant.trace_id, oai.trace_id);

    for body in bodies.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(body);
        for secret in planted() {
            assert!(!text.contains(secret), "a planted secret was exported");
        }
        assert!(!text.contains("caller-supplied-token"));
    }

    let metrics = metrics_text(&env.gw).await;
    let exported = counter(&metrics, "mcpwire_gateway_trace_spans_exported_total");
    assert!(exported >= 8, "{metrics}");
    assert_eq!(
        counter(&metrics, "mcpwire_gateway_trace_spans_dropped_total"),
        0
    );
}

fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|r| r.trim().parse::<f64>().ok())
        })
        .map_or(0, |v| v as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_collector_drops_spans_and_costs_requests_nothing() {
    // A port that was free a moment ago: connections to it are refused.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let env = setup(&format!("http://{dead}")).await;
    for vendor in ["openai", "anthropic"] {
        let (_, body) = send(&env, vendor, None).await;
        assert!(body.contains("demo.fail"), "{vendor}: {body}");
    }
    let mut dropped = 0;
    for _ in 0..200 {
        let metrics = metrics_text(&env.gw).await;
        dropped = counter(&metrics, "mcpwire_gateway_trace_spans_dropped_total");
        if dropped >= 8 {
            assert_eq!(
                counter(&metrics, "mcpwire_gateway_trace_spans_exported_total"),
                0
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dropped >= 8, "dropped {dropped}");
    // The gateway still serves.
    let (_, body) = send(&env, "openai", None).await;
    assert!(body.contains("response.completed"));
}

fn events<'a>(
    span: &'a Span,
    name: &str,
) -> Vec<&'a opentelemetry_proto::tonic::trace::v1::span::Event> {
    span.events.iter().filter(|e| e.name == name).collect()
}

fn event_attr(e: &opentelemetry_proto::tonic::trace::v1::span::Event, key: &str) -> String {
    e.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Any::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("event {} has no {key}", e.name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_asked_and_answered_are_span_events() {
    let (otlp, bodies) = collector().await;
    let env = setup(&otlp).await;
    let tool = || {
        json!([{"type": "mcp", "server_label": "demo", "server_url": env.demo_url,
                "require_approval": "never"}])
    };
    // The tenant's floor makes `slow` ask first.
    let r = http()
        .post(format!("{}/v1/responses", env.gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .header("x-mcpwire-user", USER)
        .json(&json!({"model": "gpt-sim", "input": "call demo.slow {\"ms\":1}", "tools": tool(), "store": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let first_id = request_id(&r);
    let first: serde_json::Value = r.json().await.unwrap();
    let approval = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "mcp_approval_request")
        .unwrap_or_else(|| panic!("{first}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http()
        .post(format!("{}/v1/responses", env.gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .header("x-mcpwire-user", USER)
        .json(&json!({"model": "gpt-sim", "previous_response_id": first["id"], "tools": tool(),
                      "input": [{"type": "mcp_approval_response", "approval_request_id": approval, "approve": true}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let second_id = request_id(&r);
    r.text().await.unwrap();

    let root = |got: &[Got], id: &str| -> Option<Span> {
        got.iter()
            .find(|g| matches!(attr(&g.span, "mcpwire.request_id"), Some(Any::StringValue(v)) if v == id))
            .map(|g| g.span.clone())
    };
    let got = wait_for(&bodies, |got| {
        root(got, &first_id).is_some() && root(got, &second_id).is_some()
    })
    .await;
    let asked = root(&got, &first_id).unwrap();
    let asked_events = events(&asked, "mcp.approval_requested");
    assert_eq!(asked_events.len(), 1);
    assert_eq!(event_attr(asked_events[0], "gen_ai.tool.name"), "slow");
    assert_eq!(
        event_attr(asked_events[0], "mcpwire.mcp.approval_id"),
        approval
    );
    let answered = root(&got, &second_id).unwrap();
    let answered_events = events(&answered, "mcp.approval_answered");
    assert_eq!(answered_events.len(), 1);
    assert_eq!(
        event_attr(answered_events[0], "mcpwire.mcp.approval_id"),
        approval
    );
    // The call ends before its request span, so it was exported with it or before.
    let call = got
        .iter()
        .map(|g| &g.span)
        .find(|c| c.parent_span_id == answered.span_id && c.name == "tools/call slow")
        .unwrap();
    assert_eq!(s(call, "mcpwire.mcp.approval_id"), approval);
    assert_eq!(s(call, "mcpwire.mcp.outcome"), "ok");
}
