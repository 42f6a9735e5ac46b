//! Output and input items: `mcp_list_tools`, `mcp_call`, `mcp_approval_request`,
//! `mcp_approval_response`, and `message`.

crate::wire_struct! {
    /// `MCPListTools`: the tools OpenAI imported from one server (`mcpl_...`). Its `tools` is
    /// empty in `response.output_item.added` and filled in `.done`.
    pub struct McpListTools {
        /// Item id (`mcpl_...`).
        req id: String = "id",
        /// The server.
        req server_label: String = "server_label",
        /// The tools.
        req tools: Vec<McpListToolsTool> = "tools",
        /// Why listing failed: a string in the spec, reported as an object too; kept raw.
        opt error: crate::Json<'static> = "error",
    }
}

crate::wire_struct! {
    /// `MCPListToolsTool`: one tool as the server described it.
    pub struct McpListToolsTool {
        /// Tool name.
        req name: String = "name",
        /// Description.
        opt description: String = "description",
        /// The JSON Schema of the arguments, verbatim.
        req input_schema: crate::Json<'static> = "input_schema",
        /// OpenAI-normalised annotations (e.g. `{"read_only": true}`).
        opt annotations: crate::Json<'static> = "annotations",
    }
}

crate::open_enum! {
    /// `MCPToolCallStatus`.
    pub enum McpCallStatus {
        /// Started.
        InProgress = "in_progress",
        /// Finished with output.
        Completed = "completed",
        /// Cut short.
        Incomplete = "incomplete",
        /// Being called.
        Calling = "calling",
        /// Finished with an error.
        Failed = "failed",
    }
}

crate::wire_struct! {
    /// `MCPToolCall`: a call OpenAI made to an MCP server (`mcp_...`).
    pub struct McpCall {
        /// Item id (`mcp_...`).
        req id: String = "id",
        /// The server.
        req server_label: String = "server_label",
        /// Tool name on the server.
        req name: String = "name",
        /// Arguments as JSON text (`""` while streaming starts).
        req arguments: String = "arguments",
        /// Raw text the server returned.
        opt output: String = "output",
        /// Why the call failed.
        opt error: McpCallError = "error",
        /// Status (missing in old payloads).
        opt status: McpCallStatus = "status",
        /// The `mcpr_...` approval that authorised this call.
        opt approval_request_id: String = "approval_request_id",
    }
}

crate::wire_struct! {
    /// `MCPProtocolError`: a JSON-RPC error from the server (codes seen positive, e.g. 32600).
    pub struct McpProtocolError {
        /// JSON-RPC code.
        req code: i64 = "code",
        /// Message.
        req message: String = "message",
    }
}

crate::wire_struct! {
    /// `MCPToolExecutionError`: the tool returned `isError`; `content` is the MCP content array.
    pub struct McpToolExecutionError {
        /// MCP content, verbatim.
        req content: crate::Json<'static> = "content",
    }
}

crate::wire_struct! {
    /// `HTTPError`: a transport failure talking to the server.
    pub struct HttpError {
        /// HTTP status.
        req code: i64 = "code",
        /// Message.
        req message: String = "message",
    }
}

crate::wire_enum! {
    /// `mcp_call.error`: structured since 2025-07; a bare string in old payloads.
    pub enum McpCallError {
        /// `mcp_protocol_error`.
        Protocol(McpProtocolError) = "mcp_protocol_error",
        /// `mcp_tool_execution_error`.
        ToolExecution(McpToolExecutionError) = "mcp_tool_execution_error",
        /// `http_error`.
        Http(HttpError) = "http_error",
    }
    string
    /// The legacy string form (rejected by the API as input since 2026).
    Legacy;
}

crate::wire_struct! {
    /// `MCPApprovalRequest`: OpenAI asks before calling a tool (`mcpr_...`).
    pub struct McpApprovalRequest {
        /// Item id (`mcpr_...`).
        req id: String = "id",
        /// The server.
        req server_label: String = "server_label",
        /// Tool name.
        req name: String = "name",
        /// Arguments as JSON text.
        req arguments: String = "arguments",
    }
}

crate::wire_struct! {
    /// `MCPApprovalResponse`: the caller's answer, sent as an input item.
    pub struct McpApprovalResponse {
        /// The `mcpr_...` request answered.
        req approval_request_id: String = "approval_request_id",
        /// Approve or deny.
        req approve: bool = "approve",
        /// Item id (client-created, optional on input).
        opt id: String = "id",
        /// Free-text reason.
        opt reason: String = "reason",
    }
}

impl McpApprovalResponse {
    /// An answer to `approval_request_id`.
    pub fn new(approval_request_id: impl Into<String>, approve: bool) -> Self {
        McpApprovalResponse {
            approval_request_id: approval_request_id.into(),
            approve,
            ..McpApprovalResponse::default()
        }
    }
}

crate::wire_struct! {
    /// `output_text` content part.
    pub struct OutputText {
        /// The text.
        req text: String = "text",
        /// Annotations, verbatim.
        opt annotations: crate::Json<'static> = "annotations",
        /// Token log-probabilities, verbatim.
        opt logprobs: crate::Json<'static> = "logprobs",
    }
}

crate::wire_struct! {
    /// `input_text` content part.
    pub struct InputText {
        /// The text.
        req text: String = "text",
    }
}

crate::wire_struct! {
    /// `refusal` content part.
    pub struct Refusal {
        /// The refusal text.
        req refusal: String = "refusal",
    }
}

crate::wire_enum! {
    /// A content part of a message.
    pub enum ContentPart {
        /// Model text.
        OutputText(OutputText) = "output_text",
        /// User text.
        InputText(InputText) = "input_text",
        /// A refusal.
        Refusal(Refusal) = "refusal",
    }
}

crate::union_enum! {
    /// A message's `content`: a string (input shorthand) or parts.
    pub enum MessageContent {
        str
        /// Plain text.
        Text(String),
        seq
        /// Content parts.
        Parts(Vec<ContentPart>),
    }
}

crate::wire_struct! {
    /// A `message` item (output or input).
    pub struct Message {
        /// Item id.
        opt id: String = "id",
        /// `assistant`, `user`, `system`, `developer`.
        opt role: String = "role",
        /// Status.
        opt status: String = "status",
        /// Content.
        req content: MessageContent = "content",
    }
}

crate::wire_enum! {
    /// An item of `output[]` or `input[]`. Reasoning, function calls, item references and
    /// every other type are kept verbatim in `Unknown`.
    pub enum Item {
        /// `mcp_list_tools`.
        McpListTools(McpListTools) = "mcp_list_tools",
        /// `mcp_call`.
        McpCall(McpCall) = "mcp_call",
        /// `mcp_approval_request`.
        McpApprovalRequest(McpApprovalRequest) = "mcp_approval_request",
        /// `mcp_approval_response`.
        McpApprovalResponse(McpApprovalResponse) = "mcp_approval_response",
        /// `message`.
        Message(Message) = "message",
    }
    // Documented item types kept raw on purpose ("" = a type-less input message).
    keep [
        "", "reasoning", "item_reference", "function_call", "function_call_output",
        "web_search_call", "file_search_call", "computer_call", "computer_call_output",
        "code_interpreter_call", "image_generation_call", "local_shell_call",
        "local_shell_call_output", "custom_tool_call", "custom_tool_call_output",
        "tool_search_call", "tool_search_output", "compaction",
    ];
}
