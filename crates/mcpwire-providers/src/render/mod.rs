//! Rendering the neutral request into each vendor's body, and parsing a vendor body back into
//! the neutral form (so a request can be translated from one vendor to the other).
//!
//! Capability gaps are explicit: in [`Mode::Strict`] (the default) a field the target vendor
//! cannot express is an error naming the field; in [`Mode::Lossy`] it is converted or dropped
//! with a [`Warning`] per changed field.

use std::fmt;

/// What to do with a field the target vendor cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Refuse: an error naming the field.
    #[default]
    Strict,
    /// Convert or drop it, with a warning.
    Lossy,
}

/// Rendering options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Strict or lossy.
    pub mode: Mode,
    /// Accept `http://` server URLs on loopback hosts for Anthropic (which requires https): for
    /// local simulators and tests only.
    pub allow_insecure_loopback: bool,
}

impl RenderOptions {
    /// Strict options.
    pub fn strict() -> Self {
        RenderOptions::default()
    }

    /// Lossy options.
    pub fn lossy() -> Self {
        RenderOptions {
            mode: Mode::Lossy,
            ..RenderOptions::default()
        }
    }
}

/// A field that was converted or dropped in lossy mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The neutral field, e.g. `servers[0].approval`.
    pub field: String,
    /// What happened to it.
    pub message: String,
}

impl Warning {
    /// A warning about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why a request cannot be rendered or parsed. Never contains a header value or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The target vendor cannot express this field (strict mode).
    #[error("{field}: {message}")]
    CapabilityGap {
        /// The neutral field.
        field: String,
        /// Why.
        message: String,
    },
    /// The request itself is invalid (duplicate server names, missing URL, ...).
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
}

/// A rendered vendor body with the HTTP headers it needs and the warnings of lossy mode.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rendered<T> {
    /// The body.
    pub body: T,
    /// Extra HTTP headers the body needs (e.g. `anthropic-beta`).
    pub headers: Vec<(String, String)>,
    /// Fields converted or dropped (lossy mode only).
    pub warnings: Vec<Warning>,
}
