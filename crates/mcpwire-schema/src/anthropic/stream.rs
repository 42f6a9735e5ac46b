//! `MessageStreamEvent`: the server-sent events of a streamed message.

use super::{ContentBlock, ErrorObject, Message, StopReason, Usage};

crate::wire_struct! {
    /// `message_start`.
    pub struct MessageStart {
        /// The message so far (`content` is usually empty, not always).
        req message: Message = "message",
    }
}

crate::wire_struct! {
    /// `content_block_start`.
    pub struct ContentBlockStart {
        /// Block index.
        req index: u64 = "index",
        /// The block (`mcp_tool_result` arrives whole here).
        req content_block: ContentBlock = "content_block",
    }
}

crate::wire_struct! {
    /// `text_delta`.
    pub struct TextDelta {
        /// The text chunk.
        req text: String = "text",
    }
}

crate::wire_struct! {
    /// `input_json_delta`: a chunk of a tool use's input JSON (the first is often `""`).
    pub struct InputJsonDelta {
        /// The chunk.
        req partial_json: String = "partial_json",
    }
}

crate::wire_struct! {
    /// `thinking_delta`.
    pub struct ThinkingDelta {
        /// The chunk.
        req thinking: String = "thinking",
    }
}

crate::wire_struct! {
    /// `signature_delta`.
    pub struct SignatureDelta {
        /// The signature.
        req signature: String = "signature",
    }
}

crate::wire_struct! {
    /// `citations_delta`.
    pub struct CitationsDelta {
        /// The citation.
        req citation: crate::Json<'static> = "citation",
    }
}

crate::wire_enum! {
    /// A `content_block_delta` payload.
    pub enum Delta {
        /// `text_delta`.
        Text(TextDelta) = "text_delta",
        /// `input_json_delta`.
        InputJson(InputJsonDelta) = "input_json_delta",
        /// `thinking_delta`.
        Thinking(ThinkingDelta) = "thinking_delta",
        /// `signature_delta`.
        Signature(SignatureDelta) = "signature_delta",
        /// `citations_delta`.
        Citations(CitationsDelta) = "citations_delta",
    }
}

crate::wire_struct! {
    /// `content_block_delta`.
    pub struct ContentBlockDelta {
        /// Block index.
        req index: u64 = "index",
        /// The delta.
        req delta: Delta = "delta",
    }
}

crate::wire_struct! {
    /// `content_block_stop`.
    pub struct ContentBlockStop {
        /// Block index.
        req index: u64 = "index",
    }
}

crate::wire_struct! {
    /// The `delta` of `message_delta`.
    pub struct MessageDeltaBody {
        /// Why generation stopped.
        opt stop_reason: StopReason = "stop_reason",
        /// The stop sequence hit.
        opt stop_sequence: String = "stop_sequence",
    }
}

crate::wire_struct! {
    /// `message_delta`.
    pub struct MessageDelta {
        /// Stop reason and sequence.
        req delta: MessageDeltaBody = "delta",
        /// Cumulative usage.
        opt usage: Usage = "usage",
    }
}

crate::wire_struct! {
    /// `message_stop`, `ping`: no payload.
    pub struct Empty {}
}

crate::wire_struct! {
    /// The stream `error` event (after HTTP 200).
    pub struct StreamErrorEvent {
        /// The error.
        req error: ErrorObject = "error",
    }
}

crate::wire_enum! {
    /// One decoded event of a streamed message. Unknown event types are kept verbatim.
    pub enum MessageStreamEvent {
        /// `message_start`.
        MessageStart(MessageStart) = "message_start",
        /// `content_block_start`.
        ContentBlockStart(ContentBlockStart) = "content_block_start",
        /// `content_block_delta`.
        ContentBlockDelta(ContentBlockDelta) = "content_block_delta",
        /// `content_block_stop`.
        ContentBlockStop(ContentBlockStop) = "content_block_stop",
        /// `message_delta`.
        MessageDelta(MessageDelta) = "message_delta",
        /// `message_stop`.
        MessageStop(Empty) = "message_stop",
        /// `ping`.
        Ping(Empty) = "ping",
        /// `error`.
        Error(StreamErrorEvent) = "error",
    }
}
