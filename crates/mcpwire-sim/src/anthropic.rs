//! The simulated Anthropic Messages API MCP connector: `POST /v1/messages` with `mcp_servers`,
//! the three `mcp-client-*` betas and their request shapes, whole or streamed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use mcpwire_schema::anthropic::{
    BetaVersion, ContentBlock, CreateMessage, McpToolDefinition, MessageContent, Tool,
};
use mcpwire_schema::decode;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::mcp::{self, Failure, Session, Target};
use crate::model::{self, Outcome};
use crate::server::Shared;
use crate::util::{self, Sink};

fn error(status: u16, kind: &str, message: &str) -> Response {
    let request_id = util::b62_id("req_011", 24);
    let mut response = util::json_response(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", value);
    }
    response
}

fn invalid(message: &str) -> Response {
    error(400, "invalid_request_error", message)
}

/// Which tools of a server are enabled.
enum Selection {
    /// 2025-04-04 `tool_configuration`.
    Legacy {
        enabled: bool,
        allowed: Option<Vec<String>>,
    },
    /// 2025-11-20+ `mcp_toolset`.
    Toolset {
        default_enabled: bool,
        configs: BTreeMap<String, Option<bool>>,
    },
}

impl Selection {
    fn enabled(&self, tool: &str) -> bool {
        match self {
            Selection::Legacy { enabled, allowed } => {
                *enabled && allowed.as_ref().is_none_or(|a| a.iter().any(|n| n == tool))
            }
            Selection::Toolset {
                default_enabled,
                configs,
            } => configs
                .get(tool)
                .copied()
                .flatten()
                .unwrap_or(*default_enabled),
        }
    }
}

/// A tool as the model sees it.
#[derive(Clone)]
struct ToolView {
    name: String,
    description: Option<String>,
    input_schema: Value,
}

struct Server {
    name: String,
    target: Target,
    selection: Selection,
    /// Pinned tools (2026-09-15): the server is not asked for its list.
    pinned: Option<Vec<McpToolDefinition>>,
    tools: Vec<ToolView>,
}

