//! Parsing a vendor body back into the neutral request.
//!
//! Each parser maps what the neutral fields can hold, then renders the result for the same
//! vendor and keeps every top-level key (and every key of a server's objects) that the
//! rendering does not reproduce in the `extra` maps, credentials excepted. So the same vendor
//! gets an equal body back, and everything only that vendor understands is reported as a
//! [`Warning`] (another vendor will not receive it).

use std::collections::HashMap;

use mcpwire_auth::{Credentials, Resolved, Secret};
use mcpwire_schema::Json;
use mcpwire_schema::anthropic::{self as wire_a, BetaVersion, CreateMessage};
use mcpwire_schema::openai::{self as wire_o, CreateResponse};
use serde_json::{Map, Value};

use super::common::{CREDENTIAL_KEYS, Gaps, invalid};
use super::{RenderError, RenderOptions, Warning};
use crate::request::{Approval, Input, InputMessage, McpRequest, McpServerSpec, Role};

/// Top-level keys whose differences are about form, not meaning: no warning when kept.
const FORM_ONLY: [&str; 4] = ["input", "messages", "system", "stream"];

/// The keys of an OpenAI `mcp` tool the neutral form models.
const OPENAI_MODELLED: [&str; 7] = [
    "server_label",
    "server_url",
    "connector_id",
    "server_description",
    "allowed_tools",
    "require_approval",
    "defer_loading",
];

