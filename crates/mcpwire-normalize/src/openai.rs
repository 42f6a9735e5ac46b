//! OpenAI Responses: a response object or its stream, to events.
//!
//! Quirks absorbed (each has a test named after it in `tests/quirks.rs`):
//! * `response.mcp_call.in_progress` twice for one call: progress events carry no events.
//! * `output_item.done` missing for all but the last `mcp_list_tools` when several servers are
//!   listed: settled events are released in output order, and `response.completed` (which is
//!   authoritative) supplies every item whose `done` never came.
//! * `obfuscation` on argument deltas: ignored.
//! * items we do not model change between `output_item.done` and `response.completed` (a
//!   reasoning item's `encrypted_content` is re-encrypted): their `other` event comes from the
//!   final response, and settled events behind them wait for it (stream-only events never wait).
//! * `mcp_call.error` as an object (three variants) or, in old payloads, a string.
//! * `status` missing in old payloads: a call with no status is finished.
//! * the older event names `response.mcp_call.arguments_delta` / `.arguments_done` and
//!   `response.mcp_call.arguments.delta` / `.done`.
//!
//! Out-of-order input never panics: a delta for an unknown call is passed through with the
//! item id it names; a second `output_item.done` for the same index is ignored. An unknown event
//! type (progress of items we do not model, such as reasoning or web search, included: the item
//! itself arrives whole in `output_item.done`) becomes an `other` event with `stream_only`, so
//! the settled events still equal the final response's.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use mcpwire_schema::Extra;
use mcpwire_schema::Json;
use mcpwire_schema::event::{
    CallError, CallErrorKind, ErrorInfo, Event, EventBody, ListError, Stop, ToolInfo, Usage,
    Vendor, split_arguments,
};
use mcpwire_schema::openai::{
    ContentPart, Item, McpCall, McpCallError, McpCallStatus, McpListTools, MessageContent,
    OutputItemEvent, Response, ResponseStatus, ResponseStreamEvent,
};

use mcpwire_schema::decode;
use serde_json::value::RawValue;

use crate::{Error, view};

fn event(body: EventBody<'_>) -> Event<'_> {
    Event::new(Vendor::OpenAi, body)
}

/// Normalises a whole response object.
///
/// ```
/// let raw = r#"{"id":"resp_1","object":"response","status":"completed","model":"gpt-5","output":[
///   {"type":"mcp_call","id":"mcp_1","server_label":"deepwiki","name":"ask","arguments":"{\"q\":1}",
///    "output":"42","error":null,"status":"completed"}]}"#;
/// let response = mcpwire_schema::decode::from_str(raw).unwrap();
/// let events = mcpwire_normalize::openai::normalize_response(&response);
/// let kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
/// assert_eq!(kinds, ["response_started", "call", "call_result", "response_completed"]);
/// ```
pub fn normalize_response(response: &Response) -> Vec<Event<'static>> {
    let mut out = vec![started(response)];
    for (index, item) in response.output.iter().enumerate() {
        settle_item(index as u64, item, &mut out);
    }
    finish_response(response, &mut out);
    out
}

fn started(response: &Response) -> Event<'static> {
    event(EventBody::ResponseStarted {
        response_id: Some(response.id.clone()),
        model: response.model.get().cloned(),
    })
}

/// The tail of a response: an `error` event when it failed, then `response_completed`.
fn finish_response(response: &Response, out: &mut Vec<Event<'_>>) {
    let last_is_approval = matches!(response.output.last(), Some(Item::McpApprovalRequest(_)));
    finish_response_with(response, last_is_approval, out);
}

