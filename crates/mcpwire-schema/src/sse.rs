//! An incremental Server-Sent Events decoder following the WHATWG EventSource rules.
//!
//! Feed it bytes as they arrive, in chunks of any size: LF, CRLF and CR line ends (a CRLF split
//! across two chunks included), comments, multi-line `data`, `event`, `id` and `retry` fields, a
//! leading byte-order mark, and UTF-8 characters split across chunks are all handled. Memory is
//! bounded by the largest event ([`SseDecoder::with_max_event_size`]).
//!
//! ```
//! use mcpwire_schema::sse::SseDecoder;
//! let mut decoder = SseDecoder::new();
//! let mut events = Vec::new();
//! decoder.feed(b"event: ping\r\ndata: {\"type\":", &mut events).unwrap();
//! decoder.feed(b"\"ping\"}\r\n\r\n: a comment\n", &mut events).unwrap();
//! decoder.finish(&mut events).unwrap();
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].event_type, "ping");
//! assert_eq!(events[0].data, r#"{"type":"ping"}"#);
//! ```

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseEvent {
    /// The `event` field, or `message` when there was none.
    pub event_type: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// The last event id seen so far (it persists across events, as in EventSource).
    pub id: Option<String>,
    /// The last `retry` value seen so far, in milliseconds.
    pub retry: Option<u64>,
}

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line is not valid UTF-8; the line was skipped.
    #[error("invalid UTF-8 in the SSE line starting at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the line in the stream.
        offset: u64,
    },
    /// An event is larger than the limit; it was discarded.
    #[error("SSE event starting near byte {offset} exceeds the {limit}-byte limit")]
    EventTooLarge {
        /// Byte offset where the event started.
        offset: u64,
        /// The limit.
        limit: usize,
    },
    /// The stream ended in the middle of an event (no blank line after it).
    #[error("SSE stream ended mid-event ({pending} bytes not dispatched)")]
    Truncated {
        /// Bytes of the unfinished event.
        pending: usize,
    },
}

/// One dispatched event, borrowed: from the chunk being fed when the event lies within it (no
/// copy), else from the decoder's reused buffers. Valid for the duration of the callback of
/// [`SseDecoder::feed_with`].
///
/// `data` is the bytes as sent: [`feed_with`](SseDecoder::feed_with) does not check `data`
/// lines as UTF-8, because the JSON parser that reads them checks their strings anyway (once is
/// enough). Every other field is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseEventRef<'a> {
    /// The `event` field, or `message` when there was none.
    pub event_type: &'a str,
    /// The `data` lines joined with `\n`, as bytes (see above).
    pub data: &'a [u8],
    /// The last event id seen so far.
    pub id: Option<&'a str>,
    /// The last `retry` value seen so far, in milliseconds.
    pub retry: Option<u64>,
}

impl SseEventRef<'_> {
    /// An owned copy.
    pub fn to_owned_event(&self) -> SseEvent {
        SseEvent {
            event_type: self.event_type.to_owned(),
            data: String::from_utf8_lossy(self.data).into_owned(),
            id: self.id.map(str::to_owned),
            retry: self.retry,
        }
    }
}

/// The default limit on one event: 16 MiB (real MCP results reach a few hundred KiB).
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// The decoder. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct SseDecoder {
    line: Vec<u8>,
    skip_lf: bool,
    at_start: bool,
    /// The `event` field of the current event when `has_type`; otherwise the last one given,
    /// kept so that an event of the same type as the one before is not checked and copied
    /// again (most events of a stream share a few types).
    event_type: String,
    /// The current event has an `event` field.
    has_type: bool,
    /// The data lines seen so far, joined with `\n` (no trailing newline), unless the only data
    /// line is still `borrowed` from the chunk being decoded.
    data: Vec<u8>,
    /// Whether `data` lines are checked as UTF-8 (for [`feed`](Self::feed), whose events hold
    /// `String`s) or left to the JSON parser ([`feed_with`](Self::feed_with)).
    check_data: bool,
    /// How many `data` lines the current event has.
    data_lines: usize,
    /// Byte range, in the chunk being decoded, of the event's only data line so far.
    borrowed: Option<(usize, usize)>,
    /// Where the event's data starts in `data` (after `data: `, when a whole line buffer was
    /// taken over as `data` instead of copied).
    data_start: usize,
    last_id: Option<String>,
    retry: Option<u64>,
    max_event_size: usize,
    event_bytes: usize,
    event_offset: u64,
    offset: u64,
    discarding: bool,
    discard_partial: bool,
    /// Bytes after a faulty line, decoded on the next call.
    pending: Vec<u8>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new()
    }
}