/// The MCP connector beta an Anthropic body was written for, from its shape: `mcp_toolset`
/// tools mean 2025-11-20, unless a toolset pins `tools` or a message carries an
/// `mcp_tool_listing` block (2026-09-15); otherwise 2025-04-04.
pub fn detect_beta(body: &CreateMessage) -> BetaVersion {
    let toolsets: Vec<&wire_a::McpToolset> = body
        .tools
        .get()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| match t {
                    wire_a::Tool::McpToolset(ts) => Some(ts),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let listing = body.messages.get().is_some_and(|messages| {
        messages.iter().any(|m| match &m.content {
            wire_a::MessageContent::Blocks(blocks) => blocks
                .iter()
                .any(|b| matches!(b, wire_a::ContentBlock::McpToolListing(_))),
            _ => false,
        })
    });
    if toolsets.iter().any(|ts| !ts.tools.is_absent()) || listing {
        BetaVersion::V2026_09_15
    } else if toolsets.is_empty() {
        BetaVersion::V2025_04_04
    } else {
        BetaVersion::V2025_11_20
    }
}

/// Parses an OpenAI Responses request body into the neutral form.
///
/// `authorization` becomes [`Credentials::Bearer`], `headers` [`Credentials::Headers`]; a
/// string `input` becomes [`Input::Text`], message items with text content
/// [`Input::Messages`]. Other input items, non-MCP tools and unmodelled fields go into
/// `extra.openai` (and a server's `extra.openai`), each with a warning. A missing
/// `require_approval` is read as OpenAI's default, `Approval::Always`.
pub fn from_openai(body: &CreateResponse) -> Result<(McpRequest, Vec<Warning>), RenderError> {
    let mut warnings = Vec::new();
    let model = body
        .model
        .get()
        .cloned()
        .ok_or_else(|| invalid("model", "missing"))?;
    let mut request = McpRequest::new(model, "").input(openai_input(body, &mut warnings));
    request.instructions = body.instructions.get().cloned();
    request.max_output_tokens = body.max_output_tokens.get().copied();
    request.stream = body.stream.get() == Some(&true);
    let mut originals = Vec::new();
    let mut other_tools = Vec::new();
    for (j, tool) in body.tools.get().into_iter().flatten().enumerate() {
        match tool {
            wire_o::Tool::Mcp(mcp) => {
                let i = request.servers.len();
                request.servers.push(openai_server(i, mcp, &mut warnings));
                originals.push(mcp);
            }
            other => {
                warnings.push(non_mcp_tool(j, other.type_name().as_deref(), "openai"));
                other_tools.push(json(other));
            }
        }
    }
    let credentials = static_credentials(&request)?;
    for (i, (server, original)) in request.servers.iter_mut().zip(originals).enumerate() {
        let rendered = super::openai::tool_json(&super::openai::mcp_tool(server, &credentials[i]));
        let original = super::openai::tool_json(original);
        let kept = residual(&original, &rendered, &["type"]);
        warn_kept(i, &kept, "openai", &OPENAI_MODELLED, &mut warnings);
        server.extra.openai = kept;
    }
    let rendered = json(&super::openai(&request, &credentials, &lossy())?.body);
    request.extra.openai = top_level(json(body), &rendered, &["tools"], "openai", &mut warnings);
    if !other_tools.is_empty() {
        request
            .extra
            .openai
            .insert("tools".to_owned(), Value::Array(other_tools));
    }
    Ok((request, warnings))
}

/// Parses an Anthropic Messages request body written for `beta` into the neutral form.
///
/// `authorization_token` becomes [`Credentials::Bearer`]; `system` (text) the instructions;
/// `max_tokens` the output limit; text content the messages (a single user message becomes
/// [`Input::Text`]). An allowlist (`tool_configuration.allowed_tools`, or a toolset with
/// `default_config.enabled: false` and `configs.X.enabled: true`) becomes `allowed_tools`,
/// `default_config.defer_loading` becomes `defer_loading`. Other blocks, non-MCP tools, deny
/// lists and unmodelled fields go into `extra.anthropic` (or a server's extras), each with a
/// warning.
pub fn from_anthropic(
    body: &CreateMessage,
    beta: BetaVersion,
) -> Result<(McpRequest, Vec<Warning>), RenderError> {
    let mut warnings = Vec::new();
    let model = body
        .model
        .get()
        .cloned()
        .ok_or_else(|| invalid("model", "missing"))?;
    let mut request = McpRequest::new(model, "").input(anthropic_input(body, &mut warnings));
    request.max_output_tokens = body.max_tokens.get().copied();
    request.stream = body.stream.get() == Some(&true);
    let system = body.system.get().map(Json::to_value);
    request.instructions = match &system {
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            let text = text_blocks(other);
            if text.is_none() {
                warnings.push(Warning::new(
                    "system",
                    "non-text system blocks have no neutral equivalent: Anthropic only (kept in extra.anthropic)",
                ));
            }
            text
        }
    };
    let entries: Vec<&wire_a::McpServer> = body.mcp_servers.get().into_iter().flatten().collect();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        by_name.entry(entry.name.as_str()).or_insert(i);
        request
            .servers
            .push(anthropic_server(i, entry, beta, &mut warnings));
    }
    let mut toolsets: Vec<Option<&wire_a::McpToolset>> = vec![None; entries.len()];
    let mut other_tools = Vec::new();
    for (j, tool) in body.tools.get().into_iter().flatten().enumerate() {
        match tool {
            wire_a::Tool::McpToolset(toolset) => {
                let field = format!("tools[{j}].mcp_server_name");
                let Some(&i) = by_name.get(toolset.mcp_server_name.as_str()) else {
                    return Err(invalid(field, "references no mcp_servers entry"));
                };
                if toolsets[i].replace(toolset).is_some() {
                    return Err(invalid(field, "a second mcp_toolset for the same server"));
                }
                apply_toolset(i, toolset, &mut request.servers[i], &mut warnings);
            }
            other => {
                warnings.push(non_mcp_tool(j, other.type_name().as_deref(), "anthropic"));
                other_tools.push(json(other));
            }
        }
    }
    if beta.uses_toolsets() {
        for (i, toolset) in toolsets.iter().enumerate() {
            if toolset.is_none() {
                warnings.push(Warning::new(
                    format!("servers[{i}]"),
                    format!("no mcp_toolset references this server ({beta} needs one): read as all tools enabled"),
                ));
            }
        }
    }
    let credentials = static_credentials(&request)?;
    let options = lossy();
    for (i, server) in request.servers.iter_mut().enumerate() {
        let mut gaps = Gaps::new(&options);
        let Some((entry, toolset)) =
            super::anthropic::render_server(i, server, &credentials[i], beta, &options, &mut gaps)?
        else {
            continue;
        };
        let skip = ["type", "tool_configuration"];
        let kept = residual(
            &super::anthropic::to_json(entries[i]),
            &super::anthropic::to_json(&entry),
            &skip,
        );
        warn_kept(i, &kept, "anthropic", &["url", "name"], &mut warnings);
        server.extra.anthropic = kept;
        if let (Some(original), Some(rendered)) = (toolsets[i], toolset) {
            let kept = residual(
                &super::anthropic::to_json(original),
                &super::anthropic::to_json(&rendered),
                &["type", "mcp_server_name"],
            );
            warn_kept(
                i,
                &kept,
                "anthropic_toolset",
                &["default_config", "configs"],
                &mut warnings,
            );
            server.extra.anthropic_toolset = kept;
        }
    }
    let rendered = json(&super::anthropic(&request, &credentials, beta, &options)?.body);
    request.extra.anthropic = top_level(
        json(body),
        &rendered,
        &["tools", "mcp_servers"],
        "anthropic",
        &mut warnings,
    );
    if !other_tools.is_empty() {
        request
            .extra
            .anthropic
            .insert("tools".to_owned(), Value::Array(other_tools));
    }
    Ok((request, warnings))
}

