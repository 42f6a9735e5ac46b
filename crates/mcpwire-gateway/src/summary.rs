//! What the gateway needs to know about every response it relays, read cheaply on the
//! forwarding path without the full normaliser: the response id (as soon as it appears, so
//! that its owner is recorded before the caller can use it), the model, the token usage and
//! how it ended. Streams are split into events by the SSE decoder and only the few events
//! that carry these (`response.created` / `.completed` / `.failed` / `.incomplete`, `error`;
//! `message_start`, `message_delta`, `error`) are decoded; whole JSON bodies are read once
//! at the end (and their leading `"id"` as soon as it arrives).

use mcpwire_schema::event::Vendor;
use mcpwire_schema::sse::SseDecoder;
use serde::Deserialize;

/// Whole bodies larger than this are relayed but not summarised.
const MAX_WHOLE: usize = 8 * 1024 * 1024;

/// What a response said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// The vendor's response / message id.
    pub(crate) response_id: Option<String>,
    /// The model that answered.
    pub(crate) model: Option<String>,
    /// Input tokens (OpenAI `usage.input_tokens`, Anthropic `usage.input_tokens`).
    pub(crate) input_tokens: Option<u64>,
    /// Output tokens.
    pub(crate) output_tokens: Option<u64>,
    /// How it ended: OpenAI `status` (`completed`, `failed`, `incomplete`), Anthropic
    /// `stop_reason`, or `error` for an error event.
    pub(crate) finish: Option<String>,
    /// The error message of a failed response or an error event.
    pub(crate) error: Option<String>,
}

#[derive(Deserialize, Default)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorObject {
    message: Option<String>,
}

/// An OpenAI `Response` object or an Anthropic `Message`, the fields read here.
#[derive(Deserialize, Default)]
struct Object {
    id: Option<String>,
    model: Option<String>,
    status: Option<String>,
    stop_reason: Option<String>,
    usage: Option<Usage>,
    error: Option<ErrorObject>,
}

/// One stream event, the fields read here.
#[derive(Deserialize, Default)]
struct Event {
    response: Option<Object>,
    message: Option<Object>,
    delta: Option<Object>,
    usage: Option<Usage>,
    error: Option<ErrorObject>,
}

enum Mode {
    Sse(Box<SseDecoder>),
    Whole(Vec<u8>),
    /// A whole body over [`MAX_WHOLE`]: relayed, not read.
    TooLarge,
}

/// Reads a response as it is relayed.
pub(crate) struct Summarizer {
    mode: Mode,
    vendor: Vendor,
    summary: Summary,
}

impl Summarizer {
    pub(crate) fn new(vendor: Vendor, sse: bool) -> Self {
        Summarizer {
            mode: if sse {
                Mode::Sse(Box::new(SseDecoder::new()))
            } else {
                Mode::Whole(Vec::new())
            },
            vendor,
            summary: Summary::default(),
        }
    }

    /// Reads a chunk; returns the response id when this chunk made it known.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Option<String> {
        let had_id = self.summary.response_id.is_some();
        match &mut self.mode {
            Mode::Sse(decoder) => {
                let summary = &mut self.summary;
                let vendor = self.vendor;
                // A malformed stream is the client's to see; the summary just stays partial.
                let _ = decoder.feed_with(chunk, |ev| {
                    read_event(vendor, summary, ev.event_type, ev.data)
                });
            }
            Mode::Whole(buf) => {
                if buf.len() + chunk.len() > MAX_WHOLE {
                    self.mode = Mode::TooLarge;
                    return None;
                }
                buf.extend_from_slice(chunk);
                if !had_id && buf.len() <= 64 * 1024 {
                    self.summary.response_id = leading_id(buf);
                }
            }
            Mode::TooLarge => {}
        }
        if had_id {
            None
        } else {
            self.summary.response_id.clone()
        }
    }

    /// The end of the body: the summary, and the response id if only now known.
    pub(crate) fn finish(&mut self) -> (Summary, Option<String>) {
        let had_id = self.summary.response_id.is_some();
        match &mut self.mode {
            Mode::Sse(decoder) => {
                let summary = &mut self.summary;
                let vendor = self.vendor;
                let _ =
                    decoder.finish_with(|ev| read_event(vendor, summary, ev.event_type, ev.data));
            }
            Mode::Whole(buf) => {
                if let Ok(obj) = serde_json::from_slice::<Object>(buf) {
                    merge(&mut self.summary, obj);
                }
            }
            Mode::TooLarge => {}
        }
        let new_id = if had_id {
            None
        } else {
            self.summary.response_id.clone()
        };
        (std::mem::take(&mut self.summary), new_id)
    }

    /// What is known so far (a stream cut short).
    pub(crate) fn partial(&self) -> &Summary {
        &self.summary
    }
}

