//! [`Json`]: a JSON value kept as its text, and [`Extra`]: the fields of an object a type does
//! not model, each kept as [`Json`].
//!
//! Everything mcpwire passes through without understanding it (unknown fields and types, tool
//! schemas, call arguments, result content) is held as text rather than as a parsed
//! `serde_json::Value`:
//!
//! * **exact**: numbers of any size and precision, key order and string escapes stay as the
//!   vendor sent them (a `Value` turns `123456789012345678901234567890` into a float);
//! * **cheap**: decoding one only validates it (no map or string is built), and writing it out
//!   copies the text.
//!
//! A `Json` always prints on **one line**: line breaks and tabs between tokens are removed when
//! it is decoded (pretty-printed input), and values that differ only in layout are equal.
//!
//! A `Json<'a>` may **borrow** its text from a buffer that outlives it ([`Json::borrowed`]):
//! that is how the stream normalisers hand over arguments, tool outputs, schemas and unknown
//! items without copying them. What a wire type holds, and what [`Deserialize`] produces, is
//! owned (`Json<'static>`); [`Json::into_owned`] turns a borrowed value into one.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::wire::Key;

/// A JSON value kept as its (compact) text, owned or borrowed.
///
/// Everything mcpwire passes through without understanding it (unknown fields and types, tool
/// schemas, call arguments, result content) is held this way rather than as a parsed
/// `serde_json::Value`: **exact** (numbers of any size and precision, key order and string
/// escapes stay as the vendor sent them) and **cheap** (decoding only validates, writing out
/// copies the text). It always prints on one line: layout between tokens is removed when it is
/// decoded, and values that differ only in layout are equal. A `Json<'a>` may borrow its text
/// ([`Json::borrowed`]); what a wire type holds and what [`Deserialize`] produces is owned
/// (`Json<'static>`), and [`Json::into_owned`] turns a borrowed value into one.
///
/// ```
/// use mcpwire_schema::Json;
/// let big: Json = serde_json::from_str("{\n  \"n\": 123456789012345678901234567890\n}").unwrap();
/// assert_eq!(big.get(), r#"{"n":123456789012345678901234567890}"#);
/// assert_eq!(serde_json::to_string(&big).unwrap(), big.get());
///
/// // Borrowed from the text it was read from, then made independent of it.
/// let text = String::from(r#"{"n":123456789012345678901234567890}"#);
/// let raw: &serde_json::value::RawValue = serde_json::from_str(&text).unwrap();
/// let borrowed = Json::borrowed(raw);
/// let owned: Json<'static> = borrowed.clone().into_owned();
/// drop(text);
/// assert_eq!(owned, big);
/// ```
#[derive(Clone)]
pub struct Json<'a>(Repr<'a>);

/// Where the text lives.
#[derive(Clone)]
enum Repr<'a> {
    /// As the parser (or `serde_json`'s writer) produced it, owned or borrowed.
    Raw(RawText<'a>),
    /// Built here from valid parts (an object around values that are valid already), in a
    /// buffer of exactly its size: not re-validated when built, only when written out.
    Built(Box<str>),
    /// `{"type":"text","text":<text>}` around a JSON string as it came, without copying it: a
    /// tool's output can be large. Written out piece by piece; its whole text is put together
    /// only if asked for ([`Json::get`]).
    TextPart {
        text: RawText<'a>,
        whole: std::sync::OnceLock<Box<str>>,
    },
}

/// Valid, compact JSON text: owned, or borrowed from a buffer that outlives the value.
#[derive(Clone)]
enum RawText<'a> {
    Owned(Box<RawValue>),
    Borrowed(&'a RawValue),
}

impl RawText<'_> {
    fn get(&self) -> &str {
        match self {
            RawText::Owned(raw) => raw.get(),
            RawText::Borrowed(raw) => raw.get(),
        }
    }

    fn raw(&self) -> &RawValue {
        match self {
            RawText::Owned(raw) => raw,
            RawText::Borrowed(raw) => raw,
        }
    }

    fn into_owned(self) -> Box<RawValue> {
        match self {
            RawText::Owned(raw) => raw,
            RawText::Borrowed(raw) => raw.to_owned(),
        }
    }
}

