//! [`Inspect`]: what a lossless decode kept without understanding it ([`Finding`]s), as
//! `mcpwire check` reports it.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::{Extra, Json, Maybe, Sensitive};

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
pub fn inspect_extra(extra: &Extra, keep: &[&str], path: &str, out: &mut Vec<Finding>) {
    for key in extra.keys().filter(|k| !keep.contains(k)) {
        out.push(Finding::UnknownField {
            path: join(path, key),
        });
    }
}

/// Reports an `Unknown(Json)` enum arm, unless its type is a documented vendor type this crate
/// keeps raw on purpose (`keep`; `""` stands for objects without a `type`).
#[doc(hidden)]
pub fn inspect_unknown(raw: &Json<'_>, keep: &[&str], path: &str, out: &mut Vec<Finding>) {
    let type_name = raw.type_tag();
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
inspect_nothing!(String, bool, u64, i64, f64, Value, Json<'_>, Extra, Sensitive, Map<String, Value>);

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
