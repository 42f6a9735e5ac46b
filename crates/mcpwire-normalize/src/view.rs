//! Borrowed views of the hot stream events: what the stream normalisers need from the most
//! frequent and the largest events, read straight from the event's text, strings and JSON
//! values borrowed from it.
//!
//! A view is only ever a shortcut. It accepts an event only when the typed decode would accept
//! it too: it names every field the typed wire type names, with the same JSON type (a value
//! the typed type keeps verbatim is skipped here, which accepts the same values), so a field
//! given twice is refused as there; unknown fields are skipped (the typed decode keeps them,
//! which accepts the same inputs). Anything a view does not take (another key order, an
//! unusual shape, a fault) goes to the typed decode, which gives the events or the error; the
//! events are the same either way (`tests/fast_path.rs` holds the two paths to that on every
//! recorded event and on mutations of each).

use std::borrow::Cow;

use mcpwire_schema::Json;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// `true` when `data` is an object whose first key is `type`, with the value `tag` written
/// plainly: the key order both vendors send, and the one the views rely on.
pub(crate) fn tagged(data: &str, tag: &str) -> bool {
    data.strip_prefix(r#"{"type":""#)
        .and_then(|rest| rest.strip_prefix(tag))
        .is_some_and(|rest| rest.starts_with("\","))
}

/// The type tag of an object, when it is a string written plainly (no escapes) and given
/// once: read from the start when `type` is the first key (what the vendors send in events),
/// else from the whole object (items inside a response have their `id` first).
pub(crate) fn tag_of(raw: &RawValue) -> Option<&str> {
    let text = raw.get();
    if let Some(tag) = peek_tag(text) {
        return Some(tag);
    }
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(rename = "type")]
        tag: &'a str,
    }
    read::<Tag<'_>>(text).map(|t| t.tag)
}

/// How many plain string fields may come before `type` for [`peek_tag`] and [`Tagged`] (OpenAI
/// writes an item's `id` first inside a response).
const LEADING: usize = 2;

/// The `type` of the object that `text` starts with, read without parsing it when the object
/// starts with at most [`LEADING`] fields whose values are plain strings (no escapes), then
/// `"type":"<tag>"` with a plain tag; `None` otherwise.
pub(crate) fn peek_tag(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut at = 1;
    // The end (a quote) of the plain string starting at `start`.
    let plain = |start: usize| -> Option<usize> {
        let end = start + memchr::memchr2(b'"', b'\\', bytes.get(start..)?)?;
        (bytes[end] == b'"').then_some(end)
    };
    for _ in 0..=LEADING {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = plain(at + 1)?;
        if bytes.get(key_end + 1..key_end + 3) != Some(b":\"".as_slice()) {
            return None;
        }
        let value = key_end + 3;
        let value_end = plain(value)?;
        if &bytes[at + 1..key_end] == b"type" {
            return Some(&text[value..value_end]);
        }
        if bytes.get(value_end + 1) != Some(&b',') {
            return None;
        }
        at = value_end + 2;
    }
    None
}

/// The type of the object that is the value of the key found by `key` in `data`, when
/// [`peek_tag`] can read it: a hint of which view to read it with (only a hint: [`Tagged`]
/// checks the real tag).
pub(crate) fn nested_tag<'d>(data: &'d str, key: &Nested) -> Option<&'d str> {
    let at = key.0.find(data.as_bytes())? + key.0.needle().len();
    peek_tag(&data[at..])
}