/// The opening of a text part, up to its text.
const TEXT_PART_OPEN: &str = r#"{"type":"text","text":"#;

impl Json<'static> {
    /// `null`.
    pub fn null() -> Json<'static> {
        Json::written(&())
    }

    /// Validates and compacts JSON text.
    pub fn from_text(text: &str) -> Result<Json<'static>, serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_str(text)?;
        Ok(Json::from_boxed(raw))
    }

    /// Writes a value as JSON (through `serde_json`: strings escaped, numbers exact).
    pub fn from_serialize<T: Serialize + ?Sized>(
        value: &T,
    ) -> Result<Json<'static>, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(|raw| Json(Repr::Raw(RawText::Owned(raw))))
    }

    /// A JSON string holding `text`.
    pub fn string(text: &str) -> Json<'static> {
        Json::written(text)
    }

    /// An object of the given entries, in order (each value is valid JSON already, so nothing is
    /// re-validated).
    pub fn object<'e>(entries: impl IntoIterator<Item = (&'e str, &'e Json<'e>)>) -> Json<'static> {
        let entries: Vec<(&str, &Json<'_>)> = entries.into_iter().collect();
        Json::built_object(&entries)
    }

    /// `{"key":value,...}` in a buffer of exactly its size.
    fn built_object(entries: &[(&str, &Json<'_>)]) -> Json<'static> {
        let keys: Vec<String> = entries.iter().map(|(k, _)| quoted(k)).collect();
        let size = 2
            + entries.len().saturating_sub(1)
            + keys
                .iter()
                .zip(entries)
                .map(|(k, (_, v))| k.len() + 1 + v.get().len())
                .sum::<usize>();
        let mut out = String::with_capacity(size);
        out.push('{');
        for (i, (key, (_, value))) in keys.iter().zip(entries).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push(':');
            out.push_str(value.get());
        }
        out.push('}');
        Json(Repr::Built(out.into_boxed_str()))
    }

    /// `value` written by `serde_json` (which writes [`Json`] values as their text): no
    /// re-validation of what it wrote.
    fn written<T: Serialize + ?Sized>(value: &T) -> Json<'static> {
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => Json(Repr::Raw(RawText::Owned(raw))),
            // Only a map with non-string keys fails, and none is written here.
            Err(_) => Json(Repr::Raw(RawText::Owned(RawValue::NULL.to_owned()))),
        }
    }

    /// Text from the parser, with line breaks between tokens removed.
    fn from_boxed(raw: Box<RawValue>) -> Json<'static> {
        // Compacting valid JSON leaves it valid; should it ever not, the text stays as sent.
        match compact(raw.get()).map(RawValue::from_string) {
            Some(Ok(compacted)) => Json(Repr::Raw(RawText::Owned(compacted))),
            Some(Err(_)) | None => Json(Repr::Raw(RawText::Owned(raw))),
        }
    }

    /// Rebuilds an object from the entries of `map` (used where the text itself is not at hand).
    #[doc(hidden)]
    pub fn from_entries<'de, A: MapAccess<'de>>(
        first: impl IntoIterator<Item = (String, Json<'static>)>,
        mut map: A,
    ) -> Result<Json<'static>, A::Error> {
        let mut entries: Vec<(String, Json<'static>)> = first.into_iter().collect();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value: Json<'static> = map.next_value()?;
            entries.push((key.into_owned(), value));
        }
        let entries: Vec<(&str, &Json<'_>)> =
            entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
        Ok(Json::built_object(&entries))
    }

    /// Rebuilds an array from the elements of `seq`.
    #[doc(hidden)]
    pub fn from_elements<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Json<'static>, A::Error> {
        let mut elements: Vec<Json<'static>> = Vec::new();
        while let Some(value) = seq.next_element::<Json<'static>>()? {
            elements.push(value);
        }
        Ok(Json::written(&elements))
    }
}

