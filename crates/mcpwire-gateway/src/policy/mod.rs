//! The request policy: parse the body into the typed schema (refusing duplicate keys, malformed
//! JSON and unknown fields that could change meaning), check every MCP server against the
//! tenant's allowlist, inject fresh credentials, intersect allowed tools, raise approvals, and
//! serialise what was checked. Nothing here does IO except resolving credentials.
//!
//! `json` reads the body, `openai` and `anthropic` apply the policy to each vendor's request;
//! the helpers both use are here.

mod anthropic;
mod json;
mod openai;
mod strict;

use std::fmt;

use mcpwire_schema::{Finding, Sensitive};

pub(crate) use anthropic::check_anthropic;
pub(crate) use openai::check_openai;

use crate::config::{ApprovalFloor, McpServerPolicy, Tenant, Unconnected, normalize_url};
use crate::credentials::{CredentialSet, Injection, ServerRef};
use crate::error::{GatewayError, Kind};
use crate::users::User;

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
    /// The model asked for (audit).
    pub(crate) model: Option<String>,
    /// Per-user servers removed because their user has not connected them.
    pub(crate) dropped: Vec<String>,
    /// A stored response or conversation this request continues (OpenAI
    /// `previous_response_id`, `conversation`): its owner is checked before forwarding.
    pub(crate) continues: Vec<Continued>,
}

/// A stored object a request refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Continued {
    /// The request field (`previous_response_id`, `conversation`).
    pub(crate) field: &'static str,
    /// The id.
    pub(crate) id: String,
}

impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("stream", &self.stream)
            .field("servers", &self.servers)
            .field("model", &self.model)
            .field("continues", &self.continues)
            .finish_non_exhaustive()
    }
}

pub(super) fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::new(Kind::Invalid, message)
}