/// [`finish_response`], told whether the last output item is an approval request.
fn finish_response_with(response: &Response, last_is_approval: bool, out: &mut Vec<Event<'_>>) {
    if let Some(error) = response.error.get() {
        out.push(event(EventBody::Error {
            error: ErrorInfo {
                error_type: error
                    .code
                    .get()
                    .cloned()
                    .unwrap_or_else(|| "error".to_owned()),
                message: error.message.get().cloned().unwrap_or_default(),
            },
        }));
    }
    let status = response.status.get();
    let reason = response
        .incomplete_details
        .get()
        .and_then(|d| d.field_str("reason"));
    let reason = reason.as_deref();
    let stop = match status {
        Some(ResponseStatus::Completed) if last_is_approval => Stop::NeedsApproval,
        Some(ResponseStatus::Completed) => Stop::End,
        Some(ResponseStatus::Failed) => Stop::Failed,
        Some(ResponseStatus::Incomplete) if reason == Some("max_output_tokens") => Stop::MaxTokens,
        Some(ResponseStatus::Incomplete) if reason == Some("content_filter") => Stop::Refusal,
        _ => Stop::Other,
    };
    let usage = response.usage.get().map(|u| Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
    });
    out.push(event(EventBody::ResponseCompleted {
        stop,
        stop_raw: status.map(|s| s.as_str().to_owned()),
        usage,
    }));
}

/// The settled events of one output item.
pub fn settle_item(index: u64, item: &Item, out: &mut Vec<Event<'_>>) {
    settle_item_owned(index, item.clone(), out);
}

/// [`settle_item`], taking the item: its strings and values move into the events.
pub fn settle_item_owned(index: u64, item: Item, out: &mut Vec<Event<'_>>) {
    match item {
        Item::McpListTools(list) => out.push(list_event(&list)),
        Item::McpCall(call) => {
            let McpCall {
                id,
                server_label,
                name,
                arguments,
                output,
                error,
                status,
                approval_request_id,
                ..
            } = call;
            let output = output.into_option().map(|o| text_part(&o));
            call_events(
                CallParts {
                    id,
                    server: server_label,
                    tool: name,
                    arguments: &arguments,
                    approval_id: approval_request_id.into_option(),
                    status: status.get(),
                    error: error.get(),
                },
                output,
                out,
            );
        }
        Item::McpApprovalRequest(request) => {
            let (arguments, arguments_text) = split_arguments(&request.arguments);
            out.push(event(EventBody::ApprovalRequested {
                approval_id: request.id,
                server: request.server_label,
                tool: request.name,
                arguments,
                arguments_text,
            }));
        }
        Item::Message(message)
            if matches!(
                message.content,
                MessageContent::Parts(_) | MessageContent::Text(_)
            ) =>
        {
            match message.content {
                MessageContent::Parts(parts) => {
                    for part in parts {
                        match part {
                            ContentPart::OutputText(text) => {
                                out.push(event(EventBody::Text {
                                    index,
                                    text: text.text,
                                }));
                            }
                            other => out.push(other_event(&other, index)),
                        }
                    }
                }
                MessageContent::Text(text) => out.push(event(EventBody::Text { index, text })),
                _ => {}
            }
        }
        Item::Unknown(raw) => out.push(event(EventBody::Other {
            raw,
            index: Some(index),
            stream_only: false,
        })),
        other => out.push(other_event(&other, index)),
    }
}

fn other_event(raw: &impl serde::Serialize, index: u64) -> Event<'static> {
    event(EventBody::Other {
        raw: Json::from_serialize(raw).unwrap_or_default(),
        index: Some(index),
        stream_only: false,
    })
}

fn list_event(list: &McpListTools) -> Event<'static> {
    let tools = list.tools.iter().map(|t| ToolInfo {
        name: t.name.clone(),
        description: t.description.get().cloned(),
        input_schema: t.input_schema.clone(),
        annotations: t.annotations.get().cloned(),
    });
    listing_event(
        list.id.clone(),
        list.server_label.clone(),
        list.error.get().cloned(),
        tools,
    )
}

/// The event of a tool listing: `tools_listed`, or `tools_list_failed` when it has an error.
fn listing_event<'a>(
    id: String,
    server: String,
    error: Option<Json<'a>>,
    tools: impl Iterator<Item = ToolInfo<'a>>,
) -> Event<'a> {
    let list_id = Some(id);
    if let Some(error) = error {
        let (message, raw) = match error.as_str() {
            Some(s) => (s.into_owned(), None),
            None => (
                error
                    .field_str("message")
                    .unwrap_or_else(|| error.get().to_owned()),
                Some(error),
            ),
        };
        return event(EventBody::ToolsListFailed {
            server,
            error: ListError { message, raw },
            list_id,
        });
    }
    event(EventBody::ToolsListed {
        server,
        tools: tools.collect(),
        list_id,
    })
}

