//! The simulated OpenAI Responses API: `POST /v1/responses` with `{"type":"mcp"}` tools, whole
//! or streamed, with approvals, stored responses and the vendor's error bodies.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;
use mcpwire_schema::decode;
use mcpwire_schema::openai::{
    AllowedTools, ApprovalMode, CreateResponse, Input, McpTool, McpToolFilter, RequireApproval,
    Tool,
};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::mcp::{self, Failure, Session, Target};
use crate::model::{self, Directive, Outcome};
use crate::server::Shared;
use crate::util::{self, Sink};

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
) -> Response {
    util::json_response(
        status,
        &json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    )
}

fn invalid(message: &str, param: Option<&str>) -> Response {
    error(400, message, "invalid_request_error", param, None)
}

/// The echo of a tool in `Response.tools`: nulls filled in, secrets redacted.
fn echo_tool(tool: &McpTool) -> Value {
    let headers = tool.headers.get().map(|h| {
        h.keys()
            .map(|k| (k.clone(), Value::from("<redacted>")))
            .collect::<Map<String, Value>>()
    });
    let mut echo = json!({
        "type": "mcp",
        "allowed_tools": serde_json::to_value(&tool.allowed_tools).unwrap_or(Value::Null),
        "headers": headers,
        "require_approval": match tool.require_approval.get() {
            Some(r) => serde_json::to_value(r).unwrap_or(Value::Null),
            None => Value::from("always"),
        },
        "server_description": tool.server_description.get(),
        "server_label": tool.server_label,
        "server_url": tool.server_url.get(),
    });
    if tool.authorization.get().is_some()
        && let Some(obj) = echo.as_object_mut()
    {
        obj.insert("authorization".into(), Value::from("<redacted>"));
    }
    echo
}

fn filter_matches(filter: &McpToolFilter, tool: &ToolView) -> bool {
    let by_name = filter
        .tool_names
        .get()
        .is_some_and(|names| names.contains(&tool.name));
    let by_read_only = filter.read_only.get() == Some(&true) && tool.read_only;
    by_name || by_read_only
}

fn allowed(allowed: Option<&AllowedTools>, tool: &ToolView) -> bool {
    match allowed {
        Some(AllowedTools::Names(names)) => names.contains(&tool.name),
        Some(AllowedTools::Filter(filter)) => {
            let names_ok = filter
                .tool_names
                .get()
                .is_none_or(|names| names.contains(&tool.name));
            let read_only_ok = filter.read_only.get() != Some(&true) || tool.read_only;
            names_ok && read_only_ok
        }
        _ => true,
    }
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

/// The text of a user message item (string content or `input_text` parts).
fn user_text(item: &Value) -> Option<String> {
    if item.get("role").and_then(Value::as_str) != Some("user") {
        return None;
    }
    match item.get("content")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => None,
    }
}

fn item_type(item: &Value) -> &str {
    item.get("type").and_then(Value::as_str).unwrap_or("")
}

