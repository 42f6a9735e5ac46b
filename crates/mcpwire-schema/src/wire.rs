//! The machinery every wire type is built with: lossless structs and forward-compatible tagged
//! enums, decoded in a single pass.
//!
//! * A struct declared with [`wire_struct!`](crate::wire_struct) keeps every field it does not
//!   model in `extra`, tells an absent field from an explicit `null` ([`Maybe`]), and reports a
//!   missing required field by name.
//! * An enum declared with [`wire_enum!`](crate::wire_enum) dispatches on the `type` field: a
//!   known tag must decode into its payload (a malformed body is an error, never silently
//!   "unknown"), an unknown tag (or no tag at all) is kept verbatim in `Unknown(Value)` and
//!   re-serialises unchanged.
//!
//! Neither buffers the whole object when `type` is the first key (which is what both vendors
//! send), so typed decoding costs about as much as decoding into a generic `Value`.

// `Maybe` has exactly three states and the macro helpers are internal plumbing: exhaustive.
#![allow(clippy::exhaustive_structs, clippy::exhaustive_enums)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// A field that may be absent, explicitly `null`, or hold a value.
///
/// Vendors distinguish the three (OpenAI's `mcp_call.error` is always present and `null` on
/// success, while `mcp_list_tools.error` is simply omitted), so a lossless round trip must too.
///
/// ```
/// use mcpwire_schema::Maybe;
/// let m: Maybe<u32> = Maybe::Value(3);
/// assert_eq!(m.get(), Some(&3));
/// assert!(Maybe::<u32>::Null.get().is_none());
/// assert!(Maybe::<u32>::Absent.is_absent());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Maybe<T> {
    /// The key was not in the object.
    #[default]
    Absent,
    /// The key was present with the value `null`.
    Null,
    /// The key was present with a value.
    Value(T),
}

impl<T> Maybe<T> {
    /// The value, if there is one.
    pub fn get(&self) -> Option<&T> {
        match self {
            Maybe::Value(v) => Some(v),
            Maybe::Absent | Maybe::Null => None,
        }
    }

    /// The value, mutably, if there is one.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Maybe::Value(v) => Some(v),
            Maybe::Absent | Maybe::Null => None,
        }
    }

    /// The value, if there is one, by value.
    pub fn into_option(self) -> Option<T> {
        match self {
            Maybe::Value(v) => Some(v),
            Maybe::Absent | Maybe::Null => None,
        }
    }

    /// `true` when the key was not present at all.
    pub fn is_absent(&self) -> bool {
        matches!(self, Maybe::Absent)
    }

    /// `true` when the key was present with `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Maybe::Null)
    }

    /// `Some(v)` becomes a value, `None` becomes absent.
    pub fn from_option(value: Option<T>) -> Self {
        value.map_or(Maybe::Absent, Maybe::Value)
    }
}

impl<T> From<T> for Maybe<T> {
    fn from(value: T) -> Self {
        Maybe::Value(value)
    }
}

impl<T: Serialize> Serialize for Maybe<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Maybe::Value(v) => v.serialize(serializer),
            Maybe::Absent | Maybe::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Maybe::Null, Maybe::Value))
    }
}