/// A text part as the event model writes it: `{"type":"text","text":...}`.
pub(crate) fn text_part(text: &str) -> Json<'static> {
    Json::text_part(Json::string(text))
}

/// One MCP content part: a text part with nothing else set (other fields absent or `null`)
/// becomes `{type, text}`, anything else is kept verbatim. The text itself is never decoded.
pub(crate) fn content_part(part: Json<'static>) -> Json<'static> {
    match part.as_object() {
        Some(fields) => fields_part(fields),
        None => part,
    }
}

/// [`content_part`] for an object already split into its fields: the text is moved into the
/// part, not copied (a tool's output can be large).
pub(crate) fn fields_part(mut fields: Extra) -> Json<'static> {
    let plain = fields.get("type").is_some_and(|t| t.get() == r#""text""#)
        && fields
            .iter()
            .all(|(k, v)| k == "type" || k == "text" || v.is_null());
    match fields.get("text") {
        Some(text) if plain && text.is_string() => {
            Json::text_part(fields.remove("text").unwrap_or_default())
        }
        _ => fields.to_json(),
    }
}

/// MCP content parts: text parts reduced to `{type, text}` when nothing else in them is set,
/// every other part verbatim; a string is one text part.
pub(crate) fn content_parts(parts: &Json<'static>) -> Vec<Json<'static>> {
    if let Some(parts) = parts.as_array() {
        return parts.into_iter().map(content_part).collect();
    }
    if let Some(text) = parts.as_str() {
        return vec![text_part(&text)];
    }
    if parts.is_null() {
        return Vec::new();
    }
    vec![parts.clone()]
}

/// The text of the first text part.
pub(crate) fn first_text(parts: &[Json<'_>]) -> Option<String> {
    parts.iter().find_map(|p| p.field_str("text"))
}

/// What the events of an `mcp_call` are made of, from the typed item or its view.
struct CallParts<'c> {
    id: String,
    server: String,
    tool: String,
    arguments: &'c str,
    approval_id: Option<String>,
    status: Option<&'c McpCallStatus>,
    error: Option<&'c McpCallError>,
}

/// The settled events of a call: `call`, then `call_result` once it has finished; `output` is
/// its output as a text part.
fn call_events<'a>(call: CallParts<'_>, output: Option<Json<'a>>, out: &mut Vec<Event<'a>>) {
    let (arguments, arguments_text) = split_arguments(call.arguments);
    let result = call_result(&call, output);
    out.push(event(EventBody::Call {
        call_id: call.id,
        server: call.server,
        tool: call.tool,
        arguments,
        arguments_text,
        approval_id: call.approval_id,
    }));
    out.extend(result);
}

/// The `call_result` of a call, if it has finished; `output` is its output as a text part.
fn call_result<'a>(call: &CallParts<'_>, output: Option<Json<'a>>) -> Option<Event<'a>> {
    let status = call.status;
    let error = call.error;
    let finished = !matches!(
        status,
        Some(McpCallStatus::InProgress | McpCallStatus::Calling)
    );
    if !finished && error.is_none() && output.is_none() {
        return None;
    }
    let mut content: Vec<Json<'a>> = output.into_iter().collect();
    let error = error.map(|e| {
        let (kind, code, message) = match e {
            McpCallError::Protocol(p) => (
                CallErrorKind::Protocol,
                Some(p.code),
                Some(p.message.clone()),
            ),
            McpCallError::Http(h) => (CallErrorKind::Http, Some(h.code), Some(h.message.clone())),
            McpCallError::ToolExecution(t) => {
                let parts = content_parts(&t.content);
                let message = first_text(&parts);
                if content.is_empty() {
                    content = parts;
                }
                (CallErrorKind::ToolExecution, None, message)
            }
            McpCallError::Legacy(s) => (CallErrorKind::Other, None, Some(s.clone())),
            other => {
                let raw = Json::from_serialize(other).unwrap_or_default();
                let code = raw.field("code").and_then(|c| c.as_i64());
                let message = raw.field_str("message");
                (CallErrorKind::Other, code, message)
            }
        };
        CallError {
            kind,
            code,
            message,
        }
    });
    let is_error = error.is_some() || matches!(status, Some(McpCallStatus::Failed));
    Some(event(EventBody::CallResult {
        call_id: call.id.clone(),
        server: Some(call.server.clone()),
        tool: Some(call.tool.clone()),
        is_error,
        content,
        error,
    }))
}

/// The three names of the argument delta event (current, SDK 2025-05, API reference 2025-05).
const ARGUMENT_DELTAS: [&str; 3] = [
    "response.mcp_call_arguments.delta",
    "response.mcp_call.arguments_delta",
    "response.mcp_call.arguments.delta",
];

/// The events that end a response.
const TERMINAL: [&str; 3] = [
    "response.completed",
    "response.failed",
    "response.incomplete",
];

/// An output item ready to settle: typed, or read through its view with its text borrowed.
enum Ready<'a> {
    Typed(Item),
    Call {
        call: view::McpCall<'a>,
        status: Option<McpCallStatus>,
        error: Option<McpCallError>,
        /// The output as a text part.
        output: Option<Json<'a>>,
    },
    Listing(view::McpListTools<'a>),
    /// An item of a type this build does not model, verbatim.
    Unknown(Json<'a>),
}

impl<'a> Ready<'a> {
    /// The item of an `output_item` event and its index, read in one pass when the item is a
    /// call or a listing; `None` when a view does not take it.
    fn read_event(data: &'a str) -> Option<(u64, Ready<'a>)> {
        match view::nested_tag(data, &view::ITEM) {
            Some("mcp_call") => {
                let e: view::OutputItemEventOf<view::McpCall<'a>> = view::read(data)?;
                Some((e.output_index, Ready::call(e.item.0)?))
            }
            Some("mcp_list_tools") => {
                let e: view::OutputItemEventOf<view::McpListTools<'a>> = view::read(data)?;
                Some((e.output_index, Ready::Listing(e.item.0)))
            }
            _ => {
                let e: view::OutputItemEvent<'a> = view::read(data)?;
                Some((e.output_index, Ready::read(e.item)?))
            }
        }
    }

    /// A call read through its view, its output and error checked as the typed decode checks
    /// them (a string or `null`; a typed `McpCallError`).
    fn call(call: view::McpCall<'a>) -> Option<Ready<'a>> {
        let output = match call.output {
            None => None,
            // Passed on as it came when the typed path would write it the same.
            Some(o) if view::canonical_string(o) => Some(Json::text_part(Json::borrowed(o))),
            Some(o) => Some(text_part(&serde_json::from_str::<String>(o.get()).ok()?)),
        };
        let error = match call.error {
            None => None,
            Some(e) => Some(decode::from_str::<McpCallError>(e.get()).ok()?),
        };
        let status = call.status.as_deref().map(McpCallStatus::from_wire);
        Some(Ready::Call {
            call,
            status,
            error,
            output,
        })
    }

    /// An item read through its view; `None` when it is not one a view takes (the typed decode
    /// then reads it, and reports what is wrong with it).
    fn read(raw: &'a RawValue) -> Option<Ready<'a>> {
        let text = raw.get();
        Some(match view::tag_of(raw)? {
            "mcp_call" => Ready::call(view::read(text)?)?,
            "mcp_list_tools" => Ready::Listing(view::read(text)?),
            tag if Item::KNOWN_TYPES.contains(&tag) => Ready::Typed(decode::from_str(text).ok()?),
            _ => Ready::Unknown(view::verbatim(raw)?),
        })
    }

    fn is_unknown(&self) -> bool {
        matches!(self, Ready::Unknown(_) | Ready::Typed(Item::Unknown(_)))
    }

    /// An item of a type this build does not model, owned (to be held); a modelled one is
    /// never held as an item.
    fn into_item(self) -> Item {
        match self {
            Ready::Typed(item) => item,
            Ready::Unknown(raw) => Item::Unknown(raw.into_owned()),
            Ready::Call { .. } | Ready::Listing(_) => Item::Unknown(Json::null()),
        }
    }

    /// The `call_started` of an `mcp_call`.
    fn call_started(&self) -> Option<Event<'static>> {
        let (id, server, tool) = match self {
            Ready::Typed(Item::McpCall(c)) => {
                (c.id.clone(), c.server_label.clone(), c.name.clone())
            }
            Ready::Call { call, .. } => (
                call.id.to_string(),
                call.server_label.to_string(),
                call.name.to_string(),
            ),
            _ => return None,
        };
        Some(event(EventBody::CallStarted {
            call_id: id,
            server,
            tool,
        }))
    }

    fn settle(self, index: u64, out: &mut Vec<Event<'a>>) {
        match self {
            Ready::Typed(item) => settle_item_owned(index, item, out),
            Ready::Call {
                call,
                status,
                error,
                output,
            } => call_events(
                CallParts {
                    id: call.id.into_owned(),
                    server: call.server_label.into_owned(),
                    tool: call.name.into_owned(),
                    arguments: &call.arguments,
                    approval_id: call.approval_request_id.map(Cow::into_owned),
                    status: status.as_ref(),
                    error: error.as_ref(),
                },
                output,
                out,
            ),
            Ready::Listing(list) => {
                let tools = list.tools.into_iter().map(|t| ToolInfo {
                    name: t.name.into_owned(),
                    description: t.description.map(Cow::into_owned),
                    input_schema: Json::borrowed(t.input_schema),
                    annotations: t.annotations.map(Json::borrowed),
                });
                out.push(listing_event(
                    list.id.into_owned(),
                    list.server_label.into_owned(),
                    list.error.map(Json::borrowed),
                    tools,
                ));
            }
            Ready::Unknown(raw) => out.push(event(EventBody::Other {
                raw,
                index: Some(index),
                stream_only: false,
            })),
        }
    }
}

/// How many output items may wait behind one whose final form has not arrived before they are
/// released anyway (bounding memory on endless streams).
pub const MAX_WAITING_ITEMS: usize = 64;

/// The incremental normaliser: feed decoded events with [`push`](Self::push), end with
/// [`finish`](Self::finish).
///
/// Settled events are released in output order. An item whose final form has not arrived yet (no
/// `output_item.done`, or an item type we do not model, which OpenAI may still change) holds back
/// the items after it, at most [`MAX_WAITING_ITEMS`] of them: past that they are released, the
/// unmodelled item in its `output_item.done` form, and an item with no `done` at all is settled
/// late from `response.completed`. Memory is bounded by that window, not by stream length.
#[derive(Debug, Default)]
pub struct StreamNormalizer {
    /// Items at or after `next` (and late ones before it) whose settled events are not out.
    items: BTreeMap<u64, Slot>,
    /// Items before `next` that were skipped while open; settled from `response.completed`.
    late: BTreeSet<u64>,
    /// The next output index whose settled events may be released.
    next: u64,
    started: bool,
    completed: bool,
}

#[derive(Debug)]
enum Slot {
    /// Added, `done` not seen yet.
    Open,
    /// `done` seen for an item we do not model: final form comes with `response.completed`.
    Provisional(Box<Item>),
    /// `done` seen, settled events waiting for earlier indexes.
    Held(Vec<Event<'static>>),
}

impl StreamNormalizer {
    /// A normaliser at the start of a stream.
    pub fn new() -> Self {
        StreamNormalizer::default()
    }

    /// The fast paths (`view.rs`): `true` when `data` was one of the events read through a
    /// borrowed view, `false` when the caller must decode it fully.
    pub(crate) fn push_view<'a>(&mut self, data: &'a str, out: &mut Vec<Event<'a>>) -> bool {
        // The most frequent event: nine in ten of a text-heavy stream.
        if view::tagged(data, "response.output_text.delta") {
            let delta = view::scan_output_text_delta(data).or_else(|| {
                view::read::<view::OutputTextDelta<'a>>(data).map(|d| (d.output_index, d.delta))
            });
            let Some((index, text)) = delta else {
                return false;
            };
            out.push(event(EventBody::TextDelta { index, text }));
            return true;
        }
        if let Some(tag) = ARGUMENT_DELTAS.iter().find(|tag| view::tagged(data, tag)) {
            let delta = view::scan_arguments_delta(data, tag).or_else(|| {
                view::read::<view::McpArgumentsDelta<'a>>(data).map(|d| (d.item_id, d.delta))
            });
            let Some((call_id, delta)) = delta else {
                return false;
            };
            if !delta.is_empty() {
                out.push(event(EventBody::CallArgumentsDelta { call_id, delta }));
            }
            return true;
        }
        let done = view::tagged(data, "response.output_item.done");
        if done || view::tagged(data, "response.output_item.added") {
            let Some((output_index, item)) = Ready::read_event(data) else {
                return false;
            };
            if done {
                self.item_done_ready(output_index, item, out);
            } else {
                self.item_added_view(output_index, &item, out);
            }
            return true;
        }
        if TERMINAL.iter().any(|tag| view::tagged(data, tag)) {
            return self.complete_view(data, out).is_some();
        }
        false
    }

    /// `true` once `response.completed` (or `failed` / `incomplete`) has been seen.
    pub fn is_complete(&self) -> bool {
        self.completed
    }

    /// Normalises one event, appending the events it completes to `out`.
    pub fn push(&mut self, ev: &ResponseStreamEvent, out: &mut Vec<Event<'_>>) {
        self.push_ref(ev, out);
    }

    /// [`push`](Self::push), taking the event: its strings and values move into the events
    /// instead of being copied (what [`crate::ByteNormalizer`] uses).
    pub fn push_owned(&mut self, ev: ResponseStreamEvent, out: &mut Vec<Event<'_>>) {
        use ResponseStreamEvent as E;
        match ev {
            E::Completed(e) | E::Failed(e) | E::Incomplete(e) => {
                let mut response = e.response;
                if !self.started {
                    self.started = true;
                    out.push(started(&response));
                }
                let output = std::mem::take(&mut response.output);
                let last_is_approval = matches!(output.last(), Some(Item::McpApprovalRequest(_)));
                self.complete(output, out);
                finish_response_with(&response, last_is_approval, out);
                self.completed = true;
            }
            E::OutputItemDone(OutputItemEvent {
                output_index, item, ..
            }) => self.item_done(output_index, item, out),
            E::OutputTextDelta(d) => out.push(event(EventBody::TextDelta {
                index: d.output_index,
                text: d.delta.into(),
            })),
            other => self.push_ref(&other, out),
        }
    }

    fn item_done(&mut self, output_index: u64, item: Item, out: &mut Vec<Event<'_>>) {
        self.item_done_ready(output_index, Ready::Typed(item), out);
    }

    fn item_done_ready<'a>(
        &mut self,
        output_index: u64,
        item: Ready<'a>,
        out: &mut Vec<Event<'a>>,
    ) {
        if self.late.remove(&output_index) {
            // Its turn has passed: settle it now, out of order.
            item.settle(output_index, out);
        } else if output_index >= self.next {
            let slot = self.items.entry(output_index).or_insert(Slot::Open);
            if matches!(slot, Slot::Open) {
                if item.is_unknown() {
                    // Items we do not model may still change before `response.completed`
                    // (OpenAI re-encrypts `reasoning.encrypted_content`).
                    *slot = Slot::Provisional(Box::new(item.into_item()));
                } else if output_index == self.next {
                    // Its turn: out at once (what is borrowed stays borrowed).
                    self.items.remove(&output_index);
                    item.settle(output_index, out);
                    self.next += 1;
                } else {
                    let mut events = Vec::new();
                    item.settle(output_index, &mut events);
                    *slot = Slot::Held(events.into_iter().map(Event::into_owned).collect());
                }
                self.release_ready(out);
                self.bound(out);
            }
        }
        // Else: a second `done` for a released item, ignored.
    }

    /// `response.output_item.added` read through its view.
    fn item_added_view(&mut self, output_index: u64, item: &Ready<'_>, out: &mut Vec<Event<'_>>) {
        if output_index >= self.next {
            self.items.entry(output_index).or_insert(Slot::Open);
        }
        if let Some(started) = item.call_started() {
            out.push(started);
        }
        self.bound(out);
    }

    /// `response.completed` (or `failed` / `incomplete`) read through its view: the response
    /// decoded typed but for its items, and only the items whose settled events are not out
    /// yet decoded at all (the others were settled from their `output_item.done`). `None`
    /// when a view does not take it (nothing is changed then).
    fn complete_view<'a>(&mut self, data: &'a str, out: &mut Vec<Event<'a>>) -> Option<()> {
        let terminal: view::ResponseEvent<'a> = view::read(data)?;
        let split = terminal.response;
        let response: Response = decode::from_str(&split.rest).ok()?;
        let mut items = Vec::with_capacity(split.output.len());
        for (index, raw) in split.output.iter().enumerate() {
            let index = index as u64;
            let needed = self.late.contains(&index)
                || (index >= self.next && !matches!(self.items.get(&index), Some(Slot::Held(_))));
            items.push(if needed {
                Some(Ready::read(raw)?)
            } else {
                None
            });
        }
        let last_is_approval = match split.output.last() {
            Some(raw) => view::tag_of(raw)? == "mcp_approval_request",
            None => false,
        };
        if !self.started {
            self.started = true;
            out.push(started(&response));
        }
        self.complete_ready(items, out);
        finish_response_with(&response, last_is_approval, out);
        self.completed = true;
        Some(())
    }

    fn push_ref(&mut self, ev: &ResponseStreamEvent, out: &mut Vec<Event<'_>>) {
        use ResponseStreamEvent as E;
        match ev {
            E::Created(e) | E::InProgress(e) | E::Queued(e) if !self.started => {
                self.started = true;
                out.push(started(&e.response));
            }
            E::OutputItemAdded(OutputItemEvent {
                output_index, item, ..
            }) => {
                if *output_index >= self.next {
                    self.items.entry(*output_index).or_insert(Slot::Open);
                }
                if let Item::McpCall(call) = item {
                    out.push(event(EventBody::CallStarted {
                        call_id: call.id.clone(),
                        server: call.server_label.clone(),
                        tool: call.name.clone(),
                    }));
                }
                self.bound(out);
            }
            E::OutputItemDone(OutputItemEvent {
                output_index, item, ..
            }) => self.item_done(*output_index, item.clone(), out),
            E::OutputTextDelta(d) => {
                out.push(event(EventBody::TextDelta {
                    index: d.output_index,
                    text: d.delta.clone().into(),
                }));
            }
            E::Completed(_) | E::Failed(_) | E::Incomplete(_) => self.push_owned(ev.clone(), out),
            E::McpCallArgumentsDelta(d)
            | E::McpCallArgumentsDeltaSdk2025(d)
            | E::McpCallArgumentsDeltaDocs2025(d) => {
                let delta = d.delta.to_text().into_owned();
                if !delta.is_empty() {
                    out.push(event(EventBody::CallArgumentsDelta {
                        call_id: d.item_id.clone().into(),
                        delta: delta.into(),
                    }));
                }
            }
            E::Error(e) => out.push(event(EventBody::Error {
                error: ErrorInfo {
                    error_type: e
                        .code
                        .get()
                        .and_then(|c| c.as_str().map(|s| s.into_owned()))
                        .unwrap_or_else(|| "error".to_owned()),
                    message: e.message.clone(),
                },
            })),
            // An unknown event (progress of an item we do not model included: the item itself
            // arrives whole in `output_item.done`): passed through, stream-only.
            E::Unknown(raw) => out.push(event(EventBody::Other {
                raw: raw.clone(),
                index: raw.field("output_index").and_then(|i| i.as_u64()),
                stream_only: true,
            })),
            // Progress markers: the item itself arrives in `output_item.done`.
            _ => {}
        }
    }

    fn release_ready(&mut self, out: &mut Vec<Event<'_>>) {
        while let Some(Slot::Held(_)) = self.items.get(&self.next) {
            if let Some(Slot::Held(events)) = self.items.remove(&self.next) {
                out.extend(events);
            }
            self.next += 1;
        }
    }

    /// Releases everything waiting when the window is full.
    fn bound(&mut self, out: &mut Vec<Event<'_>>) {
        if self.items.len() <= MAX_WAITING_ITEMS {
            return;
        }
        for (index, slot) in std::mem::take(&mut self.items) {
            match slot {
                Slot::Held(events) => out.extend(events),
                Slot::Provisional(item) => settle_item_owned(index, *item, out),
                Slot::Open => {
                    self.late.insert(index);
                }
            }
            self.next = index + 1;
        }
    }

    /// At `response.completed`: the final output is authoritative for every item not yet out.
    fn complete(&mut self, output: Vec<Item>, out: &mut Vec<Event<'_>>) {
        let items = output.into_iter().map(|item| Some(Ready::Typed(item)));
        self.complete_ready(items.collect(), out);
    }

    /// [`complete`](Self::complete) over items that may be left out (`None`) where they are not
    /// settled from the final response.
    fn complete_ready<'a>(&mut self, output: Vec<Option<Ready<'a>>>, out: &mut Vec<Event<'a>>) {
        for (index, item) in output.into_iter().enumerate() {
            let index = index as u64;
            if self.late.remove(&index) {
                item.into_iter().for_each(|item| item.settle(index, out));
            } else if index >= self.next {
                match self.items.remove(&index) {
                    Some(Slot::Held(events)) => out.extend(events),
                    Some(Slot::Open | Slot::Provisional(_)) | None => {
                        item.into_iter().for_each(|item| item.settle(index, out));
                    }
                }
                self.next = index + 1;
            }
        }
        // Items the final response does not list (it should list them all).
        self.release_rest(out);
    }

    fn release_rest(&mut self, out: &mut Vec<Event<'_>>) {
        for (index, slot) in std::mem::take(&mut self.items) {
            match slot {
                Slot::Held(events) => out.extend(events),
                Slot::Provisional(item) => settle_item_owned(index, *item, out),
                Slot::Open => {}
            }
            self.next = self.next.max(index + 1);
        }
    }

    /// Ends the stream. Settled events still held are released in order; an error says the
    /// final event never came.
    pub fn finish(&mut self, out: &mut Vec<Event<'_>>) -> Result<(), Error> {
        if self.completed {
            return Ok(());
        }
        self.release_rest(out);
        Err(Error::Incomplete {
            expected: "response.completed",
        })
    }
}

