//! One pass that decodes a request body into its typed schema and refuses a repeated key in
//! any object, at any depth, the typed parts and the verbatim (`Json`) parts alike.
//!
//! [`Strict`] wraps `serde_json`'s deserializer: every object the typed decode reads goes
//! through a map access that remembers the object's keys. Values the schema keeps verbatim
//! are captured by `serde_json` itself (its raw-value path, which no visitor sees), so their
//! text is checked on its own: only those parts are read twice.
//!
//! A refused body is read again by the two-pass reader of `json.rs`, for the error it gives
//! (the JSON path of a typed fault, or which key was repeated): this reader decides nothing
//! the two-pass one would decide differently, it only spares well-formed bodies a pass.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{CowStrDeserializer, MapDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::json::{Key, Seen, no_duplicates};

/// The name under which `serde_json` asks for a raw value (`Box<RawValue>`, what
/// `mcpwire_schema::Json` holds). Should `serde_json` ever rename it, the raw parts would no
/// longer be checked here; `tests::a_repeated_key_inside_a_verbatim_value_is_refused` fails
/// then.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Decodes `text` into `T` in one pass, or `None` when the two-pass reader must say why not
/// (malformed JSON, a repeated key, a value of the wrong type, trailing bytes).
pub(super) fn decode_strict<T: DeserializeOwned>(text: &str) -> Option<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Strict(&mut de)).ok()?;
    de.end().ok()?;
    Some(value)
}

/// A deserializer whose objects refuse repeated keys.
struct Strict<D>(D);

/// Forwards `deserialize_*` methods to the wrapped deserializer, the visitor wrapped.
macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method($($arg,)* Wrap(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_seq();
        deserialize_map();
        deserialize_identifier();
        deserialize_unit_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == RAW_VALUE_TOKEN {
            return self.0.deserialize_newtype_struct(name, RawChecked(visitor));
        }
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }

    /// An ignored value is still walked, so that its objects are checked too.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A visitor that hands on what it visits, wrapping the maps, sequences and nested values.
struct Wrap<V>(V);

/// Forwards `visit_*` methods of plain values to the wrapped visitor.
macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(StrictSeq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(StrictMap {
            map,
            seen: Seen::default(),
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(StrictEnum(data))
    }
}

/// A seed whose value is read strictly.
struct StrictSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// An object's entries, each key checked against the ones before it.
struct StrictMap<'de, A> {
    map: A,
    seen: Seen<'de>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.map.next_key_seed(Key)? else {
            return Ok(None);
        };
        if self.seen.repeated(&key) {
            return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
        }
        // Handed on as text without the body's lifetime: `decode_strict` reads only
        // `DeserializeOwned` types, which cannot keep a borrow of it.
        seed.deserialize(CowStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct StrictEnum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, StrictVariant(variant)))
    }
}

struct StrictVariant<A>(A);

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(visitor))
    }
}

