//! The gateway's TOML configuration: parsed, then validated once at start. Every error names
//! the line of the offending key or table.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! max_body_bytes = 1048576
//!
//! [upstream.openai]
//! base_url = "https://api.openai.com/v1"      # POST {base_url}/responses
//! api_key_env = "OPENAI_API_KEY"
//!
//! [upstream.anthropic]
//! base_url = "https://api.anthropic.com"      # POST {base_url}/v1/messages
//! api_key_env = "ANTHROPIC_API_KEY"
//!
//! [stores.main]
//! path = "/var/lib/mcpwire/tokens.json"       # an `mcpwire auth` file store
//!
//! [[tenants]]
//! name = "team-a"
//! key_sha256 = ["<sha256 hex of a gateway key>"]
//!
//! [[tenants.mcp]]
//! name = "docs"
//! url = "https://mcp.example.com/mcp"
//! allowed_tools = ["search", "fetch"]
//! require_approval = ["fetch"]                 # or "always"
//! auth = { oauth = "main" }                    # or { bearer_env = "VAR" } or { headers_env = { "X-Key" = "VAR" } }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A configuration that cannot be used: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The path.
        path: String,
        /// The IO error.
        message: String,
    },
    /// Invalid TOML or a value of the wrong type (the message names line and column).
    #[error("{0}")]
    Syntax(String),
    /// A value that parses but is not acceptable.
    #[error("line {line}: {message}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default = "default_listen")]
    listen: Spanned<String>,
    #[serde(default = "default_max_body")]
    max_body_bytes: usize,
    #[serde(default = "default_connect_timeout")]
    connect_timeout_ms: u64,
    #[serde(default = "default_header_timeout")]
    response_timeout_secs: u64,
    #[serde(default = "default_idle_timeout")]
    idle_timeout_secs: u64,
    #[serde(default = "default_total_timeout")]
    total_timeout_secs: u64,
    #[serde(default = "default_grace")]
    shutdown_grace_secs: u64,
    #[serde(default = "default_min_lifetime")]
    min_token_lifetime_secs: u64,
}

