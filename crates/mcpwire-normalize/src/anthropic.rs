//! Anthropic Messages (MCP connector, every beta): a message or its stream, to events.
//!
//! Quirks absorbed (each has a test named after it in `tests/quirks.rs`):
//! * the first `input_json_delta` is often `""`: empty deltas produce no event;
//! * no deltas at all means the input is `{}`;
//! * `mcp_tool_result` arrives whole in `content_block_start`;
//! * a response may begin with an `mcp_tool_result` for a call made in the previous turn: pass a
//!   [`Context`] of earlier turns to name its server and tool, else they are absent (never
//!   guessed);
//! * `message_start.message.content` may be non-empty: those blocks are settled at once;
//! * JSON padded with spaces, `ping` events, mid-stream `error` events after HTTP 200;
//! * `mcp_tool_result.content` as a string or as a list of text blocks.
//!
//! Out-of-order input never panics: a delta or stop for a block that never started is passed
//! through as `other` (delta) or ignored (stop). Unknown event types and deltas of an unknown
//! type become `other` events with `stream_only` (they have no place in the final message).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use mcpwire_schema::Maybe;
use mcpwire_schema::anthropic::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ContentPart, Delta, McpToolUse, Message,
    MessageContent, MessageParam, MessageStreamEvent, StopReason, ToolResultContent,
    Usage as WireUsage,
};
use mcpwire_schema::event::{
    CallError, CallErrorKind, ErrorInfo, Event, EventBody, Stop, ToolInfo, Usage, Vendor,
    split_arguments,
};
use mcpwire_schema::{Extra, Json};
use serde_json::Value;

use crate::openai::{content_parts, fields_part, first_text, text_part};
use crate::{Error, view};

fn event(body: EventBody<'_>) -> Event<'_> {
    Event::new(Vendor::Anthropic, body)
}

/// What earlier turns said: which server and tool each `mcp_tool_use` id belongs to, so that a
/// result for a call made in an earlier turn can be attributed.
#[derive(Debug, Clone, Default)]
pub struct Context {
    uses: HashMap<String, (String, String)>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// The `mcp_tool_use` blocks of earlier messages (the request's history).
    pub fn from_messages(messages: &[MessageParam]) -> Self {
        let mut context = Context::new();
        for message in messages {
            if let MessageContent::Blocks(blocks) = &message.content {
                for block in blocks {
                    context.observe(block);
                }
            }
        }
        context
    }

    /// Records an `mcp_tool_use` block.
    pub fn observe(&mut self, block: &ContentBlock) {
        if let ContentBlock::McpToolUse(McpToolUse {
            id,
            name,
            server_name,
            ..
        }) = block
        {
            self.uses
                .insert(id.clone(), (server_name.clone(), name.clone()));
        }
    }

    fn lookup(&self, id: &str) -> (Option<String>, Option<String>) {
        match self.uses.get(id) {
            Some((server, tool)) => (Some(server.clone()), Some(tool.clone())),
            None => (None, None),
        }
    }
}

/// Normalises a whole message with no earlier turns.
///
/// ```
/// let raw = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude","stop_reason":"end_turn",
///   "content":[{"type":"mcp_tool_use","id":"mcptoolu_1","name":"echo","server_name":"demo","input":{"x":1}},
///              {"type":"mcp_tool_result","tool_use_id":"mcptoolu_1","is_error":false,
///               "content":[{"type":"text","text":"1"}]}],
///   "usage":{"input_tokens":10,"output_tokens":5}}"#;
/// let message = mcpwire_schema::decode::from_str(raw).unwrap();
/// let events = mcpwire_normalize::anthropic::normalize_message(&message);
/// let kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
/// assert_eq!(kinds, ["response_started", "call", "call_result", "response_completed"]);
/// ```
pub fn normalize_message(message: &Message) -> Vec<Event<'static>> {
    normalize_message_with(message, &Context::new())
}

/// Normalises a whole message, attributing results of earlier calls with `context`.
pub fn normalize_message_with(message: &Message, context: &Context) -> Vec<Event<'static>> {
    let mut context = context.clone();
    let mut out = vec![started(message)];
    for (index, block) in message.content.iter().enumerate() {
        settle_block(index as u64, block, &mut context, &mut out);
    }
    out.push(completed(message.stop_reason.get(), message.usage.get()));
    out
}

