//! Reading a request body: malformed JSON and duplicate keys (at any depth) are refused, then
//! the body is decoded into the typed schema, errors naming the JSON path.

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
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            seen.insert(key);
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
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
        let e = check_json(br#"{"a":1"#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
        let e = check_json(br#"{"a":1} x"#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
    }
}
