//! Reading a `POST /v1/messages` request: the `anthropic-beta` version, the MCP servers with the
//! tool selection that version allows (`tool_configuration` for 2025-04-04, one `mcp_toolset`
//! per server from 2025-11-20, pinned tool lists from 2026-09-15), the tool listings and the
//! prompt. Each step returns the vendor's error response when the request cannot be served.

use std::collections::HashMap;

use axum::http::HeaderMap;
use mcpwire_schema::anthropic::{
    BetaVersion, ContentBlock, CreateMessage, McpServer, McpToolDefinition, McpToolset,
    MessageContent, MessageParam, Tool,
};

use super::{Selection, Server, ToolView, invalid};
use crate::http::{self, Refusal};
use crate::mcp::{self, Failure, Session, Target};
use crate::state::Shared;

/// The MCP connector version of the `anthropic-beta` header(s); an unknown `mcp-client-*` value
/// is refused.
pub(super) fn beta(headers: &HeaderMap) -> Result<Option<BetaVersion>, Refusal> {
    let betas: Vec<&str> = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let beta_header = betas.join(",");
    if let Some(unknown) = beta_header
        .split(',')
        .map(str::trim)
        .find(|b| b.starts_with("mcp-client-") && b.parse::<BetaVersion>().is_err())
    {
        return Err(invalid(&format!(
            "Unexpected value(s) `{unknown}` for the `anthropic-beta` header. Please consult our documentation at docs.anthropic.com or try again without the header."
        )));
    }
    Ok(BetaVersion::from_header(&beta_header))
}

/// The `mcp_servers`, each with the tool selection `version` allows, checked against the
/// `mcp_toolset` entries of `tools`.
pub(super) fn servers(
    request: &CreateMessage,
    version: BetaVersion,
) -> Result<Vec<Server>, Refusal> {
    let mcp_servers = request.mcp_servers.get().cloned().unwrap_or_default();
    let toolsets: Vec<(usize, &McpToolset)> = request
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
            return Err(invalid(&format!(
                "mcp_servers.{i}.type: Input should be 'url'"
            )));
        }
        if servers.iter().any(|s| s.name == server.name) {
            return Err(invalid(&format!(
                "mcp_servers: MCP server names must be unique; '{}' is used more than once",
                server.name
            )));
        }
        let Ok(url) = url::Url::parse(&server.url) else {
            return Err(invalid(&format!(
                "mcp_servers.{i}.url: Input should be a valid URL"
            )));
        };
        let loopback_http = url.scheme() == "http" && http::is_loopback(&url);
        if url.scheme() != "https" && !loopback_http {
            return Err(invalid(&format!(
                "mcp_servers.{i}.url: MCP server URL must start with https://"
            )));
        }
        let (selection, pinned) = selection(i, server, version, &toolsets)?;
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
            return Err(invalid(&format!(
                "tools.{i}: `mcp_toolset` requires the `anthropic-beta` header `mcp-client-2025-11-20` or later (got `{version}`)"
            )));
        }
        if !servers.iter().any(|s| s.name == toolset.mcp_server_name) {
            return Err(invalid(&format!(
                "tools.{i}.mcp_server_name: MCP server '{}' is not defined in mcp_servers",
                toolset.mcp_server_name
            )));
        }
        if toolset.tools.get().is_some() && !version.has_tool_listing() {
            return Err(invalid(&format!(
                "tools.{i}.tools: pinned tool listings require the `anthropic-beta` header `mcp-client-2026-09-15` (got `{version}`)"
            )));
        }
    }

    Ok(servers)
}

/// The tool selection of server `i` under `version`: its `tool_configuration` (2025-04-04), or
/// the one `mcp_toolset` that references it (2025-11-20 and later, with pinned tools from
/// 2026-09-15).
fn selection(
    i: usize,
    server: &McpServer,
    version: BetaVersion,
    toolsets: &[(usize, &McpToolset)],
) -> Result<(Selection, Option<Vec<McpToolDefinition>>), Refusal> {
    let has_configuration = server.tool_configuration.get().is_some();
    if version.uses_toolsets() {
        if has_configuration {
            return Err(invalid(&format!(
                "mcp_servers.{i}.tool_configuration: not supported with `{version}`; select tools with an `mcp_toolset` entry in `tools`"
            )));
        }
        let referencing: Vec<&(usize, &McpToolset)> = toolsets
            .iter()
            .filter(|(_, t)| t.mcp_server_name == server.name)
            .collect();
        let toolset = match referencing.as_slice() {
            [] => {
                return Err(invalid(&format!(
                    "MCP server '{}' is defined in mcp_servers but not referenced by any mcp_toolset in tools. Every MCP server must be referenced by exactly one mcp_toolset.",
                    server.name
                )));
            }
            [(_, toolset)] => *toolset,
            _ => {
                return Err(invalid(&format!(
                    "MCP server '{}' is referenced by more than one mcp_toolset. Every MCP server must be referenced by exactly one mcp_toolset.",
                    server.name
                )));
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
        Ok((
            Selection::Toolset {
                default_enabled,
                configs,
            },
            toolset.tools.get().cloned(),
        ))
    } else {
        let configuration = server.tool_configuration.get();
        Ok((
            Selection::Legacy {
                enabled: configuration
                    .and_then(|c| c.enabled.get().copied())
                    .unwrap_or(true),
                allowed: configuration.and_then(|c| c.allowed_tools.get().cloned()),
            },
            None,
        ))
    }
}

/// Lists the tools of every server without a pinned list (in parallel) and applies each
/// server's selection; a failed listing fails the whole request with the vendor's 400.
pub(super) async fn list_tools(
    shared: &Shared,
    servers: &mut [Server],
) -> Result<HashMap<String, Session>, Refusal> {
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
            return Err(match failure {
                Failure::Unauthorized(_) => invalid(&format!(
                    "Invalid authorization token for MCP server '{name}'. Please check your token and try again."
                )),
                _ => invalid(
                    "Connection error while communicating with MCP server. The server may be unavailable or unresponsive.",
                ),
            });
        }
    }
    for server in servers.iter_mut() {
        if let Some(pinned) = &server.pinned {
            server.tools = pinned
                .iter()
                .map(|t| ToolView {
                    name: t.name.clone(),
                    description: t.description.get().cloned(),
                    input_schema: t.input_schema.to_value(),
                })
                .collect();
        }
        let selection = &server.selection;
        server.tools.retain(|t| selection.enabled(&t.name));
    }
    Ok(sessions)
}

/// The text of the last user message (string content, or its text blocks joined by lines).
pub(super) fn prompt(messages: &[MessageParam]) -> String {
    messages
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
        .unwrap_or_default()
}