/// A string whose value must never be printed: an HTTP header value, an access token.
///
/// `Debug` prints `"<redacted>"`; serialisation is transparent because the value has to reach
/// the vendor. The `mcpwire-auth` crate has the zeroising secret type; this one only guarantees
/// that wire types holding credentials can be logged with `{:?}`.
///
/// ```
/// use mcpwire_schema::Sensitive;
/// let token = Sensitive::new("tok-123");
/// assert_eq!(format!("{token:?}"), "\"<redacted>\"");
/// assert_eq!(token.expose(), "tok-123");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Sensitive(value.into())
    }

    /// The secret value. Call this only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl Serialize for Sensitive {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Sensitive)
    }
}

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
        buffered: Vec<(String, Value)>,
        map: A,
    ) -> Result<Self, A::Error>;

    /// Writes the fields into an open map.
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Decodes one buffered entry into a field type, naming the field on error.
#[doc(hidden)]
pub fn from_buffered<T: DeserializeOwned, E: de::Error>(key: &str, value: Value) -> Result<T, E> {
    T::deserialize(value).map_err(|err| E::custom(format_args!("{key}: {err}")))
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
    Tag(Cow<'de, str>, Vec<(String, Value)>, A),
    /// No usable tag: the whole object, verbatim.
    Untagged(Value),
}

/// A `type` value: a string, borrowed when it can be, or anything else as a `Value`.
enum TagValue<'de> {
    Str(Cow<'de, str>),
    Other(Value),
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
                Ok(TagValue::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(AnyValue::f64(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TagValue<'de>, E> {
                Ok(TagValue::Other(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<TagValue<'de>, A::Error> {
                AnyValue::seq(seq).map(TagValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TagValue<'de>, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(TagValue::Other)
            }
        }
        deserializer.deserialize_any(TagVisitor)
    }
}

/// Reads entries of `map` until the `type` key, buffering the ones before it.
#[doc(hidden)]
pub fn read_tag<'de, A: MapAccess<'de>>(mut map: A) -> Result<Tagged<'de, A>, A::Error> {
    let mut buffered: Vec<(String, Value)> = Vec::new();
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        if key == "type" {
            let tag: TagValue<'de> = map.next_value()?;
            return Ok(match tag {
                TagValue::Str(tag) => Tagged::Tag(tag, buffered, map),
                TagValue::Other(other) => {
                    let mut object: Map<String, Value> = buffered.into_iter().collect();
                    object.insert(key.into_owned(), other);
                    collect_rest(&mut object, map)?;
                    Tagged::Untagged(Value::Object(object))
                }
            });
        }
        let value: Value = map.next_value()?;
        buffered.push((key.into_owned(), value));
    }
    Ok(Tagged::Untagged(Value::Object(
        buffered.into_iter().collect(),
    )))
}

/// Rebuilds an object with an unknown tag, in its original key order.
#[doc(hidden)]
pub fn unknown_object<'de, A: MapAccess<'de>>(
    tag: Cow<'de, str>,
    buffered: Vec<(String, Value)>,
    map: A,
) -> Result<Value, A::Error> {
    let mut object: Map<String, Value> = buffered.into_iter().collect();
    object.insert("type".to_owned(), Value::String(tag.into_owned()));
    collect_rest(&mut object, map)?;
    Ok(Value::Object(object))
}

fn collect_rest<'de, A: MapAccess<'de>>(
    object: &mut Map<String, Value>,
    mut map: A,
) -> Result<(), A::Error> {
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        let value: Value = map.next_value()?;
        object.insert(key.into_owned(), value);
    }
    Ok(())
}

/// Decodes any non-object JSON value into a `Value` (for the `Unknown` arm of enums).
#[doc(hidden)]
pub struct AnyValue;

impl AnyValue {
    /// Decodes a sequence into `Value::Array`.
    pub fn seq<'de, A: de::SeqAccess<'de>>(mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    /// A float as a JSON number (non-finite floats become `null`, as in serde_json).
    pub fn f64(v: f64) -> Value {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// Walks a typed tree and reports what was kept without being understood.
pub trait Inspect {
    /// Appends a [`Finding`] for every unknown field or unknown `type` under `path`.
    fn inspect(&self, path: &str, out: &mut Vec<Finding>);
}

/// Something a lossless decode kept verbatim because this build does not model it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// A field that is not modelled, kept in `extra`.
    UnknownField {
        /// JSON path of the field, e.g. `output[2].agent`.
        path: String,
    },
    /// A `type` tag that is not modelled, kept as raw JSON.
    UnknownType {
        /// JSON path of the object.
        path: String,
        /// The tag, or `None` when the object had no string `type`.
        type_name: Option<String>,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::UnknownField { path } => write!(f, "unknown field kept: {path}"),
            Finding::UnknownType {
                path,
                type_name: Some(t),
            } => {
                write!(f, "unknown type kept: {path} (type \"{t}\")")
            }
            Finding::UnknownType {
                path,
                type_name: None,
            } => {
                write!(f, "untyped object kept: {path}")
            }
        }
    }
}

/// Joins a path and a key: `output[2]` + `error` = `output[2].error`.
#[doc(hidden)]
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Reports every key of `extra` as an unknown field, except the documented vendor fields this
/// crate keeps raw on purpose (`keep`).
#[doc(hidden)]
pub fn inspect_extra(
    extra: &Map<String, Value>,
    keep: &[&str],
    path: &str,
    out: &mut Vec<Finding>,
) {
    for key in extra.keys().filter(|k| !keep.contains(&k.as_str())) {
        out.push(Finding::UnknownField {
            path: join(path, key),
        });
    }
}

/// Reports an `Unknown(Value)` enum arm, unless its type is a documented vendor type this crate
/// keeps raw on purpose (`keep`; `""` stands for objects without a `type`).
#[doc(hidden)]
pub fn inspect_unknown(raw: &Value, keep: &[&str], path: &str, out: &mut Vec<Finding>) {
    let type_name = raw.get("type").and_then(Value::as_str).map(str::to_owned);
    if keep.contains(&type_name.as_deref().unwrap_or("")) && raw.is_object() {
        return;
    }
    out.push(Finding::UnknownType {
        path: if path.is_empty() {
            "$".to_owned()
        } else {
            path.to_owned()
        },
        type_name,
    });
}

macro_rules! inspect_nothing {
    ($($t:ty),*) => { $(impl Inspect for $t { fn inspect(&self, _: &str, _: &mut Vec<Finding>) {} })* };
}
inspect_nothing!(String, bool, u64, i64, f64, Value, Sensitive, Map<String, Value>);

impl<T: Inspect> Inspect for Vec<T> {
    fn inspect(&self, path: &str, out: &mut Vec<Finding>) {
        for (i, item) in self.iter().enumerate() {
            item.inspect(&format!("{path}[{i}]"), out);
        }
    }
}

impl<T: Inspect> Inspect for Maybe<T> {
    fn inspect(&self, path: &str, out: &mut Vec<Finding>) {
        if let Maybe::Value(v) = self {
            v.inspect(path, out);
        }
    }
}

impl<T: Inspect> Inspect for Option<T> {
    fn inspect(&self, path: &str, out: &mut Vec<Finding>) {
        if let Some(v) = self {
            v.inspect(path, out);
        }
    }
}

impl<T: Inspect> Inspect for BTreeMap<String, T> {
    fn inspect(&self, path: &str, out: &mut Vec<Finding>) {
        for (k, v) in self {
            v.inspect(&join(path, k), out);
        }
    }
}

/// Declares a lossless wire struct: `req` fields are required, `opt` fields are [`Maybe`]s;
/// anything else in the object is kept in `extra`.
#[macro_export]
#[doc(hidden)]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $field:ident : $ty:ty = $key:literal
            ),* $(,)?
        }
        $( keep [$($keep:literal),* $(,)?]; )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::wire_struct!(@ty $kind $ty), )*
            /// Fields this version does not model, kept verbatim.
            pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        }

        impl $crate::wire::WireFields for $name {
            #[allow(unused_mut)]
            fn deserialize_fields<'de, A: ::serde::de::MapAccess<'de>>(
                buffered: ::std::vec::Vec<(::std::string::String, ::serde_json::Value)>,
                mut map: A,
            ) -> ::std::result::Result<Self, A::Error> {
                $( let mut $field: ::std::option::Option<$crate::wire_struct!(@ty $kind $ty)> = None; )*
                let mut extra = ::serde_json::Map::new();
                for (key, value) in buffered {
                    match key.as_str() {
                        $( $key => { $field = Some($crate::wire::from_buffered($key, value)?); } )*
                        _ => { extra.insert(key, value); }
                    }
                }
                while let Some($crate::wire::Key(key)) = map.next_key::<$crate::wire::Key<'de>>()? {
                    match key.as_ref() {
                        $( $key => {
                            if $field.is_some() {
                                return Err(<A::Error as ::serde::de::Error>::duplicate_field($key));
                            }
                            $field = Some(map.next_value()?);
                        } )*
                        _ => {
                            let value: ::serde_json::Value = map.next_value()?;
                            extra.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok($name {
                    $( $field: $crate::wire_struct!(@finish $kind $field $key A), )*
                    extra,
                })
            }

            fn serialize_fields<M: ::serde::ser::SerializeMap>(&self, map: &mut M) -> ::std::result::Result<(), M::Error> {
                $( $crate::wire_struct!(@ser $kind map self.$field, $key); )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                Ok(())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $crate::wire::WireFields::serialize_fields(self, &mut map)?;
                map.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                deserializer.deserialize_map($crate::wire::FieldsVisitor::<$name>(::std::marker::PhantomData, stringify!($name)))
            }
        }

        impl $crate::wire::Inspect for $name {
            fn inspect(&self, path: &str, out: &mut ::std::vec::Vec<$crate::wire::Finding>) {
                $( $crate::wire::Inspect::inspect(&self.$field, &$crate::wire::join(path, $key), out); )*
                let keep: &[&str] = &[$($($keep),*)?];
                $crate::wire::inspect_extra(&self.extra, keep, path, out);
            }
        }
    };
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { $crate::Maybe<$ty> };
    (@finish req $field:ident $key:literal $A:ident) => {
        match $field {
            Some(value) => value,
            None => return Err(<$A::Error as ::serde::de::Error>::missing_field($key)),
        }
    };
    (@finish opt $field:ident $key:literal $A:ident) => { $field.unwrap_or_default() };
    (@ser req $map:ident $value:expr, $key:literal) => { $map.serialize_entry($key, &$value)?; };
    (@ser opt $map:ident $value:expr, $key:literal) => {
        if !$value.is_absent() { $map.serialize_entry($key, &$value)?; }
    };
}