/// A searcher for `"<key>":` followed by an object, built once.
pub(crate) struct Nested(memchr::memmem::Finder<'static>);

/// `"item":{`, the object starting at the brace.
pub(crate) static ITEM: std::sync::LazyLock<Nested> =
    std::sync::LazyLock::new(|| Nested(memchr::memmem::Finder::new(r#""item":"#)));
/// `"delta":{`, the object starting at the brace.
pub(crate) static DELTA: std::sync::LazyLock<Nested> =
    std::sync::LazyLock::new(|| Nested(memchr::memmem::Finder::new(r#""delta":"#)));

/// A view of an object of one type, tagged by its first key.
pub(crate) trait Tag {
    /// The `type` value.
    const TAG: &'static str;
}

/// A nested object read through the view `T` in one pass: its `type` must come within its first
/// [`LEADING`] + 1 keys, written plainly as `T::TAG` (anything else is an error: the typed decode
/// takes the event); the other fields, those before `type` included, are `T`'s.
pub(crate) struct Tagged<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Tag> Deserialize<'de> for Tagged<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Tag> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Tagged<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a {} object with its type first", T::TAG)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Tagged<T>, A::Error> {
                use serde::de::Error as _;
                let mut leading = Vec::new();
                loop {
                    match map.next_key::<&'de str>()? {
                        Some("type") => break,
                        Some(key) if leading.len() < LEADING => {
                            leading.push((key, map.next_value::<&'de RawValue>()?));
                        }
                        _ => return Err(A::Error::custom("type is not among the first keys")),
                    }
                }
                if map.next_value::<&'de str>()? != T::TAG {
                    return Err(A::Error::custom("another type"));
                }
                let rest = Chain {
                    leading: leading.into_iter(),
                    value: None,
                    rest: map,
                };
                T::deserialize(serde::de::value::MapAccessDeserializer::new(rest)).map(Tagged)
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// The fields read before `type`, then the rest of the object.
struct Chain<'de, A> {
    leading: std::vec::IntoIter<(&'de str, &'de RawValue)>,
    value: Option<&'de RawValue>,
    rest: A,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for Chain<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.leading.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        use serde::de::Error as _;
        match self.value.take() {
            Some(raw) => seed
                .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                .map_err(A::Error::custom),
            None => self.rest.next_value_seed(seed),
        }
    }
}

/// An object of a type the typed decode does not model, borrowed, when its text is exactly what
/// the typed decode would keep. That decode rebuilds such an object from its fields: it drops
/// whitespace between the object's own tokens, writes its keys again and compacts a field's
/// value that holds a line break or a tab. So only text without those (and without an escape
/// in a top-level key) is borrowed as it is; anything else is left to the typed decode.
pub(crate) fn verbatim(raw: &RawValue) -> Option<Json<'_>> {
    as_rebuilt(raw.get().as_bytes()).then(|| Json::borrowed(raw))
}

/// See [`verbatim`]: `text` is valid JSON.
fn as_rebuilt(text: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // In a string that is a key of the top-level object.
    let mut top_key = false;
    // Inside the top-level object, the next string is a key.
    let mut expect_key = false;
    for &c in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                if top_key {
                    return false;
                }
                escaped = true;
            } else if c == b'"' {
                in_string = false;
                top_key = false;
            }
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                top_key = depth == 1 && expect_key;
                expect_key = false;
            }
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && c == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => expect_key = depth == 1,
            // The rebuild drops the object's own whitespace; a value keeps its spaces, but one
            // holding a line break or tab is compacted whole.
            b' ' if depth == 1 => return false,
            b'\n' | b'\r' | b'\t' => return false,
            _ => {}
        }
    }
    true
}

/// `true` when a JSON string is written exactly as `serde_json` writes its value: the escapes
/// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00XX` (lower-case hex) for the other
/// control characters; nothing else escaped. Such text can be passed on as it came where the
/// typed path decodes the string and writes it again.
pub(crate) fn canonical_string(raw: &RawValue) -> bool {
    let text = raw.get().as_bytes();
    let Some(inner) = text.strip_prefix(b"\"").and_then(|t| t.strip_suffix(b"\"")) else {
        return false;
    };
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'\\', &inner[at..]) {
        let i = at + found;
        match inner.get(i + 1) {
            Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => at = i + 2,
            Some(b'u') => {
                let Some(hex) = inner.get(i + 2..i + 6) else {
                    return false;
                };
                let control = hex[0] == b'0'
                    && hex[1] == b'0'
                    && matches!(hex[2], b'0' | b'1')
                    && matches!(hex[3], b'0'..=b'9' | b'a'..=b'f');
                // serde_json writes these five with their short escapes.
                let short = matches!(&hex[2..], b"08" | b"0c" | b"0a" | b"0d" | b"09");
                if !control || short {
                    return false;
                }
                at = i + 6;
            }
            _ => return false,
        }
    }
    true
}

/// `response.output_text.delta`: the same required fields and field types as
/// `OutputTextDelta`, strings borrowed, the rest skipped.
#[derive(Deserialize)]
pub(crate) struct OutputTextDelta<'a> {
    #[serde(borrow)]
    #[allow(dead_code)]
    item_id: Cow<'a, str>,
    pub(crate) output_index: u64,
    #[allow(dead_code)]
    content_index: u64,
    #[serde(borrow)]
    pub(crate) delta: Cow<'a, str>,
    #[allow(dead_code)]
    sequence_number: Option<u64>,
    #[allow(dead_code)]
    logprobs: Option<IgnoredAny>,
    #[serde(borrow)]
    #[allow(dead_code)]
    obfuscation: Option<Cow<'a, str>>,
}

