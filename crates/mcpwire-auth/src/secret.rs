//! [`Secret`]: a string that never prints, serialises only on request and is zeroised on drop.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// A secret string (token, client secret, code, verifier, state).
///
/// * `Debug` prints `Secret([redacted])`; there is no `Display`.
/// * It implements `Deserialize` but not `Serialize`: a field is written only when its container
///   opts in with `#[serde(serialize_with = "mcpwire_auth::secret::serialize_exposed")]`.
/// * The memory is zeroised on drop (via [`secrecy`]).
///
/// ```
/// use mcpwire_auth::Secret;
/// let s = Secret::new("tok-123");
/// assert_eq!(format!("{s:?}"), "Secret([redacted])");
/// assert_eq!(s.expose(), "tok-123");
/// ```
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// Returns the value. Call it only where the value is sent on the wire or written to the
    /// token store; never pass the result to a formatter or a log macro.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl PartialEq for Secret {
    /// Constant-time comparison of the two values.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// Opt-in serialiser that writes the secret's value, for `#[serde(serialize_with = ...)]`.
pub(crate) fn serialize_exposed<S: serde::Serializer>(
    secret: &Secret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// Opt-in serialiser for `Option<Secret>`, for `#[serde(serialize_with = ...)]`.
pub(crate) fn serialize_exposed_opt<S: serde::Serializer>(
    secret: &Option<Secret>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_some(s.expose()),
        None => serializer.serialize_none(),
    }
}

/// Replaces every occurrence of any of `secrets` in `text` with `[redacted]`, and cuts the
/// result to at most 300 characters. Used on server-supplied text (error descriptions) that
/// might echo what we sent.
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) fn redact(text: &str, secrets: &[&Secret]) -> String {
    crate::redact::scrub_excerpt(text, secrets.iter().copied(), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(Secret([redacted]))");
    }

    #[test]
    fn redact_replaces_and_truncates() {
        let s = Secret::new("rt-abcdef");
        assert_eq!(
            redact("bad token rt-abcdef!", &[&s]),
            "bad token [redacted]!"
        );
        assert!(redact(&"x".repeat(1000), &[]).chars().count() <= 301);
    }

    #[test]
    fn deserialize_but_serialize_only_on_opt_in() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct W {
            #[serde(serialize_with = "serialize_exposed")]
            s: Secret,
        }
        let w: W = serde_json::from_str(r#"{"s":"v1"}"#).unwrap();
        assert_eq!(w.s.expose(), "v1");
        assert_eq!(serde_json::to_string(&w).unwrap(), r#"{"s":"v1"}"#);
    }
}