/// Declares a forward-compatible enum tagged by `type`: each known tag decodes strictly into
/// its payload, anything else is kept in `Unknown(Value)`. An optional `string Variant` arm
/// takes a bare JSON string (a legacy form some fields had).
#[macro_export]
#[doc(hidden)]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident($payload:ty) = $tag:literal
            ),* $(,)?
        }
        $( string $(#[$smeta:meta])* $svariant:ident; )?
        $( keep [$($keep:literal),* $(,)?]; )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($payload), )*
            $( $(#[$smeta])* $svariant(::std::string::String), )?
            /// A `type` this build does not know (or a value without one), kept verbatim.
            Unknown(::serde_json::Value),
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                $name::Unknown(::serde_json::Value::Null)
            }
        }

        impl $name {
            /// Every `type` tag this enum models.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The `type` tag, for known and unknown objects alike.
            pub fn type_name(&self) -> ::std::option::Option<&str> {
                match self {
                    $( $name::$variant(_) => Some($tag), )*
                    $( $name::$svariant(_) => None, )?
                    $name::Unknown(raw) => raw.get("type").and_then(::serde_json::Value::as_str),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap as _;
                match self {
                    $( $name::$variant(payload) => {
                        let mut map = serializer.serialize_map(None)?;
                        map.serialize_entry("type", $tag)?;
                        $crate::wire::WireFields::serialize_fields(payload, &mut map)?;
                        map.end()
                    } )*
                    $( $name::$svariant(s) => serializer.serialize_str(s), )?
                    $name::Unknown(raw) => ::serde::Serialize::serialize(raw, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct EnumVisitor;
                impl<'de> ::serde::de::Visitor<'de> for EnumVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> ::std::result::Result<$name, A::Error> {
                        match $crate::wire::read_tag(map)? {
                            $crate::wire::Tagged::Tag(tag, buffered, map) => match tag.as_ref() {
                                $( $tag => Ok($name::$variant(
                                    <$payload as $crate::wire::WireFields>::deserialize_fields(buffered, map)?,
                                )), )*
                                _ => Ok($name::Unknown($crate::wire::unknown_object(tag, buffered, map)?)),
                            },
                            $crate::wire::Tagged::Untagged(raw) => Ok($name::Unknown(raw)),
                        }
                    }
                    $crate::wire_enum!(@strings $name $($svariant)?);
                    fn visit_bool<E: ::serde::de::Error>(self, v: bool) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown(::serde_json::Value::Bool(v)))
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown(v.into()))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown(v.into()))
                    }
                    fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown($crate::wire::AnyValue::f64(v)))
                    }
                    fn visit_unit<E: ::serde::de::Error>(self) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown(::serde_json::Value::Null))
                    }
                    fn visit_seq<A: ::serde::de::SeqAccess<'de>>(self, seq: A) -> ::std::result::Result<$name, A::Error> {
                        Ok($name::Unknown($crate::wire::AnyValue::seq(seq)?))
                    }
                }
                deserializer.deserialize_any(EnumVisitor)
            }
        }

        impl $crate::wire::Inspect for $name {
            fn inspect(&self, path: &str, out: &mut ::std::vec::Vec<$crate::wire::Finding>) {
                match self {
                    $( $name::$variant(payload) => $crate::wire::Inspect::inspect(payload, path, out), )*
                    $( $name::$svariant(_) => {}, )?
                    $name::Unknown(raw) => {
                        let keep: &[&str] = &[$($($keep),*)?];
                        $crate::wire::inspect_unknown(raw, keep, path, out)
                    }
                }
            }
        }
    };
    (@strings $name:ident $svariant:ident) => {
        fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<$name, E> {
            Ok($name::$svariant(v.to_owned()))
        }
        fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<$name, E> {
            Ok($name::$svariant(v))
        }
    };
    (@strings $name:ident) => {
        fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<$name, E> {
            Ok($name::Unknown(::serde_json::Value::String(v.to_owned())))
        }
    };
}

