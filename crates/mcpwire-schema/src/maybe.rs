//! [`Maybe`]: a field that may be absent, explicitly `null`, or hold a value.

// `Maybe` has exactly three states: exhaustive.
#![allow(clippy::exhaustive_enums)]

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

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
