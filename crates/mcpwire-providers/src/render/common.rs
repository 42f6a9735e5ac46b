//! What both renderers share: validation of the neutral request, the strict/lossy decision, and
//! merging the per-vendor extras into a typed body.

use std::collections::HashMap;

use mcpwire_auth::Resolved;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Mode, RenderError, RenderOptions, Warning};
use crate::request::{McpRequest, McpServerSpec};

/// Keys of a server's rendered objects that carry credentials: never taken from extras.
pub(super) const CREDENTIAL_KEYS: [&str; 3] = ["authorization", "headers", "authorization_token"];

/// An [`RenderError::Invalid`].
pub(super) fn invalid(field: impl Into<String>, message: impl Into<String>) -> RenderError {
    RenderError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Collects warnings in lossy mode, fails in strict mode.
pub(super) struct Gaps {
    mode: Mode,
    pub(super) warnings: Vec<Warning>,
}

impl Gaps {
    pub(super) fn new(options: &RenderOptions) -> Self {
        Gaps {
            mode: options.mode,
            warnings: Vec::new(),
        }
    }

    /// A field the target cannot express: in strict mode an error saying `why`; in lossy mode
    /// a warning saying `why` and what was done instead (`lossy`).
    pub(super) fn gap(
        &mut self,
        field: impl Into<String>,
        why: &str,
        lossy: &str,
    ) -> Result<(), RenderError> {
        let field = field.into();
        match self.mode {
            Mode::Strict => Err(RenderError::CapabilityGap {
                field,
                message: why.to_owned(),
            }),
            Mode::Lossy => {
                self.warnings.push(Warning {
                    field,
                    message: format!("{why}; {lossy}"),
                });
                Ok(())
            }
        }
    }

    /// `true` in strict mode.
    pub(super) fn is_strict(&self) -> bool {
        self.mode == Mode::Strict
    }

    /// A warning (lossy mode only: strict mode has failed before).
    pub(super) fn warn(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning::new(field, message));
    }
}

/// Checks what makes a request invalid for every vendor.
pub(super) fn validate(request: &McpRequest, credentials: &[Resolved]) -> Result<(), RenderError> {
    if request.model.trim().is_empty() {
        return Err(invalid("model", "empty model name"));
    }
    if credentials.len() != request.servers.len() {
        return Err(invalid(
            "credentials",
            format!(
                "{} resolved credentials for {} servers (one per server, in order)",
                credentials.len(),
                request.servers.len()
            ),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, server) in request.servers.iter().enumerate() {
        validate_server(i, server)?;
        if let Some(first) = seen.insert(server.name.as_str(), i) {
            return Err(invalid(
                format!("servers[{i}].name"),
                format!(
                    "duplicate server name `{}` (also servers[{first}])",
                    server.name
                ),
            ));
        }
    }
    Ok(())
}

fn validate_server(i: usize, server: &McpServerSpec) -> Result<(), RenderError> {
    if server.name.trim().is_empty() {
        return Err(invalid(format!("servers[{i}].name"), "empty server name"));
    }
    match (&server.url, &server.connector_id) {
        (None, None) if server.extra.openai.contains_key("tunnel_id") => {}
        (None, None) => {
            return Err(invalid(
                format!("servers[{i}].url"),
                "a server needs a url or a connector_id (or an OpenAI tunnel_id in extra.openai)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                format!("servers[{i}].connector_id"),
                "set either url or connector_id, not both",
            ));
        }
        (Some(url), None) => {
            // The URL may carry a tenant key: the error names the reason, never the URL.
            url::Url::parse(url).map_err(|err| {
                invalid(
                    format!("servers[{i}].url"),
                    format!("not a valid URL: {err}"),
                )
            })?;
        }
        (None, Some(connector)) => {
            if connector.trim().is_empty() {
                return Err(invalid(
                    format!("servers[{i}].connector_id"),
                    "empty connector id",
                ));
            }
        }
    }
    for (vendor, map) in [
        ("openai", &server.extra.openai),
        ("anthropic", &server.extra.anthropic),
        ("anthropic_toolset", &server.extra.anthropic_toolset),
    ] {
        if let Some(key) = CREDENTIAL_KEYS.iter().find(|k| map.contains_key(**k)) {
            return Err(invalid(
                format!("servers[{i}].extra.{vendor}.{key}"),
                "credentials belong in servers[].credentials, not in extra",
            ));
        }
    }
    Ok(())
}

/// Merges `extra` into the JSON of `typed` (extra's keys win), and decodes the result again.
/// `append` names a key whose arrays are concatenated instead (`tools`).
pub(super) fn merge<T: Serialize + DeserializeOwned>(
    typed: T,
    extra: &Map<String, Value>,
    append: Option<&str>,
    field: &str,
) -> Result<T, RenderError> {
    if extra.is_empty() {
        return Ok(typed);
    }
    let mut value = serde_json::to_value(&typed)
        .map_err(|err| invalid(field, format!("cannot serialise: {err}")))?;
    let Value::Object(object) = &mut value else {
        return Err(invalid(field, "not a JSON object"));
    };
    for (key, extra_value) in extra {
        if append == Some(key.as_str()) {
            let Value::Array(more) = extra_value else {
                return Err(invalid(format!("{field}.{key}"), "must be an array"));
            };
            match object.get_mut(key) {
                Some(Value::Array(items)) => items.extend(more.iter().cloned()),
                _ => {
                    object.insert(key.clone(), extra_value.clone());
                }
            }
        } else {
            object.insert(key.clone(), extra_value.clone());
        }
    }
    mcpwire_schema::decode::from_value(&value).map_err(|err| {
        let path = if err.path == "$" {
            field.to_owned()
        } else {
            format!("{field}.{}", err.path)
        };
        invalid(path, err.message)
    })
}
