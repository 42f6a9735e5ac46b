//! The mcpwire event model: one vocabulary for hosted MCP activity, whichever vendor ran it.
//!
//! This is a serialisable contract (`docs/event-model.md`): one JSON object per event,
//! tagged by `kind`, each with `vendor`. Fields marked optional are omitted when absent.
//!
//! ```
//! use mcpwire_schema::event::{Event, EventBody, Vendor};
//! let event = Event::new(Vendor::OpenAi, EventBody::TextDelta { index: 2, text: "Hi".into() });
//! assert_eq!(
//!     serde_json::to_string(&event).unwrap(),
//!     r#"{"kind":"text_delta","vendor":"openai","index":2,"text":"Hi"}"#
//! );
//! assert!(event.is_stream_only());
//! ```
//!
//! An event may borrow from the bytes it was read from (`Event<'a>`: the text of a delta, JSON
//! values); [`Event::into_owned`] gives an `Event<'static>` to keep.

// The event structs are plain data that normalisers and consumers construct directly; new
// fields arrive only with a new version of the contract, so they stay exhaustive.
#![allow(clippy::exhaustive_structs)]

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Extra, Json};

/// Which vendor produced an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Vendor {
    /// OpenAI Responses API.
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
}

impl Vendor {
    /// `"openai"` or `"anthropic"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::OpenAi => "openai",
            Vendor::Anthropic => "anthropic",
        }
    }
}

impl std::fmt::Display for Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Vendor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openai" => Ok(Vendor::OpenAi),
            "anthropic" => Ok(Vendor::Anthropic),
            other => Err(format!(
                "unknown vendor `{other}` (expected openai or anthropic)"
            )),
        }
    }
}

/// One normalised event: the vendor and what happened.
///
/// Serialises as one flat object, `kind` first, then `vendor`, then the body's fields.
/// Deserialising an object whose `kind` this version does not know yields
/// [`EventBody::Unknown`], which keeps the whole object and writes it back unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Which vendor produced it.
    pub vendor: Vendor,
    /// What happened.
    pub body: EventBody<'a>,
}

/// Decoding gives an owned event (any `'a`, `'static` included).
impl<'de> Deserialize<'de> for Event<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        // Every field as exact JSON text, in order.
        let mut fields = Extra::deserialize(deserializer)
            .map_err(|e| D::Error::custom(format_args!("an event is a JSON object: {e}")))?;
        let kind = match fields.get("kind") {
            Some(kind) => kind
                .as_str()
                .ok_or_else(|| D::Error::custom("kind: expected a string"))?
                .into_owned(),
            None => return Err(D::Error::missing_field("kind")),
        };
        let vendor: Vendor = match fields.get("vendor") {
            Some(v) => v
                .parse()
                .map_err(|e| D::Error::custom(format_args!("vendor: {e}")))?,
            None => return Err(D::Error::missing_field("vendor")),
        };
        if !EventBody::KINDS.contains(&kind.as_str()) {
            return Ok(Event::new(
                vendor,
                EventBody::Unknown {
                    raw: fields.to_json(),
                },
            ));
        }
        fields.remove("kind");
        fields.remove("vendor");
        // The body in its own (externally tagged) form: `{"<kind>": {fields}}`.
        let mut text = String::with_capacity(kind.len() + 8);
        text.push('{');
        text.push_str(Json::string(&kind).get());
        text.push(':');
        text.push_str(fields.to_json().get());
        text.push('}');
        let body: EventBody<'_> = serde_json::from_str(&text).map_err(D::Error::custom)?;
        Ok(Event::new(vendor, body))
    }
}

impl Serialize for Event<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let EventBody::Unknown { raw } = &self.body {
            return raw.serialize(serializer);
        }
        self.body.serialize(flat::Flat {
            inner: serializer,
            vendor: self.vendor,
        })
    }
}

/// Writes an [`EventBody`] (a struct variant) as one flat map: `kind`, `vendor`, then its
/// fields, straight into the caller's serializer (no intermediate `Value`, so [`Json`] fields
/// are written exactly).
mod flat {
    use serde::Serialize;
    use serde::ser::{self, Error as _, Impossible, SerializeMap, Serializer};

    use super::Vendor;

    pub(super) struct Flat<S> {
        pub(super) inner: S,
        pub(super) vendor: Vendor,
    }

    pub(super) struct FlatFields<M>(M);