fn started(message: &Message) -> Event<'static> {
    event(EventBody::ResponseStarted {
        response_id: Some(message.id.clone()),
        model: message.model.get().cloned(),
    })
}

fn completed(stop_reason: Option<&StopReason>, usage: Option<&WireUsage>) -> Event<'static> {
    let stop = match stop_reason {
        Some(StopReason::EndTurn) => Stop::End,
        Some(StopReason::MaxTokens) => Stop::MaxTokens,
        Some(StopReason::ToolUse) => Stop::ToolUse,
        Some(StopReason::PauseTurn) => Stop::Paused,
        Some(StopReason::Refusal) => Stop::Refusal,
        _ => Stop::Other,
    };
    let usage = usage.and_then(|u| match (u.input_tokens.get(), u.output_tokens.get()) {
        (Some(&input_tokens), Some(&output_tokens)) => Some(Usage {
            input_tokens,
            output_tokens,
        }),
        _ => None,
    });
    event(EventBody::ResponseCompleted {
        stop,
        stop_raw: stop_reason.map(|s| s.as_str().to_owned()),
        usage,
    })
}

/// The settled events of one content block.
pub fn settle_block(
    index: u64,
    block: &ContentBlock,
    context: &mut Context,
    out: &mut Vec<Event<'_>>,
) {
    settle_block_owned(index, block.clone(), context, out);
}

/// [`settle_block`], taking the block: its strings and values move into the events.
pub fn settle_block_owned(
    index: u64,
    block: ContentBlock,
    context: &mut Context,
    out: &mut Vec<Event<'_>>,
) {
    match block {
        ContentBlock::Text(text) => out.push(event(EventBody::Text {
            index,
            text: text.text,
        })),
        ContentBlock::McpToolUse(tool_use) => {
            context.uses.insert(
                tool_use.id.clone(),
                (tool_use.server_name.clone(), tool_use.name.clone()),
            );
            let (arguments, arguments_text) = match tool_use.input.as_str() {
                // An input whose streamed JSON did not parse is kept as its text.
                Some(text) => split_arguments(&text),
                None => (Some(tool_use.input), None),
            };
            out.push(event(EventBody::Call {
                call_id: tool_use.id,
                server: tool_use.server_name,
                tool: tool_use.name,
                arguments,
                arguments_text,
                approval_id: None,
            }));
        }
        ContentBlock::McpToolResult(result) => {
            let (server, tool) = context.lookup(&result.tool_use_id);
            let content = match result.content {
                Maybe::Value(ToolResultContent::Text(text)) => vec![text_part(&text)],
                Maybe::Value(ToolResultContent::Blocks(blocks)) => blocks
                    .into_iter()
                    .map(|part| match part {
                        ContentPart::Fields(fields) => fields_part(fields),
                        ContentPart::Other(raw) => raw,
                        other => Json::from_serialize(&other).unwrap_or_default(),
                    })
                    .collect(),
                Maybe::Value(ToolResultContent::Other(raw)) => content_parts(&raw),
                _ => Vec::new(),
            };
            let is_error = result.is_error.get().copied().unwrap_or(false);
            let error = is_error.then(|| CallError {
                kind: CallErrorKind::ToolExecution,
                code: None,
                message: first_text(&content),
            });
            out.push(event(EventBody::CallResult {
                call_id: result.tool_use_id,
                server,
                tool,
                is_error,
                content,
                error,
            }));
        }
        ContentBlock::McpToolListing(listing) => {
            let tools = listing
                .tools
                .into_iter()
                .map(|t| ToolInfo {
                    name: t.name,
                    description: t.description.into_option(),
                    input_schema: t.input_schema,
                    annotations: None,
                })
                .collect();
            out.push(event(EventBody::ToolsListed {
                server: listing.mcp_server_name,
                tools,
                list_id: None,
            }));
        }
        ContentBlock::Unknown(raw) => out.push(event(EventBody::Other {
            raw,
            index: Some(index),
            stream_only: false,
        })),
        other => out.push(event(EventBody::Other {
            raw: Json::from_serialize(&other).unwrap_or_default(),
            index: Some(index),
            stream_only: false,
        })),
    }
}