/// Resolves static credentials without IO (`Bearer`, `Headers`, `None`); OAuth needs the HTTP
/// client and is refused.
pub(crate) fn static_credentials(request: &McpRequest) -> Result<Vec<Resolved>, RenderError> {
    request
        .servers
        .iter()
        .enumerate()
        .map(|(i, server)| match &server.credentials {
            Credentials::None => Ok(Resolved::None),
            Credentials::Bearer(token) => Ok(Resolved::Bearer {
                token: token.clone(),
                expires_in: None,
            }),
            Credentials::Headers(headers) => Ok(Resolved::Headers(headers.clone())),
            _ => Err(invalid(
                format!("servers[{i}].credentials"),
                "OAuth credentials are resolved by the HTTP client; only static credentials can be rendered offline",
            )),
        })
        .collect()
}

fn lossy() -> RenderOptions {
    RenderOptions {
        allow_insecure_loopback: true,
        ..RenderOptions::lossy()
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `OpenAI` or `Anthropic`, for an extra's name (`openai`, `anthropic`, `anthropic_toolset`).
fn display(extra: &str) -> &'static str {
    if extra.starts_with("openai") {
        "OpenAI"
    } else {
        "Anthropic"
    }
}

fn non_mcp_tool(j: usize, type_name: Option<&str>, vendor: &str) -> Warning {
    let what = type_name.filter(|t| !t.is_empty()).unwrap_or("client");
    Warning::new(
        format!("tools[{j}]"),
        format!(
            "`{what}` tool is not MCP: {} only (kept in extra.{vendor}.tools)",
            display(vendor)
        ),
    )
}

/// The keys of `original` that `rendered` does not reproduce (credentials never).
fn residual(original: &Value, rendered: &Value, skip: &[&str]) -> Map<String, Value> {
    let mut kept = Map::new();
    if let Value::Object(original) = original {
        for (key, value) in original {
            if skip.contains(&key.as_str()) || CREDENTIAL_KEYS.contains(&key.as_str()) {
                continue;
            }
            if rendered.get(key) != Some(value) {
                kept.insert(key.clone(), value.clone());
            }
        }
    }
    kept
}

/// Warns about kept keys the neutral form does not model at all; differences in the form of a
/// modelled key (`modelled`) are not losses, and semantic losses there are warned about where
/// the key is read.
fn warn_kept(
    i: usize,
    kept: &Map<String, Value>,
    extra: &str,
    modelled: &[&str],
    warnings: &mut Vec<Warning>,
) {
    for key in kept.keys().filter(|k| !modelled.contains(&k.as_str())) {
        warnings.push(Warning::new(
            format!("servers[{i}].{key}"),
            format!(
                "no neutral equivalent: {} only (kept in servers[{i}].extra.{extra})",
                display(extra)
            ),
        ));
    }
}

fn top_level(
    original: Value,
    rendered: &Value,
    skip: &[&str],
    vendor: &str,
    warnings: &mut Vec<Warning>,
) -> Map<String, Value> {
    let kept = residual(&original, rendered, skip);
    for key in kept.keys().filter(|k| !FORM_ONLY.contains(&k.as_str())) {
        warnings.push(Warning::new(
            key.clone(),
            format!(
                "no neutral equivalent: {} only (kept in extra.{vendor})",
                display(vendor)
            ),
        ));
    }
    kept
}

fn openai_input(body: &CreateResponse, warnings: &mut Vec<Warning>) -> Input {
    match body.input.get() {
        None => Input::Messages(Vec::new()),
        Some(wire_o::Input::Text(text)) => Input::Text(text.clone()),
        Some(wire_o::Input::Items(items)) => {
            let mut messages = Vec::new();
            for (k, item) in items.iter().enumerate() {
                let value = json(item);
                match openai_message(&value) {
                    Ok(message) => messages.push(message),
                    Err(what) => warnings.push(Warning::new(
                        format!("input[{k}]"),
                        format!("{what} has no neutral equivalent: OpenAI only (kept in extra.openai.input)"),
                    )),
                }
            }
            Input::Messages(messages)
        }
        Some(_) => {
            warnings.push(Warning::new(
                "input",
                "not a string or items: OpenAI only (kept in extra.openai)",
            ));
            Input::Messages(Vec::new())
        }
    }
}

/// A user or assistant message item with text content, or what it is instead.
fn openai_message(item: &Value) -> Result<InputMessage, String> {
    let kind = item.get("type").and_then(Value::as_str);
    if !matches!(kind, None | Some("message")) {
        return Err(format!("a `{}` item", kind.unwrap_or_default()));
    }
    let role = item.get("role").and_then(Value::as_str).unwrap_or_default();
    let Some(role) = Role::from_wire(role) else {
        return Err(format!("a `{role}` message"));
    };
    let text = match item.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text") => match part.get("text") {
                        Some(Value::String(text)) => texts.push(text.as_str()),
                        _ => return Err("a message part without text".to_owned()),
                    },
                    other => {
                        return Err(format!(
                            "a message with a `{}` part",
                            other.unwrap_or_default()
                        ));
                    }
                }
            }
            texts.join("\n")
        }
        _ => return Err("a message without content".to_owned()),
    };
    Ok(InputMessage::new(role, text))
}