impl<'a> Json<'a> {
    /// JSON text borrowed from a buffer that outlives the value (`raw` is valid JSON: a
    /// `RawValue` only ever holds that). Text with line breaks or tabs between tokens is
    /// compacted into an owned copy, so that a `Json` always prints on one line.
    pub fn borrowed(raw: &'a RawValue) -> Json<'a> {
        match compact(raw.get()).map(RawValue::from_string) {
            Some(Ok(compacted)) => Json(Repr::Raw(RawText::Owned(compacted))),
            Some(Err(_)) | None => Json(Repr::Raw(RawText::Borrowed(raw))),
        }
    }

    /// `true` when the text is borrowed (see [`Json::borrowed`]); a text part counts as
    /// borrowed when its text is.
    pub fn is_borrowed(&self) -> bool {
        matches!(
            &self.0,
            Repr::Raw(RawText::Borrowed(_))
                | Repr::TextPart {
                    text: RawText::Borrowed(_),
                    ..
                }
        )
    }

    /// The same value, owning its text (a copy when it was borrowed, else a move).
    pub fn into_owned(self) -> Json<'static> {
        Json(match self.0 {
            Repr::Raw(raw) => Repr::Raw(RawText::Owned(raw.into_owned())),
            Repr::Built(text) => Repr::Built(text),
            Repr::TextPart { text, whole } => Repr::TextPart {
                text: RawText::Owned(text.into_owned()),
                whole,
            },
        })
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        match &self.0 {
            Repr::Raw(raw) => raw.get(),
            Repr::Built(text) => text,
            Repr::TextPart { text, whole } => whole.get_or_init(|| {
                let mut out = String::with_capacity(TEXT_PART_OPEN.len() + text.get().len() + 1);
                out.push_str(TEXT_PART_OPEN);
                out.push_str(text.get());
                out.push('}');
                out.into_boxed_str()
            }),
        }
    }

    /// The MCP text part `{"type":"text","text":<text>}` around `text`, a JSON string; the
    /// string is moved in, not copied. Anything else than a string gives an object holding it.
    pub fn text_part(text: Json<'a>) -> Json<'a> {
        match text.0 {
            Repr::Raw(raw) if raw.get().starts_with('"') => Json(Repr::TextPart {
                text: raw,
                whole: std::sync::OnceLock::new(),
            }),
            other => {
                let text = Json(other);
                Json::object([("type", &Json::string("text")), ("text", &text)])
            }
        }
    }

    /// Decodes the value into `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// The value as a `serde_json::Value` (numbers beyond 64 bits become floats there).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.get()).unwrap_or(Value::Null)
    }

    /// `true` for `null`.
    pub fn is_null(&self) -> bool {
        self.get() == "null"
    }

    /// `true` for an object.
    pub fn is_object(&self) -> bool {
        self.get().starts_with('{')
    }

    /// `true` for a string.
    pub fn is_string(&self) -> bool {
        self.get().starts_with('"')
    }