/// `response.mcp_call_arguments.delta` (and its older spellings) with a string `delta` (the
/// typed decode also takes an object there, in an old SDK shape: left to it).
#[derive(Deserialize)]
pub(crate) struct McpArgumentsDelta<'a> {
    #[serde(borrow)]
    pub(crate) item_id: Cow<'a, str>,
    #[allow(dead_code)]
    output_index: Option<u64>,
    #[serde(borrow)]
    pub(crate) delta: Cow<'a, str>,
    #[serde(borrow)]
    #[allow(dead_code)]
    obfuscation: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    sequence_number: Option<u64>,
}

/// `response.output_item.done` / `.added`, the item left as text.
#[derive(Deserialize)]
pub(crate) struct OutputItemEvent<'a> {
    pub(crate) output_index: u64,
    #[serde(borrow)]
    pub(crate) item: &'a RawValue,
    #[allow(dead_code)]
    sequence_number: Option<u64>,
}

/// `response.output_item.done` / `.added` with an item read through the view `T`, in one pass.
#[derive(Deserialize)]
pub(crate) struct OutputItemEventOf<T: Tag> {
    pub(crate) output_index: u64,
    pub(crate) item: Tagged<T>,
    #[allow(dead_code)]
    sequence_number: Option<u64>,
}

/// An `mcp_call` item (`McpCall`); `output` and `error` are checked by the caller (a string or
/// `null`; a typed `McpCallError`).
#[derive(Deserialize)]
pub(crate) struct McpCall<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) server_label: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) arguments: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) output: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) approval_request_id: Option<Cow<'a, str>>,
}

impl Tag for McpCall<'_> {
    const TAG: &'static str = "mcp_call";
}

/// An `mcp_list_tools` item (`McpListTools`).
#[derive(Deserialize)]
pub(crate) struct McpListTools<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) server_label: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) tools: Vec<McpListToolsTool<'a>>,
    #[serde(borrow, default)]
    pub(crate) error: Option<&'a RawValue>,
}

impl Tag for McpListTools<'_> {
    const TAG: &'static str = "mcp_list_tools";
}

/// One tool of a listing (`McpListToolsTool`).
#[derive(Deserialize)]
pub(crate) struct McpListToolsTool<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) input_schema: &'a RawValue,
    #[serde(borrow, default)]
    pub(crate) annotations: Option<&'a RawValue>,
}

/// `response.completed` / `.failed` / `.incomplete` (`ResponseEvent`), the response split
/// into its items (as text) and the rest.
#[derive(Deserialize)]
pub(crate) struct ResponseEvent<'a> {
    #[serde(borrow)]
    pub(crate) response: SplitResponse<'a>,
    #[allow(dead_code)]
    sequence_number: Option<u64>,
}

/// A response object split in two: its `output` items as text, and the rest of it rebuilt as
/// an object with an empty `output` (small), for the typed decode to check and read.
pub(crate) struct SplitResponse<'a> {
    pub(crate) output: Vec<&'a RawValue>,
    pub(crate) rest: String,
}

impl<'de: 'a, 'a> Deserialize<'de> for SplitResponse<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SplitResponse<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a response object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SplitResponse<'de>, A::Error> {
                let mut output = None;
                let mut rest = String::from("{");
                // A key written with an escape cannot be borrowed: an error, and the typed
                // decode takes the event.
                while let Some(key) = map.next_key::<&'de str>()? {
                    if key == "output" {
                        if output.is_some() {
                            return Err(serde::de::Error::duplicate_field("output"));
                        }
                        output = Some(map.next_value::<Vec<&'de RawValue>>()?);
                        continue;
                    }
                    let value: &'de RawValue = map.next_value()?;
                    if rest.len() > 1 {
                        rest.push(',');
                    }
                    // Written without escapes, so it needs none.
                    rest.push('"');
                    rest.push_str(key);
                    rest.push_str("\":");
                    rest.push_str(value.get());
                }
                let output = output.ok_or_else(|| serde::de::Error::missing_field("output"))?;
                if rest.len() > 1 {
                    rest.push(',');
                }
                rest.push_str(r#""output":[]}"#);
                Ok(SplitResponse { output, rest })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// `content_block_delta` (`ContentBlockDelta`) with a delta read through the view `T`.
#[derive(Deserialize)]
pub(crate) struct ContentBlockDelta<T: Tag> {
    pub(crate) index: u64,
    pub(crate) delta: Tagged<T>,
}

/// `text_delta` (`TextDelta`).
#[derive(Deserialize)]
pub(crate) struct TextDelta<'a> {
    #[serde(borrow)]
    pub(crate) text: Cow<'a, str>,
}

