//! The neutral request as a small JSON document: declare the MCP servers once, render for
//! either vendor (`mcpwire translate --to openai|anthropic FILE`).
//!
//! ```json
//! {
//!   "model": "gpt-5",
//!   "input": "Roll 2d4+1",                      // or [{"role": "user"|"assistant", "text": "..."}]
//!   "instructions": "Be brief.",                 // optional
//!   "max_output_tokens": 1024,                   // optional
//!   "stream": false,                             // optional, default false
//!   "servers": [{
//!     "name": "dmcp",
//!     "url": "https://dmcp-server.deno.dev/sse", // or "connector_id": "connector_dropbox"
//!     "credentials": {"type": "bearer", "token": "YOUR_TOKEN"},
//!                    // or {"type": "none"} (default), {"type": "headers", "headers": {"X-Key": "..."}}
//!     "allowed_tools": ["roll"],                 // optional: only these tools
//!     "read_only": false,                        // optional: only tools annotated read-only
//!     "approval": "never",                       // "never" (default) | "always"
//!                                                // | {"always": ["t1"], "never": ["t2"]}
//!     "description": "Dice",                     // optional
//!     "defer_loading": false,                    // optional
//!     "extra": {"openai": {}, "anthropic": {}, "anthropic_toolset": {}}   // optional
//!   }],
//!   "extra": {"openai": {}, "anthropic": {}}      // optional, merged into the vendor body
//! }
//! ```
//!
//! Unknown keys are errors; every error names the JSON path of the fault.
//!
//! ```
//! use mcpwire_providers::neutral;
//! let request = neutral::from_slice(br#"{"model": "gpt-5", "input": "hi",
//!     "servers": [{"name": "dmcp", "url": "https://dmcp-server.deno.dev/sse", "approval": "always"}]}"#)?;
//! assert_eq!(request.servers[0].name, "dmcp");
//! let err = neutral::from_slice(br#"{"model": "gpt-5", "input": "hi", "servers": [{"name": "x", "aproval": "never"}]}"#).unwrap_err();
//! assert_eq!(err.path, "servers[0].aproval");
//! assert!(err.message.contains("aproval"));
//! # Ok::<(), neutral::FileError>(())
//! ```

use std::collections::BTreeMap;

use mcpwire_auth::{Credentials, Secret};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::request::{
    Approval, Input, InputMessage, McpRequest, McpServerSpec, Role, ServerExtra, VendorExtra,
};

