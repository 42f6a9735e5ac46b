//! Rendering for the Anthropic Messages API MCP connector: `mcp_servers[]` plus, from the
//! 2025-11-20 beta on, one `mcp_toolset` per server.
//!
//! The capability gaps: no arbitrary headers, no approval pause, https only, no connectors, no
//! read-only filter, no server description, no `defer_loading` before 2025-11-20.

use std::collections::BTreeMap;

use mcpwire_auth::Resolved;
use mcpwire_schema::anthropic::{
    BetaVersion, CreateMessage, McpServer, McpToolset, MessageContent, MessageParam, Tool,
    ToolConfiguration, ToolsetConfig,
};
use mcpwire_schema::{Json, Maybe, Sensitive};
use serde_json::Value;

use super::common::{Gaps, invalid, merge, validate};
use super::{RenderError, RenderOptions, Rendered};
use crate::request::{Approval, Input, McpRequest, McpServerSpec};

/// `max_tokens` when the request sets no output limit (the API requires one).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The longest server name a toolset can reference.
const MAX_TOOLSET_NAME: usize = 255;

/// Renders `request` as the body of `POST /v1/messages` for the MCP connector `beta`, with the
/// `anthropic-beta` header it needs in [`Rendered::headers`].
///
/// `credentials[i]` is what `request.servers[i].credentials` resolved to for this request; a
/// bearer token becomes `authorization_token`. `max_tokens` is
/// `request.max_output_tokens` or [`DEFAULT_MAX_TOKENS`]; `system` is the instructions.
/// `request.extra.anthropic` is merged into the body (its `tools` appended after the toolsets),
/// each server's `extra.anthropic` into its `mcp_servers` entry and `extra.anthropic_toolset`
/// into its toolset.
///
/// Capability gaps (strict: [`RenderError::CapabilityGap`] naming the field; lossy: dropped or
/// converted with one [`super::Warning`] each): header credentials (lossy: an
/// `Authorization: Bearer` header becomes `authorization_token`, other headers are dropped),
/// any approval but `Never`, connectors (the server is dropped), `read_only`, `description`,
/// `defer_loading` under 2025-04-04, toolset extras under 2025-04-04. A non-`https` URL is
/// always an error, except `http://` on a loopback host with
/// [`RenderOptions::allow_insecure_loopback`].
pub fn anthropic(
    request: &McpRequest,
    credentials: &[Resolved],
    beta: BetaVersion,
    options: &RenderOptions,
) -> Result<Rendered<CreateMessage>, RenderError> {
    validate(request, credentials)?;
    let mut gaps = Gaps::new(options);
    let mut servers = Vec::new();
    let mut toolsets = Vec::new();
    for (i, (server, resolved)) in request.servers.iter().zip(credentials).enumerate() {
        let Some((entry, toolset)) = render_server(i, server, resolved, beta, options, &mut gaps)?
        else {
            continue;
        };
        servers.push(merge(
            entry,
            &server.extra.anthropic,
            None,
            &format!("servers[{i}].extra.anthropic"),
        )?);
        if let Some(toolset) = toolset {
            toolsets.push(Tool::McpToolset(merge(
                toolset,
                &server.extra.anthropic_toolset,
                None,
                &format!("servers[{i}].extra.anthropic_toolset"),
            )?));
        }
    }
    let mut body = CreateMessage::default();
    body.model = Maybe::Value(request.model.clone());
    body.max_tokens = Maybe::Value(request.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS));
    if let Some(instructions) = &request.instructions {
        body.system = Maybe::Value(Json::string(instructions));
    }
    body.messages = Maybe::Value(messages(&request.input));
    if !toolsets.is_empty() {
        body.tools = Maybe::Value(toolsets);
    }
    if !servers.is_empty() {
        body.mcp_servers = Maybe::Value(servers);
    }
    if request.stream {
        body.stream = Maybe::Value(true);
    }
    if request.extra.anthropic.contains_key("mcp_servers") {
        return Err(invalid(
            "extra.anthropic.mcp_servers",
            "declare MCP servers in servers, not in extra",
        ));
    }
    let body = merge(
        body,
        &request.extra.anthropic,
        Some("tools"),
        "extra.anthropic",
    )?;
    Ok(Rendered {
        body,
        headers: vec![("anthropic-beta".to_owned(), beta.header_value().to_owned())],
        warnings: gaps.warnings,
    })
}

/// The neutral conversation as `messages`: `{"role": ..., "content": "text"}` each.
pub(super) fn messages(input: &Input) -> Vec<MessageParam> {
    let message = |role: &str, text: &str| {
        let mut m = MessageParam::default();
        m.role = role.to_owned();
        m.content = MessageContent::Text(text.to_owned());
        m
    };
    match input {
        Input::Text(text) => vec![message("user", text)],
        Input::Messages(list) => list
            .iter()
            .map(|m| message(m.role.as_str(), &m.text))
            .collect(),
    }
}