fn item_id(item: &Value) -> Option<&str> {
    item.get("id").and_then(Value::as_str)
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
        Err(e) => return invalid(&format!("Invalid request body: {e}"), None),
    };
    let store = request.store.get().copied().unwrap_or(true);
    let stream = request.stream.get().copied().unwrap_or(false);

    // The conversation so far: a stored response's context, then this request's input.
    let previous_id = request.previous_response_id.get().cloned();
    let mut context: Vec<Value> = Vec::new();
    if let Some(id) = &previous_id {
        match shared.stored_response(id) {
            Some(items) => context = items,
            None => {
                return error(
                    400,
                    &format!("Previous response with id '{id}' not found."),
                    "invalid_request_error",
                    Some("previous_response_id"),
                    Some("previous_response_not_found"),
                );
            }
        }
    }
    let previous_ids: HashSet<String> = context
        .iter()
        .filter_map(|i| item_id(i).map(str::to_owned))
        .collect();
    let input: Vec<Value> = match request.input.get() {
        Some(Input::Text(text)) => {
            vec![json!({"type": "message", "role": "user", "content": text})]
        }
        Some(Input::Items(items)) => items
            .iter()
            .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
            .collect(),
        _ => Vec::new(),
    };
    let mut current: Vec<Value> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for item in input {
        let id = item_id(&item).map(str::to_owned);
        if let Some(id) = &id
            && item_type(&item) != "message"
            && (previous_ids.contains(id) || !seen.insert(id.clone()))
        {
            return invalid(
                &format!(
                    "Duplicate item found with id {id}. Remove duplicate items from your input and try again."
                ),
                Some("input"),
            );
        }
        if item_type(&item) == "item_reference" {
            let id = id.unwrap_or_default();
            match shared.stored_item(&id) {
                Some(resolved) => current.push(resolved),
                None => {
                    return invalid(&format!("Item with id '{id}' not found."), Some("input"));
                }
            }
        } else {
            current.push(item);
        }
    }

    // Servers, with tool listings already in context reused.
    let mut servers: Vec<Server> = Vec::new();
    let mut echoes: Vec<Value> = Vec::new();
    for tool in request.tools.get().into_iter().flatten() {
        let Tool::Mcp(tool) = tool else {
            if let Ok(v) = serde_json::to_value(tool) {
                echoes.push(v);
            }
            continue;
        };
        let Some(url) = tool.server_url.get() else {
            return invalid(
                "The simulator supports MCP tools with a server_url only (not connector_id or tunnel_id).",
                Some("tools"),
            );
        };
        if servers.iter().any(|s| s.label == tool.server_label) {
            return invalid(
                &format!("Duplicate server_label '{}' in tools.", tool.server_label),
                Some("tools"),
            );
        }
        let mut headers: Vec<(String, String)> = tool
            .headers
            .get()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.expose().to_owned()))
            .collect();
        let bearer = tool.authorization.get().map(|t| t.expose().to_owned());
        if bearer.is_some() {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        }
        echoes.push(echo_tool(tool));
        servers.push(Server {
            label: tool.server_label.clone(),
            target: Target {
                url: url.clone(),
                headers,
                bearer,
            },
            allowed: tool.allowed_tools.get().cloned(),
            approval: tool.require_approval.get().cloned(),
            tools: Vec::new(),
        });
    }
    let mut cached: HashSet<String> = HashSet::new();
    for item in context.iter().chain(current.iter()) {
        if item_type(item) != "mcp_list_tools" {
            continue;
        }
        let label = item
            .get("server_label")
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(server) = servers.iter_mut().find(|s| s.label == label) {
            server.tools = item
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| ToolView {
                    name: t
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    description: t
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    input_schema: t.get("input_schema").cloned().unwrap_or(json!({})),
                    read_only: t
                        .pointer("/annotations/read_only")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
                .collect();
            cached.insert(label.to_owned());
        }
    }

    // List the others now; any failure fails the whole request (424), before any event.
    let to_list: Vec<usize> = (0..servers.len())
        .filter(|&i| !cached.contains(&servers[i].label))
        .collect();
    let targets: Vec<Target> = to_list.iter().map(|&i| servers[i].target.clone()).collect();
    let mut sessions: HashMap<String, Session> = HashMap::new();
    match Session::connect_and_list_all(&shared.http, &targets, shared.timeout).await {
        Ok(listed) => {
            for (&i, (session, tools)) in to_list.iter().zip(listed) {
                let server = &mut servers[i];
                server.tools = tools
                    .iter()
                    .map(|t| ToolView {
                        name: t.name.to_string(),
                        description: t.description.as_ref().map(|d| d.to_string()),
                        input_schema: mcp::input_schema(t),
                        read_only: mcp::read_only(t),
                    })
                    .filter(|t| allowed(server.allowed.as_ref(), t))
                    .collect();
                sessions.insert(server.label.clone(), session);
            }
        }
        Err((k, failure)) => {
            let label = servers[to_list[k]].label.clone();
            let status = match failure {
                Failure::Unauthorized(s) | Failure::Http(s) => s,
                _ => 424,
            };
            return error(
                424,
                &format!(
                    "Error retrieving tool list from MCP server: '{label}'. Http status code: {status} ({})",
                    mcp::reason(status)
                ),
                "external_connector_error",
                Some("tools"),
                Some("http_error"),
            );
        }
    }

    // What the model does this turn.
    let mut steps: Vec<Step> = Vec::new();
    let responses: Vec<&Value> = current
        .iter()
        .filter(|i| item_type(i) == "mcp_approval_response")
        .collect();
    if responses.is_empty() {
        if let Some(text) = current.iter().rev().find_map(user_text) {
            for Directive {
                server,
                tool,
                arguments,
            } in model::directives(&text)
            {
                steps.push(Step::Call(PlannedCall {
                    server,
                    tool,
                    arguments,
                    approval_request_id: None,
                }));
            }
        }
    } else {
        for response in responses {
            let request_id = response
                .get("approval_request_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(approval) = context
                .iter()
                .chain(current.iter())
                .find(|i| item_type(i) == "mcp_approval_request" && item_id(i) == Some(request_id))
            else {
                return invalid(
                    &format!("No approval request found with id '{request_id}'."),
                    Some("input"),
                );
            };
            let field = |k: &str| {
                approval
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            if response.get("approve").and_then(Value::as_bool) == Some(true) {
                steps.push(Step::Call(PlannedCall {
                    server: field("server_label"),
                    tool: field("name"),
                    arguments: field("arguments"),
                    approval_request_id: Some(request_id.to_owned()),
                }));
            } else {
                steps.push(Step::Denied {
                    server: field("server_label"),
                    tool: field("name"),
                });
            }
        }
    }

    let id = util::hex_id("resp_", 50);
    let skeleton = json!({
        "id": id,
        "object": "response",
        "created_at": util::now(),
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
        "previous_response_id": previous_id,
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": store,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": echoes,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": null,
        "user": null,
        "metadata": {},
    });
    let newly_listed: Vec<usize> = to_list;
    let mut turn = Turn {
        shared: shared.clone(),
        sink: Sink::none(),
        seq: 0,
        output: Vec::new(),
        skeleton,
        servers,
        sessions,
        input_tokens: (body.len() / 4) as u64 + 1,
    };
    let mut remember: Vec<Value> = context;
    remember.extend(current);
    if stream {
        let (tx, rx) = mpsc::channel(64);
        turn.sink = Sink::channel(tx);
        tokio::spawn(async move {
            let response = turn.run(newly_listed, steps).await;
            if store {
                shared.store_response(&id, remember, &response);
            }
        });
        util::sse_response(util::body_from(rx))
    } else {
        let response = turn.run(newly_listed, steps).await;
        if store {
            shared.store_response(&id, remember, &response);
        }
        util::json_response(200, &response)
    }
}

/// One response being produced.
struct Turn {
    shared: Arc<Shared>,
    sink: Sink,
    seq: u64,
    output: Vec<Value>,
    skeleton: Value,
    servers: Vec<Server>,
    sessions: HashMap<String, Session>,
    input_tokens: u64,
}

impl Turn {
    async fn event(&mut self, name: &str, fields: Value) {
        if !self.sink.is_streaming() {
            return;
        }
        let mut data = Map::new();
        data.insert("type".into(), Value::from(name));
        data.insert("sequence_number".into(), Value::from(self.seq));
        if let Value::Object(fields) = fields {
            data.extend(fields);
        }
        self.seq += 1;
        self.sink.send(name, &Value::Object(data)).await;
    }

    fn response(&self, status: &str, usage: Value) -> Value {
        let mut response = self.skeleton.clone();
        if let Some(obj) = response.as_object_mut() {
            obj.insert("status".into(), Value::from(status));
            obj.insert("output".into(), Value::Array(self.output.clone()));
            obj.insert("usage".into(), usage);
        }
        response
    }

    async fn run(mut self, newly_listed: Vec<usize>, steps: Vec<Step>) -> Value {
        let started = self.response("in_progress", Value::Null);
        self.event("response.created", json!({"response": started}))
            .await;
        self.event("response.in_progress", json!({"response": started}))
            .await;

        // As the real API does with several servers (recorded 2026-06): every listing is added
        // up front, the `completed` events come out of index order, and only the last listing
        // gets `response.output_item.done`; `response.completed` carries them all.
        let mut listed = Vec::new();
        for i in newly_listed {
            let label = self.servers[i].label.clone();
            let tools: Vec<Value> = self.servers[i].tools.iter().map(ToolView::json).collect();
            let item_id = util::hex_id("mcpl_", 50);
            let index = self.output.len();
            let empty = json!({"id": item_id, "type": "mcp_list_tools", "server_label": label, "tools": []});
            let full = json!({"id": item_id, "type": "mcp_list_tools", "server_label": label, "tools": tools});
            self.output.push(full.clone());
            self.event(
                "response.output_item.added",
                json!({"output_index": index, "item": empty}),
            )
            .await;
            let progress = json!({"output_index": index, "item_id": item_id});
            self.event("response.mcp_list_tools.in_progress", progress.clone())
                .await;
            listed.push((progress, index, full));
        }
        for (progress, _, _) in listed.iter().rev() {
            self.event("response.mcp_list_tools.completed", progress.clone())
                .await;
        }
        if let Some((_, index, full)) = listed.pop() {
            self.event(
                "response.output_item.done",
                json!({"output_index": index, "item": full}),
            )
            .await;
        }

        let mut summary: Vec<(String, String, Outcome)> = Vec::new();
        let mut paused = false;
        for step in steps {
            match step {
                Step::Denied { server, tool } => summary.push((server, tool, Outcome::Denied)),
                Step::Call(call) => {
                    let Some(server) = self.servers.iter().position(|s| s.label == call.server)
                    else {
                        summary.push((call.server, call.tool, Outcome::NoServer));
                        continue;
                    };
                    let view = self.servers[server]
                        .tools
                        .iter()
                        .find(|t| t.name == call.tool)
                        .cloned();
                    if call.approval_request_id.is_none()
                        && let Some(view) = &view
                        && needs_approval(self.servers[server].approval.as_ref(), view)
                    {
                        let item = json!({
                            "id": util::hex_id("mcpr_", 50),
                            "type": "mcp_approval_request",
                            "arguments": call.arguments,
                            "name": call.tool,
                            "server_label": call.server,
                        });
                        let index = self.output.len();
                        self.output.push(item.clone());
                        self.event(
                            "response.output_item.added",
                            json!({"output_index": index, "item": item}),
                        )
                        .await;
                        self.event(
                            "response.output_item.done",
                            json!({"output_index": index, "item": item}),
                        )
                        .await;
                        paused = true;
                        break;
                    }
                    let outcome = self.call(server, view.is_some(), &call).await;
                    summary.push((call.server, call.tool, outcome));
                }
            }
        }

        let mut output_tokens = 1;
        if !paused {
            let text = model::summary(&summary);
            output_tokens += (text.len() / 4) as u64;
            self.message(&text).await;
        }
        for (_, session) in self.sessions.drain() {
            session.close();
        }
        let usage = json!({
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + output_tokens,
        });
        let completed = self.response("completed", usage);
        self.event("response.completed", json!({"response": completed}))
            .await;
        completed
    }

    async fn call(&mut self, server: usize, known: bool, call: &PlannedCall) -> Outcome {
        let item_id = util::hex_id("mcp_", 50);
        let index = self.output.len();
        let item = |status: &str, arguments: &str, error: Value, output: Value| {
            json!({
                "id": item_id,
                "type": "mcp_call",
                "status": status,
                "approval_request_id": call.approval_request_id,
                "arguments": arguments,
                "error": error,
                "name": call.tool,
                "output": output,
                "server_label": call.server,
            })
        };
        self.event(
            "response.output_item.added",
            json!({"output_index": index, "item": item("in_progress", "", Value::Null, Value::Null)}),
        )
        .await;
        let progress = json!({"output_index": index, "item_id": item_id});
        self.event("response.mcp_call.in_progress", progress.clone())
            .await;
        self.event(
            "response.mcp_call_arguments.delta",
            json!({"output_index": index, "item_id": item_id, "delta": call.arguments, "obfuscation": util::obfuscation(8)}),
        )
        .await;
        // The real API sends `in_progress` a second time here (recorded 2025-12).
        self.event("response.mcp_call.in_progress", progress.clone())
            .await;
        self.event(
            "response.mcp_call_arguments.done",
            json!({"output_index": index, "item_id": item_id, "arguments": call.arguments}),
        )
        .await;

        let result = self.execute(server, known, call).await;
        let (done, outcome, event) = match result {
            Ok(result) if result.is_error == Some(true) => {
                let content = mcp::content_json(&result);
                let text = mcp::content_text(&result);
                (
                    item(
                        "failed",
                        &call.arguments,
                        json!({"type": "mcp_tool_execution_error", "content": content}),
                        Value::Null,
                    ),
                    Outcome::Failed(text),
                    "response.mcp_call.failed",
                )
            }
            Ok(result) => {
                let text = mcp::content_text(&result);
                (
                    item(
                        "completed",
                        &call.arguments,
                        Value::Null,
                        Value::from(text.clone()),
                    ),
                    Outcome::Returned(text),
                    "response.mcp_call.completed",
                )
            }
            Err(failure) => {
                let error = match &failure {
                    Failure::Protocol { code, message } => {
                        json!({"type": "mcp_protocol_error", "code": code, "message": message})
                    }
                    other => {
                        json!({"type": "http_error", "code": other.status(), "message": other.message()})
                    }
                };
                (
                    item("failed", &call.arguments, error, Value::Null),
                    Outcome::Failed(failure.message()),
                    "response.mcp_call.failed",
                )
            }
        };
        self.output.push(done.clone());
        self.event(event, progress).await;
        self.event(
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        )
        .await;
        outcome
    }

    async fn execute(
        &mut self,
        server: usize,
        known: bool,
        call: &PlannedCall,
    ) -> Result<rmcp::model::CallToolResult, Failure> {
        let arguments = match serde_json::from_str::<Value>(&call.arguments) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(Failure::Protocol {
                    code: -32602,
                    message: format!(
                        "Invalid arguments for tool {}: expected a JSON object",
                        call.tool
                    ),
                });
            }
            Err(e) => {
                return Err(Failure::Protocol {
                    code: -32602,
                    message: format!("Invalid arguments for tool {}: {e}", call.tool),
                });
            }
        };
        if !known {
            return Err(Failure::Protocol {
                code: -32602,
                message: format!(
                    "Tool '{}' not found on MCP server '{}'",
                    call.tool, self.servers[server].label
                ),
            });
        }
        let label = self.servers[server].label.clone();
        if !self.sessions.contains_key(&label) {
            let session = Session::connect(
                &self.shared.http,
                &self.servers[server].target,
                self.shared.timeout,
            )
            .await?;
            self.sessions.insert(label.clone(), session);
        }
        match self.sessions.get(&label) {
            Some(session) => session.call(&call.tool, arguments).await,
            None => Err(Failure::Other("no session".to_owned())),
        }
    }

    async fn message(&mut self, text: &str) {
        let item_id = util::hex_id("msg_", 50);
        let index = self.output.len();
        let part =
            |t: &str| json!({"type": "output_text", "annotations": [], "logprobs": [], "text": t});
        self.event(
            "response.output_item.added",
            json!({"output_index": index, "item": {"id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
        )
        .await;
        self.event(
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part("")}),
        )
        .await;
        for chunk in model::chunks(text) {
            self.event(
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": chunk, "logprobs": [], "obfuscation": util::obfuscation(6)}),
            )
            .await;
        }
        self.event(
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}),
        )
        .await;
        self.event(
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part(text)}),
        )
        .await;
        let done = json!({"id": item_id, "type": "message", "status": "completed", "content": [part(text)], "role": "assistant"});
        self.output.push(done.clone());
        self.event(
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        )
        .await;
    }
}