/// A neutral file that cannot be read (or a request that cannot be written): where and why.
/// Never contains a token or header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
#[non_exhaustive]
pub struct FileError {
    /// JSON path of the fault (`$` for the root), e.g. `servers[1].approval`.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl FileError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FileError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// How [`to_value`] writes credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Secrets {
    /// Write tokens and header values as they are (the file is then a secret itself).
    Expose,
    /// Write `[redacted]` (the shared marker) instead.
    Redact,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRequest {
    model: String,
    input: Value,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    max_output_tokens: Option<u64>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    servers: Vec<FileServer>,
    #[serde(default)]
    extra: FileExtra,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileExtra {
    #[serde(default)]
    openai: Map<String, Value>,
    #[serde(default)]
    anthropic: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    connector_id: Option<String>,
    #[serde(default)]
    credentials: FileCredentials,
    #[serde(default)]
    allowed_tools: Option<Vec<String>>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    approval: Option<Value>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    defer_loading: bool,
    #[serde(default)]
    extra: FileServerExtra,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileServerExtra {
    #[serde(default)]
    openai: Map<String, Value>,
    #[serde(default)]
    anthropic: Map<String, Value>,
    #[serde(default)]
    anthropic_toolset: Map<String, Value>,
}

// No `Debug`: it holds tokens.
#[derive(Deserialize, Default)]
#[serde(tag = "type", rename_all = "lowercase")]
enum FileCredentials {
    #[default]
    None,
    Bearer {
        token: Secret,
    },
    Headers {
        headers: BTreeMap<String, Secret>,
    },
}

/// Reads a neutral request from JSON bytes.
pub fn from_slice(bytes: &[u8]) -> Result<McpRequest, FileError> {
    let value: Value = mcpwire_schema::decode::from_slice(bytes)
        .map_err(|err| FileError::new(err.path, err.message))?;
    from_value(&value)
}

/// Reads a neutral request from a JSON value.
pub fn from_value(value: &Value) -> Result<McpRequest, FileError> {
    let file: FileRequest = mcpwire_schema::decode::from_value(value)
        .map_err(|err| FileError::new(err.path, err.message))?;
    let input = input(&file.input)?;
    let mut servers = Vec::with_capacity(file.servers.len());
    for (i, server) in file.servers.into_iter().enumerate() {
        servers.push(server_spec(i, server)?);
    }
    let mut extra = VendorExtra::default();
    extra.openai = file.extra.openai;
    extra.anthropic = file.extra.anthropic;
    let mut request = McpRequest::new(file.model, "").input(input).extra(extra);
    request.instructions = file.instructions;
    request.max_output_tokens = file.max_output_tokens;
    request.stream = file.stream;
    request.servers = servers;
    Ok(request)
}

fn input(value: &Value) -> Result<Input, FileError> {
    match value {
        Value::String(text) => Ok(Input::Text(text.clone())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let path = |key: &str| format!("input[{k}]{key}");
                let Value::Object(object) = item else {
                    return Err(FileError::new(path(""), "expected {\"role\", \"text\"}"));
                };
                if let Some(key) = object
                    .keys()
                    .find(|k| !matches!(k.as_str(), "role" | "text"))
                {
                    return Err(FileError::new(
                        path(""),
                        format!("unknown field `{key}`, expected `role` or `text`"),
                    ));
                }
                let role = object
                    .get("role")
                    .and_then(Value::as_str)
                    .and_then(Role::from_wire)
                    .ok_or_else(|| {
                        FileError::new(path(".role"), "expected \"user\" or \"assistant\"")
                    })?;
                let text = object
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| FileError::new(path(".text"), "expected a string"))?;
                Ok(InputMessage::new(role, text))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Input::Messages),
        _ => Err(FileError::new(
            "input",
            "expected a string or an array of {\"role\", \"text\"}",
        )),
    }
}

fn server_spec(i: usize, server: FileServer) -> Result<McpServerSpec, FileError> {
    let mut spec = McpServerSpec::new(server.name, "");
    spec.url = server.url;
    spec.connector_id = server.connector_id;
    spec.credentials = match server.credentials {
        FileCredentials::None => Credentials::None,
        FileCredentials::Bearer { token } => Credentials::Bearer(token),
        FileCredentials::Headers { headers } => Credentials::Headers(headers.into_iter().collect()),
    };
    spec.allowed_tools = server.allowed_tools;
    spec.read_only = server.read_only;
    spec.approval = match &server.approval {
        None => Approval::Never,
        Some(value) => {
            approval(value).map_err(|m| FileError::new(format!("servers[{i}].approval"), m))?
        }
    };
    spec.description = server.description;
    spec.defer_loading = server.defer_loading;
    let mut extra = ServerExtra::default();
    extra.openai = server.extra.openai;
    extra.anthropic = server.extra.anthropic;
    extra.anthropic_toolset = server.extra.anthropic_toolset;
    spec.extra = extra;
    Ok(spec)
}

fn approval(value: &Value) -> Result<Approval, String> {
    const EXPECTED: &str =
        "expected \"never\", \"always\" or {\"always\": [...], \"never\": [...]}";
    match value {
        Value::String(s) if s == "never" => Ok(Approval::Never),
        Value::String(s) if s == "always" => Ok(Approval::Always),
        Value::Object(object) => {
            let mut always = Vec::new();
            let mut never = Vec::new();
            for (key, names) in object {
                let target = match key.as_str() {
                    "always" => &mut always,
                    "never" => &mut never,
                    other => return Err(format!("unknown field `{other}`, {EXPECTED}")),
                };
                *target = serde_json::from_value(names.clone())
                    .map_err(|_| format!("{key}: expected an array of tool names"))?;
            }
            Ok(Approval::Tools { always, never })
        }
        _ => Err(EXPECTED.to_owned()),
    }
}

/// Writes a neutral request as a JSON document (omitting defaults). OAuth credentials cannot
/// be written.
pub fn to_value(request: &McpRequest, secrets: Secrets) -> Result<Value, FileError> {
    let mut out = Map::new();
    out.insert("model".to_owned(), json!(request.model));
    out.insert(
        "input".to_owned(),
        match &request.input {
            Input::Text(text) => json!(text),
            Input::Messages(messages) => Value::Array(
                messages
                    .iter()
                    .map(|m| json!({"role": m.role.as_str(), "text": m.text}))
                    .collect(),
            ),
        },
    );
    if let Some(instructions) = &request.instructions {
        out.insert("instructions".to_owned(), json!(instructions));
    }
    if let Some(limit) = request.max_output_tokens {
        out.insert("max_output_tokens".to_owned(), json!(limit));
    }
    if request.stream {
        out.insert("stream".to_owned(), json!(true));
    }
    let mut servers = Vec::new();
    for (i, server) in request.servers.iter().enumerate() {
        servers.push(server_value(i, server, secrets)?);
    }
    out.insert("servers".to_owned(), Value::Array(servers));
    let mut extra = Map::new();
    for (vendor, map) in [
        ("openai", &request.extra.openai),
        ("anthropic", &request.extra.anthropic),
    ] {
        if !map.is_empty() {
            extra.insert(vendor.to_owned(), Value::Object(map.clone()));
        }
    }
    if !extra.is_empty() {
        out.insert("extra".to_owned(), Value::Object(extra));
    }
    Ok(Value::Object(out))
}

fn server_value(i: usize, server: &McpServerSpec, secrets: Secrets) -> Result<Value, FileError> {
    let secret = |s: &Secret| match secrets {
        Secrets::Expose => json!(s.expose()),
        Secrets::Redact => json!(mcpwire_auth::redact::MARKER),
    };
    let mut out = Map::new();
    out.insert("name".to_owned(), json!(server.name));
    if let Some(url) = &server.url {
        out.insert("url".to_owned(), json!(url));
    }
    if let Some(connector) = &server.connector_id {
        out.insert("connector_id".to_owned(), json!(connector));
    }
    let credentials = match &server.credentials {
        Credentials::None => None,
        Credentials::Bearer(token) => Some(json!({"type": "bearer", "token": secret(token)})),
        Credentials::Headers(headers) => {
            let map: Map<String, Value> = headers
                .iter()
                .map(|(name, value)| (name.clone(), secret(value)))
                .collect();
            Some(json!({"type": "headers", "headers": map}))
        }
        _ => {
            return Err(FileError::new(
                format!("servers[{i}].credentials"),
                "OAuth credentials cannot be written to a file",
            ));
        }
    };
    if let Some(credentials) = credentials {
        out.insert("credentials".to_owned(), credentials);
    }
    if let Some(tools) = &server.allowed_tools {
        out.insert("allowed_tools".to_owned(), json!(tools));
    }
    if server.read_only {
        out.insert("read_only".to_owned(), json!(true));
    }
    match &server.approval {
        Approval::Never => {}
        Approval::Always => {
            out.insert("approval".to_owned(), json!("always"));
        }
        Approval::Tools { always, never } => {
            out.insert(
                "approval".to_owned(),
                json!({"always": always, "never": never}),
            );
        }
    }
    if let Some(description) = &server.description {
        out.insert("description".to_owned(), json!(description));
    }
    if server.defer_loading {
        out.insert("defer_loading".to_owned(), json!(true));
    }
    if !server.extra.is_empty() {
        let mut extra = Map::new();
        for (key, map) in [
            ("openai", &server.extra.openai),
            ("anthropic", &server.extra.anthropic),
            ("anthropic_toolset", &server.extra.anthropic_toolset),
        ] {
            if !map.is_empty() {
                extra.insert(key.to_owned(), Value::Object(map.clone()));
            }
        }
        out.insert("extra".to_owned(), Value::Object(extra));
    }
    Ok(Value::Object(out))
}
