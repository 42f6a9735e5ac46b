//! Request side: `mcp_servers[]`, the `mcp_toolset` tool, and the create-message body.

use std::collections::BTreeMap;

use super::{McpToolDefinition, MessageContent};
use crate::Sensitive;

crate::wire_struct! {
    /// `tool_configuration` of an `mcp_servers[]` entry (2025-04-04 beta).
    pub struct ToolConfiguration {
        /// `false` disables every tool of the server.
        opt enabled: bool = "enabled",
        /// Allowlist of tool names.
        opt allowed_tools: Vec<String> = "allowed_tools",
    }
}

crate::wire_struct! {
    /// An `mcp_servers[]` entry (`BetaRequestMCPServerURLDefinition`).
    pub struct McpServer {
        /// Always `"url"`.
        req server_type: String = "type",
        /// The server URL; must be `https://`.
        req url: String = "url",
        /// Unique name within the request.
        req name: String = "name",
        /// OAuth bearer token sent to the server.
        opt authorization_token: Sensitive = "authorization_token",
        /// Tool selection (2025-04-04 only).
        opt tool_configuration: ToolConfiguration = "tool_configuration",
    }
}

impl McpServer {
    /// A server entry `{"type":"url","url":...,"name":...}`.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        McpServer {
            server_type: "url".to_owned(),
            url: url.into(),
            name: name.into(),
            ..McpServer::default()
        }
    }
}

crate::wire_struct! {
    /// `default_config` and each entry of `configs` of a toolset.
    pub struct ToolsetConfig {
        /// Enable or disable.
        opt enabled: bool = "enabled",
        /// Load lazily via tool search.
        opt defer_loading: bool = "defer_loading",
    }
}

crate::wire_struct! {
    /// The `mcp_toolset` tool (2025-11-20 and later): which tools of one server are usable.
    pub struct McpToolset {
        /// Must match an `mcp_servers[].name`.
        req mcp_server_name: String = "mcp_server_name",
        /// Applies to every tool.
        opt default_config: ToolsetConfig = "default_config",
        /// Per-tool overrides, by tool name.
        opt configs: BTreeMap<String, ToolsetConfig> = "configs",
        /// Cache breakpoint.
        opt cache_control: crate::Json<'static> = "cache_control",
        /// Pinned tool listing (2026-09-15): the server is not asked for tools.
        opt tools: Vec<McpToolDefinition> = "tools",
    }
}

impl McpToolset {
    /// A toolset enabling every tool of `server_name`.
    pub fn new(server_name: impl Into<String>) -> Self {
        McpToolset {
            mcp_server_name: server_name.into(),
            ..McpToolset::default()
        }
    }
}

crate::wire_enum! {
    /// An entry of `tools[]`. Only `mcp_toolset` is modelled; client tools (which have no
    /// `type`) and other server tools are kept verbatim.
    pub enum Tool {
        /// `mcp_toolset`.
        McpToolset(McpToolset) = "mcp_toolset",
    }
    // Client tools have no `type` (""); the rest are documented server tools kept raw.
    keep [
        "", "custom", "bash_20250124", "text_editor_20250728", "web_search_20250305",
        "web_fetch_20250910", "code_execution_20250825", "memory_20250818",
        "tool_search_tool_regex_20251119", "tool_search_tool_bm25_20251119",
    ];
}

crate::wire_struct! {
    /// A message in `messages[]` (or a `role: system` message with `tool_addition`).
    pub struct MessageParam {
        /// `user`, `assistant` or `system`.
        req role: String = "role",
        /// Text or blocks.
        req content: MessageContent = "content",
    }
}

crate::wire_struct! {
    /// The body of `POST /v1/messages`. Only what matters for MCP is typed; everything else is in
    /// `extra`.
    pub struct CreateMessage {
        /// Model.
        opt model: String = "model",
        /// Output token limit (required by the API).
        opt max_tokens: u64 = "max_tokens",
        /// Messages.
        opt messages: Vec<MessageParam> = "messages",
        /// System prompt (string or blocks).
        opt system: crate::Json<'static> = "system",
        /// Tools.
        opt tools: Vec<Tool> = "tools",
        /// MCP servers.
        opt mcp_servers: Vec<McpServer> = "mcp_servers",
        /// Stream server-sent events.
        opt stream: bool = "stream",
    }
    keep [
        "thinking", "tool_choice", "temperature", "top_p", "top_k", "metadata", "stop_sequences",
        "service_tier", "container", "context_management",
    ];
}
