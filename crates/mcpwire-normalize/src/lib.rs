//! Both vendors' hosted-MCP output, whole or streamed, mapped onto one event model
//! ([`mcpwire_schema::event`]). Pure: no IO, no async runtime; depends only on
//! `mcpwire-schema`.
//!
//! * Whole responses: [`openai::normalize_response`], [`anthropic::normalize_message`].
//! * Streams, one decoded event at a time: [`openai::StreamNormalizer`],
//!   [`anthropic::StreamNormalizer`]; from raw bytes with vendor detection: [`ByteNormalizer`].
//! * Rebuilding the final response from a stream: [`openai::Accumulator`],
//!   [`anthropic::Accumulator`].
//!
//! The invariant: the *settled* events of a stream (all but `call_started`,
//! `call_arguments_delta`, `text_delta` and `other` events with `stream_only`, made of unknown
//! stream events or deltas) equal the events of the final response, in the same order.
//!
//! ```
//! use mcpwire_normalize::ByteNormalizer;
//! let sse = concat!(
//!     "event: message_start\n",
//!     "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[]}}\n\n",
//!     "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"mcp_tool_use\",\"id\":\"mcptoolu_1\",\"name\":\"echo\",\"server_name\":\"demo\",\"input\":{}}}\n\n",
//!     "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"text\\\":\\\"hi\\\"}\"}}\n\n",
//!     "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
//! );
//! let mut normalizer = ByteNormalizer::new(None);
//! let mut events = Vec::new();
//! normalizer.feed(sse.as_bytes(), &mut events).unwrap();
//! let kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
//! assert_eq!(kinds, ["response_started", "call_started", "call_arguments_delta", "call"]);
//! ```

/// The README's examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

pub mod anthropic;
mod bytes;
pub mod openai;
mod view;

pub use bytes::{ByteNormalizer, InputFormat, Sniffer, normalize_whole};
use mcpwire_schema::decode::DecodeError;
use mcpwire_schema::event::{Event, Vendor};
use mcpwire_schema::sse::SseError;

/// Why normalisation stopped. Events produced before the fault are still returned to the caller
/// by every API here (they come out before the error does).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The byte stream is not valid SSE. (The cause is part of the message, not a `source`,
    /// so that printing the error chain shows it once.)
    #[error("stream: {0}")]
    Sse(SseError),
    /// An event's `data` is not JSON.
    #[error("event {index}: data is not valid JSON: {message}")]
    Json {
        /// Position of the event in the stream (0-based).
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// A known event, item or block type with a malformed body.
    #[error("event {index}: {error}")]
    Decode {
        /// Position of the event in the stream, or 0 for a whole response.
        index: usize,
        /// Where and why (part of the message, not a `source`: printed once).
        error: DecodeError,
    },
    /// The payload is neither vendor's response, message or stream.
    #[error("cannot tell which vendor produced this: {0}")]
    UnknownPayload(String),
    /// The stream ended before its final event (`response.completed` / `message_stop`).
    #[error("stream ended before {expected}")]
    Incomplete {
        /// The event that never came.
        expected: &'static str,
    },
}

impl From<SseError> for Error {
    fn from(err: SseError) -> Self {
        Error::Sse(err)
    }
}

/// Only the settled events (drops `call_started`, `call_arguments_delta`, `text_delta`, and the
/// `other` events made of unknown stream events or deltas, marked `stream_only`).
pub fn settled<'a>(events: impl IntoIterator<Item = Event<'a>>) -> Vec<Event<'a>> {
    events.into_iter().filter(|e| !e.is_stream_only()).collect()
}

/// Either vendor's stream normaliser.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum StreamNormalizer {
    /// OpenAI Responses.
    OpenAi(openai::StreamNormalizer),
    /// Anthropic Messages.
    Anthropic(anthropic::StreamNormalizer),
}

impl StreamNormalizer {
    /// A normaliser for `vendor`.
    pub fn new(vendor: Vendor) -> Self {
        match vendor {
            Vendor::Anthropic => StreamNormalizer::Anthropic(anthropic::StreamNormalizer::new()),
            _ => StreamNormalizer::OpenAi(openai::StreamNormalizer::new()),
        }
    }

