//! From raw bytes: SSE framing, vendor detection, typed decoding and normalisation in one
//! incremental pipeline (what `mcpwire normalize` and the providers' streams use), and whole
//! payloads with detection.

use mcpwire_schema::check::{self, Kind, stream_vendor};
use mcpwire_schema::event::{ErrorInfo, Event, EventBody, Vendor};
use mcpwire_schema::sse::SseDecoder;
use mcpwire_schema::{anthropic as wire_anthropic, decode, openai as wire_openai};
use serde_json::Value;

use crate::{Error, StreamNormalizer, anthropic, openai, view};

/// How many events may arrive before one says which vendor the stream is from.
const DETECT_WINDOW: usize = 64;

/// Bytes of a `text/event-stream` body in, events out, one chunk at a time. Memory is bounded by
/// the largest event and what the vendor normaliser holds in flight.
///
/// An event that lies within the chunk being fed is decoded straight from it, without a copy.
/// [`feed_with`](Self::feed_with) hands each event to a callback while it may still borrow from
/// the bytes it was decoded from (delta text, tool outputs, schemas, unknown items: no copy);
/// [`feed`](Self::feed) collects owned events.
///
/// ```
/// use mcpwire_normalize::ByteNormalizer;
/// let sse = "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\"}\n\n";
/// let mut normalizer = ByteNormalizer::new(None);
/// let mut texts = Vec::new();
/// normalizer
///     .feed_with(sse.as_bytes(), |event| texts.push(serde_json::to_string(&event).unwrap()))
///     .unwrap();
/// assert_eq!(texts, [r#"{"kind":"text_delta","vendor":"openai","index":0,"text":"Hi"}"#]);
/// ```
#[derive(Debug)]
pub struct ByteNormalizer {
    decoder: SseDecoder,
    state: State,
}

/// Everything but the SSE decoder, so that its callback can borrow both.
#[derive(Debug)]
struct State {
    vendor: Option<Vendor>,
    normalizer: Option<StreamNormalizer>,
    /// The `data` of events that arrived before the vendor was known.
    waiting: Vec<Vec<u8>>,
    index: usize,
}

impl ByteNormalizer {
    /// A normaliser for `vendor`, or detecting it from the first events when `None`.
    pub fn new(vendor: Option<Vendor>) -> Self {
        ByteNormalizer {
            decoder: SseDecoder::new(),
            state: State {
                vendor,
                normalizer: vendor.map(StreamNormalizer::new),
                waiting: Vec::new(),
                index: 0,
            },
        }
    }

    /// The vendor, once known.
    pub fn vendor(&self) -> Option<Vendor> {
        self.state.vendor
    }

    /// Decodes a chunk and appends the events it completes to `out` (owned: see
    /// [`feed_with`](Self::feed_with) for events that borrow). On an error, the events before the
    /// fault are already in `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event<'static>>) -> Result<(), Error> {
        self.feed_with(bytes, |event| out.push(event.into_owned()))
    }

    /// Decodes a chunk and hands the events it completes to `on_event`, in order. An event may
    /// borrow from the bytes it was decoded from, so it lives only for the call
    /// ([`Event::into_owned`] keeps one). On an error, the events before the fault have been
    /// handed over.
    pub fn feed_with<F: FnMut(Event<'_>)>(
        &mut self,
        bytes: &[u8],
        mut on_event: F,
    ) -> Result<(), Error> {
        let state = &mut self.state;
        let mut result = Ok(());
        let framing = self.decoder.feed_with(bytes, |event| {
            // After a fault, the rest of the chunk is framed but not normalised.
            if result.is_ok() {
                result = state.process(event.data, &mut on_event);
            }
        });
        result?;
        framing.map_err(Error::from)
    }

    /// Ends the stream: the events still held go to `out`, then an error if the stream was cut.
    pub fn finish(&mut self, out: &mut Vec<Event<'static>>) -> Result<(), Error> {
        self.finish_with(|event| out.push(event.into_owned()))
    }

    /// [`finish`](Self::finish), handing the events to `on_event` as
    /// [`feed_with`](Self::feed_with) does.
    pub fn finish_with<F: FnMut(Event<'_>)>(&mut self, mut on_event: F) -> Result<(), Error> {
        let state = &mut self.state;
        let mut result = Ok(());
        let framing = self.decoder.finish_with(|event| {
            if result.is_ok() {
                result = state.process(event.data, &mut on_event);
            }
        });
        result?;
        let mut held = Vec::new();
        if let Err(err) = framing {
            // The stream was cut: still release what the normaliser holds.
            if let Some(n) = &mut state.normalizer {
                let _incomplete = n.finish(&mut held);
            }
            held.into_iter().for_each(&mut on_event);
            return Err(err.into());
        }
        let result = match &mut state.normalizer {
            Some(n) => n.finish(&mut held),
            None if state.waiting.is_empty() && state.index == 0 => {
                Err(Error::UnknownPayload("empty stream".to_owned()))
            }
            None => Err(Error::UnknownPayload(
                "no event says which vendor this stream is from".to_owned(),
            )),
        };
        held.into_iter().for_each(&mut on_event);
        result
    }
}

