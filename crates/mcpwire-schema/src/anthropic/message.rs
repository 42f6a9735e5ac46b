//! The response message, usage, stop reasons and the HTTP error body.

use super::ContentBlock;

crate::open_enum! {
    /// `stop_reason` (an open set).
    pub enum StopReason {
        /// Natural end.
        EndTurn = "end_turn",
        /// Output token limit.
        MaxTokens = "max_tokens",
        /// A stop sequence.
        StopSequence = "stop_sequence",
        /// The model called a client tool.
        ToolUse = "tool_use",
        /// The server-side tool loop hit its limit; re-send to continue.
        PauseTurn = "pause_turn",
        /// Context compaction.
        Compaction = "compaction",
        /// The model refused.
        Refusal = "refusal",
        /// The context window is full.
        ModelContextWindowExceeded = "model_context_window_exceeded",
    }
}

crate::wire_struct! {
    /// Token usage (cumulative in `message_delta`).
    pub struct Usage {
        /// Input tokens.
        opt input_tokens: u64 = "input_tokens",
        /// Output tokens.
        opt output_tokens: u64 = "output_tokens",
        /// Tokens written to the cache.
        opt cache_creation_input_tokens: u64 = "cache_creation_input_tokens",
        /// Tokens read from the cache.
        opt cache_read_input_tokens: u64 = "cache_read_input_tokens",
        /// Server tool counters (no MCP counter exists).
        opt server_tool_use: crate::Json<'static> = "server_tool_use",
    }
    keep [
        "cache_creation", "service_tier", "inference_geo", "iterations", "output_tokens_details",
        "speed", "fallback_credit",
    ];
}

crate::wire_struct! {
    /// A message: the whole body of `POST /v1/messages`, or inside `message_start`.
    pub struct Message {
        /// `msg_...`.
        req id: String = "id",
        /// `"message"`.
        opt object_type: String = "type",
        /// `"assistant"`.
        opt role: String = "role",
        /// Model.
        opt model: String = "model",
        /// Content blocks.
        req content: Vec<ContentBlock> = "content",
        /// Why generation stopped.
        opt stop_reason: StopReason = "stop_reason",
        /// The stop sequence hit.
        opt stop_sequence: String = "stop_sequence",
        /// Usage.
        opt usage: Usage = "usage",
    }
    keep ["stop_details", "container", "context_management"];
}

crate::wire_struct! {
    /// The `error` object of an error body or stream `error` event.
    pub struct ErrorObject {
        /// `invalid_request_error`, `overloaded_error`, ... (an open set).
        req error_type: String = "type",
        /// Message.
        req message: String = "message",
    }
}

crate::wire_struct! {
    /// An HTTP error body: `{"type":"error","error":{...},"request_id":"req_..."}`.
    pub struct ErrorBody {
        /// `"error"`.
        opt object_type: String = "type",
        /// The error.
        req error: ErrorObject = "error",
        /// Request id.
        opt request_id: String = "request_id",
    }
}
