//! The TOML file as written: serde types with the file's key names and defaults, before
//! validation (`parse.rs` turns them into [`Config`](super::Config)). Every table refuses
//! unknown keys, so a misspelt key is an error naming its line, never silently ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawServer {
    pub(super) listen: Spanned<String>,
    pub(super) max_body_bytes: usize,
    pub(super) connect_timeout_ms: u64,
    pub(super) response_timeout_secs: u64,
    pub(super) idle_timeout_secs: u64,
    pub(super) total_timeout_secs: u64,
    pub(super) shutdown_grace_secs: u64,
    pub(super) min_token_lifetime_secs: u64,
    pub(super) header_timeout_secs: u64,
    pub(super) client_idle_timeout_secs: u64,
    pub(super) max_connections: usize,
    pub(super) max_connections_per_peer: usize,
    pub(super) replica_id: Option<Spanned<String>>,
    pub(super) stream_lease_secs: u64,
    pub(super) probe_on_start: bool,
    pub(super) public_url: Option<Spanned<String>>,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: Spanned::new(0..0, "127.0.0.1:8080".to_owned()),
            max_body_bytes: 1024 * 1024,
            connect_timeout_ms: 5_000,
            response_timeout_secs: 120,
            idle_timeout_secs: 300,
            total_timeout_secs: 3_600,
            shutdown_grace_secs: 30,
            min_token_lifetime_secs: 300,
            header_timeout_secs: 10,
            client_idle_timeout_secs: 60,
            max_connections: 8192,
            max_connections_per_peer: 1024,
            replica_id: None,
            stream_lease_secs: 30,
            probe_on_start: false,
            public_url: None,
        }
    }
}

/// `[upstream.openai]` / `[upstream.anthropic]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstream {
    pub(super) base_url: Spanned<String>,
    pub(super) api_key_env: Spanned<String>,
    #[serde(default)]
    pub(super) passthrough: Vec<Spanned<String>>,
}

/// `[upstream]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstreams {
    pub(super) openai: Option<RawUpstream>,
    pub(super) anthropic: Option<RawUpstream>,
}

/// `[stores.NAME]`: `url`, `url_env` or `path` (none: memory), and for Redis the key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) url: Option<Spanned<String>>,
    pub(super) url_env: Option<Spanned<String>>,
    /// A file store shared with `mcpwire auth` and other gateway processes.
    pub(super) path: Option<PathBuf>,
    pub(super) key_env: Option<Spanned<String>>,
    pub(super) key_file: Option<PathBuf>,
    /// Longest a replica may hold the single-flight refresh lease (its death frees it then).
    pub(super) refresh_lease_secs: Option<u64>,
    /// Time-out of one request to an authorization server.
    pub(super) token_timeout_secs: Option<u64>,
}

/// `[shared]`: the Redis that replicas share limits and response owners through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShared {
    pub(super) url: Option<Spanned<String>>,
    pub(super) url_env: Option<Spanned<String>>,
    pub(super) prefix: Option<Spanned<String>>,
}

/// `[audit]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    pub(super) path: Option<PathBuf>,
    #[serde(default)]
    pub(super) include_arguments: bool,
    #[serde(default)]
    pub(super) include_outputs: bool,
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    #[serde(default)]
    pub(super) bearer_sha256: Vec<Spanned<String>>,
}

/// `[telemetry]`: OpenTelemetry traces over OTLP/HTTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTelemetry {
    pub(super) otlp_endpoint: Spanned<String>,
    pub(super) service_name: Option<Spanned<String>>,
    pub(super) sample_ratio: Option<Spanned<f64>>,
}

/// `[ui]`: the request log pages at `/ui`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUi {
    pub(super) admin_key_sha256: Vec<Spanned<String>>,
}

/// `auth = { ... }` of an MCP server or connector (externally tagged: an unknown form is an
/// error listing the accepted ones).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(super) enum RawAuth {
    Oauth(Spanned<String>),
    BearerEnv(Spanned<String>),
    HeadersEnv(BTreeMap<String, String>),
    OauthPerUser(RawPerUser),
    IdJag(RawIdJag),
}

