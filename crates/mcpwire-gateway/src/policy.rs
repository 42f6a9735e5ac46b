//! The request policy: parse the body into the typed schema (refusing duplicate keys, malformed
//! JSON and unknown fields that could change meaning), check every MCP server against the
//! tenant's allowlist, inject fresh credentials, intersect allowed tools, raise approvals, and
//! serialise what was checked. Nothing here does IO except resolving credentials.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use mcpwire_schema::anthropic::{self, BetaVersion, CreateMessage, McpToolset, ToolsetConfig};
use mcpwire_schema::openai::{
    self, AllowedTools, ApprovalMode, CreateResponse, McpTool, McpToolFilter, RequireApproval,
    RequireApprovalFilter,
};
use mcpwire_schema::{Finding, Inspect, Maybe, Sensitive};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::config::{ApprovalFloor, McpServerPolicy, Tenant, normalize_url};
use crate::credentials::{CredentialSet, Injection};
use crate::error::{GatewayError, Kind};

/// An MCP server a checked request uses.
#[derive(Debug, Clone)]
pub(crate) struct ServerUse {
    /// The label (OpenAI `server_label`, Anthropic `name`) in the request.
    pub(crate) label: String,
    /// The configured name (metrics, audit).
    pub(crate) name: String,
}

/// A request that passed the policy, ready to go upstream.
pub(crate) struct Checked {
    /// The serialised body.
    pub(crate) body: Vec<u8>,
    /// `stream: true`.
    pub(crate) stream: bool,
    /// Servers by label.
    pub(crate) servers: Vec<ServerUse>,
    /// Secrets injected into this request (for scrubbing responses).
    pub(crate) secrets: Vec<Sensitive>,
    /// Tokens that were refreshed while resolving.
    pub(crate) refreshes: Vec<String>,
}

impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("stream", &self.stream)
            .field("servers", &self.servers)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::new(Kind::Invalid, message)
}

// ---------------------------------------------------------------------------------------------
// Parsing: duplicate keys, syntax, typed decode, unknown fields.

/// Walks JSON without building it and fails on the first object with a repeated key.
struct NoDuplicates;

impl<'de> DeserializeSeed<'de> for NoDuplicates {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            seen.insert(key);
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }
}

/// Refuses malformed JSON and duplicate keys anywhere in the body.
pub(crate) fn check_json(body: &[u8]) -> Result<(), GatewayError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    NoDuplicates
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                invalid(format!("malformed JSON body: {e}"))
            } else {
                invalid(format!(
                    "the body has a {e}; refusing to guess which one counts"
                ))
            }
        })
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    mcpwire_schema::decode::from_slice(body).map_err(|e| {
        invalid(format!("invalid request body at {}: {}", e.path, e.message)).with_param(e.path)
    })
}