impl Tag for TextDelta<'_> {
    const TAG: &'static str = "text_delta";
}

/// `input_json_delta` (`InputJsonDelta`).
#[derive(Deserialize)]
pub(crate) struct InputJsonDelta<'a> {
    #[serde(borrow)]
    pub(crate) partial_json: Cow<'a, str>,
}

impl Tag for InputJsonDelta<'_> {
    const TAG: &'static str = "input_json_delta";
}

/// `thinking_delta` (`ThinkingDelta`).
#[derive(Deserialize)]
pub(crate) struct ThinkingDelta<'a> {
    #[serde(borrow)]
    pub(crate) thinking: Cow<'a, str>,
}

impl Tag for ThinkingDelta<'_> {
    const TAG: &'static str = "thinking_delta";
}

/// `signature_delta` (`SignatureDelta`).
#[derive(Deserialize)]
pub(crate) struct SignatureDelta<'a> {
    #[serde(borrow)]
    pub(crate) signature: Cow<'a, str>,
}

impl Tag for SignatureDelta<'_> {
    const TAG: &'static str = "signature_delta";
}

/// The vendor of a stream event (as `check::stream_vendor` tells it from the whole event as a
/// `Value`), read from its `type` and `error` alone: `Some(answer)` when this view can tell,
/// `None` when the caller must parse the event as a `Value` (a key given twice, which a `Value`
/// resolves to the last one; invalid JSON).
pub(crate) fn vendor_of(data: &[u8]) -> Option<Option<mcpwire_schema::event::Vendor>> {
    #[derive(Deserialize)]
    struct Detect<'a> {
        #[serde(rename = "type", borrow, default)]
        tag: Option<&'a RawValue>,
        #[serde(borrow, default)]
        error: Option<&'a RawValue>,
    }
    let text = std::str::from_utf8(data).ok()?;
    let d: Detect<'_> = read(text)?;
    let Some(tag) = d.tag else {
        return Some(None);
    };
    let Ok(tag) = serde_json::from_str::<Cow<'_, str>>(tag.get()) else {
        // Not a string: no vendor.
        return Some(None);
    };
    Some(mcpwire_schema::check::stream_vendor_of(&tag, || {
        d.error.is_some_and(|e| e.get().starts_with('{'))
    }))
}

/// A strict reader of compact JSON for the most frequent, flat events, faster than a serde
/// view for them: it takes only objects written without whitespace, with plain keys, whose
/// values are strings, unsigned integers, `null` or `[]` (and, where a caller asks, one nested
/// object), and returns `None` at the first byte it does not take (the caller then uses the
/// serde view or the typed decode). What it takes is valid JSON that the typed decode reads the
/// same way: strings are checked as JSON strings (escapes through `serde_json`), integers as
/// `u64` (no sign, fraction, exponent, leading zero or overflow).
pub(crate) struct Scan<'a> {
    text: &'a str,
    at: usize,
}

/// The bytes that end a plain run inside a JSON string: the quote, the backslash and the
/// control characters (which JSON does not allow raw).
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `word` that ends a plain run inside a JSON string (a quote, a
/// backslash, a control character), and of no other byte: each test adds 0x7f or 0x60 to the
/// low seven bits only, so no carry crosses into the next byte.
fn special_bytes(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let is_quote = !((quote & LOW7).wrapping_add(LOW7) | quote);
    let is_backslash = !((backslash & LOW7).wrapping_add(LOW7) | backslash);
    let is_control = !((word & LOW7).wrapping_add(ONES * 0x60) | word);
    (is_quote | is_backslash | is_control) & HIGH
}

/// How many bytes at the start of `bytes` are plain string content (no [`SPECIAL`] byte):
/// eight at a time, then one at a time for the tail.
pub(crate) fn plain_len(bytes: &[u8]) -> usize {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let found = special_bytes(u64::from_le_bytes(eight));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = words.remainder();
    at + tail
        .iter()
        .position(|&b| SPECIAL[usize::from(b)])
        .unwrap_or(tail.len())
}

/// A value [`Scan`] takes.
#[derive(Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    U64(u64),
    Null,
    EmptyArray,
}