impl SseDecoder {
    /// A decoder with the [default event size limit](DEFAULT_MAX_EVENT_SIZE).
    pub fn new() -> Self {
        SseDecoder::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A decoder that rejects events larger than `limit` bytes.
    pub fn with_max_event_size(limit: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            skip_lf: false,
            at_start: true,
            event_type: String::new(),
            has_type: false,
            data: Vec::new(),
            check_data: true,
            data_lines: 0,
            borrowed: None,
            data_start: 0,
            last_id: None,
            retry: None,
            max_event_size: limit,
            event_bytes: 0,
            event_offset: 0,
            offset: 0,
            discarding: false,
            discard_partial: false,
            pending: Vec::new(),
        }
    }

    /// Decodes a chunk, appending every completed event to `out`.
    ///
    /// On an error, the events before the fault are in `out`, the faulty line (or oversized
    /// event) is dropped, and the bytes after it are kept: the next call (even with an empty
    /// chunk) resumes decoding there.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.check_data = true;
        self.feed_any(chunk, &mut |event: SseEventRef<'_>| {
            out.push(event.to_owned_event());
        })
    }

    /// Decodes a chunk, handing every completed event to `on_event` without copying it when it
    /// lies within `chunk`. Errors as for [`feed`](Self::feed).
    pub fn feed_with<F: FnMut(SseEventRef<'_>)>(
        &mut self,
        chunk: &[u8],
        mut on_event: F,
    ) -> Result<(), SseError> {
        self.check_data = false;
        self.feed_any(chunk, &mut on_event)
    }

    fn feed_any<F: FnMut(SseEventRef<'_>)>(
        &mut self,
        chunk: &[u8],
        mut on_event: F,
    ) -> Result<(), SseError> {
        if self.pending.is_empty() {
            return self.feed_inner(chunk, &mut on_event);
        }
        let mut joined = std::mem::take(&mut self.pending);
        joined.extend_from_slice(chunk);
        self.feed_inner(&joined, &mut on_event)
    }

    fn feed_inner<F: FnMut(SseEventRef<'_>)>(
        &mut self,
        chunk: &[u8],
        on_event: &mut F,
    ) -> Result<(), SseError> {
        let mut first_error = None;
        let mut at = 0;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                at = 1;
                self.offset += 1;
            }
        }
        while let Some(rel) = memchr::memchr2(b'\n', b'\r', &chunk[at..]) {
            let pos = at + rel;
            let mut next = pos + 1;
            if chunk[pos] == b'\r' {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            let line_offset = self.offset - self.line.len() as u64;
            let partial_dropped = std::mem::take(&mut self.discard_partial);
            let result = if self.discarding {
                // Drop lines until the blank line that ends the oversized event.
                if pos == at && !partial_dropped {
                    self.discarding = false;
                    self.event_offset = line_offset + 1;
                }
                Ok(())
            } else if self.line.is_empty() {
                self.process_line(chunk, Some((at, pos)), line_offset, on_event)
            } else {
                self.line.extend_from_slice(&chunk[at..pos]);
                self.process_line(chunk, None, line_offset, on_event)
            };
            self.offset += (next - at) as u64;
            at = next;
            if let Err(err) = result {
                self.own_borrowed(chunk);
                // Not counted in `offset` yet: they are when the next call decodes them.
                self.pending = chunk[at..].to_vec();
                return Err(err);
            }
        }
        self.own_borrowed(chunk);
        let rest = &chunk[at..];
        self.offset += rest.len() as u64;
        if self.discarding {
            self.discard_partial |= !rest.is_empty();
        } else {
            self.line.extend_from_slice(rest);
            if self.event_bytes + self.line.len() > self.max_event_size {
                first_error.get_or_insert(self.overflow());
                self.discard_partial = true;
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Copies a data line borrowed from `chunk` into the decoder before `chunk` goes away.
    fn own_borrowed(&mut self, chunk: &[u8]) {
        if let Some((start, end)) = self.borrowed.take() {
            self.data.extend_from_slice(&chunk[start..end]);
        }
    }

    /// Ends the stream, decoding what an earlier error left pending into `out`: an error if an
    /// event was left unfinished (WHATWG discards it).
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.check_data = true;
        self.finish_any(|event| out.push(event.to_owned_event()))
    }

    /// [`finish`](Self::finish), handing events to `on_event` as [`feed_with`](Self::feed_with)
    /// does.
    pub fn finish_with<F: FnMut(SseEventRef<'_>)>(&mut self, on_event: F) -> Result<(), SseError> {
        self.check_data = false;
        self.finish_any(on_event)
    }

    fn finish_any<F: FnMut(SseEventRef<'_>)>(&mut self, mut on_event: F) -> Result<(), SseError> {
        while !self.pending.is_empty() {
            self.feed_any(&[], &mut on_event)?;
        }
        let pending = self.line.len() + self.data.len() + self.data_lines;
        self.line.clear();
        self.reset_event();
        if pending > 0 && !self.discarding {
            Err(SseError::Truncated { pending })
        } else {
            Ok(())
        }
    }

    fn overflow(&mut self) -> SseError {
        self.discarding = true;
        self.line = Vec::new();
        self.reset_event();
        self.data = Vec::new();
        SseError::EventTooLarge {
            offset: self.event_offset,
            limit: self.max_event_size,
        }
    }

    fn reset_event(&mut self) {
        self.has_type = false;
        self.data.clear();
        self.data_start = 0;
        self.data_lines = 0;
        self.borrowed = None;
        self.event_bytes = 0;
    }

    /// Processes one line: `chunk[range]` when `range` is given, else the line buffer (which is
    /// cleared afterwards).
    fn process_line<F: FnMut(SseEventRef<'_>)>(
        &mut self,
        chunk: &[u8],
        range: Option<(usize, usize)>,
        offset: u64,
        on_event: &mut F,
    ) -> Result<(), SseError> {
        let mut line_buf = std::mem::take(&mut self.line);
        if range.is_none()
            && let Some(start) = self.data_value_start(&line_buf)
        {
            // The first data line of an event, assembled across chunks: take the buffer over
            // as `data` instead of copying it (a large event is one long line).
            if let Err(err) = self.count_line(line_buf.len(), offset) {
                line_buf.clear();
                self.line = line_buf;
                return Err(err);
            }
            self.data_lines += 1;
            std::mem::swap(&mut self.data, &mut line_buf);
            self.data_start = start;
            line_buf.clear();
            self.line = line_buf;
            return Ok(());
        }
        let result = match range {
            Some((start, end)) => {
                self.line_fields(chunk, start, &chunk[start..end], offset, on_event)
            }
            None => self.line_fields(chunk, usize::MAX, &line_buf, offset, on_event),
        };
        line_buf.clear();
        self.line = line_buf;
        result
    }

    /// Counts a non-blank line of `len` bytes starting at `offset` towards the event's size: the
    /// event starts at its first line, and one beyond `max_event_size` is an error.
    fn count_line(&mut self, len: usize, offset: u64) -> Result<(), SseError> {
        if self.event_bytes == 0 {
            self.event_offset = offset;
        }
        self.event_bytes += len + 1;
        if self.event_bytes > self.max_event_size {
            return Err(self.overflow());
        }
        Ok(())
    }

    /// Where the value starts in `line` when it is the first `data` line of an event and can be
    /// taken over as the event's data as it is (`feed_with` only: `feed` checks the text).
    fn data_value_start(&self, line: &[u8]) -> Option<usize> {
        if self.check_data
            || self.at_start
            || self.data_lines > 0
            || self.borrowed.is_some()
            || !self.data.is_empty()
        {
            return None;
        }
        let value = line.strip_prefix(b"data:".as_slice())?;
        Some(line.len() - value.strip_prefix(b" ".as_slice()).unwrap_or(value).len())
    }

    /// `line` is `chunk[start..]` up to its end when `start` is not `usize::MAX`.
    fn line_fields<F: FnMut(SseEventRef<'_>)>(
        &mut self,
        chunk: &[u8],
        start: usize,
        mut line: &[u8],
        offset: u64,
        on_event: &mut F,
    ) -> Result<(), SseError> {
        let line_end = start.checked_add(line.len());
        if self.at_start {
            self.at_start = false;
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
                line = rest;
            }
        }
        if line.is_empty() {
            self.dispatch(chunk, on_event);
            self.event_offset = offset + 1;
            return Ok(());
        }
        self.count_line(line.len(), offset)?;
        if line[0] == b':' {
            return Ok(());
        }
        if !self.check_data
            && let Some(value) = line.strip_prefix(b"data:".as_slice())
        {
            // Left to the JSON parser to check (see `SseEventRef`).
            let value = value.strip_prefix(b" ".as_slice()).unwrap_or(value);
            self.data_line(chunk, line_end, value);
            return Ok(());
        }
        if let Some(value) = line.strip_prefix(b"event:".as_slice()) {
            let value = value.strip_prefix(b" ".as_slice()).unwrap_or(value);
            if value != self.event_type.as_bytes() {
                let value =
                    std::str::from_utf8(value).map_err(|_| SseError::InvalidUtf8 { offset })?;
                self.set_event_type(value);
            }
            self.has_type = true;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8 { offset })?;
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => self.data_line(chunk, line_end, value.as_bytes()),
            "event" => {
                self.set_event_type(value);
                self.has_type = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
        Ok(())
    }

    fn set_event_type(&mut self, value: &str) {
        self.event_type.clear();
        self.event_type.push_str(value);
    }

    /// A `data` line's value; `line_end` is where the line ends in `chunk`, if it is in it.
    fn data_line(&mut self, chunk: &[u8], line_end: Option<usize>, value: &[u8]) {
        self.data_lines += 1;
        match line_end {
            // The first data line, within the chunk: borrow it.
            Some(end) if self.data_lines == 1 => {
                self.borrowed = Some((end - value.len(), end));
            }
            _ => {
                self.own_borrowed(chunk);
                if self.data_lines > 1 {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
            }
        }
    }

    fn dispatch<F: FnMut(SseEventRef<'_>)>(&mut self, chunk: &[u8], on_event: &mut F) {
        if self.data_lines > 0 {
            let data = match self.borrowed {
                Some((start, end)) => &chunk[start..end],
                None => self.data.get(self.data_start..).unwrap_or_default(),
            };
            on_event(SseEventRef {
                event_type: if !self.has_type || self.event_type.is_empty() {
                    "message"
                } else {
                    &self.event_type
                },
                data,
                id: self.last_id.as_deref(),
                retry: self.retry,
            });
        }
        self.reset_event();
    }
}

/// Decodes a whole stream at once.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    decoder.feed(bytes, &mut events)?;
    decoder.finish(&mut events)?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_chunks(chunks: &[&[u8]]) -> (Vec<SseEvent>, Vec<SseError>) {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        let mut errors = Vec::new();
        for chunk in chunks {
            if let Err(err) = decoder.feed(chunk, &mut events) {
                errors.push(err);
            }
        }
        loop {
            match decoder.finish(&mut events) {
                Ok(()) => break,
                Err(err @ SseError::Truncated { .. }) => {
                    errors.push(err);
                    break;
                }
                Err(err) => errors.push(err),
            }
        }
        (events, errors)
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn line_ends_lf_crlf_cr_are_equivalent() {
        for input in [
            &b"data: a\n\ndata: b\n\n"[..],
            b"data: a\r\n\r\ndata: b\r\n\r\n",
            b"data: a\r\rdata: b\r\r",
        ] {
            let (events, errors) = decode_chunks(&[input]);
            assert_eq!(data(&events), ["a", "b"], "{input:?}");
            assert!(errors.is_empty());
        }
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let (events, errors) = decode_chunks(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(data(&events), ["a\nb"]);
        assert!(errors.is_empty());
    }

    #[test]
    fn multi_line_data_comments_and_fields() {
        let input = b": hello\nevent: upd\nid: 7\nretry: 1500\ndata: one\ndata:two\ndata\n\n";
        let (events, _) = decode_chunks(&[input]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "upd");
        assert_eq!(events[0].data, "one\ntwo\n");
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(events[0].retry, Some(1500));
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_type_resets() {
        let (events, _) = decode_chunks(&[b"event: x\n\ndata: y\n\n"]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "message");
    }

    #[test]
    fn repeated_event_types_are_kept_and_each_event_starts_without_one() {
        // The decoder keeps the last type to avoid copying it again: it must not leak into
        // an event without an `event` field, nor hide a change of type or an empty type.
        let (events, errors) = decode_chunks(&[
            b"event: a\ndata: 1\n\nevent: a\ndata: 2\n\ndata: 3\n\nevent:a\ndata: 4\n\n",
            b"event: b\ndata: 5\n\nevent\ndata: 6\n\nevent: \ndata: 7\n\nevent: a\nevent: c\ndata: 8\n\n",
            b"event: \xFF\ndata: 9\n\nevent: c\ndata: 10\n\n",
        ]);
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "a", "a", "message", "a", "b", "message", "message", "c", "message", "c"
            ]
        );
        assert_eq!(errors.len(), 1, "the bad type line is an error: {errors:?}");
    }

    #[test]
    fn utf8_character_split_across_chunks() {
        let text = "data: caf\u{e9} \u{1F600}\n\n".as_bytes();
        for split in 0..text.len() {
            let (events, errors) = decode_chunks(&[&text[..split], &text[split..]]);
            assert_eq!(data(&events), ["caf\u{e9} \u{1F600}"], "split at {split}");
            assert!(errors.is_empty());
        }
    }

    #[test]
    fn byte_order_mark_is_stripped_even_when_split() {
        let (events, _) = decode_chunks(&[b"\xEF\xBB", b"\xBFdata: x\n\n"]);
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn invalid_utf8_is_a_typed_error_and_decoding_recovers() {
        let (events, errors) = decode_chunks(&[b"data: ok\n\ndata: \xFF\xFE\n\ndata: after\n\n"]);
        assert_eq!(data(&events), ["ok", "after"]);
        assert_eq!(errors, [SseError::InvalidUtf8 { offset: 10 }]);
    }

    #[test]
    fn offsets_stay_exact_across_several_faults_and_resumptions() {
        // Regression (found by fuzz/sse_decoder): resuming after a fault miscounted offsets,
        // and a fault near the start of a chunk underflowed.
        let input = b"data: \xFF\n\ndata: a\n\ndata: \xFE\n\ndata: b\n\n";
        for chunking in [1usize, 3, input.len()] {
            let mut decoder = SseDecoder::new();
            let mut events = Vec::new();
            let mut errors = Vec::new();
            for chunk in input.chunks(chunking) {
                if let Err(e) = decoder.feed(chunk, &mut events) {
                    errors.push(e);
                }
            }
            while let Err(e) = decoder.finish(&mut events) {
                errors.push(e);
            }
            assert_eq!(data(&events), ["a", "b"], "chunks of {chunking}");
            assert_eq!(
                errors,
                [
                    SseError::InvalidUtf8 { offset: 0 },
                    SseError::InvalidUtf8 { offset: 18 }
                ],
                "chunks of {chunking}"
            );
        }
        // The fuzzer's input, whole.
        let mut decoder = SseDecoder::with_max_event_size(4096);
        let mut events = Vec::new();
        assert_eq!(
            decoder.feed(b"\xDB\n\n\n\n", &mut events),
            Err(SseError::InvalidUtf8 { offset: 0 })
        );
        decoder.finish(&mut events).unwrap();
        assert!(events.is_empty());
    }

    #[test]
    fn feed_with_borrows_the_same_events_at_every_chunking() {
        let input = "\u{feff}: c\r\nevent: a\r\ndata: {\"x\":1}\r\n\r\ndata: one\ndata: two\n\nid: 9\ndata: caf\u{e9}\n\n";
        let owned = decode_all(input.as_bytes()).unwrap();
        for size in 1..input.len() {
            let mut decoder = SseDecoder::new();
            let mut got = Vec::new();
            for chunk in input.as_bytes().chunks(size) {
                decoder
                    .feed_with(chunk, |e| got.push(e.to_owned_event()))
                    .unwrap();
            }
            decoder
                .finish_with(|e| got.push(e.to_owned_event()))
                .unwrap();
            assert_eq!(got, owned, "chunks of {size}");
        }
    }

    #[test]
    fn feed_with_leaves_data_bytes_to_the_json_parser() {
        let mut decoder = SseDecoder::new();
        let mut data = Vec::new();
        decoder
            .feed_with(b"data: \xFF\n\n", |e| data.push(e.data.to_vec()))
            .unwrap();
        assert_eq!(data, [b"\xFF".to_vec()]);
        // Other fields are still checked.
        assert!(matches!(
            decoder.feed_with(b"event: \xFF\n\n", |_| {}),
            Err(SseError::InvalidUtf8 { .. })
        ));
    }

    #[test]
    fn truncated_stream_is_reported() {
        let (events, errors) = decode_chunks(&[b"data: a\n\ndata: {\"cut"]);
        assert_eq!(data(&events), ["a"]);
        assert!(matches!(errors.as_slice(), [SseError::Truncated { .. }]));
    }

    #[test]
    fn oversized_event_is_rejected_and_the_next_one_survives() {
        let mut decoder = SseDecoder::with_max_event_size(64);
        let mut events = Vec::new();
        let big = format!("data: {}\n\ndata: small\n\n", "x".repeat(200));
        let err = decoder.feed(big.as_bytes(), &mut events).unwrap_err();
        assert!(matches!(err, SseError::EventTooLarge { limit: 64, .. }));
        assert!(events.is_empty(), "decoding stops at the fault");
        decoder.finish(&mut events).unwrap();
        assert_eq!(data(&events), ["small"], "and resumes after it");
        // The same, one byte at a time: the partial line is bounded too.
        let mut decoder = SseDecoder::with_max_event_size(64);
        let mut events = Vec::new();
        let mut errors = 0;
        for b in big.as_bytes() {
            errors += usize::from(decoder.feed(std::slice::from_ref(b), &mut events).is_err());
        }
        assert_eq!(errors, 1);
        assert_eq!(data(&events), ["small"]);
        // Lines after the oversized one, up to the blank line, belong to the discarded event.
        for chunking in [1usize, 7, 1000] {
            let mut decoder = SseDecoder::with_max_event_size(64);
            let mut events = Vec::new();
            let input = format!("data: {}\ndata: tail\n\ndata: next\n\n", "y".repeat(100));
            for chunk in input.as_bytes().chunks(chunking) {
                let _ = decoder.feed(chunk, &mut events);
            }
            decoder.finish(&mut events).unwrap();
            assert_eq!(data(&events), ["next"], "chunks of {chunking}");
        }
    }
}
