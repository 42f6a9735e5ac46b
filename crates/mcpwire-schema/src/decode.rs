//! Decoding with errors that name the JSON path of the fault.
//!
//! The fast path is a plain `serde_json` decode; only when it fails is the input decoded again
//! with path tracking, so well-formed input pays nothing for the better error.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A payload that does not match its type: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
#[non_exhaustive]
pub struct DecodeError {
    /// JSON path of the fault (`$` for the root), e.g. `output[2].error.code`.
    pub path: String,
    /// What was wrong, e.g. ``missing field `name` ``.
    pub message: String,
}

impl DecodeError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error under a parent path, e.g. `events[3]`.
    pub fn within(self, parent: &str) -> Self {
        let path = if self.path == "$" {
            parent.to_owned()
        } else if self.path.starts_with('[') {
            format!("{parent}{}", self.path)
        } else {
            format!("{parent}.{}", self.path)
        };
        DecodeError {
            path,
            message: self.message,
        }
    }
}

fn path_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." || text.is_empty() {
        "$".to_owned()
    } else {
        text
    }
}

/// The message of a decode error without serde_json's " at line L column C" (the path says
/// where, and the same fault reads the same whether the text was compact or pretty-printed).
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if err.line() == 0 {
        return text;
    }
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix)
        .map_or(text.clone(), str::to_owned)
}

/// Decodes JSON bytes into `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    // A vectorised UTF-8 check up front, then `serde_json`'s string reader, which does not check
    // each string again (its byte reader would).
    let fast = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    fast.map_err(|fast| slow_error::<T>(bytes, &fast))
}

/// Decodes a JSON string into `T` (the text is not checked for UTF-8 again).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|fast| slow_error::<T>(text.as_bytes(), &fast))
}

/// The error of a failed fast decode, with its path: the input decoded again, tracking where.
#[cold]
fn slow_error<T: DeserializeOwned>(bytes: &[u8], fast: &serde_json::Error) -> DecodeError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => DecodeError::new("$", fast.to_string()),
        Err(err) => DecodeError::new(path_of(err.path()), without_position(err.inner())),
    }
}

/// Decodes a generic JSON value into `T`.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize::<_, T>(value)
        .map_err(|err| DecodeError::new(path_of(err.path()), err.inner().to_string()))
}