impl State {
    fn process<F: FnMut(Event<'_>)>(&mut self, data: &[u8], on_event: &mut F) -> Result<(), Error> {
        if self.normalizer.is_some() {
            return self.one(data, on_event);
        }
        self.waiting.push(data.to_vec());
        self.detect()?;
        if self.normalizer.is_some() {
            for waiting in std::mem::take(&mut self.waiting) {
                self.one(&waiting, on_event)?;
            }
        }
        Ok(())
    }

    fn detect(&mut self) -> Result<(), Error> {
        let Some(last) = self.waiting.last() else {
            return Ok(());
        };
        if let Some(vendor) = view::vendor_of(last).unwrap_or_else(|| {
            serde_json::from_slice::<Value>(last)
                .ok()
                .as_ref()
                .and_then(stream_vendor)
        }) {
            self.vendor = Some(vendor);
            self.normalizer = Some(StreamNormalizer::new(vendor));
            return Ok(());
        }
        if self.waiting.len() >= DETECT_WINDOW {
            return Err(Error::UnknownPayload(format!(
                "none of the first {DETECT_WINDOW} events names a vendor"
            )));
        }
        Ok(())
    }

    fn one<F: FnMut(Event<'_>)>(&mut self, data: &[u8], on_event: &mut F) -> Result<(), Error> {
        let index = self.index;
        self.index += 1;
        if data.trim_ascii() == b"[DONE]" {
            return Ok(());
        }
        let Some(normalizer) = self.normalizer.as_mut() else {
            return Ok(());
        };
        // A fresh vector per event (no allocation when the event completes none): cheaper than
        // reusing one across the events' lifetimes.
        let mut out = Vec::new();
        let result =
            normalizer.push_json(data, index, &mut out).map_err(
                |err| match serde_json::from_slice::<serde::de::IgnoredAny>(data) {
                    Err(json) => Error::Json {
                        index,
                        message: json.to_string(),
                    },
                    Ok(_) => err,
                },
            );
        out.into_iter().for_each(&mut *on_event);
        result
    }
}

/// What an input is, as [`Sniffer`] tells from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputFormat {
    /// A raw `text/event-stream` body: feed it to a [`ByteNormalizer`].
    Sse,
    /// Anything else: a whole JSON payload for [`normalize_whole`] (which reports what is wrong
    /// with it, if anything).
    Json,
    /// Nothing but whitespace (and a byte-order mark).
    Empty,
}

/// The SSE field prefixes a stream can start with.
const SSE_STARTS: [&[u8]; 5] = [b"data:", b"event:", b"id:", b"retry:", b":"];

/// Tells JSON from SSE as input arrives, in any chunks (a first read of a single byte
/// included), in time linear in the input and memory bounded by a few bytes: leading
/// whitespace and a UTF-8 byte-order mark are skipped, not kept.
///
/// ```
/// use mcpwire_normalize::{InputFormat, Sniffer};
/// let mut sniffer = Sniffer::new();
/// assert_eq!(sniffer.push(b"\n\n da"), None);
/// assert_eq!(sniffer.push(b"ta: {}\n\n"), Some(InputFormat::Sse));
/// // What to feed on: the input from its first significant line.
/// assert_eq!(sniffer.into_head(), b" data: {}\n\n");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Sniffer {
    /// The input from the first significant byte on (plus one blank kept for a line that began
    /// with spaces), once there is one.
    head: Vec<u8>,
    /// Bytes seen so far.
    seen: u64,
    /// Spaces or tabs since the last line end, before the first significant byte.
    indented: bool,
    /// How many bytes of a leading byte-order mark have been seen.
    bom: usize,
    decided: Option<InputFormat>,
}

impl Sniffer {
    /// A sniffer at the start of the input.
    pub fn new() -> Self {
        Sniffer::default()
    }

