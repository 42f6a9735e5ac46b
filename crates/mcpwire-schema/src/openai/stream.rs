//! `ResponseStreamEvent`: the server-sent events of a streamed response.

use super::{ContentPart, Item, Response};

crate::wire_struct! {
    /// `response.created` / `in_progress` / `completed` / `failed` / `incomplete` / `queued`.
    pub struct ResponseEvent {
        /// The response so far (final in `completed`).
        req response: Response = "response",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_struct! {
    /// `response.output_item.added` / `.done`.
    pub struct OutputItemEvent {
        /// Index in `output`.
        req output_index: u64 = "output_index",
        /// The item.
        req item: Item = "item",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_struct! {
    /// `response.content_part.added` / `.done`.
    pub struct ContentPartEvent {
        /// The message item.
        req item_id: String = "item_id",
        /// Index in `output`.
        req output_index: u64 = "output_index",
        /// Index in the message's content.
        req content_index: u64 = "content_index",
        /// The part.
        req part: ContentPart = "part",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_struct! {
    /// `response.output_text.delta`.
    pub struct OutputTextDelta {
        /// The message item.
        req item_id: String = "item_id",
        /// Index in `output`.
        req output_index: u64 = "output_index",
        /// Index in the message's content.
        req content_index: u64 = "content_index",
        /// The text chunk.
        req delta: String = "delta",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
        /// Token log-probabilities, verbatim.
        opt logprobs: crate::Json<'static> = "logprobs",
        /// Side-channel padding (`stream_options.include_obfuscation`).
        opt obfuscation: String = "obfuscation",
    }
}

crate::wire_struct! {
    /// `response.output_text.done`.
    pub struct OutputTextDone {
        /// The message item.
        req item_id: String = "item_id",
        /// Index in `output`.
        req output_index: u64 = "output_index",
        /// Index in the message's content.
        req content_index: u64 = "content_index",
        /// The whole text.
        req text: String = "text",
        /// Token log-probabilities, verbatim.
        opt logprobs: crate::Json<'static> = "logprobs",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_struct! {
    /// `response.mcp_list_tools.*` and `response.mcp_call.{in_progress,completed,failed}`:
    /// progress markers without the item body (`item_id`/`output_index` were missing before
    /// 2025-07-21).
    pub struct McpItemEvent {
        /// The item.
        opt item_id: String = "item_id",
        /// Index in `output`.
        opt output_index: u64 = "output_index",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::union_enum! {
    /// Argument text: a string on the wire; an object in the 2025-05 SDK's old event shape.
    pub enum ArgumentsText {
        str
        /// JSON text.
        Text(String),
        map
        /// A JSON object (old shape).
        Json(crate::Extra),
    }
}

impl ArgumentsText {
    /// The text: the string itself, or the object serialised.
    pub fn to_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ArgumentsText::Text(s) => std::borrow::Cow::Borrowed(s),
            ArgumentsText::Json(map) => std::borrow::Cow::Owned(map.to_json().get().to_owned()),
            ArgumentsText::Other(v) => std::borrow::Cow::Owned(v.to_string()),
        }
    }
}

crate::wire_struct! {
    /// `response.mcp_call_arguments.delta` (and its two older spellings).
    pub struct McpArgumentsDelta {
        /// The `mcp_call` item.
        req item_id: String = "item_id",
        /// Index in `output`.
        opt output_index: u64 = "output_index",
        /// The argument text chunk.
        req delta: ArgumentsText = "delta",
        /// Side-channel padding (undocumented here, present on real deltas).
        opt obfuscation: String = "obfuscation",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_struct! {
    /// `response.mcp_call_arguments.done` (and its two older spellings).
    pub struct McpArgumentsDone {
        /// The `mcp_call` item.
        req item_id: String = "item_id",
        /// Index in `output`.
        opt output_index: u64 = "output_index",
        /// The whole argument text.
        req arguments: ArgumentsText = "arguments",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_struct! {
    /// The stream `error` event.
    pub struct StreamError {
        /// Error code.
        opt code: crate::Json<'static> = "code",
        /// Message.
        req message: String = "message",
        /// The parameter at fault.
        opt param: String = "param",
        /// Sequence number.
        opt sequence_number: u64 = "sequence_number",
    }
}

crate::wire_enum! {
    /// One decoded event of a streamed response. Every other event type (reasoning summaries,
    /// web search progress, future MCP events, `keepalive`) is kept verbatim in `Unknown`.
    pub enum ResponseStreamEvent {
        /// `response.created`.
        Created(ResponseEvent) = "response.created",
        /// `response.in_progress`.
        InProgress(ResponseEvent) = "response.in_progress",
        /// `response.completed`: the final response, authoritative.
        Completed(ResponseEvent) = "response.completed",
        /// `response.failed`.
        Failed(ResponseEvent) = "response.failed",
        /// `response.incomplete`.
        Incomplete(ResponseEvent) = "response.incomplete",
        /// `response.queued`.
        Queued(ResponseEvent) = "response.queued",
        /// `response.output_item.added`.
        OutputItemAdded(OutputItemEvent) = "response.output_item.added",
        /// `response.output_item.done`.
        OutputItemDone(OutputItemEvent) = "response.output_item.done",
        /// `response.content_part.added`.
        ContentPartAdded(ContentPartEvent) = "response.content_part.added",
        /// `response.content_part.done`.
        ContentPartDone(ContentPartEvent) = "response.content_part.done",
        /// `response.output_text.delta`.
        OutputTextDelta(OutputTextDelta) = "response.output_text.delta",
        /// `response.output_text.done`.
        OutputTextDone(OutputTextDone) = "response.output_text.done",
        /// `response.mcp_list_tools.in_progress`.
        McpListToolsInProgress(McpItemEvent) = "response.mcp_list_tools.in_progress",
        /// `response.mcp_list_tools.completed`.
        McpListToolsCompleted(McpItemEvent) = "response.mcp_list_tools.completed",
        /// `response.mcp_list_tools.failed`.
        McpListToolsFailed(McpItemEvent) = "response.mcp_list_tools.failed",
        /// `response.mcp_call.in_progress` (may come twice for one call).
        McpCallInProgress(McpItemEvent) = "response.mcp_call.in_progress",
        /// `response.mcp_call.completed`.
        McpCallCompleted(McpItemEvent) = "response.mcp_call.completed",
        /// `response.mcp_call.failed`.
        McpCallFailed(McpItemEvent) = "response.mcp_call.failed",
        /// `response.mcp_call_arguments.delta` (current name).
        McpCallArgumentsDelta(McpArgumentsDelta) = "response.mcp_call_arguments.delta",
        /// `response.mcp_call_arguments.done` (current name).
        McpCallArgumentsDone(McpArgumentsDone) = "response.mcp_call_arguments.done",
        /// `response.mcp_call.arguments_delta` (SDK name, 2025-05 to 2025-07).
        McpCallArgumentsDeltaSdk2025(McpArgumentsDelta) = "response.mcp_call.arguments_delta",
        /// `response.mcp_call.arguments_done` (SDK name, 2025-05 to 2025-07).
        McpCallArgumentsDoneSdk2025(McpArgumentsDone) = "response.mcp_call.arguments_done",
        /// `response.mcp_call.arguments.delta` (API reference name, 2025-05 to 2025-07).
        McpCallArgumentsDeltaDocs2025(McpArgumentsDelta) = "response.mcp_call.arguments.delta",
        /// `response.mcp_call.arguments.done` (API reference name, 2025-05 to 2025-07).
        McpCallArgumentsDoneDocs2025(McpArgumentsDone) = "response.mcp_call.arguments.done",
        /// `error`.
        Error(StreamError) = "error",
    }
}