/// Refuses unknown fields at the top level and anywhere inside an MCP tool or server entry,
/// and unknown tool types that look like MCP: what this build does not understand there could
/// carry credentials or point the vendor somewhere else.
fn check_unknowns(findings: &[Finding], mcp_prefixes: &[String]) -> Result<(), GatewayError> {
    for f in findings {
        match f {
            Finding::UnknownField { path } => {
                let top = !path.contains(['.', '[']);
                let in_mcp = mcp_prefixes.iter().any(|p| {
                    path.strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
                });
                if top || in_mcp {
                    return Err(invalid(format!(
                        "unknown field `{path}`: the gateway does not forward fields it cannot check"
                    ))
                    .with_param(path.clone()));
                }
            }
            Finding::UnknownType {
                path,
                type_name: Some(t),
            } if path.starts_with("tools[") && !path.contains('.') && t.contains("mcp") => {
                return Err(invalid(format!(
                    "unknown MCP tool type `{t}` at {path}: the gateway does not forward MCP tools it cannot check"
                ))
                .with_param(path.clone()));
            }
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shared policy helpers.

/// Fresh credentials for an allowed MCP server (both vendors), noting a refresh by name.
async fn server_credentials(
    creds: &CredentialSet,
    tenant_index: usize,
    server_index: usize,
    policy: &McpServerPolicy,
    refreshes: &mut Vec<String>,
) -> Result<Injection, GatewayError> {
    let (injection, refreshed) = creds
        .server(tenant_index, server_index, &policy.url)
        .await
        .map_err(|e| {
            GatewayError::new(
                Kind::Credentials,
                format!("no credentials for MCP server `{}`: {}", policy.name, e.0),
            )
        })?;
    if refreshed {
        refreshes.push(policy.name.clone());
    }
    Ok(injection)
}

fn find_server<'t>(
    tenant: &'t Tenant,
    url: &str,
    at: &str,
) -> Result<(usize, &'t McpServerPolicy), GatewayError> {
    let normalized = normalize_url(url).map_err(|e| {
        invalid(format!("{at}: invalid MCP server URL: {e}")).with_param(at.to_owned())
    })?;
    tenant
        .mcp
        .iter()
        .enumerate()
        .find(|(_, m)| m.url == normalized)
        .ok_or_else(|| {
            GatewayError::new(
                Kind::Forbidden,
                format!(
                    "{at}: MCP server {} is not on this tenant's allowlist",
                    crate::redact::origin(&normalized)
                ),
            )
            .with_param(at.to_owned())
        })
}

/// Refuses a label used twice (the vendors would reject it; the audit log and toolsets key
/// on it).
fn unique_label(servers: &[ServerUse], label: &str, at: &str) -> Result<(), GatewayError> {
    if servers.iter().any(|s| s.label == label) {
        return Err(invalid(format!(
            "{at}: the name `{label}` is used by two MCP entries"
        ))
        .with_param(at.to_owned()));
    }
    Ok(())
}

/// Intersects a caller's tool names with the tenant's (`None`: no restriction).
fn intersect(caller: Option<&[String]>, tenant: Option<&[String]>) -> Option<Vec<String>> {
    match (caller, tenant) {
        (c, None) => c.map(<[String]>::to_vec),
        (None, Some(t)) => Some(t.to_vec()),
        (Some(c), Some(t)) => Some(c.iter().filter(|n| t.contains(n)).cloned().collect()),
    }
}

fn floor_tools(floor: Option<&ApprovalFloor>) -> Option<&[String]> {
    match floor {
        Some(ApprovalFloor::Tools(t)) => Some(t),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAI.

/// Applies `allowed_tools` ∩ tenant (a filter keeps its `read_only`, which narrows further).
fn openai_allowed(tool: &mut McpTool, tenant: Option<&[String]>) {
    let Some(t) = tenant else { return };
    tool.allowed_tools = Maybe::Value(match tool.allowed_tools.get() {
        Some(AllowedTools::Names(c)) => {
            AllowedTools::Names(intersect(Some(c), Some(t)).unwrap_or_default())
        }
        Some(AllowedTools::Filter(f)) => {
            let mut f = f.clone();
            let names = intersect(f.tool_names.get().map(Vec::as_slice), Some(t));
            f.tool_names = Maybe::from_option(names);
            AllowedTools::Filter(f)
        }
        _ => AllowedTools::Names(t.to_vec()),
    });
}

/// The tool names the request can use, when known.
fn openai_known_names(tool: &McpTool) -> Option<Vec<String>> {
    match tool.allowed_tools.get()? {
        AllowedTools::Names(n) => Some(n.clone()),
        AllowedTools::Filter(f) => f.tool_names.get().cloned(),
        _ => None,
    }
}

/// Raises `require_approval` to the floor; never lowers it.
fn openai_approval(tool: &mut McpTool, floor: Option<&ApprovalFloor>) {
    let Some(floor) = floor else { return };
    let always = Maybe::Value(RequireApproval::Mode(ApprovalMode::Always));
    let tools = match floor {
        ApprovalFloor::Always => {
            tool.require_approval = always;
            return;
        }
        ApprovalFloor::Tools(t) => t,
    };
    let known = openai_known_names(tool);
    match tool.require_approval.get().cloned() {
        // Absent, null and "always" already require approval for everything.
        None | Some(RequireApproval::Mode(ApprovalMode::Always)) => {}
        Some(RequireApproval::Mode(ApprovalMode::Never)) => match known {
            Some(names) => {
                let never: Vec<String> = names.into_iter().filter(|n| !tools.contains(n)).collect();
                let mut never_f = McpToolFilter::default();
                never_f.tool_names = Maybe::Value(never);
                let mut f = RequireApprovalFilter::default();
                f.never = Maybe::Value(never_f);
                tool.require_approval = Maybe::Value(RequireApproval::Filter(f));
            }
            None => tool.require_approval = always,
        },
        Some(RequireApproval::Filter(mut f)) => {
            if let Some(never) = f.never.get_mut() {
                if let Some(names) = never.tool_names.get_mut() {
                    names.retain(|n| !tools.contains(n));
                }
                // A floor tool could be read-only: the read_only match would exempt it.
                if never.read_only.get() == Some(&true) {
                    never.read_only = Maybe::Absent;
                }
            }
            let mut always_f = f.always.get().cloned().unwrap_or_default();
            let mut names = always_f.tool_names.get().cloned().unwrap_or_default();
            for t in tools {
                if !names.contains(t) {
                    names.push(t.clone());
                }
            }
            always_f.tool_names = Maybe::Value(names);
            f.always = Maybe::Value(always_f);
            tool.require_approval = Maybe::Value(RequireApproval::Filter(f));
        }
        // Any other form is not understood: require approval for everything.
        Some(_) => tool.require_approval = always,
    }
}

/// Checks and rewrites an OpenAI Responses body for `tenant`.
pub(crate) async fn check_openai(
    body: &[u8],
    tenant: &Tenant,
    tenant_index: usize,
    creds: &CredentialSet,
) -> Result<Checked, GatewayError> {
    check_json(body)?;
    let mut req: CreateResponse = decode(body)?;
    let mut findings = Vec::new();
    req.inspect("", &mut findings);
    let prefixes: Vec<String> = req
        .tools
        .get()
        .map(|tools| {
            tools
                .iter()
                .enumerate()
                .filter(|(_, t)| matches!(t, openai::Tool::Mcp(_)))
                .map(|(i, _)| format!("tools[{i}]"))
                .collect()
        })
        .unwrap_or_default();
    check_unknowns(&findings, &prefixes)?;

    let mut servers = Vec::new();
    let mut secrets = Vec::new();
    let mut refreshes = Vec::new();
    if let Some(tools) = req.tools.get_mut() {
        for (i, tool) in tools.iter_mut().enumerate() {
            let openai::Tool::Mcp(tool) = tool else {
                continue;
            };
            let at = format!("tools[{i}]");
            if tool.tunnel_id.get().is_some() {
                return Err(GatewayError::new(
                    Kind::Forbidden,
                    format!("{at}: tunnel_id is not allowed through this gateway"),
                )
                .with_param(format!("{at}.tunnel_id")));
            }
            unique_label(&servers, &tool.server_label, &format!("{at}.server_label"))?;
            // Whatever the caller put here is replaced (or dropped).
            tool.authorization = Maybe::Absent;
            tool.headers = Maybe::Absent;
            let injection = match (tool.connector_id.get(), tool.server_url.get()) {
                (Some(_), Some(_)) => {
                    return Err(invalid(format!(
                        "{at}: give server_url or connector_id, not both"
                    ))
                    .with_param(at));
                }
                (Some(id), None) => {
                    let (ci, _) = tenant
                        .connectors
                        .iter()
                        .enumerate()
                        .find(|(_, c)| &c.id == id)
                        .ok_or_else(|| {
                            GatewayError::new(
                                Kind::Forbidden,
                                format!("{at}: connector `{id}` is not allowed for this tenant"),
                            )
                            .with_param(format!("{at}.connector_id"))
                        })?;
                    servers.push(ServerUse {
                        label: tool.server_label.clone(),
                        name: id.clone(),
                    });
                    creds.connector(tenant_index, ci).await.map_err(|e| {
                        GatewayError::new(
                            Kind::Credentials,
                            format!("no credentials for connector `{id}`: {}", e.0),
                        )
                    })?
                }
                (None, Some(url)) => {
                    let (si, policy) = find_server(tenant, url, &format!("{at}.server_url"))?;
                    tool.server_url = Maybe::Value(policy.url.clone());
                    openai_allowed(tool, policy.allowed_tools.as_deref());
                    openai_approval(tool, policy.approval.as_ref());
                    servers.push(ServerUse {
                        label: tool.server_label.clone(),
                        name: policy.name.clone(),
                    });
                    server_credentials(creds, tenant_index, si, policy, &mut refreshes).await?
                }
                (None, None) => {
                    return Err(
                        invalid(format!("{at}: server_url or connector_id is required"))
                            .with_param(at),
                    );
                }
            };
            match injection {
                Injection::None => {}
                Injection::Bearer(token) => {
                    secrets.push(token.clone());
                    tool.authorization = Maybe::Value(token);
                }
                Injection::Headers(headers) => {
                    let mut map = BTreeMap::new();
                    for (name, value) in headers {
                        secrets.push(value.clone());
                        map.insert(name, value);
                    }
                    tool.headers = Maybe::Value(map);
                }
            }
        }
    }
    let stream = req.stream.get() == Some(&true);
    let body = serde_json::to_vec(&req)
        .map_err(|e| invalid(format!("the request could not be serialised: {e}")))?;
    Ok(Checked {
        body,
        stream,
        servers,
        secrets,
        refreshes,
    })
}

// ---------------------------------------------------------------------------------------------
// Anthropic.

/// The tools a server may use after the tenant list and the approval floor (the MCP connector
/// cannot ask for approval, so tools under the floor are disabled). `None`: no restriction.
fn anthropic_tool_limit(policy: &McpServerPolicy) -> Result<Option<Vec<String>>, GatewayError> {
    if matches!(policy.approval, Some(ApprovalFloor::Always)) {
        return Err(GatewayError::new(
            Kind::Forbidden,
            format!(
                "MCP server `{}` requires approval for every call, which the Anthropic MCP connector cannot ask for",
                policy.name
            ),
        ));
    }
    let floor = floor_tools(policy.approval.as_ref()).unwrap_or_default();
    Ok(match (&policy.allowed_tools, floor.is_empty()) {
        (None, true) => None,
        (Some(t), _) => Some(t.iter().filter(|n| !floor.contains(n)).cloned().collect()),
        // No list but a floor: a deny list, applied in toolsets (and refused for 2025-04-04).
        (None, false) => None,
    })
}

fn restrict_toolset(ts: &mut McpToolset, limit: Option<&[String]>, deny: &[String]) {
    let default_enabled = ts
        .default_config
        .get()
        .and_then(|c| c.enabled.get().copied())
        .unwrap_or(true);
    let mut configs = ts.configs.get().cloned().unwrap_or_default();
    if let Some(limit) = limit {
        // Everything off by default; each tenant tool keeps the caller's setting.
        let mut out = BTreeMap::new();
        for name in limit {
            let mut c = configs.get(name).cloned().unwrap_or_default();
            let enabled = c.enabled.get().copied().unwrap_or(default_enabled);
            c.enabled = Maybe::Value(enabled);
            out.insert(name.clone(), c);
        }
        configs = out;
        let mut d = ts.default_config.get().cloned().unwrap_or_default();
        d.enabled = Maybe::Value(false);
        ts.default_config = Maybe::Value(d);
        if let Some(pinned) = ts.tools.get_mut() {
            pinned.retain(|t| limit.contains(&t.name));
        }
    }
    for name in deny {
        let mut c: ToolsetConfig = configs.get(name).cloned().unwrap_or_default();
        c.enabled = Maybe::Value(false);
        configs.insert(name.clone(), c);
    }
    ts.configs = Maybe::Value(configs);
}

/// Checks and rewrites an Anthropic Messages body for `tenant`, given the `anthropic-beta`
/// header.
pub(crate) async fn check_anthropic(
    body: &[u8],
    beta: Option<&str>,
    tenant: &Tenant,
    tenant_index: usize,
    creds: &CredentialSet,
) -> Result<Checked, GatewayError> {
    check_json(body)?;
    let mut req: CreateMessage = decode(body)?;
    let mut findings = Vec::new();
    req.inspect("", &mut findings);
    let mut prefixes: Vec<String> = req
        .tools
        .get()
        .map(|tools| {
            tools
                .iter()
                .enumerate()
                .filter(|(_, t)| matches!(t, anthropic::Tool::McpToolset(_)))
                .map(|(i, _)| format!("tools[{i}]"))
                .collect()
        })
        .unwrap_or_default();
    prefixes.extend(
        (0..req.mcp_servers.get().map_or(0, Vec::len)).map(|i| format!("mcp_servers[{i}]")),
    );
    check_unknowns(&findings, &prefixes)?;

    let has_servers = req.mcp_servers.get().is_some_and(|s| !s.is_empty());
    let version = beta.and_then(BetaVersion::from_header);
    if has_servers && version.is_none() {
        return Err(invalid(
            "mcp_servers needs an MCP connector beta in the anthropic-beta header (e.g. mcp-client-2025-11-20)",
        ));
    }
    let mut servers = Vec::new();
    let mut secrets = Vec::new();
    let mut refreshes = Vec::new();
    // name -> (limit, deny) for toolsets.
    let mut limits: BTreeMap<String, (Option<Vec<String>>, Vec<String>)> = BTreeMap::new();
    if let Some(list) = req.mcp_servers.get_mut() {
        for (i, server) in list.iter_mut().enumerate() {
            let at = format!("mcp_servers[{i}]");
            if server.server_type != "url" {
                return Err(invalid(format!(
                    "{at}.type: only \"url\" servers are supported, not `{}`",
                    server.server_type
                ))
                .with_param(format!("{at}.type")));
            }
            unique_label(&servers, &server.name, &format!("{at}.name"))?;
            let (si, policy) = find_server(tenant, &server.url, &format!("{at}.url"))?;
            server.url = policy.url.clone();
            server.authorization_token = Maybe::Absent;
            let limit = anthropic_tool_limit(policy)?;
            let deny = floor_tools(policy.approval.as_ref())
                .unwrap_or_default()
                .to_vec();
            if version.is_some_and(|v| !v.uses_toolsets()) {
                if limit.is_none() && !deny.is_empty() {
                    return Err(GatewayError::new(
                        Kind::Forbidden,
                        format!(
                            "{at}: MCP server `{}` needs approval for some tools; list its allowed_tools in the gateway config to use it with mcp-client-2025-04-04",
                            policy.name
                        ),
                    ));
                }
                if let Some(limit) = &limit {
                    let mut tc = server.tool_configuration.get().cloned().unwrap_or_default();
                    let names = intersect(tc.allowed_tools.get().map(Vec::as_slice), Some(limit));
                    tc.allowed_tools = Maybe::from_option(names);
                    server.tool_configuration = Maybe::Value(tc);
                }
            } else if server.tool_configuration.get().is_some() {
                return Err(invalid(format!(
                    "{at}.tool_configuration belongs to mcp-client-2025-04-04; use an mcp_toolset"
                ))
                .with_param(format!("{at}.tool_configuration")));
            }
            limits.insert(server.name.clone(), (limit, deny));
            servers.push(ServerUse {
                label: server.name.clone(),
                name: policy.name.clone(),
            });
            let injection =
                server_credentials(creds, tenant_index, si, policy, &mut refreshes).await?;
            match injection {
                Injection::None => {}
                Injection::Bearer(token) => {
                    secrets.push(token.clone());
                    server.authorization_token = Maybe::Value(token);
                }
                Injection::Headers(_) => {
                    return Err(GatewayError::new(
                        Kind::Credentials,
                        format!(
                            "MCP server `{}` is configured with headers, which the Anthropic MCP connector cannot send (use a bearer token or OAuth)",
                            policy.name
                        ),
                    ));
                }
            }
        }
    }
    if let Some(tools) = req.tools.get_mut() {
        for tool in tools.iter_mut() {
            if let anthropic::Tool::McpToolset(ts) = tool
                && let Some((limit, deny)) = limits.get(&ts.mcp_server_name)
            {
                restrict_toolset(ts, limit.as_deref(), deny);
            }
        }
    }
    let stream = req.stream.get() == Some(&true);
    let body = serde_json::to_vec(&req)
        .map_err(|e| invalid(format!("the request could not be serialised: {e}")))?;
    Ok(Checked {
        body,
        stream,
        servers,
        secrets,
        refreshes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert!(check_json(br#"{"a":1,"b":{"c":[{"d":1}]}}"#).is_ok());
        let e = check_json(br#"{"a":1,"b":{"c":[{"d":1,"d":2}]}}"#).unwrap_err();
        assert!(e.message.contains("duplicate key `d`"), "{}", e.message);
        let e = check_json(br#"{"a":1,"a":1}"#).unwrap_err();
        assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
        let e = check_json(br#"{"a":1"#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
        let e = check_json(br#"{"a":1} x"#).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{}", e.message);
    }

    fn tool(json: serde_json::Value) -> McpTool {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn approvals_are_raised_never_lowered() {
        let floor = ApprovalFloor::Tools(vec!["add".into()]);
        let mut t = tool(
            serde_json::json!({"server_label":"d","server_url":"http://x/",
            "allowed_tools":["add","echo"],"require_approval":"never"}),
        );
        openai_approval(&mut t, Some(&floor));
        assert_eq!(
            serde_json::to_value(&t.require_approval).unwrap(),
            serde_json::json!({"never":{"tool_names":["echo"]}})
        );
        let mut t = tool(
            serde_json::json!({"server_label":"d","server_url":"http://x/",
            "require_approval":"never"}),
        );
        openai_approval(&mut t, Some(&floor));
        assert_eq!(serde_json::to_value(&t.require_approval).unwrap(), "always");
        let mut t = tool(
            serde_json::json!({"server_label":"d","server_url":"http://x/",
            "require_approval":{"never":{"tool_names":["add","echo"],"read_only":true}}}),
        );
        openai_approval(&mut t, Some(&floor));
        assert_eq!(
            serde_json::to_value(&t.require_approval).unwrap(),
            serde_json::json!({"never":{"tool_names":["echo"]},"always":{"tool_names":["add"]}})
        );
        let mut t = tool(serde_json::json!({"server_label":"d","server_url":"http://x/"}));
        openai_approval(&mut t, Some(&floor));
        assert!(t.require_approval.is_absent());
        openai_approval(&mut t, Some(&ApprovalFloor::Always));
        assert_eq!(serde_json::to_value(&t.require_approval).unwrap(), "always");
    }

    #[test]
    fn allowed_tools_are_intersected() {
        let limit = vec!["echo".to_owned(), "add".to_owned()];
        let mut t = tool(
            serde_json::json!({"server_label":"d","server_url":"http://x/",
            "allowed_tools":["add","slow"]}),
        );
        openai_allowed(&mut t, Some(&limit));
        assert_eq!(
            serde_json::to_value(&t.allowed_tools).unwrap(),
            serde_json::json!(["add"])
        );
        let mut t = tool(
            serde_json::json!({"server_label":"d","server_url":"http://x/",
            "allowed_tools":{"read_only":true}}),
        );
        openai_allowed(&mut t, Some(&limit));
        assert_eq!(
            serde_json::to_value(&t.allowed_tools).unwrap(),
            serde_json::json!({"read_only":true,"tool_names":["echo","add"]})
        );
        let mut t = tool(serde_json::json!({"server_label":"d","server_url":"http://x/"}));
        openai_allowed(&mut t, Some(&limit));
        assert_eq!(
            serde_json::to_value(&t.allowed_tools).unwrap(),
            serde_json::json!(["echo", "add"])
        );
    }

    #[test]
    fn toolsets_are_restricted() {
        let mut ts: McpToolset = serde_json::from_value(serde_json::json!({
            "mcp_server_name":"d","configs":{"slow":{"enabled":true},"echo":{"defer_loading":true}}
        }))
        .unwrap();
        restrict_toolset(
            &mut ts,
            Some(&["echo".to_owned(), "add".to_owned()]),
            &["add".to_owned()],
        );
        assert_eq!(
            serde_json::to_value(&ts).unwrap(),
            serde_json::json!({"mcp_server_name":"d","default_config":{"enabled":false},
                "configs":{"add":{"enabled":false},"echo":{"defer_loading":true,"enabled":true}}})
        );
    }
}
