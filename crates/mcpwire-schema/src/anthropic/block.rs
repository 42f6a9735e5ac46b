//! Content blocks.

crate::wire_struct! {
    /// A `text` block.
    pub struct TextBlock {
        /// The text.
        req text: String = "text",
        /// Citations.
        opt citations: crate::Json<'static> = "citations",
        /// Cache breakpoint.
        opt cache_control: crate::Json<'static> = "cache_control",
    }
}

crate::wire_struct! {
    /// `mcp_tool_use`: the API called a tool of an MCP server.
    pub struct McpToolUse {
        /// `mcptoolu_...`.
        req id: String = "id",
        /// Tool name as the server lists it.
        req name: String = "name",
        /// The `mcp_servers[].name`.
        req server_name: String = "server_name",
        /// Arguments (`{}` in a stream's `content_block_start`).
        req input: crate::Json<'static> = "input",
        /// Cache breakpoint (request side).
        opt cache_control: crate::Json<'static> = "cache_control",
    }
}

crate::union_enum! {
    /// `mcp_tool_result.content`: a string or text blocks.
    pub enum ToolResultContent {
        str
        /// Plain text.
        Text(String),
        seq
        /// Content blocks (text blocks in every capture).
        Blocks(Vec<ContentPart>),
    }
}

crate::union_enum! {
    /// One block of `mcp_tool_result.content`: a tool's output, passed through and never decoded
    /// (it can be large), so each field is kept as exact JSON text.
    pub enum ContentPart {
        map
        /// An object (`{"type":"text","text":...}` in every capture).
        Fields(crate::Extra),
    }
}

crate::wire_struct! {
    /// `mcp_tool_result`: what the server returned, possibly for a use in an earlier turn.
    pub struct McpToolResult {
        /// The `mcp_tool_use.id`.
        req tool_use_id: String = "tool_use_id",
        /// Whether the tool failed (required on responses).
        opt is_error: bool = "is_error",
        /// The result.
        opt content: ToolResultContent = "content",
        /// Cache breakpoint (request side).
        opt cache_control: crate::Json<'static> = "cache_control",
    }
}

crate::wire_struct! {
    /// A tool in `mcp_tool_listing.tools` or a pinned toolset's `tools`.
    pub struct McpToolDefinition {
        /// Tool name.
        req name: String = "name",
        /// Description.
        opt description: String = "description",
        /// The JSON Schema of the arguments, verbatim.
        req input_schema: crate::Json<'static> = "input_schema",
    }
}

crate::wire_struct! {
    /// `mcp_tool_listing` (2026-09-15): the tools of one server the API queried.
    pub struct McpToolListing {
        /// The `mcp_servers[].name`.
        req mcp_server_name: String = "mcp_server_name",
        /// The tools.
        req tools: Vec<McpToolDefinition> = "tools",
    }
}

crate::wire_enum! {
    /// A content block. `thinking`, `tool_use`, `server_tool_use` and every other type are kept
    /// verbatim in `Unknown`.
    pub enum ContentBlock {
        /// `text`.
        Text(TextBlock) = "text",
        /// `mcp_tool_use`.
        McpToolUse(McpToolUse) = "mcp_tool_use",
        /// `mcp_tool_result`.
        McpToolResult(McpToolResult) = "mcp_tool_result",
        /// `mcp_tool_listing`.
        McpToolListing(McpToolListing) = "mcp_tool_listing",
    }
    keep [
        "thinking", "redacted_thinking", "tool_use", "tool_result", "server_tool_use",
        "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
        "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
        "tool_search_tool_result", "container_upload", "image", "document", "search_result",
        "tool_reference", "compaction", "tool_addition", "tool_removal",
    ];
}

crate::union_enum! {
    /// A message's `content`: a string or blocks.
    pub enum MessageContent {
        str
        /// Plain text.
        Text(String),
        seq
        /// Blocks.
        Blocks(Vec<ContentBlock>),
    }
}