/// `auth = { oauth_per_user = { ... } }`: each end user connects their own account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerUser {
    pub(super) store: Option<Spanned<String>>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) scopes: Vec<String>,
}

/// `auth = { id_jag = { ... } }`: the user's IdP token exchanged for an ID-JAG, redeemed at
/// the MCP server's authorization server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdJag {
    pub(super) store: Option<Spanned<String>>,
    pub(super) idp_token_endpoint: Spanned<String>,
    pub(super) client_id: String,
    pub(super) client_secret_env: Option<Spanned<String>>,
}

/// `[tenants.users]`: who the end user is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUsers {
    pub(super) mode: Spanned<String>,
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) jwks_url: Option<Spanned<String>>,
    pub(super) claim: Option<String>,
}

/// `require_approval`: `"always"` or a list of tool names. Written by hand rather than as an
/// untagged enum: an untagged enum cannot carry spans and its error names neither the field
/// nor the forms it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RawApproval {
    Always,
    Tools(Vec<String>),
}

const APPROVAL_FORMS: &str =
    "require_approval takes \"always\" (every call) or a list of tool names, e.g. [\"fetch\"]";

impl<'de> Deserialize<'de> for RawApproval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawApproval;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(APPROVAL_FORMS)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawApproval, E> {
                match s {
                    "always" => Ok(RawApproval::Always),
                    "never" => Err(E::custom(format!(
                        "require_approval = \"never\" is not a floor (the gateway never lowers a caller's approval): leave require_approval out for no floor; {APPROVAL_FORMS}"
                    ))),
                    other => Err(E::custom(format!(
                        "require_approval = \"{other}\" is not accepted: {APPROVAL_FORMS}"
                    ))),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawApproval, A::Error> {
                let mut tools = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    if name == "always" || name == "never" {
                        return Err(de::Error::custom(format!(
                            "require_approval = [\"{name}\"] would name a tool called `{name}`; write require_approval = \"always\" for every call, or list tool names"
                        )));
                    }
                    if name.is_empty() {
                        return Err(de::Error::custom(
                            "require_approval: a tool name cannot be empty",
                        ));
                    }
                    tools.push(name);
                }
                Ok(RawApproval::Tools(tools))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[tenants.mcp]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMcp {
    pub(super) name: Option<String>,
    pub(super) url: Spanned<String>,
    pub(super) allowed_tools: Option<Vec<String>>,
    pub(super) require_approval: Option<RawApproval>,
    pub(super) auth: Option<RawAuth>,
    pub(super) when_unconnected: Option<Spanned<String>>,
}

/// `connectors = [{ id, auth }]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConnector {
    pub(super) id: String,
    pub(super) auth: Option<RawAuth>,
}

/// `[[tenants]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenant {
    pub(super) name: Spanned<String>,
    pub(super) key_sha256: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) mcp: Vec<Spanned<RawMcp>>,
    #[serde(default)]
    pub(super) connectors: Vec<Spanned<RawConnector>>,
    #[serde(default = "default_streams")]
    pub(super) max_concurrent_streams: usize,
    #[serde(default)]
    pub(super) allow_foreign_response_ids: bool,
    pub(super) requests_per_minute: Option<u64>,
    pub(super) tokens_per_day: Option<u64>,
    pub(super) users: Option<Spanned<RawUsers>>,
    #[serde(default)]
    pub(super) return_urls: Vec<Spanned<String>>,
}

fn default_streams() -> usize {
    64
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) upstream: RawUpstreams,
    #[serde(default)]
    pub(super) stores: BTreeMap<String, Spanned<RawStore>>,
    pub(super) shared: Option<Spanned<RawShared>>,
    #[serde(default)]
    pub(super) audit: RawAudit,
    #[serde(default)]
    pub(super) metrics: RawMetrics,
    pub(super) telemetry: Option<Spanned<RawTelemetry>>,
    pub(super) ui: Option<Spanned<RawUi>>,
    #[serde(default)]
    pub(super) tenants: Vec<Spanned<RawTenant>>,
}