    /// The string, when the value is one (borrowed when it has no escapes).
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        let text = self.get();
        let inner = text.strip_prefix('"')?.strip_suffix('"')?;
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        serde_json::from_str::<String>(text).ok().map(Cow::Owned)
    }

    /// The keys of an object in order, each with its value's text, borrowed from this value (no
    /// copy is made); `None` when the value is not an object.
    pub fn fields(&self) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
        struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);
        impl<'de> Deserialize<'de> for Fields<'de> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> de::Visitor<'de> for V {
                    type Value = Fields<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Fields<'de>, A::Error> {
                        let mut out = Vec::new();
                        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                            out.push((key, map.next_value::<&'de RawValue>()?));
                        }
                        Ok(Fields(out))
                    }
                }
                deserializer.deserialize_map(V)
            }
        }
        if !self.is_object() {
            return None;
        }
        serde_json::from_str::<Fields<'_>>(self.get())
            .ok()
            .map(|f| f.0)
    }

    /// The fields of an object, each as [`Json`]; `None` when the value is not an object.
    pub fn as_object(&self) -> Option<Extra> {
        if !self.is_object() {
            return None;
        }
        self.parse().ok()
    }

    /// The field `key` of an object (only that field is copied).
    pub fn field(&self, key: &str) -> Option<Json<'static>> {
        let (_, value) = self.fields()?.into_iter().find(|(k, _)| k == key)?;
        Some(Json::from_boxed(value.to_owned()))
    }

    /// The field `key` of an object, when it is a string.
    pub fn field_str(&self, key: &str) -> Option<String> {
        self.field(key)?.as_str().map(Cow::into_owned)
    }

    /// The elements of an array, each as [`Json`]; `None` when the value is not an array.
    pub fn as_array(&self) -> Option<Vec<Json<'static>>> {
        if !self.get().starts_with('[') {
            return None;
        }
        self.parse().ok()
    }

    /// The `type` field of an object, if it is a string.
    pub fn type_tag(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Tag {
            #[serde(rename = "type")]
            tag: Option<Value>,
        }
        if !self.is_object() {
            return None;
        }
        match self.parse::<Tag>().ok()?.tag? {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integer that fits in 64 bits.
    pub fn as_u64(&self) -> Option<u64> {
        self.get().parse().ok()
    }

    /// An integer that fits in 64 bits.
    pub fn as_i64(&self) -> Option<i64> {
        self.get().parse().ok()
    }
}

/// `key` as a JSON string (escaped by `serde_json` only when it needs it).
fn quoted(key: &str) -> String {
    if key.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        Json::string(key).get().to_owned()
    } else {
        format!("\"{key}\"")
    }
}

/// `text` (valid JSON) without whitespace outside strings, or `None` when it needs no change.
///
/// Only text that holds a line break or a tab is rewritten (these never occur raw inside a JSON
/// string, so finding none is one fast scan and proves the value prints on one line): what the
/// vendors stream is compact, and re-scanning every large value for spaces between tokens would
/// cost more than the decode. Spaces between tokens in one-line input are kept as sent;
/// equality ignores them (see `PartialEq`).
fn compact(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // A string holds no raw line break or tab (JSON escapes them): nothing to look for.
    if bytes.first() == Some(&b'"') {
        return None;
    }
    memchr::memchr3(b'\n', b'\r', b'\t', bytes)?;
    compact_all(text)
}