fn openai_server(i: usize, tool: &wire_o::McpTool, warnings: &mut Vec<Warning>) -> McpServerSpec {
    let mut server = McpServerSpec::new(tool.server_label.clone(), "");
    server.url = tool.server_url.get().cloned();
    server.connector_id = tool.connector_id.get().cloned();
    let headers: Vec<(String, Secret)> = tool
        .headers
        .get()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), Secret::new(value.expose())))
        .collect();
    server.credentials = match (tool.authorization.get(), headers.is_empty()) {
        (None, true) => Credentials::None,
        (Some(token), true) => Credentials::Bearer(Secret::new(token.expose())),
        (None, false) => Credentials::Headers(headers),
        (Some(token), false) => {
            warnings.push(Warning::new(
                format!("servers[{i}].authorization"),
                "both authorization and headers: sent as an Authorization: Bearer header",
            ));
            let mut headers = headers;
            headers.push((
                "Authorization".to_owned(),
                Secret::new(format!("Bearer {}", token.expose())),
            ));
            Credentials::Headers(headers)
        }
    };
    server.description = tool.server_description.get().cloned();
    match tool.allowed_tools.get() {
        Some(wire_o::AllowedTools::Names(names)) => server.allowed_tools = Some(names.clone()),
        Some(wire_o::AllowedTools::Filter(filter)) => {
            server.allowed_tools = filter.tool_names.get().cloned();
            server.read_only = filter.read_only.get() == Some(&true);
        }
        _ => {}
    }
    server.approval = match tool.require_approval.get() {
        None => Approval::Always,
        Some(wire_o::RequireApproval::Mode(wire_o::ApprovalMode::Never)) => Approval::Never,
        Some(wire_o::RequireApproval::Mode(wire_o::ApprovalMode::Always)) => Approval::Always,
        Some(wire_o::RequireApproval::Filter(filter)) => {
            let side = |f: &mcpwire_schema::Maybe<wire_o::McpToolFilter>, name: &str| {
                let Some(f) = f.get() else {
                    return (Vec::new(), None);
                };
                let lost = (f.read_only.get() == Some(&true))
                    .then(|| format!("servers[{i}].require_approval.{name}.read_only"));
                (f.tool_names.get().cloned().unwrap_or_default(), lost)
            };
            let (always, lost_a) = side(&filter.always, "always");
            let (never, lost_n) = side(&filter.never, "never");
            for field in [lost_a, lost_n].into_iter().flatten() {
                warnings.push(Warning::new(
                    field,
                    "an approval filter on read-only tools has no neutral equivalent: OpenAI only (kept in servers[].extra.openai)",
                ));
            }
            Approval::Tools { always, never }
        }
        Some(_) => {
            warnings.push(Warning::new(
                format!("servers[{i}].require_approval"),
                "unknown approval mode: read as always (OpenAI only: kept in servers[].extra.openai)",
            ));
            Approval::Always
        }
    };
    server.defer_loading = tool.defer_loading.get() == Some(&true);
    server
}

