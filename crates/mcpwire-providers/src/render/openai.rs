//! Rendering for the OpenAI Responses API: one `{"type": "mcp"}` tool per server.
//!
//! OpenAI can express every neutral field, so this renderer has no capability gaps; it only
//! refuses invalid requests.

use std::collections::BTreeMap;

use mcpwire_auth::Resolved;
use mcpwire_schema::openai::{
    AllowedTools, ApprovalMode, CreateResponse, Input as WireInput, Item, McpTool, McpToolFilter,
    RequireApproval, RequireApprovalFilter, Tool,
};
use mcpwire_schema::{Maybe, Sensitive};
use serde_json::{Value, json};

use super::common::{merge, validate};
use super::{RenderError, RenderOptions, Rendered};
use crate::request::{Approval, Input, McpRequest, McpServerSpec};

/// Renders `request` as the body of `POST /v1/responses`.
///
/// `credentials[i]` is what `request.servers[i].credentials` resolved to for this request (the
/// HTTP client resolves them fresh before every request and retry): a bearer token becomes
/// `authorization`, headers become `headers`. `request.extra.openai` is merged into the body
/// (its `tools` appended after the MCP tools); each server's `extra.openai` into its tool.
///
/// An empty message list renders no `input` (for a continuation by `previous_response_id`
/// in `extra.openai`). Approval is always rendered (`Approval::Never` as `"never"`), because OpenAI's default is
/// to ask for every call. Nothing here is a capability gap, so `options` does not change the
/// result; no warnings are produced.
pub fn openai(
    request: &McpRequest,
    credentials: &[Resolved],
    options: &RenderOptions,
) -> Result<Rendered<CreateResponse>, RenderError> {
    let _ = options;
    validate(request, credentials)?;
    let mut body = CreateResponse::default();
    body.model = Maybe::Value(request.model.clone());
    if !matches!(&request.input, Input::Messages(m) if m.is_empty()) {
        body.input = Maybe::Value(input(&request.input));
    }
    if let Some(instructions) = &request.instructions {
        body.instructions = Maybe::Value(instructions.clone());
    }
    if let Some(limit) = request.max_output_tokens {
        body.max_output_tokens = Maybe::Value(limit);
    }
    if request.stream {
        body.stream = Maybe::Value(true);
    }
    if !request.servers.is_empty() {
        let mut tools = Vec::with_capacity(request.servers.len());
        for (i, (server, resolved)) in request.servers.iter().zip(credentials).enumerate() {
            let tool = merge(
                mcp_tool(server, resolved),
                &server.extra.openai,
                None,
                &format!("servers[{i}].extra.openai"),
            )?;
            tools.push(Tool::Mcp(tool));
        }
        body.tools = Maybe::Value(tools);
    }
    let body = merge(body, &request.extra.openai, Some("tools"), "extra.openai")?;
    Ok(Rendered {
        body,
        headers: Vec::new(),
        warnings: Vec::new(),
    })
}

/// The neutral conversation as `input`: a string, or easy input messages
/// `{"role": ..., "content": "text"}`.
pub(super) fn input(input: &Input) -> WireInput {
    match input {
        Input::Text(text) => WireInput::Text(text.clone()),
        Input::Messages(messages) => WireInput::Items(
            messages
                .iter()
                .map(|m| Item::Unknown(json!({"role": m.role.as_str(), "content": m.text}).into()))
                .collect(),
        ),
    }
}

/// The `mcp` tool of one server, without its extras.
pub(super) fn mcp_tool(server: &McpServerSpec, resolved: &Resolved) -> McpTool {
    let mut tool = McpTool::default();
    tool.server_label = server.name.clone();
    tool.server_url = Maybe::from_option(server.url.clone());
    tool.connector_id = Maybe::from_option(server.connector_id.clone());
    match resolved {
        Resolved::Bearer { token, .. } => {
            tool.authorization = Maybe::Value(Sensitive::new(token.expose()));
        }
        Resolved::Headers(headers) => {
            let map: BTreeMap<String, Sensitive> = headers
                .iter()
                .map(|(name, value)| (name.clone(), Sensitive::new(value.expose())))
                .collect();
            tool.headers = Maybe::Value(map);
        }
        // `Resolved` is non-exhaustive: anything else sends no credentials.
        _ => {}
    }
    if let Some(description) = &server.description {
        tool.server_description = Maybe::Value(description.clone());
    }
    tool.allowed_tools = match (&server.allowed_tools, server.read_only) {
        (None, false) => Maybe::Absent,
        (Some(names), false) => Maybe::Value(AllowedTools::Names(names.clone())),
        (names, true) => {
            let mut filter = McpToolFilter::default();
            filter.tool_names = Maybe::from_option(names.clone());
            filter.read_only = Maybe::Value(true);
            Maybe::Value(AllowedTools::Filter(filter))
        }
    };
    tool.require_approval = Maybe::Value(require_approval(&server.approval));
    if server.defer_loading {
        tool.defer_loading = Maybe::Value(true);
    }
    tool
}

/// `"always"`, `"never"`, or `{"always": {"tool_names": [...]}, "never": {...}}` without an
/// empty side.
fn require_approval(approval: &Approval) -> RequireApproval {
    let side = |names: &[String]| {
        if names.is_empty() {
            Maybe::Absent
        } else {
            let mut filter = McpToolFilter::default();
            filter.tool_names = Maybe::Value(names.to_vec());
            Maybe::Value(filter)
        }
    };
    match approval {
        Approval::Never => RequireApproval::Mode(ApprovalMode::Never),
        Approval::Always => RequireApproval::Mode(ApprovalMode::Always),
        Approval::Tools { always, never } => {
            let mut filter = RequireApprovalFilter::default();
            filter.always = side(always);
            filter.never = side(never);
            RequireApproval::Filter(filter)
        }
    }
}

/// The JSON of the tool, for comparisons (credentials included: callers must not log it).
pub(super) fn tool_json(tool: &McpTool) -> Value {
    serde_json::to_value(Tool::Mcp(tool.clone())).unwrap_or(Value::Null)
}