/// `text` without any whitespace outside strings, or `None` when there is none.
fn compact_all(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'"') {
        return None;
    }
    let mut scanner = scan::Scanner::default();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` dealt with so far
    for (base, block) in scan::blocks(bytes) {
        let masks = scanner.next(&block);
        let mut outside = masks.whitespace & !masks.in_string;
        while outside != 0 {
            let at = base + outside.trailing_zeros() as usize;
            outside &= outside - 1;
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..at]);
            copied = at + 1;
        }
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
}

/// Classifies JSON text 64 bytes at a time with bit masks (the technique of simdjson's first
/// stage, in portable integer code): which bytes are quotes that end or start a string, which
/// lie inside strings, which are whitespace. Linear, a few operations per 64 bytes, however
/// many escapes the text has.
mod scan {
    const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

    /// `bytes` in 64-byte blocks (the last one padded with zeros), with their offsets.
    pub(super) fn blocks(bytes: &[u8]) -> impl Iterator<Item = (usize, [u8; 64])> + '_ {
        bytes.chunks(64).enumerate().map(|(i, chunk)| {
            let mut block = [0u8; 64];
            block[..chunk.len()].copy_from_slice(chunk);
            (i * 64, block)
        })
    }

    fn mask(block: &[u8; 64], pred: impl Fn(u8) -> bool) -> u64 {
        block
            .iter()
            .enumerate()
            .fold(0, |m, (i, &c)| m | (u64::from(pred(c)) << i))
    }

    pub(super) struct Masks {
        pub(super) whitespace: u64,
        pub(super) in_string: u64,
    }

    /// The state carried from one block to the next.
    #[derive(Default)]
    pub(super) struct Scanner {
        /// 1 when the previous block ended in an odd run of backslashes.
        odd_backslash: u64,
        /// All ones when the previous block ended inside a string.
        in_string: u64,
    }

    impl Scanner {
        /// Bits of the characters escaped by a backslash (simdjson's odd-sequence rule: a
        /// character is escaped when an odd-length run of backslashes ends just before it).
        fn escaped(&mut self, backslash: u64) -> u64 {
            if backslash == 0 {
                let escaped = self.odd_backslash;
                self.odd_backslash = 0;
                return escaped;
            }
            let starts = backslash & !(backslash << 1);
            let even_start_mask = EVEN_BITS ^ self.odd_backslash;
            let even_starts = starts & even_start_mask;
            let odd_starts = starts & !even_start_mask;
            let even_carries = backslash.wrapping_add(even_starts);
            let (mut odd_carries, overflow) = backslash.overflowing_add(odd_starts);
            odd_carries |= self.odd_backslash;
            self.odd_backslash = u64::from(overflow);
            let even_carry_ends = even_carries & !backslash;
            let odd_carry_ends = odd_carries & !backslash;
            (even_carry_ends & !EVEN_BITS) | (odd_carry_ends & EVEN_BITS)
        }

        /// The quotes that are not escaped.
        fn quotes(&mut self, block: &[u8; 64]) -> u64 {
            let backslash = mask(block, |c| c == b'\\');
            let quote = mask(block, |c| c == b'"');
            quote & !self.escaped(backslash)
        }

        /// The masks of the next block.
        pub(super) fn next(&mut self, block: &[u8; 64]) -> Masks {
            let quotes = self.quotes(block);
            // Prefix XOR: bit i is set when an odd number of quotes lie at or before i.
            let mut inside = quotes;
            for shift in [1, 2, 4, 8, 16, 32] {
                inside ^= inside << shift;
            }
            inside ^= self.in_string;
            self.in_string = 0u64.wrapping_sub(inside >> 63);
            Masks {
                whitespace: mask(block, |c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')),
                in_string: inside,
            }
        }
    }
}

impl Default for Json<'_> {
    fn default() -> Self {
        Json::null()
    }
}

impl<'b> PartialEq<Json<'b>> for Json<'_> {
    /// Equal texts, or texts equal once spaces between tokens are removed.
    fn eq(&self, other: &Json<'b>) -> bool {
        let (a, b) = (self.get(), other.get());
        if a == b {
            return true;
        }
        let a = compact_all(a).map_or(Cow::Borrowed(a), Cow::Owned);
        let b = compact_all(b).map_or(Cow::Borrowed(b), Cow::Owned);
        a == b
    }
}

impl Eq for Json<'_> {}

impl PartialEq<Value> for Json<'_> {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Json({})", self.get())
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl From<Value> for Json<'static> {
    fn from(value: Value) -> Json<'static> {
        Json::from(&value)
    }
}

impl From<&Value> for Json<'static> {
    fn from(value: &Value) -> Json<'static> {
        Json::written(value)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Raw(raw) => raw.raw().serialize(serializer),
            Repr::TextPart { text, .. } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text.raw())?;
                map.end()
            }
            // Valid by construction; checked here rather than when built (most built values are
            // never written out).
            Repr::Built(text) => match serde_json::from_str::<&RawValue>(text) {
                Ok(raw) => raw.serialize(serializer),
                Err(err) => Err(serde::ser::Error::custom(format_args!(
                    "invalid JSON: {err}"
                ))),
            },
        }
    }
}

/// Decoding always gives an owned value (any deserializer can give one); borrow with
/// [`Json::borrowed`].
impl<'de> Deserialize<'de> for Json<'_> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Json::from_boxed)
    }
}

/// The fields of an object that a type does not model, in their original order, each kept as
/// [`Json`]. A small ordered map: lookups are linear (there are few such fields).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extra(Vec<(String, Json<'static>)>);

impl Extra {
    /// No fields.
    pub fn new() -> Extra {
        Extra(Vec::new())
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Json<'static>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `true` when `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` (in place when it is there, else at the end); returns the old value.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<Json<'static>>,
    ) -> Option<Json<'static>> {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the rest.
    pub fn remove(&mut self, key: &str) -> Option<Json<'static>> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json<'static>)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The values in order.
    pub fn values(&self) -> impl Iterator<Item = &Json<'static>> {
        self.0.iter().map(|(_, v)| v)
    }

    /// The fields as one JSON object.
    pub fn to_json(&self) -> Json<'static> {
        let entries: Vec<(&str, &Json<'_>)> = self.iter().collect();
        Json::built_object(&entries)
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl IntoIterator for Extra {
    type Item = (String, Json<'static>);
    type IntoIter = std::vec::IntoIter<(String, Json<'static>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, Json<'static>)> for Extra {
    fn from_iter<I: IntoIterator<Item = (String, Json<'static>)>>(iter: I) -> Extra {
        let mut extra = Extra::new();
        for (k, v) in iter {
            extra.insert(k, v);
        }
        extra
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExtraVisitor;
        impl<'de> de::Visitor<'de> for ExtraVisitor {
            type Value = Extra;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extra, A::Error> {
                let mut extra = Extra::new();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let value: Json<'static> = map.next_value()?;
                    extra.insert(key.into_owned(), value);
                }
                Ok(extra)
            }
        }
        deserializer.deserialize_map(ExtraVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_whitespace_outside_strings_only() {
        let j: Json<'_> =
            serde_json::from_str("{ \"a b\" : [ 1 ,\n 2 ] ,\t\"c\":\"x \\\" y\" }").unwrap();
        assert_eq!(j.get(), r#"{"a b":[1,2],"c":"x \" y"}"#);
        let already: Json<'_> = serde_json::from_str(r#"{"a":"b c"}"#).unwrap();
        assert_eq!(already.get(), r#"{"a":"b c"}"#);
        // One line with spaces between tokens: kept as sent, and equal to the compact form.
        let spaced: Json<'_> = serde_json::from_str(r#"{"a": "b c", "d": [1, 2]}"#).unwrap();
        assert_eq!(spaced.get(), r#"{"a": "b c", "d": [1, 2]}"#);
        assert_eq!(spaced, Json::from_text(r#"{"a":"b c","d":[1,2]}"#).unwrap());
        assert_ne!(spaced, Json::from_text(r#"{"a":"bc","d":[1,2]}"#).unwrap());
    }

    #[test]
    fn keeps_big_numbers_and_escapes_exactly() {
        let text = r#"{"big":123456789012345678901234567890,"f":1E400,"s":"\u00e9\/"}"#;
        let j = Json::from_text(text).unwrap();
        assert_eq!(j.get(), text);
        assert_eq!(serde_json::to_string(&j).unwrap(), text);
    }

    #[test]
    fn rebuilds_objects_through_a_value_deserializer() {
        let v = serde_json::json!({"a": [1, {"b": null}], "c": "d\"e"});
        let j: Json<'_> = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(j, v);
        let extra: Extra = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(extra.get("c").unwrap().as_str().unwrap(), "d\"e");
        assert_eq!(extra.to_json(), v);
    }

    #[test]
    fn extra_keeps_order_and_replaces_in_place() {
        let mut e = Extra::new();
        e.insert("z", Json::string("1"));
        e.insert("a", Json::null());
        e.insert("z", Json::string("2"));
        assert_eq!(e.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert_eq!(e.to_json().get(), r#"{"z":"2","a":null}"#);
        // Built here (not by the parser): written out the same, and equal to the parsed form.
        assert_eq!(
            serde_json::to_string(&e.to_json()).unwrap(),
            r#"{"z":"2","a":null}"#
        );
        assert_eq!(
            e.to_json(),
            Json::from_text(r#"{"z":"2","a":null}"#).unwrap()
        );
        let part = Json::text_part(Json::string("a \" b"));
        assert_eq!(
            serde_json::to_string(&part).unwrap(),
            r#"{"type":"text","text":"a \" b"}"#
        );
        assert_eq!(part.get(), r#"{"type":"text","text":"a \" b"}"#);
        assert_eq!(
            part,
            Json::from_text(r#"{"type":"text","text":"a \" b"}"#).unwrap()
        );
        assert_eq!(
            part.to_value(),
            serde_json::json!({"type": "text", "text": "a \" b"})
        );
        let odd = Json::object([("q\"\n", &Json::string("v"))]);
        assert_eq!(odd.get(), r#"{"q\"\n":"v"}"#);
        assert_eq!(odd.to_value(), serde_json::json!({"q\"\n": "v"}));
        assert_eq!(e.remove("z").unwrap().as_str().unwrap(), "2");
        assert_eq!(e.len(), 1);
    }

    /// The scalar rule the bit-mask scanner must agree with.
    fn compact_slowly(text: &str) -> String {
        let mut out = String::new();
        let mut in_string = false;
        let mut escaped = false;
        for c in text.chars() {
            if in_string {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
                out.push(c);
            } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn the_block_scanner_agrees_with_the_scalar_rule_across_block_edges() {
        // Strings ending in backslash runs of several lengths, escaped quotes, spaces inside
        // and outside strings, at every offset across two 64-byte block edges.
        let pieces = [
            r#""a\\""#,
            r#""\\\"""#,
            r#""x\\\\ y""#,
            r#"" \" \\ ""#,
            r#""\\\\\\""#,
            "\n\t{ \"k\" : [ \"v \\\\\" ] }",
        ];
        for pad in 0..140 {
            for piece in pieces {
                let text = format!(
                    "[{}\"{}\", {piece} , 1 ]",
                    " ".repeat(pad % 7),
                    "z".repeat(pad)
                );
                let json = Json::from_text(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
                let expected = compact_slowly(&text);
                assert!(!json.get().contains(['\n', '\t']), "{text:?}");
                assert_eq!(
                    compact_all(json.get()).unwrap_or_else(|| json.get().to_owned()),
                    expected
                );
                assert_eq!(
                    compact_all(&text).unwrap_or_else(|| text.clone()),
                    expected,
                    "{text:?}"
                );
            }
        }
        let long = format!(
            "{{\"t\": \"{}\" , \"u\" : 1}}",
            "a \\\" b \\\\ ".repeat(200)
        );
        assert_eq!(compact_all(&long).unwrap(), compact_slowly(&long));
    }

    proptest::proptest! {
        /// Pretty-printed JSON compacts to exactly what serde_json writes compactly, whatever
        /// quotes, backslashes and spaces the strings hold.
        #[test]
        fn pretty_json_compacts_to_serde_jsons_compact_form(
            strings in proptest::collection::vec("[\"\\\\ a\n{}:,\\[\\]]{0,90}", 0..12)
        ) {
            let value = serde_json::json!({"list": strings, "n": {"k": [1, 2]}});
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            let compact = serde_json::to_string(&value).unwrap();
            let json = Json::from_text(&pretty).unwrap();
            proptest::prop_assert_eq!(json.get(), compact.as_str());
        }
    }

    #[test]
    fn invalid_text_is_an_error() {
        assert!(Json::from_text("{\"a\":").is_err());
        assert!(Json::from_text("nul").is_err());
    }
}
