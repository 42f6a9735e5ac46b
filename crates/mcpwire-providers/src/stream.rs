//! [`EventStream`]: a streamed response as it arrives, decoded by the SSE decoder and
//! normalised by `mcpwire_normalize`'s stream normaliser, whose accumulator rebuilds the final
//! response. Nothing is kept per event once it has been handed out, so memory does not grow
//! with the length of the stream.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use mcpwire_normalize::{Accumulator, FinalResponse, StreamNormalizer};
use mcpwire_schema::event::{Event, EventBody, Vendor};
use mcpwire_schema::sse::{SseDecoder, SseEvent};
use tracing::debug;

use crate::error::{Error, ErrorKind};
use crate::render::Warning;
use crate::retry::Deadline;

/// One item of an [`EventStream`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamItem {
    /// A vendor event's `data`, verbatim (it precedes the events it produces).
    Raw(String),
    /// A normalised event.
    Event(Event<'static>),
}

/// The events of a streamed response; a [`Stream`] of [`StreamItem`]s. Dropping it cancels
/// the request.
pub struct EventStream {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    decoder: SseDecoder,
    normalizer: StreamNormalizer,
    accumulator: Accumulator,
    /// Position of the next vendor event (for error messages).
    index: usize,
    pending: VecDeque<Result<StreamItem, Error>>,
    idle: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    deadline: Deadline,
    deadline_sleep: Pin<Box<tokio::time::Sleep>>,
    done: bool,
    vendor: Vendor,
    request_id: Option<String>,
    pub(crate) warnings: Vec<Warning>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("vendor", &self.vendor)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
        normalizer: StreamNormalizer,
        idle: Duration,
        deadline: Deadline,
        vendor: Vendor,
        request_id: Option<String>,
        warnings: Vec<Warning>,
    ) -> Self {
        EventStream {
            body,
            decoder: SseDecoder::new(),
            accumulator: normalizer.accumulator(),
            normalizer,
            index: 0,
            pending: VecDeque::new(),
            idle,
            sleep: None,
            deadline,
            deadline_sleep: Box::pin(tokio::time::sleep_until(deadline.at())),
            done: false,
            vendor,
            request_id,
            warnings,
        }
    }

    /// The vendor's request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Fields converted or dropped in lossy rendering.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Only the normalised events.
    pub fn events(self) -> impl Stream<Item = Result<Event<'static>, Error>> + Send {
        self.filter_map(|item| async move {
            match item {
                Ok(StreamItem::Event(event)) => Some(Ok(event)),
                Ok(StreamItem::Raw(_)) => None,
                Err(err) => Some(Err(err)),
            }
        })
    }

    /// The final response rebuilt from the stream (OpenAI: the response of the terminal event;
    /// Anthropic: the accumulated message), once the stream has ended.
    pub fn final_response(self) -> Option<FinalResponse> {
        self.accumulator.finish()
    }

    fn error(&self, kind: ErrorKind, message: String) -> Error {
        Error::new(kind, message)
            .vendor(self.vendor)
            .with_request_id(self.request_id.as_deref())
    }

    fn fail(&mut self, err: Error) {
        self.pending.push_back(Err(err));
        self.done = true;
    }

    fn handle(&mut self, events: Vec<SseEvent>) {
        for sse in events {
            if sse.data.trim() == "[DONE]" {
                continue;
            }
            let index = self.index;
            self.index += 1;
            let mut out = Vec::new();
            let result = self.normalizer.push_json_with(
                sse.data.as_bytes(),
                index,
                &mut out,
                Some(&mut self.accumulator),
            );
            // The events may borrow from the data, which is handed out next.
            let out: Vec<Event<'static>> = out.into_iter().map(Event::into_owned).collect();
            self.pending.push_back(Ok(StreamItem::Raw(sse.data)));
            if let Err(e) = result {
                let err = self.error(ErrorKind::Decode, e.to_string());
                self.fail(err);
                return;
            }
            for event in out {
                if let EventBody::Error { error } = &event.body {
                    debug!(error_type = %error.error_type, "error event in stream");
                }
                self.pending.push_back(Ok(StreamItem::Event(event)));
            }
        }
    }

    fn end(&mut self) {
        self.done = true;
        let mut events = Vec::new();
        let framing = self.decoder.finish(&mut events);
        self.handle(events);
        let mut out = Vec::new();
        let end = self.normalizer.finish(&mut out);
        self.pending
            .extend(out.into_iter().map(|e| Ok(StreamItem::Event(e))));
        if let Err(e) = framing {
            let err = self.error(ErrorKind::Decode, e.to_string());
            self.pending.push_back(Err(err));
        } else if let Err(e) = end {
            let err = self.error(ErrorKind::Stream, e.to_string());
            self.pending.push_back(Err(err));
        }
    }
}

impl Stream for EventStream {
    type Item = Result<StreamItem, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.done {
                return Poll::Ready(None);
            }
            // Checked before every read: a stream that never pauses (keep-alive comments, one
            // byte at a time) still ends at the deadline.
            if this.deadline_sleep.as_mut().poll(cx).is_ready() {
                let err = this.deadline.error(this.vendor);
                let err = err.with_request_id(this.request_id.as_deref());
                this.fail(err);
                continue;
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    this.sleep = None;
                    let mut events = Vec::new();
                    let framing = this.decoder.feed(&chunk, &mut events);
                    this.handle(events);
                    if let Err(e) = framing
                        && !this.done
                    {
                        let err = this.error(ErrorKind::Decode, e.to_string());
                        this.fail(err);
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let err = this
                        .error(ErrorKind::Connect, "the stream broke".to_owned())
                        .with_source(e.without_url());
                    this.fail(err);
                }
                Poll::Ready(None) => this.end(),
                Poll::Pending => {
                    let idle = this.idle;
                    let sleep = this
                        .sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                    if sleep.as_mut().poll(cx).is_ready() {
                        this.sleep = None;
                        let err =
                            this.error(ErrorKind::Timeout, format!("no stream data for {idle:?}"));
                        this.fail(err);
                        continue;
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