impl<'a> Scalar<'a> {
    /// A string (`String` field).
    fn str(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer (`u64` field).
    fn u64(self) -> Option<u64> {
        match self {
            Scalar::U64(n) => Some(n),
            _ => None,
        }
    }

    /// An integer or `null` (`opt` `u64` field).
    fn u64_or_null(self) -> Option<()> {
        matches!(self, Scalar::U64(_) | Scalar::Null).then_some(())
    }

    /// A string or `null` (`opt` `String` field).
    fn str_or_null(self) -> Option<()> {
        matches!(self, Scalar::Str(_) | Scalar::Null).then_some(())
    }
}

impl<'a> Scan<'a> {
    pub(crate) fn new(text: &'a str) -> Scan<'a> {
        Scan { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Consumes `lit` exactly.
    pub(crate) fn eat(&mut self, lit: &str) -> Option<()> {
        let rest = self.bytes().get(self.at..)?;
        rest.starts_with(lit.as_bytes())
            .then(|| self.at += lit.len())
    }

    /// Skips spaces and tabs (JSON whitespace that an SSE line can hold).
    pub(crate) fn skip_spaces(&mut self) {
        let rest = self.bytes().get(self.at..).unwrap_or_default();
        self.at += rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    }

    /// `true` when everything was consumed.
    pub(crate) fn done(&self) -> bool {
        self.at == self.text.len()
    }

    /// `"name":` with a plain name.
    pub(crate) fn key(&mut self) -> Option<&'a str> {
        self.eat("\"")?;
        let start = self.at;
        let bytes = self.bytes();
        // Keys are short: a plain loop beats a vectorised search here.
        let len = bytes
            .get(start..)?
            .iter()
            .position(|&b| SPECIAL[usize::from(b)])?;
        let i = start + len;
        if bytes[i] != b'"' || bytes.get(i + 1) != Some(&b':') {
            return None;
        }
        self.at = i + 2;
        Some(&self.text[start..i])
    }

    /// A string value.
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat("\"")?;
        let start = self.at;
        let bytes = self.bytes();
        let mut i = start;
        let mut escaped = false;
        loop {
            i += plain_len(bytes.get(i..)?);
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => return None,
            }
        }
        self.at = i + 1;
        if !escaped {
            return Some(Cow::Borrowed(&self.text[start..i]));
        }
        serde_json::from_str::<String>(self.text.get(start - 1..=i)?)
            .ok()
            .map(Cow::Owned)
    }

    /// An unsigned integer that fits in 64 bits.
    fn u64(&mut self) -> Option<u64> {
        let bytes = self.bytes();
        let start = self.at;
        let mut i = start;
        let mut value: u64 = 0;
        while let Some(&b) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && bytes[start] == b'0') {
            return None;
        }
        // A fraction or an exponent makes it a float.
        if matches!(bytes.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at = i;
        Some(value)
    }

    /// A value this reader takes.
    pub(crate) fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.bytes().get(self.at)? {
            b'"' => self.string().map(Scalar::Str),
            b'0'..=b'9' => self.u64().map(Scalar::U64),
            b'n' => self.eat("null").map(|()| Scalar::Null),
            b'[' => self.eat("[]").map(|()| Scalar::EmptyArray),
            _ => None,
        }
    }

    /// After a value: `true` if another field follows (`,`), `false` at the object's end (`}`).
    pub(crate) fn more(&mut self) -> Option<bool> {
        match self.bytes().get(self.at)? {
            b',' => {
                self.at += 1;
                Some(true)
            }
            b'}' => {
                self.at += 1;
                Some(false)
            }
            _ => None,
        }
    }
}

