//! The policy for an Anthropic Messages request: every `mcp_servers[]` entry is checked
//! against the allowlist, its token replaced, and its toolset restricted to the tenant's
//! tools minus those under an approval floor (the MCP connector cannot ask for approval).

use std::collections::BTreeMap;

use mcpwire_schema::anthropic::{self, BetaVersion, CreateMessage, McpToolset, ToolsetConfig};
use mcpwire_schema::{Inspect, Maybe};

use super::json::read_body;
use super::{
    Checked, ServerUse, Who, check_unknowns, find_server, floor_tools, intersect, invalid,
    server_credentials, unique_label,
};
use crate::config::{ApprovalFloor, McpServerPolicy};
use crate::credentials::{CredentialSet, Injection};
use crate::error::{GatewayError, Kind};

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
    who: &Who<'_>,
    creds: &CredentialSet,
) -> Result<Checked, GatewayError> {
    let tenant = who.tenant;
    let mut req: CreateMessage = read_body(body)?;
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
    check_unknowns(&findings, &prefixes, KNOWN_TOOLS)?;

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
    let mut dropped = Vec::new();
    let mut drop_at = Vec::new();
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
            let Some(injection) =
                server_credentials(creds, who, si, policy, &mut refreshes).await?
            else {
                servers.pop();
                limits.remove(&server.name);
                dropped.push(policy.name.clone());
                drop_at.push(i);
                continue;
            };
            match injection {
                Injection::None => {}
                Injection::Bearer(token) => {
                    secrets.push(token.clone());
                    server.authorization_token = Maybe::Value(token);
                }
                Injection::Headers(_) => {
                    return Err(GatewayError::new(
                        Kind::CredentialsUnavailable,
                        format!(
                            "MCP server `{}` is configured with headers, which the Anthropic MCP connector cannot send (use a bearer token or OAuth)",
                            policy.name
                        ),
                    ));
                }
            }
        }
    }
    // Dropped servers go, with the toolsets that name them.
    let mut dropped_names = Vec::new();
    if let Some(list) = req.mcp_servers.get_mut() {
        for i in drop_at.into_iter().rev() {
            dropped_names.push(list.remove(i).name);
        }
    }
    if let Some(tools) = req.tools.get_mut() {
        tools.retain(|t| {
            !matches!(t, anthropic::Tool::McpToolset(ts) if dropped_names.contains(&ts.mcp_server_name))
        });
        for tool in tools.iter_mut() {
            if let anthropic::Tool::McpToolset(ts) = tool
                && let Some((limit, deny)) = limits.get(&ts.mcp_server_name)
            {
                restrict_toolset(ts, limit.as_deref(), deny);
            }
        }
    }
    let stream = req.stream.get() == Some(&true);
    let model = req.model.get().cloned();
    let body = serde_json::to_vec(&req)
        .map_err(|e| invalid(format!("the request could not be serialised: {e}")))?;
    Ok(Checked {
        body,
        stream,
        servers,
        secrets,
        refreshes,
        model,
        continues: Vec::new(),
        dropped,
    })
}

/// Tool types of the Messages API (server tools drop their date suffix when compared), to
/// refuse other spellings of them.
const KNOWN_TOOLS: &[&str] = &["mcp_toolset", "custom"];

#[cfg(test)]
mod tests {
    use super::*;

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