    impl<M: SerializeMap> ser::SerializeStructVariant for FlatFields<M> {
        type Ok = M::Ok;
        type Error = M::Error;
        fn serialize_field<T: ?Sized + Serialize>(
            &mut self,
            key: &'static str,
            value: &T,
        ) -> Result<(), M::Error> {
            self.0.serialize_entry(key, value)
        }
        fn end(self) -> Result<M::Ok, M::Error> {
            self.0.end()
        }
    }

    macro_rules! not_a_body {
        ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
            $(fn $method(self, $(_: $arg),*) -> Result<$ret, S::Error> {
                Err(S::Error::custom("an event body is a struct variant"))
            })*
        };
    }

    impl<S: Serializer> Serializer for Flat<S> {
        type Ok = S::Ok;
        type Error = S::Error;
        type SerializeSeq = Impossible<S::Ok, S::Error>;
        type SerializeTuple = Impossible<S::Ok, S::Error>;
        type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
        type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
        type SerializeMap = Impossible<S::Ok, S::Error>;
        type SerializeStruct = Impossible<S::Ok, S::Error>;
        type SerializeStructVariant = FlatFields<S::SerializeMap>;

        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _index: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Self::SerializeStructVariant, S::Error> {
            let mut map = self.inner.serialize_map(Some(len + 2))?;
            map.serialize_entry("kind", variant)?;
            map.serialize_entry("vendor", &self.vendor)?;
            Ok(FlatFields(map))
        }

        not_a_body! {
            serialize_bool(bool) -> S::Ok;
            serialize_i8(i8) -> S::Ok;
            serialize_i16(i16) -> S::Ok;
            serialize_i32(i32) -> S::Ok;
            serialize_i64(i64) -> S::Ok;
            serialize_u8(u8) -> S::Ok;
            serialize_u16(u16) -> S::Ok;
            serialize_u32(u32) -> S::Ok;
            serialize_u64(u64) -> S::Ok;
            serialize_f32(f32) -> S::Ok;
            serialize_f64(f64) -> S::Ok;
            serialize_char(char) -> S::Ok;
            serialize_str(&str) -> S::Ok;
            serialize_bytes(&[u8]) -> S::Ok;
            serialize_none() -> S::Ok;
            serialize_unit() -> S::Ok;
            serialize_unit_struct(&'static str) -> S::Ok;
            serialize_unit_variant(&'static str, u32, &'static str) -> S::Ok;
            serialize_seq(Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(usize) -> Self::SerializeTuple;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
            serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        }

        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("an event body is a struct variant"))
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("an event body is a struct variant"))
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("an event body is a struct variant"))
        }
    }
}

impl<'a> Event<'a> {
    /// An event from `vendor`.
    pub fn new(vendor: Vendor, body: EventBody<'a>) -> Self {
        Event { vendor, body }
    }

    /// The same event, owning everything it borrowed (copied; owned parts are moved).
    pub fn into_owned(self) -> Event<'static> {
        Event {
            vendor: self.vendor,
            body: self.body.into_owned(),
        }
    }

    /// The `kind` string, e.g. `call_result`.
    pub fn kind(&self) -> &'static str {
        self.body.kind()
    }

    /// `true` for the three kinds only a stream produces (`call_started`,
    /// `call_arguments_delta`, `text_delta`), for an `other` event made of an unknown stream
    /// event or delta (`stream_only`), and for an event of an unknown kind that says
    /// `"stream_only": true`; every other event is *settled* and appears in the whole form too.
    pub fn is_stream_only(&self) -> bool {
        match &self.body {
            EventBody::CallStarted { .. }
            | EventBody::CallArgumentsDelta { .. }
            | EventBody::TextDelta { .. } => true,
            EventBody::Other { stream_only, .. } => *stream_only,
            EventBody::Unknown { raw } => {
                raw.field("stream_only").is_some_and(|v| v.get() == "true")
            }
            _ => false,
        }
    }
}

/// A tool as a server described it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo<'a> {
    /// Tool name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the arguments.
    pub input_schema: Json<'a>,
    /// Annotations as the vendor gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Json<'a>>,
}

impl ToolInfo<'_> {
    /// The same tool, owning its JSON.
    pub fn into_owned(self) -> ToolInfo<'static> {
        ToolInfo {
            name: self.name,
            description: self.description,
            input_schema: self.input_schema.into_owned(),
            annotations: self.annotations.map(Json::into_owned),
        }
    }
}

/// Why listing tools failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListError<'a> {
    /// A readable message.
    pub message: String,
    /// The vendor's error value, when it was not a plain string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Json<'a>>,
}