/// `POST /v1/messages`.
pub(crate) async fn create(shared: Arc<Shared>, headers: &HeaderMap, body: Bytes) -> Response {
    let betas: Vec<&str> = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let beta_header = betas.join(",");
    let version = BetaVersion::from_header(&beta_header);
    if let Some(unknown) = beta_header
        .split(',')
        .map(str::trim)
        .find(|b| b.starts_with("mcp-client-") && b.parse::<BetaVersion>().is_err())
    {
        return invalid(&format!(
            "Unexpected value(s) `{unknown}` for the `anthropic-beta` header. Please consult our documentation at docs.anthropic.com or try again without the header."
        ));
    }
    let request: CreateMessage = match decode::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid(&format!("Invalid request body: {e}")),
    };
    if request.max_tokens.get().is_none() {
        return invalid("max_tokens: Field required");
    }
    let Some(messages) = request.messages.get().filter(|m| !m.is_empty()) else {
        return invalid("messages: Field required");
    };
    let mcp_servers = request.mcp_servers.get().cloned().unwrap_or_default();
    let Some(version) = version else {
        if mcp_servers.is_empty() {
            return invalid(
                "This simulator only serves the MCP connector: send `anthropic-beta: mcp-client-2025-11-20` (or another mcp-client-* version) with `mcp_servers`.",
            );
        }
        return invalid("mcp_servers: Extra inputs are not permitted");
    };

    // Request shape, per beta.
    let toolsets: Vec<(usize, &mcpwire_schema::anthropic::McpToolset)> = request
        .tools
        .get()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, t)| match t {
            Tool::McpToolset(t) => Some((i, t)),
            _ => None,
        })
        .collect();
    let mut servers: Vec<Server> = Vec::new();
    for (i, server) in mcp_servers.iter().enumerate() {
        if server.server_type != "url" {
            return invalid(&format!("mcp_servers.{i}.type: Input should be 'url'"));
        }
        if servers.iter().any(|s| s.name == server.name) {
            return invalid(&format!(
                "mcp_servers: MCP server names must be unique; '{}' is used more than once",
                server.name
            ));
        }
        let Ok(url) = url::Url::parse(&server.url) else {
            return invalid(&format!("mcp_servers.{i}.url: Input should be a valid URL"));
        };
        let loopback_http = url.scheme() == "http" && util::is_loopback(&url);
        if url.scheme() != "https" && !loopback_http {
            return invalid(&format!(
                "mcp_servers.{i}.url: MCP server URL must start with https://"
            ));
        }
        let has_configuration = server.tool_configuration.get().is_some();
        let (selection, pinned) = if version.uses_toolsets() {
            if has_configuration {
                return invalid(&format!(
                    "mcp_servers.{i}.tool_configuration: not supported with `{version}`; select tools with an `mcp_toolset` entry in `tools`"
                ));
            }
            let referencing: Vec<&(usize, &mcpwire_schema::anthropic::McpToolset)> = toolsets
                .iter()
                .filter(|(_, t)| t.mcp_server_name == server.name)
                .collect();
            let toolset = match referencing.as_slice() {
                [] => {
                    return invalid(&format!(
                        "MCP server '{}' is defined in mcp_servers but not referenced by any mcp_toolset in tools. Every MCP server must be referenced by exactly one mcp_toolset.",
                        server.name
                    ));
                }
                [(_, toolset)] => *toolset,
                _ => {
                    return invalid(&format!(
                        "MCP server '{}' is referenced by more than one mcp_toolset. Every MCP server must be referenced by exactly one mcp_toolset.",
                        server.name
                    ));
                }
            };
            let default_enabled = toolset
                .default_config
                .get()
                .and_then(|c| c.enabled.get().copied())
                .unwrap_or(true);
            let configs = toolset
                .configs
                .get()
                .into_iter()
                .flatten()
                .map(|(name, c)| (name.clone(), c.enabled.get().copied()))
                .collect();
            (
                Selection::Toolset {
                    default_enabled,
                    configs,
                },
                toolset.tools.get().cloned(),
            )
        } else {
            let configuration = server.tool_configuration.get();
            (
                Selection::Legacy {
                    enabled: configuration
                        .and_then(|c| c.enabled.get().copied())
                        .unwrap_or(true),
                    allowed: configuration.and_then(|c| c.allowed_tools.get().cloned()),
                },
                None,
            )
        };
        servers.push(Server {
            name: server.name.clone(),
            target: Target {
                url: server.url.clone(),
                headers: Vec::new(),
                bearer: server
                    .authorization_token
                    .get()
                    .map(|t| t.expose().to_owned()),
            },
            selection,
            pinned,
            tools: Vec::new(),
        });
    }
    for (i, toolset) in &toolsets {
        if !version.uses_toolsets() {
            return invalid(&format!(
                "tools.{i}: `mcp_toolset` requires the `anthropic-beta` header `mcp-client-2025-11-20` or later (got `{version}`)"
            ));
        }
        if !servers.iter().any(|s| s.name == toolset.mcp_server_name) {
            return invalid(&format!(
                "tools.{i}.mcp_server_name: MCP server '{}' is not defined in mcp_servers",
                toolset.mcp_server_name
            ));
        }
        if toolset.tools.get().is_some() && !version.has_tool_listing() {
            return invalid(&format!(
                "tools.{i}.tools: pinned tool listings require the `anthropic-beta` header `mcp-client-2026-09-15` (got `{version}`)"
            ));
        }
    }

    // Tool listings (not for pinned toolsets); a failure fails the whole request.
    let to_list: Vec<usize> = (0..servers.len())
        .filter(|&i| servers[i].pinned.is_none())
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
                    })
                    .collect();
                sessions.insert(server.name.clone(), session);
            }
        }
        Err((k, failure)) => {
            let name = servers[to_list[k]].name.clone();
            return match failure {
                Failure::Unauthorized(_) => invalid(&format!(
                    "Invalid authorization token for MCP server '{name}'. Please check your token and try again."
                )),
                _ => invalid(
                    "Connection error while communicating with MCP server. The server may be unavailable or unresponsive.",
                ),
            };
        }
    }
    for server in &mut servers {
        if let Some(pinned) = &server.pinned {
            server.tools = pinned
                .iter()
                .map(|t| ToolView {
                    name: t.name.clone(),
                    description: t.description.get().cloned(),
                    input_schema: t.input_schema.clone(),
                })
                .collect();
        }
        let selection = &server.selection;
        server.tools.retain(|t| selection.enabled(&t.name));
    }

    let prompt = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| match &m.content {
            MessageContent::Text(text) => text.clone(),
            MessageContent::Blocks(blocks) => blocks
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::Text(t) => Some(t.text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        })
        .unwrap_or_default();

    let mut turn = Turn {
        shared,
        sink: Sink::none(),
        content: Vec::new(),
        listings: version.has_tool_listing(),
        servers,
        sessions,
        id: util::b62_id("msg_01", 22),
        model: request
            .model
            .get()
            .cloned()
            .unwrap_or_else(|| "claude-sim".to_owned()),
        input_tokens: (body.len() / 4) as u64 + 1,
    };
    let directives = model::directives(&prompt);
    if request.stream.get().copied().unwrap_or(false) {
        let (tx, rx) = mpsc::channel(64);
        turn.sink = Sink::channel(tx);
        tokio::spawn(turn.run(directives));
        util::sse_response(util::body_from(rx))
    } else {
        let message = turn.run(directives).await;
        util::json_response(200, &message)
    }
}

