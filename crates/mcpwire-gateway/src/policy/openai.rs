//! The policy for an OpenAI Responses request: every `{"type": "mcp"}` tool is checked
//! against the allowlist (or connector list), credentials are replaced, allowed tools
//! intersected, approvals raised to the tenant's floor.

use std::collections::BTreeMap;

use mcpwire_schema::openai::{
    self, AllowedTools, ApprovalMode, CreateResponse, McpTool, McpToolFilter, RequireApproval,
    RequireApprovalFilter,
};
use mcpwire_schema::{Inspect, Maybe};

use super::json::read_body;
use super::{
    Checked, Continued, ServerUse, Who, check_unknowns, find_server, intersect, invalid,
    server_credentials, unique_label,
};
use crate::config::ApprovalFloor;
use crate::credentials::{CredentialSet, Injection};
use crate::error::{GatewayError, Kind};

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
    who: &Who<'_>,
    creds: &CredentialSet,
) -> Result<Checked, GatewayError> {
    let (tenant, tenant_index) = (who.tenant, who.index);
    let mut req: CreateResponse = read_body(body)?;
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
    check_unknowns(&findings, &prefixes, KNOWN_TOOLS)?;

    let mut servers = Vec::new();
    let mut secrets = Vec::new();
    let mut refreshes = Vec::new();
    let mut dropped = Vec::new();
    let mut drop_at = Vec::new();
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
                            .with_target(id.clone())
                        })?;
                    servers.push(ServerUse {
                        label: tool.server_label.clone(),
                        name: id.clone(),
                    });
                    creds.connector(tenant_index, ci).await.map_err(|e| {
                        GatewayError::new(
                            e.kind,
                            format!("no credentials for connector `{id}`: {}", e.message),
                        )
                        .with_target(id.clone())
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
                    match server_credentials(creds, who, si, policy, &mut refreshes).await? {
                        Some(injection) => injection,
                        None => {
                            servers.pop();
                            dropped.push(policy.name.clone());
                            drop_at.push(i);
                            continue;
                        }
                    }
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
    if let Some(tools) = req.tools.get_mut() {
        for i in drop_at.into_iter().rev() {
            tools.remove(i);
        }
    }
    let stream = req.stream.get() == Some(&true);
    let mut continues = Vec::new();
    if let Some(id) = req.previous_response_id.get() {
        continues.push(Continued {
            field: "previous_response_id",
            id: id.clone(),
        });
    }
    if let Some(conversation) = req.extra.get("conversation") {
        // A conversation is `"conv_..."` or `{"id": "conv_..."}`.
        let id = conversation
            .as_str()
            .map(std::borrow::Cow::into_owned)
            .or_else(|| conversation.field_str("id"))
            .ok_or_else(|| {
                invalid("conversation must be a conversation id or an object with an id")
                    .with_param("conversation")
            })?;
        continues.push(Continued {
            field: "conversation",
            id,
        });
    }
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
        continues,
        dropped,
    })
}

/// Tool types of the Responses API, to refuse other spellings of them.
const KNOWN_TOOLS: &[&str] = &[
    "mcp",
    "function",
    "file_search",
    "web_search",
    "web_search_preview",
    "computer_use_preview",
    "code_interpreter",
    "image_generation",
    "local_shell",
    "custom",
    "tool_search",
];

#[cfg(test)]
mod tests {
    use super::*;

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
}