fn anthropic_input(body: &CreateMessage, warnings: &mut Vec<Warning>) -> Input {
    let mut messages = Vec::new();
    for (k, message) in body.messages.get().into_iter().flatten().enumerate() {
        let Some(role) = Role::from_wire(&message.role) else {
            warnings.push(Warning::new(
                format!("messages[{k}]"),
                format!(
                    "a `{}` message has no neutral equivalent: Anthropic only (kept in extra.anthropic.messages)",
                    message.role
                ),
            ));
            continue;
        };
        let text = match &message.content {
            wire_a::MessageContent::Text(text) => text.clone(),
            wire_a::MessageContent::Blocks(blocks) => {
                let mut texts = Vec::new();
                for (b, block) in blocks.iter().enumerate() {
                    match block {
                        wire_a::ContentBlock::Text(text) => texts.push(text.text.as_str()),
                        other => warnings.push(Warning::new(
                            format!("messages[{k}].content[{b}]"),
                            format!(
                                "a `{}` block has no neutral equivalent: Anthropic only (kept in extra.anthropic.messages)",
                                other.type_name().unwrap_or_default()
                            ),
                        )),
                    }
                }
                if texts.is_empty() {
                    continue;
                }
                texts.join("\n")
            }
            _ => {
                warnings.push(Warning::new(
                    format!("messages[{k}].content"),
                    "unexpected content: Anthropic only (kept in extra.anthropic.messages)",
                ));
                continue;
            }
        };
        messages.push(InputMessage::new(role, text));
    }
    match messages.as_slice() {
        [only] if only.role == Role::User => Input::Text(only.text.clone()),
        _ => Input::Messages(messages),
    }
}

/// The text of a `system` given as text blocks.
fn text_blocks(system: &Value) -> Option<String> {
    let blocks = system.as_array()?;
    let texts: Option<Vec<&str>> = blocks
        .iter()
        .map(|b| {
            (b.get("type").and_then(Value::as_str) == Some("text"))
                .then(|| b.get("text").and_then(Value::as_str))
                .flatten()
        })
        .collect();
    texts.map(|t| t.join("\n"))
}

fn anthropic_server(
    i: usize,
    entry: &wire_a::McpServer,
    beta: BetaVersion,
    warnings: &mut Vec<Warning>,
) -> McpServerSpec {
    let mut server = McpServerSpec::new(entry.name.clone(), entry.url.clone());
    if let Some(token) = entry.authorization_token.get() {
        server.credentials = Credentials::Bearer(Secret::new(token.expose()));
    }
    if let Some(config) = entry.tool_configuration.get() {
        if beta.uses_toolsets() {
            warnings.push(Warning::new(
                format!("servers[{i}].tool_configuration"),
                format!("{beta} selects tools with mcp_toolset; tool_configuration read anyway"),
            ));
        }
        server.allowed_tools = if config.enabled.get() == Some(&false) {
            Some(Vec::new())
        } else {
            config.allowed_tools.get().cloned()
        };
    }
    server
}

/// Reads a toolset's allowlist and `defer_loading` into the server.
fn apply_toolset(
    i: usize,
    toolset: &wire_a::McpToolset,
    server: &mut McpServerSpec,
    warnings: &mut Vec<Warning>,
) {
    let default = toolset.default_config.get();
    let default_enabled = default
        .and_then(|d| d.enabled.get().copied())
        .unwrap_or(true);
    let default_defer = default
        .and_then(|d| d.defer_loading.get().copied())
        .unwrap_or(false);
    server.defer_loading = default_defer;
    let configs = toolset.configs.get();
    let mut allowed = Vec::new();
    for (name, config) in configs.into_iter().flatten() {
        let enabled = config.enabled.get().copied().unwrap_or(default_enabled);
        if enabled {
            allowed.push(name.clone());
        } else if default_enabled {
            warnings.push(Warning::new(
                format!("servers[{i}].configs.{name}"),
                "a deny list has no neutral equivalent: Anthropic only (kept in extra.anthropic_toolset)",
            ));
        }
        if config
            .defer_loading
            .get()
            .is_some_and(|d| *d != default_defer)
        {
            warnings.push(Warning::new(
                format!("servers[{i}].configs.{name}.defer_loading"),
                "per-tool defer_loading has no neutral equivalent: Anthropic only (kept in extra.anthropic_toolset)",
            ));
        }
    }
    if !default_enabled {
        server.allowed_tools = Some(allowed);
    }
}