/// A block being streamed: its start and what the deltas added.
#[derive(Debug)]
struct OpenBlock {
    block: ContentBlock,
    /// The fields of a block of a type we do not model (thinking, ...), for deltas to edit.
    fields: Option<Extra>,
    /// Text appended to fields of `fields` (`thinking`, `text`), kept apart so that each delta
    /// is an append, not a rewrite of the field.
    appended: Vec<(&'static str, String)>,
    /// A field of `fields` was set by a delta.
    changed: bool,
    json: String,
    saw_json: bool,
}

impl OpenBlock {
    fn new(block: ContentBlock) -> Self {
        let fields = match &block {
            ContentBlock::Unknown(raw) => raw.as_object(),
            _ => None,
        };
        OpenBlock {
            block,
            fields,
            appended: Vec::new(),
            changed: false,
            json: String::new(),
            saw_json: false,
        }
    }

    /// Appends to the string field `key` of an unknown block.
    fn append(&mut self, key: &'static str, text: &str) {
        let Some(fields) = &self.fields else {
            return;
        };
        match self.appended.iter_mut().find(|(k, _)| *k == key) {
            Some((_, so_far)) => so_far.push_str(text),
            None => {
                let mut so_far = fields
                    .get(key)
                    .and_then(|v| v.as_str().map(|s| s.into_owned()))
                    .unwrap_or_default();
                so_far.push_str(text);
                self.appended.push((key, so_far));
            }
        }
    }

    /// Applies a delta the way the SDK accumulators do.
    fn apply(&mut self, delta: &DeltaRef<'_>) {
        match (delta, &mut self.block) {
            (DeltaRef::Text(d), ContentBlock::Text(text)) => text.text.push_str(d),
            (DeltaRef::InputJson(d), _) => {
                self.saw_json = true;
                self.json.push_str(d);
            }
            (DeltaRef::Citation(citation), ContentBlock::Text(text)) => {
                let mut list = text
                    .citations
                    .get()
                    .and_then(Json::as_array)
                    .unwrap_or_default();
                list.push(citation.clone().into_owned());
                text.citations = Maybe::Value(Json::from_serialize(&list).unwrap_or_default());
            }
            (DeltaRef::Thinking(d), ContentBlock::Unknown(_)) => self.append("thinking", d),
            (DeltaRef::Signature(d), ContentBlock::Unknown(_)) => {
                if let Some(fields) = &mut self.fields {
                    fields.insert("signature", Json::string(d));
                    self.changed = true;
                }
            }
            (DeltaRef::Text(d), ContentBlock::Unknown(_)) => self.append("text", d),
            _ => {}
        }
    }

    /// The stream-only event of a delta applied to this block, if it has one: text of a text
    /// block, a non-empty chunk of a tool use's input.
    fn delta_event<'a>(&self, index: u64, delta: DeltaRef<'a>) -> Option<Event<'a>> {
        match (delta, &self.block) {
            (DeltaRef::Text(text), ContentBlock::Text(_)) => {
                Some(event(EventBody::TextDelta { index, text }))
            }
            (DeltaRef::InputJson(chunk), ContentBlock::McpToolUse(tool_use))
                if !chunk.is_empty() =>
            {
                Some(event(EventBody::CallArgumentsDelta {
                    call_id: Cow::Owned(tool_use.id.clone()),
                    delta: chunk,
                }))
            }
            _ => None,
        }
    }

    /// The finished block: tool-use input parsed from the streamed JSON (`{}` when it was
    /// empty; the raw text as a JSON string when it does not parse).
    fn finish(mut self) -> ContentBlock {
        let input = self.saw_json.then(|| {
            if self.json.trim().is_empty() {
                Json::from(Value::Object(serde_json::Map::new()))
            } else {
                Json::from_text(&self.json).unwrap_or_else(|_| Json::string(&self.json))
            }
        });
        if let ContentBlock::McpToolUse(tool_use) = &mut self.block
            && let Some(input) = input.clone()
        {
            tool_use.input = input;
        }
        if let Some(mut fields) = self.fields.take()
            && (input.is_some() || !self.appended.is_empty() || self.changed)
        {
            for (key, text) in std::mem::take(&mut self.appended) {
                fields.insert(key, Json::string(&text));
            }
            if let Some(input) = input {
                fields.insert("input", input);
            }
            self.block = ContentBlock::Unknown(fields.to_json());
        }
        self.block
    }
}

