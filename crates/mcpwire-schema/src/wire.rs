//! The hidden plumbing the wire-type macros (`wire_struct!`, `wire_enum!`, ...) expand to: borrowed
//! keys, the `type` tag read without buffering the object, the fields of a struct decoded after
//! its tag. Not part of the API: public only because macro expansions name it.

// Internal plumbing the macros match on: exhaustive.
#![allow(clippy::exhaustive_structs, clippy::exhaustive_enums)]

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;

use crate::{Extra, Json};

/// A map key, borrowed from the input when possible.
#[doc(hidden)]
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implemented by every [`wire_struct!`](crate::wire_struct): decode and encode the fields of a
/// JSON object, so that a tagged enum can hand over the rest of the object after its `type`.
pub trait WireFields: Sized {
    /// Decodes the fields: first the entries the caller already read (`buffered`), then the
    /// rest of `map`.
    fn deserialize_fields<'de, A: MapAccess<'de>>(
        buffered: Vec<(String, Json<'static>)>,
        map: A,
    ) -> Result<Self, A::Error>;

    /// Writes the fields into an open map.
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Decodes one buffered entry into a field type, naming the field on error.
#[doc(hidden)]
pub fn from_buffered<T: DeserializeOwned, E: de::Error>(
    key: &str,
    value: Json<'static>,
) -> Result<T, E> {
    value
        .parse()
        .map_err(|err| E::custom(format_args!("{key}: {err}")))
}

/// A visitor that decodes a [`WireFields`] type from a JSON object.
#[doc(hidden)]
pub struct FieldsVisitor<T>(pub std::marker::PhantomData<T>, pub &'static str);

impl<'de, T: WireFields> Visitor<'de> for FieldsVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object ({})", self.1)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize_fields(Vec::new(), map)
    }
}

/// What a tagged enum found in an object it is decoding.
#[doc(hidden)]
pub enum Tagged<'de, A> {
    /// A `type` string was found; the buffered entries and the rest of the map follow.
    Tag(Cow<'de, str>, Vec<(String, Json<'static>)>, A),
    /// No usable tag: the whole object, verbatim.
    Untagged(Json<'static>),
}

/// A `type` value: a string, borrowed when it can be, or anything else as [`Json`].
enum TagValue<'de> {
    Str(Cow<'de, str>),
    Other(Json<'static>),
}

impl<'de> Deserialize<'de> for TagValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagVisitor;
        impl<'de> Visitor<'de> for TagVisitor {
            type Value = TagValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type tag")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(AnyValue::scalar(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(AnyValue::scalar(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(AnyValue::scalar(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(AnyValue::scalar(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(Json::null()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<TagValue<'de>, A::Error> {
                Json::from_elements(seq).map(TagValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TagValue<'de>, A::Error> {
                Json::from_entries([], map).map(TagValue::Other)
            }
        }
        deserializer.deserialize_any(TagVisitor)
    }
}

/// Reads entries of `map` until the `type` key, buffering the ones before it.
#[doc(hidden)]
pub fn read_tag<'de, A: MapAccess<'de>>(mut map: A) -> Result<Tagged<'de, A>, A::Error> {
    let mut buffered: Vec<(String, Json<'static>)> = Vec::new();
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        if key == "type" {
            let tag: TagValue<'de> = map.next_value()?;
            return Ok(match tag {
                TagValue::Str(tag) => Tagged::Tag(tag, buffered, map),
                TagValue::Other(other) => {
                    buffered.push((key.into_owned(), other));
                    Tagged::Untagged(Json::from_entries(buffered, map)?)
                }
            });
        }
        let value: Json<'static> = map.next_value()?;
        buffered.push((key.into_owned(), value));
    }
    Ok(Tagged::Untagged(Extra::from_iter(buffered).to_json()))
}

/// Rebuilds an object with an unknown tag, in its original key order.
#[doc(hidden)]
pub fn unknown_object<'de, A: MapAccess<'de>>(
    tag: Cow<'de, str>,
    mut buffered: Vec<(String, Json<'static>)>,
    map: A,
) -> Result<Json<'static>, A::Error> {
    buffered.push(("type".to_owned(), Json::string(&tag)));
    Json::from_entries(buffered, map)
}

/// Builds [`Json`] for the non-object values the `Unknown` arms of enums can meet.
#[doc(hidden)]
pub struct AnyValue;

impl AnyValue {
    /// A scalar as JSON (a float that is not finite becomes `null`, as in serde_json).
    pub fn scalar<T: serde::Serialize>(v: T) -> Json<'static> {
        Json::from_serialize(&v).unwrap_or_default()
    }
}
