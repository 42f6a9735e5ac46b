//! [`Sensitive`]: a string whose value must never be printed.

use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

/// A string whose value must never be printed: an HTTP header value, an access token.
///
/// `Debug` prints `"[redacted]"` (the marker `mcpwire-auth` uses too); serialisation is transparent because the value has to reach
/// the vendor. The `mcpwire-auth` crate has the zeroising secret type; this one only guarantees
/// that wire types holding credentials can be logged with `{:?}`.
///
/// ```
/// use mcpwire_schema::Sensitive;
/// let token = Sensitive::new("tok-123");
/// assert_eq!(format!("{token:?}"), "\"[redacted]\"");
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
        f.write_str("\"[redacted]\"")
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