/// Rebuilds the final response from a stream, as the SDKs do: the response of the terminal
/// event (`response.completed`, `.failed` or `.incomplete`) when there is one, else the last
/// response snapshot with the items seen in `output_item.done` (or `.added`).
#[derive(Debug, Default)]
pub struct Accumulator {
    response: Option<Response>,
    items: BTreeMap<u64, Item>,
    terminal: bool,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Accumulator::default()
    }

    /// Takes one event into account.
    pub fn push(&mut self, ev: &ResponseStreamEvent) {
        use ResponseStreamEvent as E;
        match ev {
            E::Completed(e) | E::Failed(e) | E::Incomplete(e) => {
                self.response = Some(e.response.clone());
                self.terminal = true;
            }
            E::Created(e) | E::InProgress(e) | E::Queued(e) if !self.terminal => {
                self.response = Some(e.response.clone())
            }
            E::OutputItemAdded(e) => {
                self.items
                    .entry(e.output_index)
                    .or_insert_with(|| e.item.clone());
            }
            E::OutputItemDone(e) => {
                self.items.insert(e.output_index, e.item.clone());
            }
            _ => {}
        }
    }

    /// The final response, if any response snapshot was seen.
    pub fn finish(self) -> Option<Response> {
        let mut response = self.response?;
        if !self.terminal {
            response.output = self.items.into_values().collect();
        }
        Some(response)
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// The equivalence with the full decode is tested in `tests/fast_path.rs`; this checks that
    /// the fast path is really the one taken for a well-formed delta, and declines the rest.
    #[test]
    fn the_fast_path_takes_well_formed_deltas_and_declines_the_rest() {
        let mut out = Vec::new();
        let mut n = StreamNormalizer::new();
        let ok = r#"{"type":"response.output_text.delta","item_id":"m","output_index":3,"content_index":0,"delta":"Hi \"x\"","obfuscation":"abc","logprobs":[]}"#;
        assert!(n.push_view(ok, &mut out));
        assert_eq!(
            out,
            [event(EventBody::TextDelta {
                index: 3,
                text: "Hi \"x\"".into()
            })]
        );
        let missing = r#"{"type":"response.output_text.delta","output_index":3,"content_index":0,"delta":"x"}"#;
        assert!(!n.push_view(missing, &mut out));
        let other = r#"{"type":"response.output_text.done","item_id":"m","output_index":3,"content_index":0,"text":"x"}"#;
        assert!(!n.push_view(other, &mut out));
        assert_eq!(out.len(), 1);
    }
}