fn default_listen() -> Spanned<String> {
    Spanned::new(0..0, "127.0.0.1:8080".to_owned())
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_connect_timeout() -> u64 {
    5_000
}
fn default_header_timeout() -> u64 {
    120
}
fn default_idle_timeout() -> u64 {
    300
}
fn default_total_timeout() -> u64 {
    3_600
}
fn default_grace() -> u64 {
    30
}
fn default_min_lifetime() -> u64 {
    300
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            connect_timeout_ms: default_connect_timeout(),
            response_timeout_secs: default_header_timeout(),
            idle_timeout_secs: default_idle_timeout(),
            total_timeout_secs: default_total_timeout(),
            shutdown_grace_secs: default_grace(),
            min_token_lifetime_secs: default_min_lifetime(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    base_url: Spanned<String>,
    api_key_env: Spanned<String>,
    #[serde(default)]
    passthrough: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstreams {
    openai: Option<RawUpstream>,
    anthropic: Option<RawUpstream>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    /// A file store shared with `mcpwire auth` and other gateway processes; absent: memory.
    path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    path: Option<PathBuf>,
    #[serde(default)]
    include_arguments: bool,
    #[serde(default)]
    include_outputs: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawAuth {
    Oauth(Spanned<String>),
    BearerEnv(Spanned<String>),
    HeadersEnv(BTreeMap<String, String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawApproval {
    Mode(Spanned<String>),
    Tools(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMcp {
    name: Option<String>,
    url: Spanned<String>,
    allowed_tools: Option<Vec<String>>,
    require_approval: Option<RawApproval>,
    auth: Option<RawAuth>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnector {
    id: String,
    auth: Option<RawAuth>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    name: Spanned<String>,
    key_sha256: Vec<Spanned<String>>,
    #[serde(default)]
    mcp: Vec<Spanned<RawMcp>>,
    #[serde(default)]
    connectors: Vec<Spanned<RawConnector>>,
    #[serde(default = "default_streams")]
    max_concurrent_streams: usize,
}

fn default_streams() -> usize {
    64
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    upstream: RawUpstreams,
    #[serde(default)]
    stores: BTreeMap<String, RawStore>,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    tenants: Vec<Spanned<RawTenant>>,
}

/// Limits and timeouts (`[server]`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// TCP connect timeout to the upstream.
    pub connect_timeout: Duration,
    /// Until the upstream's response headers.
    pub response_timeout: Duration,
    /// Longest silence between two body chunks.
    pub idle_timeout: Duration,
    /// Whole request, body included.
    pub total_timeout: Duration,
    /// How long SIGTERM waits for open streams.
    pub shutdown_grace: Duration,
    /// OAuth tokens are refreshed when less than this is left.
    pub min_token_lifetime: Duration,
}

/// One vendor API the gateway forwards to.
#[derive(Clone)]
#[non_exhaustive]
pub struct Upstream {
    /// Base URL without a trailing slash (OpenAI: including `/v1`; Anthropic: without).
    pub base_url: String,
    /// The vendor API key, read from the environment at start.
    pub api_key: mcpwire_schema::Sensitive,
    /// Exact paths forwarded as they are (`GET` only), e.g. `/v1/models`.
    pub passthrough: Vec<String>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("base_url", &crate::redact::origin(&self.base_url))
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// How the gateway authenticates to one MCP server or connector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthSpec {
    /// Nothing is sent.
    None,
    /// OAuth tokens from the named store (`[stores.NAME]`), refreshed ahead of expiry.
    OAuth {
        /// The store name.
        store: String,
    },
    /// A bearer token read from this environment variable at start.
    BearerEnv(String),
    /// Headers, each read from an environment variable at start (header name, variable).
    HeadersEnv(Vec<(String, String)>),
}

/// Which calls of a server must be approved first (a floor the caller can only raise).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalFloor {
    /// Every call.
    Always,
    /// Calls of these tools.
    Tools(Vec<String>),
}

/// One MCP server a tenant may use.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct McpServerPolicy {
    /// Name used in metrics and the audit log.
    pub name: String,
    /// The normalised URL ([`normalize_url`]).
    pub url: String,
    /// Tools the tenant may use (`None`: all).
    pub allowed_tools: Option<Vec<String>>,
    /// Approval floor.
    pub approval: Option<ApprovalFloor>,
    /// Credentials.
    pub auth: AuthSpec,
}

/// A connector id a tenant may use (OpenAI `connector_id`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectorPolicy {
    /// The id, e.g. `connector_googlecalendar`.
    pub id: String,
    /// Credentials (OAuth is not available for connectors: use `bearer_env`).
    pub auth: AuthSpec,
}

/// A tenant: its keys (hashes), servers, connectors and limits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Tenant {
    /// Name (logs, metrics, audit).
    pub name: String,
    /// SHA-256 of each gateway key.
    pub key_hashes: Vec<[u8; 32]>,
    /// Allowed MCP servers.
    pub mcp: Vec<McpServerPolicy>,
    /// Allowed connectors.
    pub connectors: Vec<ConnectorPolicy>,
    /// In-flight upstream requests at once.
    pub max_concurrent_streams: usize,
}

/// The audit log (`[audit]`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuditConfig {
    /// JSON Lines file (appended); `None`: no audit log.
    pub path: Option<PathBuf>,
    /// Include tool arguments.
    pub include_arguments: bool,
    /// Include tool outputs.
    pub include_outputs: bool,
}

/// A validated configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Limits and timeouts.
    pub limits: Limits,
    /// OpenAI Responses upstream.
    pub openai: Option<Upstream>,
    /// Anthropic Messages upstream.
    pub anthropic: Option<Upstream>,
    /// Token stores by name: `Some(path)` for a file store, `None` for memory.
    pub stores: BTreeMap<String, Option<PathBuf>>,
    /// Audit log.
    pub audit: AuditConfig,
    /// Tenants.
    pub tenants: Vec<Tenant>,
}

/// The environment variables a configuration reads (tests pass their own).
pub type Env = HashMap<String, String>;

/// Normalises an MCP server URL for comparison: scheme and host lower-cased, default port
/// dropped, empty path as `/`, fragment dropped. User info is refused.
///
/// ```
/// use mcpwire_gateway::config::normalize_url;
/// assert_eq!(normalize_url("HTTPS://MCP.Example.com:443/mcp#x").unwrap(), "https://mcp.example.com/mcp");
/// assert!(normalize_url("https://user:pw@mcp.example.com/").is_err());
/// ```
pub fn normalize_url(raw: &str) -> Result<String, String> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http or https", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("URLs with user info are not accepted".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".to_owned());
    }
    url.set_fragment(None);
    Ok(url.to_string())
}