/// `response.output_text.delta` read by [`Scan`]: (`output_index`, `delta`). The fields and
/// their JSON types are `OutputTextDelta`'s.
pub(crate) fn scan_output_text_delta(data: &str) -> Option<(u64, Cow<'_, str>)> {
    let mut s = Scan::new(data);
    s.eat(r#"{"type":"response.output_text.delta","#)?;
    let (mut item_id, mut output_index, mut content_index, mut delta) = (None, None, None, None);
    let (mut sequence_number, mut logprobs, mut obfuscation) = (None, None, None);
    loop {
        let key = s.key()?;
        let value = s.scalar()?;
        // The field first (one comparison per key), then its JSON type.
        match key {
            "item_id" => once(&mut item_id, value.str()?)?,
            "output_index" => once(&mut output_index, value.u64()?)?,
            "content_index" => once(&mut content_index, value.u64()?)?,
            "delta" => once(&mut delta, value.str()?)?,
            "sequence_number" => once(&mut sequence_number, value.u64_or_null()?)?,
            "obfuscation" => once(&mut obfuscation, value.str_or_null()?)?,
            // Kept verbatim by the typed decode: any value.
            "logprobs" => once(&mut logprobs, ())?,
            // Unknown fields (a second `type` too) are kept by the typed decode.
            _ => {}
        }
        if !s.more()? {
            break;
        }
    }
    (s.done() && item_id.is_some() && content_index.is_some()).then_some(())?;
    Some((output_index?, delta?))
}

/// `response.mcp_call_arguments.delta` (or an older name, `tag`) read by [`Scan`]: (`item_id`,
/// `delta`), for a string delta. The fields and their JSON types are `McpArgumentsDelta`'s.
pub(crate) fn scan_arguments_delta<'a>(
    data: &'a str,
    tag: &str,
) -> Option<(Cow<'a, str>, Cow<'a, str>)> {
    let mut s = Scan::new(data);
    s.eat(r#"{"type":""#)?;
    s.eat(tag)?;
    s.eat("\",")?;
    let (mut item_id, mut output_index, mut delta, mut obfuscation, mut sequence_number) =
        (None, None, None, None, None);
    loop {
        let key = s.key()?;
        let value = s.scalar()?;
        match key {
            "item_id" => once(&mut item_id, value.str()?)?,
            "output_index" => once(&mut output_index, value.u64_or_null()?)?,
            "delta" => once(&mut delta, value.str()?)?,
            "obfuscation" => once(&mut obfuscation, value.str_or_null()?)?,
            "sequence_number" => once(&mut sequence_number, value.u64_or_null()?)?,
            _ => {}
        }
        if !s.more()? {
            break;
        }
    }
    s.done().then_some(())?;
    Some((item_id?, delta?))
}

/// The known deltas of `content_block_delta` and the field of each that carries its text.
pub(crate) const DELTA_FIELDS: [(&str, &str); 4] = [
    ("text_delta", "text"),
    ("input_json_delta", "partial_json"),
    ("thinking_delta", "thinking"),
    ("signature_delta", "signature"),
];

/// `content_block_delta` read by [`Scan`]: (`index`, the delta's type, its text). The fields and
/// their JSON types are `ContentBlockDelta`'s and the delta's (`TextDelta`, ...).
pub(crate) fn scan_content_block_delta(data: &str) -> Option<(u64, &'static str, Cow<'_, str>)> {
    scan_usual_content_block_delta(data).or_else(|| scan_any_content_block_delta(data))
}

/// [`scan_content_block_delta`] for any layout [`Scan`] takes: fields in any order, unknown
/// fields skipped.
fn scan_any_content_block_delta(data: &str) -> Option<(u64, &'static str, Cow<'_, str>)> {
    let mut s = Scan::new(data);
    s.eat(r#"{"type":"content_block_delta","#)?;
    let (mut index, mut delta) = (None, None);
    loop {
        let key = s.key()?;
        if key == "delta" {
            // `{"type":"<tag>",...}`: the tag first, then the delta's fields.
            s.eat(r#"{"type":""#)?;
            let (tag, field) = DELTA_FIELDS
                .iter()
                .copied()
                .find(|(tag, _)| s.eat(tag).is_some())?;
            s.eat("\"")?;
            let mut text = None;
            while s.more()? {
                let key = s.key()?;
                match (key == field, s.scalar()?) {
                    (true, Scalar::Str(t)) => once(&mut text, t)?,
                    (true, _) => return None,
                    (false, _) => {}
                }
            }
            once(&mut delta, (tag, text?))?;
        } else {
            match (key, s.scalar()?) {
                ("index", Scalar::U64(n)) => once(&mut index, n)?,
                ("index", _) => return None,
                _ => {}
            }
        }
        if !s.more()? {
            break;
        }
    }
    s.done().then_some(())?;
    let (tag, text) = delta?;
    Some((index?, tag, text))
}

/// [`scan_content_block_delta`] for the one layout the vendor sends,
/// `{"type":"content_block_delta","index":N,"delta":{"type":"<tag>","<field>":"<text>"}}`,
/// spaces before the last brace allowed, read as literals around the index and the text (no
/// key-by-key loop); `None` for any other layout, which the general reader or the serde view
/// then takes. What it takes, `serde_json` reads the same way (the test compares them).
fn scan_usual_content_block_delta(data: &str) -> Option<(u64, &'static str, Cow<'_, str>)> {
    let mut s = Scan::new(data);
    s.eat(r#"{"type":"content_block_delta","index":"#)?;
    let index = s.u64()?;
    s.eat(r#","delta":{"type":""#)?;
    let (tag, field) = DELTA_FIELDS
        .iter()
        .copied()
        .find(|(tag, _)| s.eat(tag).is_some())?;
    s.eat("\",\"")?;
    s.eat(field)?;
    s.eat("\":")?;
    let text = s.string()?;
    s.eat("}")?;
    // The vendor pads some of these events with spaces before the last brace.
    s.skip_spaces();
    s.eat("}")?;
    s.done().then_some((index, tag, text))
}

/// A field read once: `None` (the read fails) when it comes a second time.
pub(crate) fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Decodes a view, or `None` (the caller then takes the typed path).
pub(crate) fn read<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_delta_layout_reads_as_the_general_reader_reads_it() {
        let usual = [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"content_block_delta","index":12,"delta":{"type":"thinking_delta","thinking":"a \"b\" \u00e9"}}"#,
            r#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"n\":123456789012345678901234567890"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#,
            // Padded before the last brace, as the vendor sends some.
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}        }"#,
        ];
        for text in usual {
            let fast = scan_usual_content_block_delta(text);
            // What serde_json reads there.
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let tag = value["delta"]["type"].as_str().unwrap();
            let field = DELTA_FIELDS.iter().find(|(t, _)| *t == tag).unwrap().1;
            let expected = (
                value["index"].as_u64().unwrap(),
                tag,
                value["delta"][field].as_str().unwrap(),
            );
            let (index, got_tag, got_text) = fast.clone().expect(text);
            assert_eq!((index, got_tag, got_text.as_ref()), expected, "{text}");
            if !text.contains("  ") {
                assert_eq!(fast, scan_any_content_block_delta(text), "{text}");
            }
        }
        // Other layouts: not taken by the literal reader; the general one still reads them.
        let other = [
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"},"index":0}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi","x":1}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"},"x":null}"#,
        ];
        for text in other {
            assert_eq!(scan_usual_content_block_delta(text), None, "{text}");
            assert!(scan_any_content_block_delta(text).is_some(), "{text}");
        }
        // Faults: neither takes them (the typed decode then reports them).
        let bad = [
            r#"{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}x"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"H\qi"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}"#,
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\tb\"}}",
        ];
        for text in bad {
            assert_eq!(scan_content_block_delta(text), None, "{text}");
        }
    }

    #[test]
    fn plain_len_stops_at_the_first_special_byte_and_only_there() {
        // Every byte value at every offset of a 20-byte run (words and tail), after plain
        // ASCII and after non-ASCII bytes (whose high bit must not count as special).
        for fill in [b'a', 0x7f, 0xc3, 0xff, 0x20] {
            for at in 0..20 {
                for b in 0..=255u8 {
                    let mut bytes = vec![fill; 20];
                    bytes[at] = b;
                    let expected = bytes
                        .iter()
                        .position(|&c| SPECIAL[usize::from(c)])
                        .unwrap_or(20);
                    assert_eq!(
                        plain_len(&bytes),
                        expected,
                        "fill {fill:#x}, byte {b:#x} at {at}"
                    );
                }
            }
        }
        assert_eq!(plain_len(b""), 0);
    }

    #[test]
    fn the_scanner_takes_only_what_serde_json_reads_the_same() {
        for text in [
            r#""plain""#,
            r#""a\"b\\c\/\u00e9\n""#,
            r#""\ud800""#,
            r#""\x""#,
            "\"tab\there\"",
            r#""é ☃ 😀""#,
            "0",
            "7",
            "01",
            "18446744073709551615",
            "18446744073709551616",
            "1.5",
            "1e2",
            "-1",
            "null",
            "[]",
            "[ ]",
            "nul",
            "true",
        ] {
            let mut scan = Scan::new(text);
            let scanned = scan.scalar().filter(|_| scan.done());
            let expected = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| match v {
                    serde_json::Value::String(s) => Some(Scalar::Str(Cow::Owned(s))),
                    serde_json::Value::Number(n) => n
                        .as_u64()
                        .filter(|_| !text.contains(['.', 'e', 'E']))
                        .map(Scalar::U64),
                    serde_json::Value::Null => Some(Scalar::Null),
                    serde_json::Value::Array(a) if a.is_empty() => Some(Scalar::EmptyArray),
                    _ => None,
                });
            match (&scanned, &expected) {
                (Some(a), Some(b)) => assert_eq!(a, b, "{text}"),
                // Declining something valid is allowed (the serde path takes it); taking
                // something serde_json rejects is not.
                (None, _) => assert!(!["\"plain\"", "0", "7", "null"].contains(&text), "{text}"),
                (Some(_), None) => panic!("took invalid {text}"),
            }
        }
    }

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_string_is_canonical_exactly_when_serde_json_writes_it_the_same() {
        for text in [
            r#""""#,
            r#""plain é text""#,
            r#""q \" b \\ n \n r \r t \t b \b f \f c \u0001 \u001f""#,
            r#""\/""#,
            r#""\u00e9""#,
            r#""\u000a""#,
            r#""\u001F""#,
            r#""\ud83d\ude00""#,
        ] {
            let value: String = serde_json::from_str(text).unwrap();
            let rewritten = serde_json::to_string(&value).unwrap();
            assert_eq!(canonical_string(raw(text)), rewritten == text, "{text}");
        }
        assert!(!canonical_string(raw("1")));
    }

    #[test]
    fn verbatim_exactly_when_the_typed_rebuild_gives_the_same_text() {
        for text in [
            r#"{"a":"b c","d":[1,{"e":" "}]}"#,
            r#"{"a": "b"}"#,
            r#"{"a":{"b": 1}}"#,
            "{\"a\":{\"b\":\n1}}",
            r#"{"a":"\" \\"}"#,
            r#"{"a\/b":1}"#,
            r#"{"a":{"c\/d":1},"e\u0041":2}"#,
            r#"{"x":{"y\/z":[1,2]}}"#,
            r#"{"x":[1, 2],"y":"a b"}"#,
            "{\"x\":[1,\t2]}",
            r#"{}"#,
        ] {
            // What the typed decode keeps for an object of an unknown type.
            let fields: mcpwire_schema::Extra = serde_json::from_str(text).unwrap();
            let rebuilt = fields.to_json();
            let borrowed = verbatim(raw(text));
            assert_eq!(borrowed.is_some(), rebuilt.get() == text, "{text}");
            if let Some(borrowed) = borrowed {
                assert_eq!(borrowed.get(), rebuilt.get());
            }
        }
    }

    #[test]
    fn tags_are_read_only_when_written_plainly_and_first() {
        assert!(tagged(r#"{"type":"ping","x":1}"#, "ping"));
        assert!(!tagged(r#"{"type":"pingx","x":1}"#, "ping"));
        assert!(!tagged(r#"{"type": "ping","x":1}"#, "ping"));
        assert!(!tagged(r#"{"x":1,"type":"ping"}"#, "ping"));
        assert_eq!(
            tag_of(raw(r#"{"type":"reasoning","id":"r"}"#)),
            Some("reasoning")
        );
        assert_eq!(tag_of(raw(r#"{"type":"re\"x","id":"r"}"#)), None);
        assert_eq!(
            tag_of(raw(r#"{"id":"r","type":"reasoning"}"#)),
            Some("reasoning")
        );
        assert_eq!(tag_of(raw(r#"{"id":"r","type":"reason\u0069ng"}"#)), None);
        assert_eq!(tag_of(raw(r#"{"type":"a","type":"b"}"#)), Some("a"));
        assert_eq!(
            tag_of(raw(r#"{"id":"r","type":"a","type":"b"}"#)),
            Some("a")
        );
        assert_eq!(tag_of(raw(r#"{"id":{"x":1},"type":"a","type":"b"}"#)), None);
        assert_eq!(tag_of(raw(r#"{"id":"r","type":1}"#)), None);
    }
}