/// Refuses unknown fields at the top level and anywhere inside an MCP tool or server entry,
/// and unknown tool types that look like MCP: what this build does not understand there could
/// carry credentials or point the vendor somewhere else.
pub(super) fn check_unknowns(
    findings: &[Finding],
    mcp_prefixes: &[String],
    known_tools: &[&str],
) -> Result<(), GatewayError> {
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
            } if path.starts_with("tools[")
                && !path.contains('.')
                && looks_known(t, known_tools) =>
            {
                return Err(invalid(format!(
                    "unknown tool type `{t}` at {path}: it looks like an MCP or another known tool type spelt differently, which the gateway cannot check (type names are case-sensitive)"
                ))
                .with_param(format!("{path}.type")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether an unknown tool type is a known one spelt another way (`MCP`, `Mcp_Toolset`,
/// `mcp-toolset`) or mentions MCP at all: the vendor may read such a tool as the known one.
fn looks_known(type_name: &str, known: &[&str]) -> bool {
    let folded = type_name.to_ascii_lowercase().replace('-', "_");
    folded.contains("mcp") || known.contains(&folded.as_str())
}

// ---------------------------------------------------------------------------------------------
// Shared policy helpers.

/// Whose request this is: the tenant, its end user, where connect links point.
pub(crate) struct Who<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) index: usize,
    pub(crate) user: Option<&'a User>,
    pub(crate) public_url: Option<&'a str>,
}

impl Who<'_> {
    fn at<'b>(&'b self, server: usize, url: &'b str) -> ServerRef<'b> {
        ServerRef {
            tenant: self.index,
            tenant_name: &self.tenant.name,
            server,
            url,
        }
    }
}

/// How long a connect link (and its `state`) is valid.
pub(crate) const CONNECT_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// What a connect flow is bound to, kept with its state in the store.
pub(crate) fn connect_binding(
    tenant: &str,
    user: &str,
    server: &str,
    return_url: Option<&str>,
) -> String {
    serde_json::json!({"tenant": tenant, "user": user, "server": server, "return_url": return_url})
        .to_string()
}

/// Fresh credentials for an allowed MCP server (both vendors), noting a refresh by name.
/// `Ok(None)`: the server is per-user, its user has not connected it, and it is configured to
/// be dropped from the request; an unconnected user is otherwise refused with 424
/// `mcp_authorization_required` and a connect link.
pub(super) async fn server_credentials(
    creds: &CredentialSet,
    who: &Who<'_>,
    server_index: usize,
    policy: &McpServerPolicy,
    refreshes: &mut Vec<String>,
) -> Result<Option<Injection>, GatewayError> {
    let resolved = creds
        .server(who.at(server_index, &policy.url), who.user)
        .await;
    let e = match resolved {
        Ok((injection, refreshed)) => {
            if refreshed {
                refreshes.push(policy.name.clone());
            }
            return Ok(Some(injection));
        }
        Err(e) => e,
    };
    let target = mcpwire_auth::redact::origin(&policy.url);
    if !(e.unconnected && creds.is_per_user(who.index, server_index)) {
        let mut err = GatewayError::new(
            e.kind,
            format!(
                "no credentials for MCP server `{}`: {}",
                policy.name, e.message
            ),
        )
        .with_target(target);
        if let Some(code) = e.code {
            err = err.with_code(code);
        }
        return Err(err);
    }
    if policy.when_unconnected == Unconnected::Drop {
        return Ok(None);
    }
    let user = who.user.map_or("", |u| u.id.as_str());
    let mut err = GatewayError::new(
        Kind::AuthorizationRequired,
        format!(
            "Connect your `{}` account to use it through this app: open the authorization_url (valid for 10 minutes), then try again.",
            policy.name
        ),
    )
    .with_code("mcp_authorization_required")
    .with_target(target)
    .with_field("server", policy.name.clone().into());
    let public_url = who.public_url.unwrap_or_default();
    let binding = connect_binding(&who.tenant.name, user, &policy.name, None);
    match creds
        .begin_connect(
            who.at(server_index, &policy.url),
            user,
            public_url,
            CONNECT_TTL,
            binding,
        )
        .await
    {
        Some(Ok(url)) => {
            err = err
                .with_field("authorization_url", url.expose().into())
                .with_field(
                    "expires_at",
                    (crate::limits::unix_now() + CONNECT_TTL.as_secs()).into(),
                );
        }
        Some(Err(e)) => {
            tracing::warn!(server = %policy.name, error = %e.message, "connect link could not be made");
        }
        None => {}
    }
    Err(err)
}

pub(super) fn find_server<'t>(
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
                    mcpwire_auth::redact::origin(&normalized)
                ),
            )
            .with_param(at.to_owned())
            .with_target(mcpwire_auth::redact::origin(&normalized))
        })
}

/// Refuses a label used twice (the vendors would reject it; the audit log and toolsets key
/// on it).
pub(super) fn unique_label(
    servers: &[ServerUse],
    label: &str,
    at: &str,
) -> Result<(), GatewayError> {
    if servers.iter().any(|s| s.label == label) {
        return Err(invalid(format!(
            "{at}: the name `{label}` is used by two MCP entries"
        ))
        .with_param(at.to_owned()));
    }
    Ok(())
}

/// Intersects a caller's tool names with the tenant's (`None`: no restriction).
pub(super) fn intersect(
    caller: Option<&[String]>,
    tenant: Option<&[String]>,
) -> Option<Vec<String>> {
    match (caller, tenant) {
        (c, None) => c.map(<[String]>::to_vec),
        (None, Some(t)) => Some(t.to_vec()),
        (Some(c), Some(t)) => Some(c.iter().filter(|n| t.contains(n)).cloned().collect()),
    }
}

pub(super) fn floor_tools(floor: Option<&ApprovalFloor>) -> Option<&[String]> {
    match floor {
        Some(ApprovalFloor::Tools(t)) => Some(t),
        _ => None,
    }
}
