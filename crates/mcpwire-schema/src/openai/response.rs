//! The response object, the create request and the HTTP error body.

use super::{Item, Tool, ToolChoice};

crate::open_enum! {
    /// `Response.status`.
    pub enum ResponseStatus {
        /// Finished.
        Completed = "completed",
        /// Failed; see `error`.
        Failed = "failed",
        /// Running.
        InProgress = "in_progress",
        /// Cancelled.
        Cancelled = "cancelled",
        /// Waiting to run.
        Queued = "queued",
        /// Stopped early; see `incomplete_details`.
        Incomplete = "incomplete",
    }
}

crate::wire_struct! {
    /// Token usage.
    pub struct Usage {
        /// Input tokens.
        req input_tokens: u64 = "input_tokens",
        /// Output tokens.
        req output_tokens: u64 = "output_tokens",
        /// Total.
        opt total_tokens: u64 = "total_tokens",
    }
    keep ["input_tokens_details", "output_tokens_details"];
}

crate::wire_struct! {
    /// `Response.error`.
    pub struct ResponseError {
        /// Error code.
        opt code: String = "code",
        /// Message.
        opt message: String = "message",
    }
}

crate::wire_struct! {
    /// The `Response` object (whole body of `POST /v1/responses`, and inside lifecycle events).
    /// Only what matters for MCP is typed; everything else is in `extra`.
    pub struct Response {
        /// `resp_...`.
        req id: String = "id",
        /// `"response"`.
        opt object: String = "object",
        /// Status.
        opt status: ResponseStatus = "status",
        /// Model.
        opt model: String = "model",
        /// Output items.
        req output: Vec<Item> = "output",
        /// The tools as OpenAI echoes them (header values redacted; not reusable as input).
        opt tools: Vec<Tool> = "tools",
        /// Tool choice.
        opt tool_choice: ToolChoice = "tool_choice",
        /// Usage.
        opt usage: Usage = "usage",
        /// Error.
        opt error: ResponseError = "error",
        /// Why the response is incomplete.
        opt incomplete_details: crate::Json<'static> = "incomplete_details",
        /// The response this one continues.
        opt previous_response_id: String = "previous_response_id",
        /// Whether it is stored.
        opt store: bool = "store",
    }
    keep [
        "background", "billing", "completed_at", "conversation", "created_at", "frequency_penalty",
        "instructions", "max_output_tokens", "max_tool_calls", "metadata", "moderation",
        "parallel_tool_calls", "presence_penalty", "prompt", "prompt_cache_key",
        "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "temperature",
        "text", "tool_usage", "top_logprobs", "top_p", "truncation", "user",
    ];
}

crate::union_enum! {
    /// The request `input`: a string or items.
    pub enum Input {
        str
        /// A user message as plain text.
        Text(String),
        seq
        /// Items.
        Items(Vec<Item>),
    }
}

crate::wire_struct! {
    /// The body of `POST /v1/responses`. Only what matters for MCP is typed; everything else
    /// (`temperature`, `reasoning`, `text`, ...) is in `extra`.
    pub struct CreateResponse {
        /// Model.
        opt model: String = "model",
        /// Input.
        opt input: Input = "input",
        /// System instructions.
        opt instructions: String = "instructions",
        /// Tools.
        opt tools: Vec<Tool> = "tools",
        /// Tool choice.
        opt tool_choice: ToolChoice = "tool_choice",
        /// Continue a stored response.
        opt previous_response_id: String = "previous_response_id",
        /// Store the response (needed for `previous_response_id`).
        opt store: bool = "store",
        /// Stream server-sent events.
        opt stream: bool = "stream",
        /// Output token limit.
        opt max_output_tokens: u64 = "max_output_tokens",
    }
    keep [
        "background", "conversation", "include", "max_tool_calls", "metadata", "parallel_tool_calls",
        "prompt", "prompt_cache_key", "prompt_cache_retention", "reasoning", "safety_identifier",
        "service_tier", "stream_options", "temperature", "text", "top_logprobs", "top_p",
        "truncation", "user",
    ];
}

crate::wire_struct! {
    /// The `error` object of an HTTP error body.
    pub struct ApiError {
        /// Message.
        req message: String = "message",
        /// `invalid_request_error`, `external_connector_error`, ...
        opt error_type: String = "type",
        /// The parameter at fault.
        opt param: String = "param",
        /// Error code (a string, sometimes `null`).
        opt code: crate::Json<'static> = "code",
    }
}

crate::wire_struct! {
    /// An HTTP error body: `{"error": {...}}`.
    pub struct ErrorBody {
        /// The error.
        req error: ApiError = "error",
    }
}