    /// Takes the next bytes; `Some` once the format is known (every later call says the same
    /// and keeps the bytes).
    pub fn push(&mut self, bytes: &[u8]) -> Option<InputFormat> {
        if self.decided.is_some() {
            self.head.extend_from_slice(bytes);
            return self.decided;
        }
        let mut rest = bytes;
        if self.head.is_empty() {
            // Skip a leading byte-order mark, then whitespace; keep nothing of either.
            while let Some((&b, tail)) = rest.split_first() {
                if self.seen < 3 && self.bom as u64 == self.seen && b == b"\xEF\xBB\xBF"[self.bom] {
                    self.bom += 1;
                } else if b == b'\n' || b == b'\r' {
                    self.indented = false;
                } else if b.is_ascii_whitespace() {
                    self.indented = true;
                } else {
                    break;
                }
                self.seen += 1;
                rest = tail;
            }
            if rest.is_empty() {
                return None;
            }
            if self.bom > 0 && self.bom < 3 {
                // A partial mark is content.
                self.head.extend_from_slice(&b"\xEF\xBB\xBF"[..self.bom]);
            } else if self.indented {
                // A line that began with blanks is an unknown SSE field however many there
                // were: one keeps its meaning.
                self.head.push(b' ');
            }
        }
        self.seen += rest.len() as u64;
        self.head.extend_from_slice(rest);
        self.decided = self.decide(false);
        self.decided
    }

    /// The input has ended: what it was.
    pub fn finish(&mut self) -> InputFormat {
        let format = self
            .decided
            .or(self.decide(true))
            .unwrap_or(InputFormat::Json);
        self.decided = Some(format);
        format
    }

    /// The input to normalise: from its first significant line on.
    pub fn into_head(self) -> Vec<u8> {
        self.head
    }

    fn decide(&self, at_end: bool) -> Option<InputFormat> {
        let significant = self.head.trim_ascii_start();
        if significant.is_empty() {
            return at_end.then_some(InputFormat::Empty);
        }
        if SSE_STARTS.iter().any(|p| significant.starts_with(p)) {
            return Some(InputFormat::Sse);
        }
        let may_be_sse = SSE_STARTS.iter().any(|p| p.starts_with(significant));
        if may_be_sse && !at_end {
            None
        } else {
            Some(InputFormat::Json)
        }
    }
}

/// Normalises a whole payload: an OpenAI response object, an Anthropic message, or either
/// vendor's HTTP error body (an `error` event). `vendor` forces the vendor.
pub fn normalize_whole(bytes: &[u8], vendor: Option<Vendor>) -> Result<Vec<Event<'static>>, Error> {
    // A UTF-8 byte-order mark is accepted before JSON as before SSE.
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|err| Error::Json {
        index: 0,
        message: err.to_string(),
    })?;
    let kind = check::detect(&value).map_err(|err| Error::UnknownPayload(err.message))?;
    // Decoded from the bytes, not from `value`: numbers beyond 64 bits stay exact.
    drop(value);
    let decode_err = |error| Error::Decode { index: 0, error };
    let kind = match (vendor, kind) {
        (Some(Vendor::OpenAi), Kind::AnthropicError | Kind::OpenAiError) => Kind::OpenAiError,
        (Some(Vendor::Anthropic), Kind::AnthropicError | Kind::OpenAiError) => Kind::AnthropicError,
        (Some(v), k) if k.vendor() != v => {
            return Err(Error::UnknownPayload(format!(
                "this is an {k}, not a {v} payload"
            )));
        }
        (_, k) => k,
    };
    match kind {
        Kind::OpenAiResponse => {
            let response: wire_openai::Response = decode::from_slice(bytes).map_err(decode_err)?;
            Ok(openai::normalize_response(&response))
        }
        Kind::AnthropicMessage => {
            let message: wire_anthropic::Message = decode::from_slice(bytes).map_err(decode_err)?;
            Ok(anthropic::normalize_message(&message))
        }
        Kind::OpenAiError => {
            let body: wire_openai::ErrorBody = decode::from_slice(bytes).map_err(decode_err)?;
            Ok(vec![Event::new(
                Vendor::OpenAi,
                EventBody::Error {
                    error: ErrorInfo {
                        error_type: body
                            .error
                            .error_type
                            .get()
                            .cloned()
                            .unwrap_or_else(|| "error".to_owned()),
                        message: body.error.message,
                    },
                },
            )])
        }
        Kind::AnthropicError => {
            let body: wire_anthropic::ErrorBody = decode::from_slice(bytes).map_err(decode_err)?;
            Ok(vec![Event::new(
                Vendor::Anthropic,
                EventBody::Error {
                    error: ErrorInfo {
                        error_type: body.error.error_type,
                        message: body.error.message,
                    },
                },
            )])
        }
        other => Err(Error::UnknownPayload(format!(
            "a {other} is not a response (normalize takes responses and streams)"
        ))),
    }
}
