//! The simulated Anthropic Messages API MCP connector: `POST /v1/messages` with `mcp_servers`,
//! the three `mcp-client-*` betas and their request shapes, whole or streamed.
//!
//! [`create`] reads the request in steps ([`request`]: the beta, the servers and the tool
//! selection each beta allows, the tool listings, the prompt), then a [`turn::Turn`] produces the
//! message, as events on a stream or as one JSON body.

mod request;
mod turn;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use mcpwire_schema::anthropic::{CreateMessage, McpToolDefinition};
use mcpwire_schema::decode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::http::{self, Refusal, Sink};
use crate::ids;
use crate::mcp::Target;
use crate::scripted_model;
use crate::state::Shared;
use turn::Turn;

fn error(status: u16, kind: &str, message: &str) -> Refusal {
    let request_id = ids::b62_id("req_011", 24);
    let mut response = http::json_response(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", value);
    }
    Refusal::new(response)
}

fn invalid(message: &str) -> Refusal {
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
    let version = match request::beta(headers) {
        Ok(version) => version,
        Err(refusal) => return refusal.into_response(),
    };
    let request: CreateMessage = match decode::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid(&format!("Invalid request body: {e}")).into_response(),
    };
    let prepared = match prepare(&shared, &request, version).await {
        Ok(prepared) => prepared,
        Err(refusal) => return refusal.into_response(),
    };
    let mut turn = Turn {
        shared,
        sink: Sink::none(),
        content: Vec::new(),
        listings: prepared.version.has_tool_listing(),
        servers: prepared.servers,
        sessions: prepared.sessions,
        id: ids::b62_id("msg_01", 22),
        model: request
            .model
            .get()
            .cloned()
            .unwrap_or_else(|| "claude-sim".to_owned()),
        input_tokens: (body.len() / 4) as u64 + 1,
    };
    let directives = scripted_model::directives(&prepared.prompt);
    if request.stream.get().copied().unwrap_or(false) {
        let (tx, rx) = mpsc::channel(64);
        turn.sink = Sink::channel(tx);
        tokio::spawn(turn.run(directives));
        http::sse_response(http::body_from(rx))
    } else {
        let message = turn.run(directives).await;
        http::json_response(200, &message)
    }
}

/// What the turn starts from, once the request is accepted.
struct Prepared {
    version: mcpwire_schema::anthropic::BetaVersion,
    servers: Vec<Server>,
    sessions: std::collections::HashMap<String, crate::mcp::Session>,
    /// The text of the last user message.
    prompt: String,
}

/// Everything that can refuse the request, in the vendor's order: required fields, the beta,
/// the request shape that beta allows, then the tool listings (a failure is a 400).
async fn prepare(
    shared: &Shared,
    request: &CreateMessage,
    version: Option<mcpwire_schema::anthropic::BetaVersion>,
) -> Result<Prepared, Refusal> {
    if request.max_tokens.get().is_none() {
        return Err(invalid("max_tokens: Field required"));
    }
    let Some(messages) = request.messages.get().filter(|m| !m.is_empty()) else {
        return Err(invalid("messages: Field required"));
    };
    let no_servers = request.mcp_servers.get().is_none_or(Vec::is_empty);
    let Some(version) = version else {
        if no_servers {
            return Err(invalid(
                "This simulator only serves the MCP connector: send `anthropic-beta: mcp-client-2025-11-20` (or another mcp-client-* version) with `mcp_servers`.",
            ));
        }
        return Err(invalid("mcp_servers: Extra inputs are not permitted"));
    };
    let mut servers = request::servers(request, version)?;
    let sessions = request::list_tools(shared, &mut servers).await?;
    Ok(Prepared {
        version,
        servers,
        sessions,
        prompt: request::prompt(messages),
    })
}