/// A known delta, its text borrowed (from the typed delta or from the event's text).
enum DeltaRef<'a> {
    Text(Cow<'a, str>),
    InputJson(Cow<'a, str>),
    Thinking(Cow<'a, str>),
    Signature(Cow<'a, str>),
    Citation(Json<'a>),
}

impl<'a> DeltaRef<'a> {
    /// The delta of a typed event; `None` for one of an unknown type.
    fn of(delta: &'a Delta) -> Option<DeltaRef<'a>> {
        Some(match delta {
            Delta::Text(d) => DeltaRef::Text(Cow::Borrowed(&d.text)),
            Delta::InputJson(d) => DeltaRef::InputJson(Cow::Borrowed(&d.partial_json)),
            Delta::Thinking(d) => DeltaRef::Thinking(Cow::Borrowed(&d.thinking)),
            Delta::Signature(d) => DeltaRef::Signature(Cow::Borrowed(&d.signature)),
            Delta::Citations(d) => DeltaRef::Citation(d.citation.clone()),
            _ => return None,
        })
    }

    /// A `content_block_delta` read through its view in one pass: (block index, delta);
    /// `None` when the view does not take it (the typed decode then does).
    fn read(data: &'a str) -> Option<(u64, DeltaRef<'a>)> {
        if let Some((index, tag, text)) = view::scan_content_block_delta(data) {
            let delta = match tag {
                "text_delta" => DeltaRef::Text(text),
                "input_json_delta" => DeltaRef::InputJson(text),
                "thinking_delta" => DeltaRef::Thinking(text),
                _ => DeltaRef::Signature(text),
            };
            return Some((index, delta));
        }
        fn of<'a, T: serde::Deserialize<'a> + view::Tag>(data: &'a str) -> Option<(u64, T)> {
            let d: view::ContentBlockDelta<T> = view::read(data)?;
            Some((d.index, d.delta.0))
        }
        Some(match view::nested_tag(data, &view::DELTA)? {
            "text_delta" => {
                let (i, d) = of::<view::TextDelta<'a>>(data)?;
                (i, DeltaRef::Text(d.text))
            }
            "input_json_delta" => {
                let (i, d) = of::<view::InputJsonDelta<'a>>(data)?;
                (i, DeltaRef::InputJson(d.partial_json))
            }
            "thinking_delta" => {
                let (i, d) = of::<view::ThinkingDelta<'a>>(data)?;
                (i, DeltaRef::Thinking(d.thinking))
            }
            "signature_delta" => {
                let (i, d) = of::<view::SignatureDelta<'a>>(data)?;
                (i, DeltaRef::Signature(d.signature))
            }
            _ => return None,
        })
    }

    /// The same delta owning its text (`Cow::Owned` of what was borrowed from a typed delta).
    fn into_owned(self) -> DeltaRef<'static> {
        fn own(text: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(text.into_owned())
        }
        match self {
            DeltaRef::Text(t) => DeltaRef::Text(own(t)),
            DeltaRef::InputJson(t) => DeltaRef::InputJson(own(t)),
            DeltaRef::Thinking(t) => DeltaRef::Thinking(own(t)),
            DeltaRef::Signature(t) => DeltaRef::Signature(own(t)),
            DeltaRef::Citation(c) => DeltaRef::Citation(c.into_owned()),
        }
    }
}

/// An `other` event for a stream event or delta with no place in the final message.
fn stream_other(ev: &MessageStreamEvent, index: Option<u64>) -> Event<'static> {
    event(EventBody::Other {
        raw: Json::from_serialize(ev).unwrap_or_default(),
        index,
        stream_only: true,
    })
}

/// Merges the usage of a `message_delta` (cumulative) into the running usage.
fn merge_usage(into: &mut WireUsage, from: &WireUsage) {
    if !from.input_tokens.is_absent() {
        into.input_tokens = from.input_tokens.clone();
    }
    if !from.output_tokens.is_absent() {
        into.output_tokens = from.output_tokens.clone();
    }
    if !from.cache_creation_input_tokens.is_absent() {
        into.cache_creation_input_tokens = from.cache_creation_input_tokens.clone();
    }
    if !from.cache_read_input_tokens.is_absent() {
        into.cache_read_input_tokens = from.cache_read_input_tokens.clone();
    }
    if !from.server_tool_use.is_absent() {
        into.server_tool_use = from.server_tool_use.clone();
    }
    for (k, v) in from.extra.iter() {
        into.extra.insert(k, v.clone());
    }
}

/// The incremental normaliser: feed decoded events with [`push`](Self::push), end with
/// [`finish`](Self::finish). Holds only the blocks being streamed and the tool-use ids seen.
#[derive(Debug, Default)]
pub struct StreamNormalizer {
    open: BTreeMap<u64, OpenBlock>,
    context: Context,
    stop_reason: Option<StopReason>,
    usage: WireUsage,
    started: bool,
    completed: bool,
}

impl StreamNormalizer {
    /// A normaliser at the start of a stream, with no earlier turns.
    pub fn new() -> Self {
        StreamNormalizer::default()
    }

    /// A normaliser that attributes results of calls made in earlier turns.
    pub fn with_context(context: Context) -> Self {
        StreamNormalizer {
            context,
            ..StreamNormalizer::default()
        }
    }

    /// `true` once `message_stop` has been seen.
    pub fn is_complete(&self) -> bool {
        self.completed
    }

    /// [`push`](Self::push), taking the event: its strings and values move into the events
    /// instead of being copied (what [`crate::ByteNormalizer`] uses).
    pub fn push_owned(&mut self, ev: MessageStreamEvent, out: &mut Vec<Event<'_>>) {
        use MessageStreamEvent as E;
        match ev {
            E::MessageStart(start) => {
                let mut message = start.message;
                self.started = true;
                out.push(started(&message));
                if let Some(usage) = message.usage.get() {
                    self.usage = usage.clone();
                }
                self.stop_reason = message.stop_reason.get().cloned();
                for (index, block) in std::mem::take(&mut message.content).into_iter().enumerate() {
                    settle_block_owned(index as u64, block, &mut self.context, out);
                }
            }
            E::ContentBlockStart(start) => self.block_start(start.index, start.content_block, out),
            E::ContentBlockDelta(d)
                if self.open.contains_key(&d.index) && !matches!(d.delta, Delta::Unknown(_)) =>
            {
                let ContentBlockDelta { index, delta, .. } = d;
                if let Some(delta) = DeltaRef::of(&delta) {
                    self.delta(index, delta.into_owned(), out);
                }
            }
            other => self.push(&other, out),
        }
    }

    /// A known delta for a block: applied, and its stream-only event, if any, goes to `out`.
    fn delta<'a>(&mut self, index: u64, delta: DeltaRef<'a>, out: &mut Vec<Event<'a>>) -> bool {
        let Some(open) = self.open.get_mut(&index) else {
            return false;
        };
        open.apply(&delta);
        if let Some(event) = open.delta_event(index, delta) {
            out.push(event);
        }
        true
    }

    /// The fast path for `content_block_delta` (most events of a stream), read through its
    /// view: `false` when the view does not take it, or it is not a known delta for an open
    /// block (the caller then decodes it fully).
    pub(crate) fn push_view<'a>(&mut self, data: &'a str, out: &mut Vec<Event<'a>>) -> bool {
        if !view::tagged(data, "content_block_delta") {
            return false;
        }
        match DeltaRef::read(data) {
            Some((index, delta)) => self.delta(index, delta, out),
            None => false,
        }
    }

    fn block_start(&mut self, index: u64, block: ContentBlock, out: &mut Vec<Event<'_>>) {
        if let ContentBlock::McpToolUse(tool_use) = &block {
            out.push(event(EventBody::CallStarted {
                call_id: tool_use.id.clone(),
                server: tool_use.server_name.clone(),
                tool: tool_use.name.clone(),
            }));
        }
        if let Some(previous) = self.open.insert(index, OpenBlock::new(block)) {
            // A second start for an open index: the first block is settled as it stands.
            settle_block_owned(index, previous.finish(), &mut self.context, out);
        }
    }

    /// Normalises one event, appending the events it completes to `out`.
    pub fn push(&mut self, ev: &MessageStreamEvent, out: &mut Vec<Event<'_>>) {
        use MessageStreamEvent as E;
        match ev {
            E::MessageStart(start) => {
                self.started = true;
                out.push(started(&start.message));
                if let Some(usage) = start.message.usage.get() {
                    self.usage = usage.clone();
                }
                self.stop_reason = start.message.stop_reason.get().cloned();
                for (index, block) in start.message.content.iter().enumerate() {
                    settle_block(index as u64, block, &mut self.context, out);
                }
            }
            E::ContentBlockStart(ContentBlockStart {
                index,
                content_block,
                ..
            }) => self.block_start(*index, content_block.clone(), out),
            E::ContentBlockDelta(d) if matches!(d.delta, Delta::Unknown(_)) => {
                // A delta of an unknown type: passed through, stream-only.
                out.push(stream_other(ev, Some(d.index)));
            }
            E::ContentBlockDelta(d) => {
                let known = DeltaRef::of(&d.delta)
                    .is_some_and(|delta| self.delta(d.index, delta.into_owned(), out));
                if !known {
                    out.push(stream_other(ev, Some(d.index)));
                }
            }
            E::ContentBlockStop(stop) => {
                if let Some(open) = self.open.remove(&stop.index) {
                    settle_block_owned(stop.index, open.finish(), &mut self.context, out);
                }
            }
            E::MessageDelta(delta) => {
                if let Some(reason) = delta.delta.stop_reason.get() {
                    self.stop_reason = Some(reason.clone());
                }
                if let Some(usage) = delta.usage.get() {
                    merge_usage(&mut self.usage, usage);
                }
            }
            E::MessageStop(_) => {
                self.flush(out);
                out.push(completed(self.stop_reason.as_ref(), Some(&self.usage)));
                self.completed = true;
            }
            E::Ping(_) => {}
            E::Error(e) => out.push(event(EventBody::Error {
                error: ErrorInfo {
                    error_type: e.error.error_type.clone(),
                    message: e.error.message.clone(),
                },
            })),
            // An unknown event: it has no place in the final message.
            other => out.push(stream_other(other, None)),
        }
    }

    fn flush(&mut self, out: &mut Vec<Event<'_>>) {
        for (index, open) in std::mem::take(&mut self.open) {
            settle_block_owned(index, open.finish(), &mut self.context, out);
        }
    }

    /// Ends the stream. Blocks still open are settled as they stand; an error says
    /// `message_stop` never came.
    pub fn finish(&mut self, out: &mut Vec<Event<'_>>) -> Result<(), Error> {
        if self.completed {
            return Ok(());
        }
        self.flush(out);
        Err(Error::Incomplete {
            expected: "message_stop",
        })
    }
}

/// Rebuilds the final message from a stream, as the SDKs' accumulators do.
#[derive(Debug, Default)]
pub struct Accumulator {
    message: Option<Message>,
    open: BTreeMap<u64, OpenBlock>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Accumulator::default()
    }

    /// Takes one event into account.
    pub fn push(&mut self, ev: &MessageStreamEvent) {
        use MessageStreamEvent as E;
        match ev {
            E::MessageStart(start) => self.message = Some(start.message.clone()),
            E::ContentBlockStart(start) => {
                self.open
                    .insert(start.index, OpenBlock::new(start.content_block.clone()));
            }
            E::ContentBlockDelta(d) => {
                if let (Some(open), Some(delta)) =
                    (self.open.get_mut(&d.index), DeltaRef::of(&d.delta))
                {
                    open.apply(&delta);
                }
            }
            E::ContentBlockStop(stop) => {
                if let (Some(open), Some(message)) =
                    (self.open.remove(&stop.index), self.message.as_mut())
                {
                    let index = usize::try_from(stop.index).unwrap_or(usize::MAX);
                    let block = open.finish();
                    if index < message.content.len() {
                        message.content[index] = block;
                    } else {
                        message.content.push(block);
                    }
                }
            }
            E::MessageDelta(delta) => {
                if let Some(message) = self.message.as_mut() {
                    if !delta.delta.stop_reason.is_absent() {
                        message.stop_reason = delta.delta.stop_reason.clone();
                    }
                    if !delta.delta.stop_sequence.is_absent() {
                        message.stop_sequence = delta.delta.stop_sequence.clone();
                    }
                    if let Some(usage) = delta.usage.get() {
                        match &mut message.usage {
                            Maybe::Value(current) => merge_usage(current, usage),
                            slot => *slot = Maybe::Value(usage.clone()),
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The final message, if `message_start` was seen.
    pub fn finish(self) -> Option<Message> {
        self.message
    }
}
