//! Reading a request body: malformed JSON and duplicate keys (at any depth) are refused, then
//! the body is decoded into the typed schema, errors naming the JSON path.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::invalid;
use crate::error::GatewayError;

/// Walks JSON without building it and fails on the first object with a repeated key.
struct NoDuplicates;

impl<'de> DeserializeSeed<'de> for NoDuplicates {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(Key)? {
            if seen.repeated(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }
}

/// The keys of one object so far. Most objects have a handful of keys: a linear scan over
/// borrowed keys, no hashing and no allocation until an object grows large or a key holds an
/// escape.
#[derive(Default)]
pub(super) struct Seen<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Seen<'de> {
    /// Records `key`; `true` when the object had it already.
    // A `Cow`, not a `&str`: a borrowed key is kept borrowed, without a copy.
    #[allow(clippy::ptr_arg)]
    pub(super) fn repeated(&mut self, key: &Cow<'de, str>) -> bool {
        match &mut self.many {
            Some(set) => !set.insert(key.clone()),
            None if self.few.contains(key) => true,
            None => {
                self.few.push(key.clone());
                if self.few.len() > 16 {
                    self.many = Some(self.few.drain(..).collect());
                }
                false
            }
        }
    }
}

/// Checks that JSON `text` repeats no key in any object (`text` is valid JSON: a raw value
/// `serde_json` captured).
pub(super) fn no_duplicates(text: &str) -> Result<(), serde_json::Error> {
    NoDuplicates.deserialize(&mut serde_json::Deserializer::from_str(text))
}

/// An object key, borrowed from the body when it holds no escape.
pub(super) struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Refuses malformed JSON and duplicate keys anywhere in the body.
pub(crate) fn check_json(body: &[u8]) -> Result<(), GatewayError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    NoDuplicates
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                invalid(format!("malformed JSON body: {e}"))
            } else {
                invalid(format!(
                    "the body has a {e}; refusing to guess which one counts"
                ))
            }
        })
}

/// Reads a request body: refuses malformed JSON and repeated keys anywhere, and decodes the
/// rest into `T`. One pass ([`super::strict`]) for a body it takes; a refused body is read
/// again by [`check_json`] and [`decode`], which say why.
pub(super) fn read_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    if let Some(value) = std::str::from_utf8(body)
        .ok()
        .and_then(super::strict::decode_strict)
    {
        return Ok(value);
    }
    check_json(body)?;
    decode(body)
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    mcpwire_schema::decode::from_slice(body).map_err(|e| {
        invalid(format!("invalid request body at {}: {}", e.path, e.message)).with_param(e.path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert!(check_json(br#"{"a":1,"b":{"c":[{"d":1}]}}"#).is_ok());
        let e = check_json(br#"{"a":1,"b":{"c":[{"d":1,"d":2}]}}"#).unwrap_err();
        assert!(e.message.contains("duplicate key `d`"), "{}", e.message);
        let e = check_json(br#"{"a":1,"a":1}"#).unwrap_err();
        assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
        // The same key spelt with an escape is the same key.
        let e = check_json(br#"{"a":1,"\u0061":2}"#).unwrap_err();
        assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
        // Past the small-object scan too.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        assert!(check_json(format!("{{{}}}", many.join(",")).as_bytes()).is_ok());
        let e = check_json(format!("{{{},\"k3\":0}}", many.join(",")).as_bytes()).unwrap_err();
        assert!(e.message.contains("duplicate key `k3`"), "{}", e.message);
        let e = check_json(br#"{"a":1"#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
        let e = check_json(br#"{"a":1} x"#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
    }
}