/// The kind of a call failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallErrorKind {
    /// A JSON-RPC error from the server.
    Protocol,
    /// The tool ran and reported an error.
    ToolExecution,
    /// The server could not be reached or answered with an HTTP error.
    Http,
    /// Anything else (a legacy string error, an unknown error type).
    Other,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallError {
    /// The kind.
    pub kind: CallErrorKind,
    /// A JSON-RPC or HTTP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// A message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a response stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stop {
    /// The model finished.
    End,
    /// The response ends with approval requests to answer.
    NeedsApproval,
    /// The server-side tool loop paused (Anthropic `pause_turn`); re-send to continue.
    Paused,
    /// The model called a client tool.
    ToolUse,
    /// Output token limit.
    MaxTokens,
    /// The model refused.
    Refusal,
    /// The response failed.
    Failed,
    /// Anything else; see `stop_raw`.
    Other,
}

/// Token usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

/// An error reported by the vendor mid-response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The vendor's error type (`overloaded_error`, `server_error`, ...).
    #[serde(rename = "type")]
    pub error_type: String,
    /// The message.
    pub message: String,
}

/// What happened, tagged by `kind`.
///
/// Its serde form on its own is externally tagged (`{"text": {...}}`); [`Event`] writes and
/// reads the flat contract form, `kind` and `vendor` first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventBody<'a> {
    /// A response began.
    ResponseStarted {
        /// The vendor's response or message id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_id: Option<String>,
        /// Model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// The vendor listed a server's tools.
    ToolsListed {
        /// Server label / name.
        server: String,
        /// The tools.
        tools: Vec<ToolInfo<'a>>,
        /// The vendor's id of the listing (OpenAI `mcpl_...`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list_id: Option<String>,
    },
    /// The vendor could not list a server's tools.
    ToolsListFailed {
        /// Server label / name.
        server: String,
        /// Why.
        error: ListError<'a>,
        /// The vendor's id of the listing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list_id: Option<String>,
    },
    /// Stream only: a call began; arguments follow.
    CallStarted {
        /// The vendor's call id.
        call_id: String,
        /// Server.
        server: String,
        /// Tool.
        tool: String,
    },
    /// Stream only: a chunk of a call's argument text.
    CallArgumentsDelta {
        /// The call.
        call_id: Cow<'a, str>,
        /// The chunk.
        delta: Cow<'a, str>,
    },
    /// A call with its final arguments.
    Call {
        /// The vendor's call id.
        call_id: String,
        /// Server.
        server: String,
        /// Tool.
        tool: String,
        /// Arguments, when they are valid JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arguments: Option<Json<'a>>,
        /// Argument text, when it is not valid JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arguments_text: Option<String>,
        /// The approval that authorised the call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval_id: Option<String>,
    },
    /// What a call returned.
    CallResult {
        /// The call.
        call_id: String,
        /// Server (absent when the call was in an earlier turn).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server: Option<String>,
        /// Tool (absent when the call was in an earlier turn).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool: Option<String>,
        /// Whether the call failed.
        is_error: bool,
        /// Result content: `{"type":"text","text":...}` parts, other parts verbatim.
        content: Vec<Json<'a>>,
        /// Why it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<CallError>,
    },
    /// The vendor asks the caller to approve a call.
    ApprovalRequested {
        /// The approval request id (OpenAI `mcpr_...`).
        approval_id: String,
        /// Server.
        server: String,
        /// Tool.
        tool: String,
        /// Arguments, when they are valid JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arguments: Option<Json<'a>>,
        /// Argument text, when it is not valid JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arguments_text: Option<String>,
    },
    /// Stream only: a chunk of model text.
    TextDelta {
        /// Output item index (OpenAI) or content block index (Anthropic).
        index: u64,
        /// The chunk.
        text: Cow<'a, str>,
    },
    /// Model text.
    Text {
        /// Output item index (OpenAI) or content block index (Anthropic).
        index: u64,
        /// The text.
        text: String,
    },
    /// The response finished.
    ResponseCompleted {
        /// Why it stopped.
        stop: Stop,
        /// The vendor's own status or stop reason.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop_raw: Option<String>,
        /// Usage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
    },
    /// The vendor reported an error.
    Error {
        /// The error.
        error: ErrorInfo,
    },
    /// Anything without an MCP meaning, verbatim.
    Other {
        /// The vendor's JSON, unchanged.
        raw: Json<'a>,
        /// Output item or content block index, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u64>,
        /// `true` for an unknown stream event or delta: it has no place in the final response,
        /// so it is stream-only (`--settled` drops it). Omitted when `false`.
        #[serde(default, skip_serializing_if = "is_false")]
        stream_only: bool,
    },
    /// An event of a `kind` this version does not know (written by a newer mcpwire): the whole
    /// object, `kind` and `vendor` included, kept as it was and written back unchanged.
    #[serde(skip)]
    Unknown {
        /// The event object.
        raw: Json<'a>,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl EventBody<'_> {
    /// Every `kind` this version knows.
    pub const KINDS: &'static [&'static str] = &[
        "response_started",
        "tools_listed",
        "tools_list_failed",
        "call_started",
        "call_arguments_delta",
        "call",
        "call_result",
        "approval_requested",
        "text_delta",
        "text",
        "response_completed",
        "error",
        "other",
    ];

    /// The `kind` string (`unknown` for [`EventBody::Unknown`], whose own `kind` is in `raw`).
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::ResponseStarted { .. } => "response_started",
            EventBody::ToolsListed { .. } => "tools_listed",
            EventBody::ToolsListFailed { .. } => "tools_list_failed",
            EventBody::CallStarted { .. } => "call_started",
            EventBody::CallArgumentsDelta { .. } => "call_arguments_delta",
            EventBody::Call { .. } => "call",
            EventBody::CallResult { .. } => "call_result",
            EventBody::ApprovalRequested { .. } => "approval_requested",
            EventBody::TextDelta { .. } => "text_delta",
            EventBody::Text { .. } => "text",
            EventBody::ResponseCompleted { .. } => "response_completed",
            EventBody::Error { .. } => "error",
            EventBody::Other { .. } => "other",
            EventBody::Unknown { .. } => "unknown",
        }
    }

    /// The same body, owning everything it borrowed.
    pub fn into_owned(self) -> EventBody<'static> {
        fn own(text: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(text.into_owned())
        }
        match self {
            EventBody::ResponseStarted { response_id, model } => {
                EventBody::ResponseStarted { response_id, model }
            }
            EventBody::ToolsListed {
                server,
                tools,
                list_id,
            } => EventBody::ToolsListed {
                server,
                tools: tools.into_iter().map(ToolInfo::into_owned).collect(),
                list_id,
            },
            EventBody::ToolsListFailed {
                server,
                error,
                list_id,
            } => EventBody::ToolsListFailed {
                server,
                error: ListError {
                    message: error.message,
                    raw: error.raw.map(Json::into_owned),
                },
                list_id,
            },
            EventBody::CallStarted {
                call_id,
                server,
                tool,
            } => EventBody::CallStarted {
                call_id,
                server,
                tool,
            },
            EventBody::CallArgumentsDelta { call_id, delta } => EventBody::CallArgumentsDelta {
                call_id: own(call_id),
                delta: own(delta),
            },
            EventBody::Call {
                call_id,
                server,
                tool,
                arguments,
                arguments_text,
                approval_id,
            } => EventBody::Call {
                call_id,
                server,
                tool,
                arguments: arguments.map(Json::into_owned),
                arguments_text,
                approval_id,
            },
            EventBody::CallResult {
                call_id,
                server,
                tool,
                is_error,
                content,
                error,
            } => EventBody::CallResult {
                call_id,
                server,
                tool,
                is_error,
                content: content.into_iter().map(Json::into_owned).collect(),
                error,
            },
            EventBody::ApprovalRequested {
                approval_id,
                server,
                tool,
                arguments,
                arguments_text,
            } => EventBody::ApprovalRequested {
                approval_id,
                server,
                tool,
                arguments: arguments.map(Json::into_owned),
                arguments_text,
            },
            EventBody::TextDelta { index, text } => EventBody::TextDelta {
                index,
                text: own(text),
            },
            EventBody::Text { index, text } => EventBody::Text { index, text },
            EventBody::ResponseCompleted {
                stop,
                stop_raw,
                usage,
            } => EventBody::ResponseCompleted {
                stop,
                stop_raw,
                usage,
            },
            EventBody::Error { error } => EventBody::Error { error },
            EventBody::Other {
                raw,
                index,
                stream_only,
            } => EventBody::Other {
                raw: raw.into_owned(),
                index,
                stream_only,
            },
            EventBody::Unknown { raw } => EventBody::Unknown {
                raw: raw.into_owned(),
            },
        }
    }
}

/// Parses argument text: a JSON value when it is valid JSON (`arguments`), else the text
/// (`arguments_text`). Empty text means no arguments: `{}`.
pub fn split_arguments(text: &str) -> (Option<Json<'static>>, Option<String>) {
    if text.trim().is_empty() {
        return (
            Some(Json::from(Value::Object(serde_json::Map::new()))),
            None,
        );
    }
    match Json::from_text(text) {
        Ok(value) => (Some(value), None),
        Err(_) => (None, Some(text.to_owned())),
    }
}