    /// Decodes one SSE `data` payload and appends the events it completes to `out`. The events
    /// may borrow from `data` (delta text, tool outputs, schemas, unknown items): use
    /// [`Event::into_owned`] to keep one longer.
    pub fn push_json<'a>(
        &mut self,
        data: &'a [u8],
        index: usize,
        out: &mut Vec<Event<'a>>,
    ) -> Result<(), Error> {
        self.push_json_with(data, index, out, None)
    }

    /// [`push_json`](Self::push_json) that also feeds `accumulator` with the same decoded event
    /// (one decode for both), when the accumulator is this vendor's.
    pub fn push_json_with<'a>(
        &mut self,
        data: &'a [u8],
        index: usize,
        out: &mut Vec<Event<'a>>,
        accumulator: Option<&mut Accumulator>,
    ) -> Result<(), Error> {
        // The event's bytes are checked for UTF-8 once, here; the views and the typed decode
        // below read the checked text (bytes that are not UTF-8 go to the byte decoder, which
        // says where the fault is).
        let text = simdutf8::basic::from_utf8(data).ok();
        // Without an accumulator, the hot events are read through borrowed views (`view.rs`);
        // whatever a view does not take is decoded in full below.
        if accumulator.is_none()
            && let Some(text) = text
        {
            let viewed = match self {
                StreamNormalizer::OpenAi(n) => n.push_view(text, out),
                StreamNormalizer::Anthropic(n) => n.push_view(text, out),
            };
            if viewed {
                return Ok(());
            }
        }
        fn typed<T: serde::de::DeserializeOwned>(
            data: &[u8],
            text: Option<&str>,
            index: usize,
        ) -> Result<T, Error> {
            match text {
                Some(text) => mcpwire_schema::decode::from_str(text),
                None => mcpwire_schema::decode::from_slice(data),
            }
            .map_err(|error| Error::Decode { index, error })
        }
        match self {
            StreamNormalizer::OpenAi(n) => {
                let event = typed(data, text, index)?;
                if let Some(Accumulator::OpenAi(acc)) = accumulator {
                    acc.push(&event);
                }
                n.push_owned(event, out);
            }
            StreamNormalizer::Anthropic(n) => {
                let event = typed(data, text, index)?;
                if let Some(Accumulator::Anthropic(acc)) = accumulator {
                    acc.push(&event);
                }
                n.push_owned(event, out);
            }
        }
        Ok(())
    }

    /// An empty accumulator of this vendor's final response, for
    /// [`push_json_with`](Self::push_json_with).
    pub fn accumulator(&self) -> Accumulator {
        match self {
            StreamNormalizer::OpenAi(_) => Accumulator::OpenAi(openai::Accumulator::new()),
            StreamNormalizer::Anthropic(_) => Accumulator::Anthropic(anthropic::Accumulator::new()),
        }
    }

    /// Ends the stream: flushes what is held, or reports that the final event never came.
    pub fn finish(&mut self, out: &mut Vec<Event<'_>>) -> Result<(), Error> {
        match self {
            StreamNormalizer::OpenAi(n) => n.finish(out),
            StreamNormalizer::Anthropic(n) => n.finish(out),
        }
    }
}

/// Either vendor's final response: the OpenAI `Response` or the Anthropic `Message`, read whole
/// or rebuilt from a stream by an [`Accumulator`]. Serialises as the vendor's JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum FinalResponse {
    /// OpenAI Responses.
    OpenAi(mcpwire_schema::openai::Response),
    /// Anthropic Messages.
    Anthropic(mcpwire_schema::anthropic::Message),
}

/// Either vendor's accumulator, fed by [`StreamNormalizer::push_json_with`].
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Accumulator {
    /// OpenAI Responses.
    OpenAi(openai::Accumulator),
    /// Anthropic Messages.
    Anthropic(anthropic::Accumulator),
}

impl Accumulator {
    /// The final response, if the stream carried enough of it.
    pub fn finish(self) -> Option<FinalResponse> {
        match self {
            Accumulator::OpenAi(acc) => acc.finish().map(FinalResponse::OpenAi),
            Accumulator::Anthropic(acc) => acc.finish().map(FinalResponse::Anthropic),
        }
    }
}

/// The public error type can cross threads and be boxed as `dyn Error + Send + Sync`.
const _: () = {
    const fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<Error>();
};