fn merge(summary: &mut Summary, obj: Object) {
    if obj.id.is_some() {
        summary.response_id = obj.id;
    }
    if obj.model.is_some() {
        summary.model = obj.model;
    }
    if let Some(u) = obj.usage {
        summary.input_tokens = u.input_tokens.or(summary.input_tokens);
        summary.output_tokens = u.output_tokens.or(summary.output_tokens);
    }
    if let Some(s) = obj.status.or(obj.stop_reason) {
        summary.finish = Some(s);
    }
    if let Some(e) = obj.error.and_then(|e| e.message) {
        summary.error = Some(e);
    }
}

fn read_event(vendor: Vendor, summary: &mut Summary, event_type: &str, data: &[u8]) {
    let wanted = match vendor {
        Vendor::Anthropic => matches!(event_type, "message_start" | "message_delta" | "error"),
        _ => matches!(
            event_type,
            "response.created"
                | "response.completed"
                | "response.failed"
                | "response.incomplete"
                | "error"
        ),
    };
    // Streams without `event:` lines name the type in the data; read those too.
    if !wanted && event_type != "message" {
        return;
    }
    let Ok(ev) = serde_json::from_slice::<Event>(data) else {
        return;
    };
    if let Some(obj) = ev.response.or(ev.message) {
        // A created response is still in progress: keep its id and model only.
        let finished = event_type != "response.created" && event_type != "message_start";
        let status = obj.status.clone();
        merge(summary, obj);
        if !finished {
            summary.finish = None;
        } else if status.is_some() {
            summary.finish = status;
        }
    }
    if let Some(delta) = ev.delta
        && let Some(stop) = delta.stop_reason
    {
        summary.finish = Some(stop);
    }
    if let Some(u) = ev.usage {
        summary.input_tokens = u.input_tokens.or(summary.input_tokens);
        summary.output_tokens = u.output_tokens.or(summary.output_tokens);
    }
    if let Some(e) = ev.error {
        summary.finish = Some("error".to_owned());
        summary.error = e.message.or(summary.error.take());
    }
}

/// The value of a leading `"id"` member of a JSON object, as soon as the bytes hold it
/// (OpenAI and Anthropic both put it first).
fn leading_id(buf: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(buf.get(..buf.len().min(4096))?)
        .ok()
        .or_else(|| {
            // A chunk boundary inside a multi-byte character: read up to it.
            let valid = std::str::from_utf8(buf).err()?.valid_up_to();
            std::str::from_utf8(&buf[..valid]).ok()
        })?;
    let rest = text.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest
        .strip_prefix("\"id\"")?
        .trim_start()
        .strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    (rest.as_bytes().get(end) == Some(&b'"')).then(|| rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(vendor: Vendor, sse: bool, chunks: &[&[u8]]) -> (Vec<String>, Summary) {
        let mut s = Summarizer::new(vendor, sse);
        let mut ids = Vec::new();
        for c in chunks {
            ids.extend(s.feed(c));
        }
        let (summary, id) = s.finish();
        ids.extend(id);
        (ids, summary)
    }

    #[test]
    fn openai_stream() {
        let (ids, s) = run(
            Vendor::OpenAi,
            true,
            &[
                b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-x\",\"status\":\"in_progress\"}}\n\n",
                b"event: response.output_text.delta\ndata: {\"delta\":\"hi\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}}\n\n",
            ],
        );
        assert_eq!(ids, ["resp_1"]);
        assert_eq!(s.model.as_deref(), Some("gpt-x"));
        assert_eq!((s.input_tokens, s.output_tokens), (Some(12), Some(3)));
        assert_eq!(s.finish.as_deref(), Some("completed"));
    }

    #[test]
    fn anthropic_stream() {
        let (ids, s) = run(
            Vendor::Anthropic,
            true,
            &[
                b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\n",
                b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n",
            ],
        );
        assert_eq!(ids, ["msg_1"]);
        assert_eq!((s.input_tokens, s.output_tokens), (Some(20), Some(9)));
        assert_eq!(s.finish.as_deref(), Some("end_turn"));
    }

    #[test]
    fn whole_body_id_is_known_from_its_first_bytes() {
        let mut s = Summarizer::new(Vendor::OpenAi, false);
        assert_eq!(s.feed(b"{\n  \"id\": \"resp_"), None);
        assert_eq!(s.feed(b"9\", \"model\":\"m\",").as_deref(), Some("resp_9"));
        assert_eq!(
            s.feed(b"\"status\":\"failed\",\"error\":{\"message\":\"boom\"},\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}"),
            None
        );
        let (summary, late) = s.finish();
        assert_eq!(late, None);
        assert_eq!(summary.finish.as_deref(), Some("failed"));
        assert_eq!(summary.error.as_deref(), Some("boom"));
        assert_eq!(summary.output_tokens, Some(2));
        // An id that is not first is found at the end.
        let (ids, _) = run(
            Vendor::OpenAi,
            false,
            &[b"{\"object\":\"response\",\"id\":\"resp_2\"}"],
        );
        assert_eq!(ids, ["resp_2"]);
    }
}