impl Config {
    /// Reads and validates a file, taking secrets from the process environment.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Config::parse(&text, &std::env::vars().collect())
    }

    /// Parses and validates TOML text, with secrets from `env`.
    pub fn parse(text: &str, env: &Env) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            // toml's message names the line and column; keep it, minus the quoted source.
            let line = e.span().map(|s| line_of(text, s.start));
            match line {
                Some(line) => ConfigError::Invalid {
                    line,
                    message: e.message().to_owned(),
                },
                None => ConfigError::Syntax(e.message().to_owned()),
            }
        })?;
        let at = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            line: line_of(text, span.start),
            message,
        };
        let s = &raw.server;
        let listen: SocketAddr = s.listen.get_ref().parse().map_err(|e| {
            at(
                s.listen.span(),
                format!("server.listen `{}`: {e}", s.listen.get_ref()),
            )
        })?;
        if s.max_body_bytes == 0 {
            return Err(ConfigError::Syntax(
                "server.max_body_bytes must be positive".into(),
            ));
        }
        let limits = Limits {
            max_body_bytes: s.max_body_bytes,
            connect_timeout: Duration::from_millis(s.connect_timeout_ms),
            response_timeout: Duration::from_secs(s.response_timeout_secs),
            idle_timeout: Duration::from_secs(s.idle_timeout_secs),
            total_timeout: Duration::from_secs(s.total_timeout_secs),
            shutdown_grace: Duration::from_secs(s.shutdown_grace_secs),
            min_token_lifetime: Duration::from_secs(s.min_token_lifetime_secs),
        };
        let upstream = |u: &Option<RawUpstream>,
                        which: &str|
         -> Result<Option<Upstream>, ConfigError> {
            let Some(u) = u else { return Ok(None) };
            let base = u.base_url.get_ref().trim_end_matches('/').to_owned();
            normalize_url(&base)
                .map_err(|e| at(u.base_url.span(), format!("upstream.{which}.base_url: {e}")))?;
            let key = env.get(u.api_key_env.get_ref()).ok_or_else(|| {
                at(
                    u.api_key_env.span(),
                    format!(
                        "upstream.{which}.api_key_env: environment variable `{}` is not set",
                        u.api_key_env.get_ref()
                    ),
                )
            })?;
            let mut passthrough = Vec::new();
            for p in &u.passthrough {
                if !p.get_ref().starts_with('/') {
                    return Err(at(
                        p.span(),
                        format!(
                            "upstream.{which}.passthrough: `{}` must start with /",
                            p.get_ref()
                        ),
                    ));
                }
                passthrough.push(p.get_ref().clone());
            }
            Ok(Some(Upstream {
                base_url: base,
                api_key: mcpwire_schema::Sensitive::new(key.clone()),
                passthrough,
            }))
        };
        let openai = upstream(&raw.upstream.openai, "openai")?;
        let anthropic = upstream(&raw.upstream.anthropic, "anthropic")?;
        let stores: BTreeMap<String, Option<PathBuf>> = raw
            .stores
            .iter()
            .map(|(k, v)| (k.clone(), v.path.clone()))
            .collect();

        let auth = |a: &Option<RawAuth>,
                    span: std::ops::Range<usize>,
                    what: &str,
                    allow_oauth: bool|
         -> Result<AuthSpec, ConfigError> {
            Ok(match a {
                None => AuthSpec::None,
                Some(RawAuth::Oauth(store)) => {
                    if !allow_oauth {
                        return Err(at(
                            store.span(),
                            format!("{what}: OAuth is only available for MCP server URLs"),
                        ));
                    }
                    if !stores.contains_key(store.get_ref()) {
                        return Err(at(
                            store.span(),
                            format!("{what}: no [stores.{}] table", store.get_ref()),
                        ));
                    }
                    AuthSpec::OAuth {
                        store: store.get_ref().clone(),
                    }
                }
                Some(RawAuth::BearerEnv(var)) => {
                    if !env.contains_key(var.get_ref()) {
                        return Err(at(
                            var.span(),
                            format!(
                                "{what}: environment variable `{}` is not set",
                                var.get_ref()
                            ),
                        ));
                    }
                    AuthSpec::BearerEnv(var.get_ref().clone())
                }
                Some(RawAuth::HeadersEnv(map)) => {
                    for (name, var) in map {
                        if axum::http::HeaderName::try_from(name.as_str()).is_err() {
                            return Err(at(span, format!("{what}: `{name}` is not a header name")));
                        }
                        if !env.contains_key(var) {
                            return Err(at(
                                span,
                                format!("{what}: environment variable `{var}` is not set"),
                            ));
                        }
                    }
                    AuthSpec::HeadersEnv(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                }
            })
        };

        let mut tenants = Vec::new();
        let mut seen_hashes: HashMap<[u8; 32], String> = HashMap::new();
        let mut seen_names = Vec::new();
        for t in &raw.tenants {
            let t_span = t.span();
            let t = t.get_ref();
            let name = t.name.get_ref().clone();
            if name.is_empty() || seen_names.contains(&name) {
                return Err(at(
                    t.name.span(),
                    format!("tenant name `{name}` is empty or used twice"),
                ));
            }
            seen_names.push(name.clone());
            if t.key_sha256.is_empty() {
                return Err(at(
                    t_span,
                    format!("tenant `{name}`: key_sha256 needs at least one hash"),
                ));
            }
            let mut key_hashes = Vec::new();
            for h in &t.key_sha256 {
                let hash = parse_hash(h.get_ref()).ok_or_else(|| {
                    at(
                        h.span(),
                        format!(
                            "tenant `{name}`: key_sha256 entries are 64 hex digits (the SHA-256 of a key, never the key)"
                        ),
                    )
                })?;
                if let Some(other) = seen_hashes.insert(hash, name.clone()) {
                    return Err(at(
                        h.span(),
                        format!("tenant `{name}`: this key hash is also tenant `{other}`'s"),
                    ));
                }
                key_hashes.push(hash);
            }
            let mut mcp: Vec<McpServerPolicy> = Vec::new();
            for m in &t.mcp {
                let span = m.span();
                let m = m.get_ref();
                let url = normalize_url(m.url.get_ref())
                    .map_err(|e| at(m.url.span(), format!("tenant `{name}`: mcp url: {e}")))?;
                if mcp.iter().any(|o| o.url == url) {
                    return Err(at(
                        m.url.span(),
                        format!("tenant `{name}`: mcp url `{url}` is listed twice"),
                    ));
                }
                let approval = match &m.require_approval {
                    None => None,
                    Some(RawApproval::Mode(s)) if s.get_ref() == "always" => {
                        Some(ApprovalFloor::Always)
                    }
                    Some(RawApproval::Mode(s)) => {
                        return Err(at(
                            s.span(),
                            format!(
                                "tenant `{name}`: require_approval is \"always\" or a list of tool names, not `{}`",
                                s.get_ref()
                            ),
                        ));
                    }
                    Some(RawApproval::Tools(tools)) => Some(ApprovalFloor::Tools(tools.clone())),
                };
                let server_name = m.name.clone().unwrap_or_else(|| {
                    url::Url::parse(&url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned))
                        .unwrap_or_default()
                });
                mcp.push(McpServerPolicy {
                    name: server_name,
                    auth: auth(&m.auth, span, &format!("tenant `{name}` mcp `{url}`"), true)?,
                    url,
                    allowed_tools: m.allowed_tools.clone(),
                    approval,
                });
            }
            let mut connectors = Vec::new();
            for c in &t.connectors {
                let span = c.span();
                let c = c.get_ref();
                connectors.push(ConnectorPolicy {
                    id: c.id.clone(),
                    auth: auth(
                        &c.auth,
                        span,
                        &format!("tenant `{name}` connector `{}`", c.id),
                        false,
                    )?,
                });
            }
            if t.max_concurrent_streams == 0 {
                return Err(at(
                    t_span,
                    format!("tenant `{name}`: max_concurrent_streams must be positive"),
                ));
            }
            tenants.push(Tenant {
                name,
                key_hashes,
                mcp,
                connectors,
                max_concurrent_streams: t.max_concurrent_streams,
            });
        }
        if openai.is_none() && anthropic.is_none() {
            return Err(ConfigError::Syntax(
                "no [upstream.openai] or [upstream.anthropic]: nothing to forward to".into(),
            ));
        }
        Ok(Config {
            listen,
            limits,
            openai,
            anthropic,
            stores,
            audit: AuditConfig {
                path: raw.audit.path,
                include_arguments: raw.audit.include_arguments,
                include_outputs: raw.audit.include_outputs,
            },
            tenants,
        })
    }
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The SHA-256 of a gateway key, as hex (what `key_sha256` holds).
///
/// ```
/// assert_eq!(mcpwire_gateway::config::key_hash_hex("k").len(), 64);
/// ```
pub fn key_hash_hex(key: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        [("OAI", "sk-x"), ("TOK", "t")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    const BASE: &str =
        "[upstream.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\napi_key_env = \"OAI\"\n";

    #[test]
    fn errors_name_the_line() {
        let text = format!(
            "{BASE}\n[[tenants]]\nname = \"a\"\nkey_sha256 = [\"{}\"]\n[[tenants.mcp]]\nurl = \"ftp://x\"\n",
            key_hash_hex("k")
        );
        let err = Config::parse(&text, &env()).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 9, .. }), "{err}");
        assert!(err.to_string().contains("scheme `ftp`"), "{err}");

        let err = Config::parse(&format!("{BASE}bogus = 1\n"), &env()).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 4, .. }), "{err}");

        let text = format!("{BASE}[[tenants]]\nname = \"a\"\nkey_sha256 = [\"not-a-hash\"]\n");
        let err = Config::parse(&text, &env()).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 6, .. }), "{err}");

        let text =
            "[upstream.openai]\nbase_url = \"http://127.0.0.1:1/v1\"\napi_key_env = \"MISSING\"\n";
        let err = Config::parse(text, &env()).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 3, .. }), "{err}");
    }

    #[test]
    fn a_full_config_validates() {
        let text = format!(
            "{BASE}[stores.main]\n[[tenants]]\nname = \"a\"\nkey_sha256 = [\"{}\"]\nconnectors = [{{ id = \"connector_x\", auth = {{ bearer_env = \"TOK\" }} }}]\n[[tenants.mcp]]\nurl = \"HTTP://127.0.0.1:9/mcp\"\nallowed_tools = [\"echo\"]\nrequire_approval = [\"echo\"]\nauth = {{ oauth = \"main\" }}\n",
            key_hash_hex("k")
        );
        let c = Config::parse(&text, &env()).unwrap();
        assert_eq!(c.tenants[0].mcp[0].url, "http://127.0.0.1:9/mcp");
        assert_eq!(
            c.tenants[0].mcp[0].approval,
            Some(ApprovalFloor::Tools(vec!["echo".into()]))
        );
        assert_eq!(
            c.tenants[0].connectors[0].auth,
            AuthSpec::BearerEnv("TOK".into())
        );
        assert!(!format!("{c:?}").contains("sk-x"));
    }
}