/// Declares an open string enum: known values get a variant, anything else is kept in
/// `Other(String)` and written back unchanged.
#[macro_export]
#[doc(hidden)]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this build does not know, kept verbatim.
            Other(::std::string::String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Other(s) => s,
                }
            }

            /// Parses a wire string (never fails: unknown values become `Other`).
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $value => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let s = <$crate::wire::Key<'de> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from_wire(&s.0))
            }
        }

        impl $crate::wire::Inspect for $name {
            fn inspect(&self, _: &str, _: &mut ::std::vec::Vec<$crate::wire::Finding>) {}
        }
    };
}

/// Declares an untagged union decided by the JSON kind (string, array, object); any other kind
/// is kept in `Other(Value)`.
#[macro_export]
#[doc(hidden)]
macro_rules! union_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( str $(#[$strmeta:meta])* $strv:ident($strty:ty), )?
            $( seq $(#[$seqmeta:meta])* $seqv:ident($seqty:ty), )?
            $( map $(#[$mapmeta:meta])* $mapv:ident($mapty:ty), )?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)]
        pub enum $name {
            $( $(#[$strmeta])* $strv($strty), )?
            $( $(#[$seqmeta])* $seqv($seqty), )?
            $( $(#[$mapmeta])* $mapv($mapty), )?
            /// A JSON value of a kind this build does not expect, kept verbatim.
            Other(::serde_json::Value),
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    $( $name::$strv(v) => ::serde::Serialize::serialize(v, serializer), )?
                    $( $name::$seqv(v) => ::serde::Serialize::serialize(v, serializer), )?
                    $( $name::$mapv(v) => ::serde::Serialize::serialize(v, serializer), )?
                    $name::Other(v) => ::serde::Serialize::serialize(v, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct UnionVisitor;
                impl<'de> ::serde::de::Visitor<'de> for UnionVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name)))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<$name, E> {
                        $( return <$strty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::StrDeserializer::<E>::new(v)).map($name::$strv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other(::serde_json::Value::String(v.to_owned())))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<$name, E> {
                        $( return <$strty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::StringDeserializer::<E>::new(v)).map($name::$strv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other(::serde_json::Value::String(v)))
                    }
                    fn visit_seq<A: ::serde::de::SeqAccess<'de>>(self, seq: A) -> ::std::result::Result<$name, A::Error> {
                        $( return <$seqty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::SeqAccessDeserializer::new(seq)).map($name::$seqv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other($crate::wire::AnyValue::seq(seq)?))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> ::std::result::Result<$name, A::Error> {
                        $( return <$mapty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::MapAccessDeserializer::new(map)).map($name::$mapv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other(<::serde_json::Value as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::MapAccessDeserializer::new(map))?))
                    }
                    fn visit_bool<E: ::serde::de::Error>(self, v: bool) -> ::std::result::Result<$name, E> {
                        Ok($name::Other(::serde_json::Value::Bool(v)))
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<$name, E> {
                        Ok($name::Other(v.into()))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<$name, E> {
                        Ok($name::Other(v.into()))
                    }
                    fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<$name, E> {
                        Ok($name::Other($crate::wire::AnyValue::f64(v)))
                    }
                    fn visit_unit<E: ::serde::de::Error>(self) -> ::std::result::Result<$name, E> {
                        Ok($name::Other(::serde_json::Value::Null))
                    }
                }
                deserializer.deserialize_any(UnionVisitor)
            }
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                $name::Other(::serde_json::Value::Null)
            }
        }

        impl $crate::wire::Inspect for $name {
            fn inspect(&self, path: &str, out: &mut ::std::vec::Vec<$crate::wire::Finding>) {
                match self {
                    $( $name::$strv(v) => $crate::wire::Inspect::inspect(v, path, out), )?
                    $( $name::$seqv(v) => $crate::wire::Inspect::inspect(v, path, out), )?
                    $( $name::$mapv(v) => $crate::wire::Inspect::inspect(v, path, out), )?
                    $name::Other(_) => {}
                }
            }
        }
    };
}