/// One server's `mcp_servers` entry and toolset (without extras), or `None` when lossy mode
/// drops it (a connector).
pub(super) fn render_server(
    i: usize,
    server: &McpServerSpec,
    resolved: &Resolved,
    beta: BetaVersion,
    options: &RenderOptions,
    gaps: &mut Gaps,
) -> Result<Option<(McpServer, Option<McpToolset>)>, RenderError> {
    let field = |name: &str| format!("servers[{i}].{name}");
    let Some(url) = &server.url else {
        if server.connector_id.is_some() {
            gaps.gap(
                field("connector_id"),
                "Anthropic has no connectors",
                "the server was dropped",
            )?;
        } else {
            gaps.gap(
                field("extra.openai.tunnel_id"),
                "Anthropic cannot reach an MCP tunnel",
                "the server was dropped",
            )?;
        }
        return Ok(None);
    };
    check_url(url, options).map_err(|message| RenderError::CapabilityGap {
        field: field("url"),
        message,
    })?;
    if beta.uses_toolsets() && server.name.chars().count() > MAX_TOOLSET_NAME {
        return Err(invalid(
            field("name"),
            format!("longer than {MAX_TOOLSET_NAME} characters: no mcp_toolset can reference it"),
        ));
    }
    let mut entry = McpServer::new(server.name.clone(), url.clone());
    match resolved {
        Resolved::Bearer { token, .. } => {
            entry.authorization_token = Maybe::Value(Sensitive::new(token.expose()));
        }
        Resolved::Headers(headers) if !headers.is_empty() => {
            if gaps.is_strict() {
                return Err(RenderError::CapabilityGap {
                    field: field("credentials"),
                    message: "Anthropic cannot send headers to an MCP server, only a bearer token"
                        .to_owned(),
                });
            }
            let mut token = None;
            for (name, value) in headers {
                let bearer = value
                    .expose()
                    .get(..7)
                    .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                    .map(|_| value.expose()[7..].trim());
                match bearer {
                    Some(bearer)
                        if name.eq_ignore_ascii_case("authorization") && token.is_none() =>
                    {
                        token = Some(bearer.to_owned());
                        gaps.warn(
                            format!("servers[{i}].credentials.headers.{name}"),
                            "Anthropic cannot send headers; this Authorization: Bearer header was sent as authorization_token",
                        );
                    }
                    _ => gaps.warn(
                        format!("servers[{i}].credentials.headers.{name}"),
                        "Anthropic cannot send headers to an MCP server; dropped",
                    ),
                }
            }
            if let Some(token) = token {
                entry.authorization_token = Maybe::Value(Sensitive::new(token));
            }
        }
        _ => {}
    }
    if server.approval != Approval::Never {
        gaps.gap(
            field("approval"),
            "Anthropic cannot pause for approval",
            "tools run without asking",
        )?;
    }
    if server.read_only {
        gaps.gap(
            field("read_only"),
            "Anthropic has no read-only filter",
            "every allowed tool is usable",
        )?;
    }
    if server.description.is_some() {
        gaps.gap(
            field("description"),
            "Anthropic has no server description",
            "dropped",
        )?;
    }
    if !beta.uses_toolsets() {
        if server.defer_loading {
            gaps.gap(
                field("defer_loading"),
                &format!("{beta} has no deferred loading (2025-11-20 and later do)"),
                "dropped",
            )?;
        }
        if !server.extra.anthropic_toolset.is_empty() {
            gaps.gap(
                field("extra.anthropic_toolset"),
                &format!("{beta} has no mcp_toolset"),
                "dropped",
            )?;
        }
        if let Some(names) = &server.allowed_tools {
            let mut config = ToolConfiguration::default();
            if names.is_empty() {
                config.enabled = Maybe::Value(false);
            } else {
                config.enabled = Maybe::Value(true);
                config.allowed_tools = Maybe::Value(names.clone());
            }
            entry.tool_configuration = Maybe::Value(config);
        }
        return Ok(Some((entry, None)));
    }
    let mut toolset = McpToolset::new(server.name.clone());
    let mut default = ToolsetConfig::default();
    if server.defer_loading {
        default.defer_loading = Maybe::Value(true);
    }
    if let Some(names) = &server.allowed_tools {
        default.enabled = Maybe::Value(false);
        let configs: BTreeMap<String, ToolsetConfig> = names
            .iter()
            .map(|name| {
                let mut config = ToolsetConfig::default();
                config.enabled = Maybe::Value(true);
                (name.clone(), config)
            })
            .collect();
        if !configs.is_empty() {
            toolset.configs = Maybe::Value(configs);
        }
    }
    if !default.enabled.is_absent() || !default.defer_loading.is_absent() {
        toolset.default_config = Maybe::Value(default);
    }
    Ok(Some((entry, Some(toolset))))
}

/// `https://`, or `http://` on a loopback host when allowed.
fn check_url(url: &str, options: &RenderOptions) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|err| format!("not a valid URL: {err}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if options.allow_insecure_loopback && is_loopback(&parsed) => Ok(()),
        "http" if is_loopback(&parsed) => Err(
            "Anthropic requires https:// server URLs (http:// on loopback only with allow_insecure_loopback)"
                .to_owned(),
        ),
        _ => Err("Anthropic requires https:// server URLs".to_owned()),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The JSON of an entry or toolset, for comparisons (credentials included: never log it).
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
