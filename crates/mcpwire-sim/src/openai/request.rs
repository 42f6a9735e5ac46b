//! Reading a `POST /v1/responses` request: the conversation so far (stored response, input,
//! item references), the MCP servers of `tools`, their tool listings (reused from context or
//! fetched now), and the calls this turn makes. Each step returns the vendor's error response
//! when the request cannot be served.

use std::collections::{HashMap, HashSet};

use mcpwire_schema::openai::{AllowedTools, CreateResponse, Input, McpTool, Tool};
use serde_json::{Map, Value, json};

use super::{PlannedCall, Server, Step, ToolView, error, invalid};
use crate::http::Refusal;
use crate::mcp::{self, Failure, Session, Target};
use crate::scripted_model::{self, Directive};
use crate::state::Shared;

/// The items of the conversation: a stored response's context, then this request's input.
pub(super) struct Conversation {
    pub(super) previous_id: Option<String>,
    context: Vec<Value>,
    current: Vec<Value>,
}

impl Conversation {
    /// Every item, oldest first.
    pub(super) fn items(&self) -> impl Iterator<Item = &Value> {
        self.context.iter().chain(self.current.iter())
    }

    /// Every item, for storing with the response.
    pub(super) fn into_items(self) -> Vec<Value> {
        let mut items = self.context;
        items.extend(self.current);
        items
    }
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

/// The stored context of `previous_response_id`, then the input items with `item_reference`s
/// resolved; an item id seen twice is refused, as the vendor does.
pub(super) fn conversation(
    shared: &Shared,
    request: &CreateResponse,
) -> Result<Conversation, Refusal> {
    let previous_id = request.previous_response_id.get().cloned();
    let mut context: Vec<Value> = Vec::new();
    if let Some(id) = &previous_id {
        match shared.stored_response(id) {
            Some(items) => context = items,
            None => {
                return Err(error(
                    400,
                    &format!("Previous response with id '{id}' not found."),
                    "invalid_request_error",
                    Some("previous_response_id"),
                    Some("previous_response_not_found"),
                ));
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
            return Err(invalid(
                &format!(
                    "Duplicate item found with id {id}. Remove duplicate items from your input and try again."
                ),
                Some("input"),
            ));
        }
        if item_type(&item) == "item_reference" {
            let id = id.unwrap_or_default();
            match shared.stored_item(&id) {
                Some(resolved) => current.push(resolved),
                None => {
                    return Err(invalid(
                        &format!("Item with id '{id}' not found."),
                        Some("input"),
                    ));
                }
            }
        } else {
            current.push(item);
        }
    }
    Ok(Conversation {
        previous_id,
        context,
        current,
    })
}

/// The `{"type":"mcp"}` tools as servers, and every tool's echo for `Response.tools`.
pub(super) fn servers(request: &CreateResponse) -> Result<(Vec<Server>, Vec<Value>), Refusal> {
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
            return Err(invalid(
                "The simulator supports MCP tools with a server_url only (not connector_id or tunnel_id).",
                Some("tools"),
            ));
        };
        if servers.iter().any(|s| s.label == tool.server_label) {
            return Err(invalid(
                &format!("Duplicate server_label '{}' in tools.", tool.server_label),
                Some("tools"),
            ));
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
    Ok((servers, echoes))
}

/// Takes each server's tools from an `mcp_list_tools` item already in the conversation, as the
/// vendor does; returns the labels of the servers so served.
pub(super) fn reuse_listings<'a>(
    servers: &mut [Server],
    items: impl Iterator<Item = &'a Value>,
) -> HashSet<String> {
    let mut cached: HashSet<String> = HashSet::new();
    for item in items {
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
    cached
}

/// Connects to the servers at `indices` and lists their tools (after `allowed_tools`), all in
/// parallel; any failure fails the whole request with the vendor's 424, before any event.
pub(super) async fn list_tools(
    shared: &Shared,
    servers: &mut [Server],
    indices: &[usize],
) -> Result<HashMap<String, Session>, Refusal> {
    let targets: Vec<Target> = indices.iter().map(|&i| servers[i].target.clone()).collect();
    let mut sessions: HashMap<String, Session> = HashMap::new();
    match Session::connect_and_list_all(&shared.http, &targets, shared.timeout).await {
        Ok(listed) => {
            for (&i, (session, tools)) in indices.iter().zip(listed) {
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
            Ok(sessions)
        }
        Err((k, failure)) => {
            let label = servers[indices[k]].label.clone();
            let status = match failure {
                Failure::Unauthorized(s) | Failure::Http(s) => s,
                _ => 424,
            };
            Err(error(
                424,
                &format!(
                    "Error retrieving tool list from MCP server: '{label}'. Http status code: {status} ({})",
                    mcp::reason(status)
                ),
                "external_connector_error",
                Some("tools"),
                Some("http_error"),
            ))
        }
    }
}

/// What the model does this turn: the approved or denied calls of `mcp_approval_response`
/// items, else the directives of the last user message.
pub(super) fn plan(conversation: &Conversation) -> Result<Vec<Step>, Refusal> {
    let mut steps: Vec<Step> = Vec::new();
    let current = &conversation.current;
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
            } in scripted_model::directives(&text)
            {
                steps.push(Step::Call(PlannedCall {
                    server,
                    tool,
                    arguments,
                    approval_request_id: None,
                }));
            }
        }
        return Ok(steps);
    }
    for response in responses {
        let request_id = response
            .get("approval_request_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(approval) = conversation
            .items()
            .find(|i| item_type(i) == "mcp_approval_request" && item_id(i) == Some(request_id))
        else {
            return Err(invalid(
                &format!("No approval request found with id '{request_id}'."),
                Some("input"),
            ));
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
    Ok(steps)
}