struct Turn {
    shared: Arc<Shared>,
    sink: Sink,
    content: Vec<Value>,
    listings: bool,
    servers: Vec<Server>,
    sessions: HashMap<String, Session>,
    id: String,
    model: String,
    input_tokens: u64,
}

impl Turn {
    async fn event(&self, fields: Value) {
        let name = fields
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // The real API pads its JSON with a varying number of spaces before the final brace.
        let pad = name.len() % 7;
        self.sink.send_padded(&name, &fields, pad).await;
    }

    /// A block that arrives whole in `content_block_start`.
    async fn whole_block(&mut self, block: Value) {
        let index = self.content.len();
        self.content.push(block.clone());
        self.event(json!({"type": "content_block_start", "index": index, "content_block": block}))
            .await;
        self.event(json!({"type": "content_block_stop", "index": index}))
            .await;
    }

    fn usage(&self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        })
    }

    async fn run(mut self, directives: Vec<model::Directive>) -> Value {
        self.event(json!({
            "type": "message_start",
            "message": {
                "id": self.id, "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": self.input_tokens, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0, "output_tokens": 1},
            }
        }))
        .await;
        self.event(json!({"type": "ping"})).await;

        if self.listings {
            let listings: Vec<Value> = self
                .servers
                .iter()
                .filter(|s| s.pinned.is_none())
                .map(|s| {
                    let tools: Vec<Value> = s
                        .tools
                        .iter()
                        .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
                        .collect();
                    json!({"type": "mcp_tool_listing", "mcp_server_name": s.name, "tools": tools})
                })
                .collect();
            for listing in listings {
                self.whole_block(listing).await;
            }
        }

        let mut summary: Vec<(String, String, Outcome)> = Vec::new();
        for directive in directives {
            let Some(server) = self.servers.iter().position(|s| s.name == directive.server) else {
                summary.push((directive.server, directive.tool, Outcome::NoServer));
                continue;
            };
            let outcome = self.call(server, &directive).await;
            summary.push((directive.server, directive.tool, outcome));
        }

        let text = model::summary(&summary);
        let index = self.content.len();
        self.content.push(json!({"type": "text", "text": text}));
        self.event(json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            .await;
        for chunk in model::chunks(&text) {
            self.event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": chunk}}))
                .await;
        }
        self.event(json!({"type": "content_block_stop", "index": index}))
            .await;

        for (_, session) in self.sessions.drain() {
            session.close();
        }
        let output_tokens = 1 + (text.len() / 4) as u64;
        let usage = self.usage(output_tokens);
        self.event(json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": usage,
        }))
        .await;
        self.event(json!({"type": "message_stop"})).await;
        json!({
            "model": self.model,
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "content": self.content,
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": usage,
        })
    }

    async fn call(&mut self, server: usize, directive: &model::Directive) -> Outcome {
        let parsed: Result<Map<String, Value>, String> =
            match serde_json::from_str::<Value>(&directive.arguments) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err("Invalid tool input: expected a JSON object".to_owned()),
                Err(e) => Err(format!("Invalid tool input: {e}")),
            };
        let input = Value::Object(parsed.clone().unwrap_or_default());
        let use_id = util::b62_id("mcptoolu_01", 22);
        let index = self.content.len();
        self.content.push(json!({
            "type": "mcp_tool_use", "id": use_id, "name": directive.tool,
            "input": input, "server_name": directive.server,
        }));
        self.event(json!({
            "type": "content_block_start", "index": index,
            "content_block": {"type": "mcp_tool_use", "id": use_id, "name": directive.tool, "input": {}, "server_name": directive.server},
        }))
        .await;
        let input_text = input.to_string();
        let mut pieces = vec![""];
        pieces.extend(split3(&input_text));
        for piece in pieces {
            self.event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}}))
                .await;
        }
        self.event(json!({"type": "content_block_stop", "index": index}))
            .await;

        let result = match parsed {
            Err(why) => Err(Failure::Protocol {
                code: -32602,
                message: why,
            }),
            Ok(arguments) => self.execute(server, &directive.tool, arguments).await,
        };
        let (is_error, blocks, outcome) = match result {
            Ok(result) => {
                let mut blocks: Vec<Value> = mcp::content_json(&result)
                    .into_iter()
                    .filter_map(|c| {
                        c.get("text")
                            .and_then(Value::as_str)
                            .map(|t| json!({"type": "text", "text": t}))
                    })
                    .collect();
                let text = mcp::content_text(&result);
                if blocks.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                if result.is_error == Some(true) {
                    (true, blocks, Outcome::Failed(text))
                } else {
                    (false, blocks, Outcome::Returned(text))
                }
            }
            Err(failure) => {
                let message = match &failure {
                    Failure::Protocol { message, .. } => message.clone(),
                    other => format!("MCP server error: {}", other.message()),
                };
                (
                    true,
                    vec![json!({"type": "text", "text": message})],
                    Outcome::Failed(message),
                )
            }
        };
        self.whole_block(json!({
            "type": "mcp_tool_result", "tool_use_id": use_id, "is_error": is_error, "content": blocks,
        }))
        .await;
        self.event(json!({"type": "ping"})).await;
        outcome
    }

    async fn execute(
        &mut self,
        server: usize,
        tool: &str,
        arguments: Map<String, Value>,
    ) -> Result<rmcp::model::CallToolResult, Failure> {
        let name = self.servers[server].name.clone();
        if !self.servers[server].tools.iter().any(|t| t.name == tool) {
            return Err(Failure::Protocol {
                code: -32602,
                message: format!("Tool '{tool}' not found on MCP server '{name}'"),
            });
        }
        if !self.sessions.contains_key(&name) {
            let session = Session::connect(
                &self.shared.http,
                &self.servers[server].target,
                self.shared.timeout,
            )
            .await?;
            self.sessions.insert(name.clone(), session);
        }
        match self.sessions.get(&name) {
            Some(session) => session.call(tool, arguments).await,
            None => Err(Failure::Other("no session".to_owned())),
        }
    }
}

/// Splits text into up to three pieces at character boundaries.
fn split3(text: &str) -> Vec<&str> {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if chars.len() < 3 {
        return vec![text];
    }
    let a = chars[chars.len() / 3];
    let b = chars[2 * chars.len() / 3];
    vec![&text[..a], &text[a..b], &text[b..]]
}
