//! The request-side `{"type": "mcp"}` tool and `tool_choice`.

use std::collections::BTreeMap;

use crate::Sensitive;

crate::wire_struct! {
    /// The hosted MCP tool (`MCPTool`): OpenAI connects to `server_url` (or a connector or
    /// tunnel) on the caller's behalf. `headers` and `authorization` are never stored by OpenAI,
    /// so they must be sent on every request.
    pub struct McpTool {
        /// Label used in items and `tool_choice`.
        req server_label: String = "server_label",
        /// The MCP server URL (Streamable HTTP or HTTP/SSE).
        opt server_url: String = "server_url",
        /// A first-party connector id (`connector_googlecalendar`, ...), instead of a URL.
        opt connector_id: String = "connector_id",
        /// A Secure MCP Tunnel id (`tunnel_...`), instead of a URL.
        opt tunnel_id: String = "tunnel_id",
        /// OAuth access token for the server or connector.
        opt authorization: Sensitive = "authorization",
        /// Arbitrary HTTP headers sent to the MCP server.
        opt headers: BTreeMap<String, Sensitive> = "headers",
        /// Free-text description of the server for the model.
        opt server_description: String = "server_description",
        /// Which tools may be imported: names or a filter.
        opt allowed_tools: AllowedTools = "allowed_tools",
        /// Which calls need approval first.
        opt require_approval: RequireApproval = "require_approval",
        /// Who may call the tools (`direct`, `programmatic`).
        opt allowed_callers: Vec<String> = "allowed_callers",
        /// Load the tools lazily through tool search.
        opt defer_loading: bool = "defer_loading",
    }
}

impl McpTool {
    /// A tool for the server at `server_url` labelled `server_label`.
    pub fn new(server_label: impl Into<String>, server_url: impl Into<String>) -> Self {
        McpTool {
            server_label: server_label.into(),
            server_url: crate::Maybe::Value(server_url.into()),
            ..McpTool::default()
        }
    }
}

crate::wire_struct! {
    /// `MCPToolFilter`: a set of tools by name and/or by the `readOnlyHint` annotation.
    pub struct McpToolFilter {
        /// Tool names.
        opt tool_names: Vec<String> = "tool_names",
        /// Match tools annotated read-only.
        opt read_only: bool = "read_only",
    }
}

crate::union_enum! {
    /// `allowed_tools`: an array of names or a filter object.
    pub enum AllowedTools {
        seq
        /// `["a", "b"]`.
        Names(Vec<String>),
        map
        /// `{"tool_names": [...], "read_only": true}`.
        Filter(McpToolFilter),
    }
}

crate::open_enum! {
    /// The string form of `require_approval`.
    pub enum ApprovalMode {
        /// Every call needs approval (the API's default).
        Always = "always",
        /// No call needs approval.
        Never = "never",
    }
}

crate::wire_struct! {
    /// The object form of `require_approval`.
    pub struct RequireApprovalFilter {
        /// Tools that always need approval.
        opt always: McpToolFilter = "always",
        /// Tools that never need approval.
        opt never: McpToolFilter = "never",
    }
}

crate::union_enum! {
    /// `require_approval`: `"always"`, `"never"` or `{always?, never?}`.
    pub enum RequireApproval {
        str
        /// The string form.
        Mode(ApprovalMode),
        map
        /// The filter form.
        Filter(RequireApprovalFilter),
    }
}

crate::wire_enum! {
    /// An entry of `tools[]`. Only the MCP tool is modelled; function, web search and every
    /// other tool are kept verbatim.
    pub enum Tool {
        /// `{"type": "mcp"}`.
        Mcp(McpTool) = "mcp",
    }
    keep [
        "function", "file_search", "web_search", "web_search_preview", "computer_use_preview",
        "code_interpreter", "image_generation", "local_shell", "custom", "tool_search",
    ];
}

crate::wire_struct! {
    /// `ToolChoiceMCP`: force a tool of one MCP server (`server_label` is missing in the
    /// oldest form `{"type": "mcp"}`).
    pub struct ToolChoiceMcp {
        /// The server.
        opt server_label: String = "server_label",
        /// A tool of that server.
        opt name: String = "name",
    }
}

crate::wire_struct! {
    /// `{"type": "allowed_tools", "mode": ..., "tools": [...]}`.
    pub struct ToolChoiceAllowed {
        /// `auto` or `required`.
        opt mode: String = "mode",
        /// The allowed tools; MCP entries are `{"type":"mcp","server_label":...}`.
        opt tools: Vec<ToolChoiceObject> = "tools",
    }
}

crate::wire_enum! {
    /// The object forms of `tool_choice`.
    pub enum ToolChoiceObject {
        /// Force an MCP server's tool.
        Mcp(ToolChoiceMcp) = "mcp",
        /// Restrict to a list of tools.
        AllowedTools(ToolChoiceAllowed) = "allowed_tools",
    }
}

crate::union_enum! {
    /// `tool_choice`: `"auto"`, `"none"`, `"required"` or an object.
    pub enum ToolChoice {
        str
        /// The string form.
        Mode(String),
        map
        /// The object form.
        Object(ToolChoiceObject),
    }
}
