//! The four macros every wire type is declared with:
//!
//! * [`wire_struct!`](crate::wire_struct): a lossless struct; every field it does not model is
//!   kept in `extra`, an absent field is told from an explicit `null` ([`Maybe`](crate::Maybe)),
//!   and a missing required field is reported by name.
//! * [`wire_enum!`](crate::wire_enum): an enum tagged by `type`; a known tag must decode into its
//!   payload (a malformed body is an error, never silently "unknown"), an unknown tag (or no tag
//!   at all) is kept verbatim in `Unknown(Json)` and re-serialises unchanged.
//! * [`open_enum!`](crate::open_enum): an open string enum; unknown values are kept in
//!   `Other(String)`.
//! * [`union_enum!`](crate::union_enum): an untagged union decided by the JSON kind (string,
//!   array, object).
//!
//! Neither `wire_struct!` nor `wire_enum!` buffers the whole object when `type` is the first key
//! (which is what both vendors send), so typed decoding costs about as much as decoding into a
//! generic `Value`. What they expand to lives in [`wire`](crate::wire).

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
            pub extra: $crate::Extra,
        }

        impl $crate::wire::WireFields for $name {
            #[allow(unused_mut)]
            fn deserialize_fields<'de, A: ::serde::de::MapAccess<'de>>(
                buffered: ::std::vec::Vec<(::std::string::String, $crate::Json<'static>)>,
                mut map: A,
            ) -> ::std::result::Result<Self, A::Error> {
                $( let mut $field: ::std::option::Option<$crate::wire_struct!(@ty $kind $ty)> = None; )*
                let mut extra = $crate::Extra::new();
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
                            let value: $crate::Json<'static> = map.next_value()?;
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
                for (key, value) in self.extra.iter() {
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

        impl $crate::inspect::Inspect for $name {
            fn inspect(&self, path: &str, out: &mut ::std::vec::Vec<$crate::inspect::Finding>) {
                $( $crate::inspect::Inspect::inspect(&self.$field, &$crate::inspect::join(path, $key), out); )*
                let keep: &[&str] = &[$($($keep),*)?];
                $crate::inspect::inspect_extra(&self.extra, keep, path, out);
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
/// its payload, anything else is kept in `Unknown(Json)`. An optional `string Variant` arm
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
            Unknown($crate::Json<'static>),
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                $name::Unknown($crate::Json::null())
            }
        }

        impl $name {
            /// Every `type` tag this enum models.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The `type` tag, for known and unknown objects alike.
            pub fn type_name(&self) -> ::std::option::Option<::std::borrow::Cow<'static, str>> {
                match self {
                    $( $name::$variant(_) => Some(::std::borrow::Cow::Borrowed($tag)), )*
                    $( $name::$svariant(_) => None, )?
                    $name::Unknown(raw) => raw.type_tag().map(::std::borrow::Cow::Owned),
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
                        Ok($name::Unknown($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_unit<E: ::serde::de::Error>(self) -> ::std::result::Result<$name, E> {
                        Ok($name::Unknown($crate::Json::null()))
                    }
                    fn visit_seq<A: ::serde::de::SeqAccess<'de>>(self, seq: A) -> ::std::result::Result<$name, A::Error> {
                        Ok($name::Unknown($crate::Json::from_elements(seq)?))
                    }
                }
                deserializer.deserialize_any(EnumVisitor)
            }
        }

        impl $crate::inspect::Inspect for $name {
            fn inspect(&self, path: &str, out: &mut ::std::vec::Vec<$crate::inspect::Finding>) {
                match self {
                    $( $name::$variant(payload) => $crate::inspect::Inspect::inspect(payload, path, out), )*
                    $( $name::$svariant(_) => {}, )?
                    $name::Unknown(raw) => {
                        let keep: &[&str] = &[$($($keep),*)?];
                        $crate::inspect::inspect_unknown(raw, keep, path, out)
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
            Ok($name::Unknown($crate::Json::string(v)))
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

        impl $crate::inspect::Inspect for $name {
            fn inspect(&self, _: &str, _: &mut ::std::vec::Vec<$crate::inspect::Finding>) {}
        }
    };
}

/// Declares an untagged union decided by the JSON kind (string, array, object); any other kind
/// is kept in `Other(Json)`.
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
            Other($crate::Json<'static>),
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
                        Ok($name::Other($crate::Json::string(v)))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::std::result::Result<$name, E> {
                        $( return <$strty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::StringDeserializer::<E>::new(v)).map($name::$strv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other($crate::Json::string(&v)))
                    }
                    fn visit_seq<A: ::serde::de::SeqAccess<'de>>(self, seq: A) -> ::std::result::Result<$name, A::Error> {
                        $( return <$seqty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::SeqAccessDeserializer::new(seq)).map($name::$seqv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other($crate::Json::from_elements(seq)?))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> ::std::result::Result<$name, A::Error> {
                        $( return <$mapty as ::serde::Deserialize>::deserialize(
                            ::serde::de::value::MapAccessDeserializer::new(map)).map($name::$mapv); )?
                        #[allow(unreachable_code)]
                        Ok($name::Other($crate::Json::from_entries([], map)?))
                    }
                    fn visit_bool<E: ::serde::de::Error>(self, v: bool) -> ::std::result::Result<$name, E> {
                        Ok($name::Other($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> ::std::result::Result<$name, E> {
                        Ok($name::Other($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> ::std::result::Result<$name, E> {
                        Ok($name::Other($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> ::std::result::Result<$name, E> {
                        Ok($name::Other($crate::wire::AnyValue::scalar(v)))
                    }
                    fn visit_unit<E: ::serde::de::Error>(self) -> ::std::result::Result<$name, E> {
                        Ok($name::Other($crate::Json::null()))
                    }
                }
                deserializer.deserialize_any(UnionVisitor)
            }
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                $name::Other($crate::Json::null())
            }
        }

        impl $crate::inspect::Inspect for $name {
            fn inspect(&self, path: &str, out: &mut ::std::vec::Vec<$crate::inspect::Finding>) {
                match self {
                    $( $name::$strv(v) => $crate::inspect::Inspect::inspect(v, path, out), )?
                    $( $name::$seqv(v) => $crate::inspect::Inspect::inspect(v, path, out), )?
                    $( $name::$mapv(v) => $crate::inspect::Inspect::inspect(v, path, out), )?
                    $name::Other(_) => {}
                }
            }
        }
    };
}
