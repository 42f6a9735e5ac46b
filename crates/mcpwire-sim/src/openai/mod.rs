//! The simulated OpenAI Responses API: `POST /v1/responses` with `{"type":"mcp"}` tools, whole
//! or streamed, with approvals, stored responses and the vendor's error bodies.
//!
//! [`create`] reads the request in steps ([`request`]: the conversation so far, the MCP servers,
//! their tool listings, the calls to make), then a [`turn::Turn`] produces the response, as
//! events on a stream or as one JSON body.

mod request;
mod turn;

use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;
use mcpwire_schema::decode;
use mcpwire_schema::openai::{
    AllowedTools, ApprovalMode, CreateResponse, McpToolFilter, RequireApproval,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::http::{self, Refusal, Sink};
use crate::ids;
use crate::mcp::Target;
use crate::state::Shared;
use turn::Turn;

/// A tool as the simulated model sees it.
#[derive(Debug, Clone)]
struct ToolView {
    name: String,
    description: Option<String>,
    input_schema: Value,
    read_only: bool,
}

impl ToolView {
    fn json(&self) -> Value {
        json!({
            "annotations": {"read_only": self.read_only},
            "description": self.description,
            "input_schema": self.input_schema,
            "name": self.name,
        })
    }
}

/// One `{"type":"mcp"}` tool of the request.
struct Server {
    label: String,
    target: Target,
    allowed: Option<AllowedTools>,
    approval: Option<RequireApproval>,
    /// The tools (after `allowed_tools`), from a listing in context or done now.
    tools: Vec<ToolView>,
}

fn error(
    status: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Refusal {
    Refusal::new(http::json_response(
        status,
        &json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    ))
}

fn invalid(message: &str, param: Option<&str>) -> Refusal {
    error(400, message, "invalid_request_error", param, None)
}

fn filter_matches(filter: &McpToolFilter, tool: &ToolView) -> bool {
    let by_name = filter
        .tool_names
        .get()
        .is_some_and(|names| names.contains(&tool.name));
    let by_read_only = filter.read_only.get() == Some(&true) && tool.read_only;
    by_name || by_read_only
}

fn needs_approval(policy: Option<&RequireApproval>, tool: &ToolView) -> bool {
    match policy {
        Some(RequireApproval::Mode(ApprovalMode::Never)) => false,
        Some(RequireApproval::Filter(filter)) => {
            if filter.never.get().is_some_and(|f| filter_matches(f, tool)) {
                return false;
            }
            true
        }
        _ => true,
    }
}

/// A call the turn will make: from a directive, or an approved request.
struct PlannedCall {
    server: String,
    tool: String,
    arguments: String,
    approval_request_id: Option<String>,
}

enum Step {
    Call(PlannedCall),
    Denied { server: String, tool: String },
}

/// `POST /v1/responses`.
pub(crate) async fn create(shared: Arc<Shared>, body: Bytes) -> Response {
    let request: CreateResponse = match decode::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid(&format!("Invalid request body: {e}"), None).into_response(),
    };
    match prepare(&shared, &request).await {
        Ok(prepared) => respond(shared, &request, prepared, body.len()).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// What the turn starts from, once the request is accepted.
struct Prepared {
    conversation: request::Conversation,
    servers: Vec<Server>,
    /// The `tools` echo of the response.
    echoes: Vec<Value>,
    /// Servers listed by this request (not reused from a listing in context), by index.
    newly_listed: Vec<usize>,
    sessions: std::collections::HashMap<String, crate::mcp::Session>,
    steps: Vec<Step>,
}

/// Everything that can refuse the request, in the vendor's order: conversation, tools, tool
/// listings (424 before any event), then the calls this turn makes.
async fn prepare(shared: &Shared, request: &CreateResponse) -> Result<Prepared, Refusal> {
    let conversation = request::conversation(shared, request)?;
    let (mut servers, echoes) = request::servers(request)?;
    let cached = request::reuse_listings(&mut servers, conversation.items());
    let newly_listed: Vec<usize> = (0..servers.len())
        .filter(|&i| !cached.contains(&servers[i].label))
        .collect();
    let sessions = request::list_tools(shared, &mut servers, &newly_listed).await?;
    let steps = request::plan(&conversation)?;
    Ok(Prepared {
        conversation,
        servers,
        echoes,
        newly_listed,
        sessions,
        steps,
    })
}

/// The response object before any output: what `response.created` carries.
fn skeleton(id: &str, request: &CreateResponse, prepared: &mut Prepared, store: bool) -> Value {
    json!({
        "id": id,
        "object": "response",
        "created_at": ids::now(),
        "status": "in_progress",
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": request.instructions.get(),
        "max_output_tokens": request.max_output_tokens.get(),
        "max_tool_calls": null,
        "model": request.model.get().map_or("gpt-sim", String::as_str),
        "output": [],
        "parallel_tool_calls": true,
        "previous_response_id": prepared.conversation.previous_id,
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": store,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": std::mem::take(&mut prepared.echoes),
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": null,
        "user": null,
        "metadata": {},
    })
}

/// Runs the turn, streamed or whole, and stores the response unless `store` is false.
async fn respond(
    shared: Arc<Shared>,
    request: &CreateResponse,
    mut prepared: Prepared,
    body_len: usize,
) -> Response {
    let store = request.store.get().copied().unwrap_or(true);
    let stream = request.stream.get().copied().unwrap_or(false);
    let id = ids::hex_id("resp_", 50);
    let skeleton = skeleton(&id, request, &mut prepared, store);
    let Prepared {
        conversation,
        servers,
        newly_listed,
        sessions,
        steps,
        ..
    } = prepared;
    let mut turn = Turn {
        shared: shared.clone(),
        sink: Sink::none(),
        seq: 0,
        output: Vec::new(),
        skeleton,
        servers,
        sessions,
        input_tokens: (body_len / 4) as u64 + 1,
    };
    let remember = conversation.into_items();
    if stream {
        let (tx, rx) = mpsc::channel(64);
        turn.sink = Sink::channel(tx);
        tokio::spawn(async move {
            let response = turn.run(newly_listed, steps).await;
            if store {
                shared.store_response(&id, remember, &response);
            }
        });
        http::sse_response(http::body_from(rx))
    } else {
        let response = turn.run(newly_listed, steps).await;
        if store {
            shared.store_response(&id, remember, &response);
        }
        http::json_response(200, &response)
    }
}