/// The visitor of a raw value: `serde_json` hands it the value's text as the one entry of a
/// map; the text is checked for repeated keys, then handed on.
struct RawChecked<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for RawChecked<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        let Some(token) = map.next_key_seed(Key)? else {
            return Err(de::Error::custom("a raw value without its text"));
        };
        if token != RAW_VALUE_TOKEN {
            return Err(de::Error::custom("a raw value under an unexpected key"));
        }
        let text: Cow<'de, str> = map.next_value_seed(Key)?;
        no_duplicates(&text).map_err(de::Error::custom)?;
        self.0.visit_map(MapDeserializer::new(std::iter::once((
            RAW_VALUE_TOKEN,
            CowStrDeserializer::new(text),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use mcpwire_schema::anthropic::CreateMessage;
    use mcpwire_schema::openai::CreateResponse;
    use serde_json::Value;

    use super::super::json::{check_json, decode};
    use super::*;

    /// The two-pass reader's answer: the reference.
    fn two_pass<T: DeserializeOwned>(body: &str) -> Option<T> {
        check_json(body.as_bytes()).ok()?;
        decode(body.as_bytes()).ok()
    }

    /// `value` written out with the first entry of its `target`-th object (in document order)
    /// repeated at the object's end; `None` when there are not that many non-empty objects.
    fn with_repeat(value: &Value, target: usize) -> Option<String> {
        fn write(v: &Value, target: usize, count: &mut usize, hit: &mut bool, out: &mut String) {
            match v {
                Value::Object(map) => {
                    let repeat = !map.is_empty() && *count == target;
                    if !map.is_empty() {
                        *count += 1;
                    }
                    out.push('{');
                    for (i, (k, v)) in map.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(k).unwrap());
                        out.push(':');
                        write(v, target, count, hit, out);
                    }
                    if let Some((k, v)) = map.iter().next().filter(|_| repeat) {
                        *hit = true;
                        out.push(',');
                        out.push_str(&serde_json::to_string(k).unwrap());
                        out.push(':');
                        out.push_str(&serde_json::to_string(v).unwrap());
                    }
                    out.push('}');
                }
                Value::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write(item, target, count, hit, out);
                    }
                    out.push(']');
                }
                other => out.push_str(&other.to_string()),
            }
        }
        let (mut count, mut hit, mut out) = (0, false, String::new());
        write(value, target, &mut count, &mut hit, &mut out);
        hit.then_some(out)
    }

    /// For `body` and for every variant of it with one key repeated (in each object in turn,
    /// typed parts and verbatim parts alike), the one-pass reader answers as the two-pass one.
    fn agrees<T: DeserializeOwned + PartialEq + fmt::Debug>(name: &str, body: &str) -> usize {
        let strict: Option<T> = decode_strict(body);
        let reference: Option<T> = two_pass(body);
        assert_eq!(strict, reference, "{name}");
        let Ok(value) = serde_json::from_str::<Value>(body) else {
            return 0;
        };
        let mut variants = 0;
        while let Some(repeated) = with_repeat(&value, variants) {
            assert!(
                check_json(repeated.as_bytes()).is_err(),
                "{name}: the variant repeats a key"
            );
            assert!(
                decode_strict::<T>(&repeated).is_none(),
                "{name}, object {variants}: a repeated key got through: {repeated}"
            );
            variants += 1;
        }
        variants
    }

    fn fixtures(vendor: &str) -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(vendor);
        let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with("request.") && name.ends_with(".json")
            })
            .map(|p| {
                let body = std::fs::read_to_string(&p).unwrap();
                (p.file_name().unwrap().to_string_lossy().into_owned(), body)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_recorded_request_reads_the_same_and_no_repeated_key_gets_through() {
        let (mut bodies, mut variants) = (0, 0);
        for (name, body) in fixtures("openai") {
            variants += agrees::<CreateResponse>(&name, &body);
            bodies += 1;
        }
        for (name, body) in fixtures("anthropic") {
            variants += agrees::<CreateMessage>(&name, &body);
            bodies += 1;
        }
        assert!(bodies >= 15, "{bodies} request fixtures");
        assert!(variants >= 100, "{variants} variants");
    }

    #[test]
    fn a_repeated_key_inside_a_verbatim_value_is_refused() {
        // `system`, `metadata` (unknown: kept verbatim) and a tool's schema are raw values,
        // which serde_json captures without a visitor.
        let anthropic = r#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}],
            "system":[{"type":"text","text":"a","cache_control":{"type":"ephemeral","type":"x"}}],
            "metadata":{"user_id":"u"}}"#;
        assert!(decode_strict::<CreateMessage>(anthropic).is_none());
        let fine = anthropic.replace(r#","type":"x""#, "");
        assert!(decode_strict::<CreateMessage>(&fine).is_some());
        let openai = r#"{"model":"m","input":"hi","text":{"format":{"type":"json_schema","schema":{"a":1,"a":2}}}}"#;
        assert!(decode_strict::<CreateResponse>(openai).is_none());
        assert!(decode_strict::<CreateResponse>(&openai.replace(r#","a":2"#, "")).is_some());
        // The same key spelt with an escape is the same key, typed or verbatim.
        assert!(decode_strict::<CreateResponse>(r#"{"model":"m","\u006dodel":"n"}"#).is_none());
        assert!(
            decode_strict::<CreateResponse>(r#"{"model":"m","metadata":{"k":1,"\u006b":2}}"#)
                .is_none()
        );
        // Trailing bytes and malformed JSON are left to the two-pass reader.
        assert!(decode_strict::<CreateResponse>(r#"{"model":"m"} x"#).is_none());
        assert!(decode_strict::<CreateResponse>(r#"{"model":"m""#).is_none());
    }

    #[test]
    fn big_numbers_and_escapes_in_verbatim_values_survive_the_one_pass() {
        let body = r#"{"model":"m","input":"hi","metadata":{"n":123456789012345678901234567890,"s":"a\"b\u00e9"}}"#;
        let strict: CreateResponse = decode_strict(body).unwrap();
        let reference: CreateResponse = two_pass(body).unwrap();
        assert_eq!(strict, reference);
        assert_eq!(
            serde_json::to_string(&strict).unwrap(),
            serde_json::to_string(&reference).unwrap()
        );
        assert!(
            serde_json::to_string(&strict)
                .unwrap()
                .contains("123456789012345678901234567890")
        );
    }
}
