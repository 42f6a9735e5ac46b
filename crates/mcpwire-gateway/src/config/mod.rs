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
    /// A client must send a request's whole head within this (slowloris, silent connections).
    pub header_timeout: Duration,
    /// A kept-alive client connection with no request in flight is closed after this.
    pub client_idle_timeout: Duration,
    /// Open client connections at most; more are closed as they are accepted.
    pub max_connections: usize,
    /// Open client connections from one IP address at most.
    pub max_connections_per_peer: usize,
    /// A stream's slot in a shared `max_concurrent_streams` expires this long after its last
    /// renewal (a replica that dies cannot hold slots longer).
    pub stream_lease: Duration,
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
            .field("base_url", &mcpwire_auth::redact::origin(&self.base_url))
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
    /// Each end user's own OAuth tokens, from the connect flow, in the named store.
    OAuthPerUser(PerUserAuth),
    /// Each end user's IdP token exchanged for an ID-JAG and redeemed at the server's
    /// authorization server (enterprise-managed authorization), cached in the named store.
    IdJag(IdJagAuth),
}

/// `oauth_per_user = { store, client_id, client_secret_env, scopes }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PerUserAuth {
    /// The store (`[stores.NAME]`) the users' tokens live in.
    pub store: String,
    /// A client registered at the server's authorization server; `None`: dynamic or
    /// metadata-document registration.
    pub client_id: Option<String>,
    /// The environment variable holding its secret.
    pub client_secret_env: Option<String>,
    /// Scopes to ask for (besides what the server advertises).
    pub scopes: Vec<String>,
}

/// `id_jag = { store, idp_token_endpoint, client_id, client_secret_env }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdJagAuth {
    /// The store the users' tokens are cached in.
    pub store: String,
    /// The IdP's token endpoint (RFC 8693 token exchange).
    pub idp_token_endpoint: String,
    /// The gateway's client at the IdP.
    pub client_id: String,
    /// The environment variable holding its secret.
    pub client_secret_env: Option<String>,
}

/// What to do with a per-user server for a user who has not connected it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Unconnected {
    /// Refuse the request (424 `mcp_authorization_required` with the link).
    #[default]
    Refuse,
    /// Remove the server from the request (named in `x-mcpwire-dropped-servers`).
    Drop,
}

/// How a tenant names its end users (`[tenants.users]`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserMode {
    /// The tenant's key is trusted to name the user in `x-mcpwire-user`.
    Header,
    /// The user's token in `x-mcpwire-user-token` is verified.
    Jwt(JwtConfig),
}

/// `mode = "jwt"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwtConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// Where the signing keys are.
    pub jwks_url: String,
    /// The claim holding the user id (default `sub`).
    pub claim: String,
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
    /// A per-user server for a user who has not connected it.
    pub when_unconnected: Unconnected,
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
    /// How end users are named; `None`: the tenant is one identity.
    pub users: Option<UserMode>,
    /// Where the connect flow may send a browser back to (prefixes of allowed URLs).
    pub return_urls: Vec<String>,
    /// Upstream requests per minute (sliding window); `None`: no limit.
    pub requests_per_minute: Option<u64>,
    /// Input + output tokens per UTC day, charged when a response ends; `None`: no limit.
    pub tokens_per_day: Option<u64>,
    /// Whether response ids this gateway did not relay to the tenant may be used
    /// (`GET`/`DELETE`/cancel, `previous_response_id`). Ids it relayed to another tenant are
    /// refused either way.
    pub allow_foreign_response_ids: bool,
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

/// Where a token store's encryption keys come from (Redis stores).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreKey {
    /// Not encrypted (memory and file stores).
    None,
    /// The keys, read from the environment variable `key_env` (or `MCPWIRE_STORE_KEY`).
    Value(mcpwire_schema::Sensitive),
    /// A file holding the keys (`key_file`, or `MCPWIRE_STORE_KEY_FILE`).
    File(PathBuf),
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreKey::None => f.write_str("None"),
            StoreKey::Value(_) => f.write_str("Value([redacted])"),
            StoreKey::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// A token store (`[stores.NAME]`).
#[derive(Clone)]
#[non_exhaustive]
pub struct StoreSpec {
    /// The store URL (`memory:`, `file:PATH`, `redis://…`); may hold a password.
    pub url: mcpwire_schema::Sensitive,
    /// Encryption keys.
    pub key: StoreKey,
    /// The single-flight refresh lease (at least `token_timeout` + 5 s). Default 45 s.
    pub refresh_lease: Duration,
    /// One request to an authorization server. Default 30 s.
    pub token_timeout: Duration,
}

impl std::fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.url.expose();
        let shown = if url.starts_with("redis") {
            mcpwire_auth::redact::origin(url)
        } else {
            url.to_owned()
        };
        f.debug_struct("StoreSpec")
            .field("url", &shown)
            .field("key", &self.key)
            .field("refresh_lease", &self.refresh_lease)
            .field("token_timeout", &self.token_timeout)
            .finish()
    }
}

/// State shared by replicas (`[shared]`).
#[derive(Clone)]
#[non_exhaustive]
pub struct SharedConfig {
    /// `redis://…` / `rediss://…`; may hold a password.
    pub url: mcpwire_schema::Sensitive,
    /// Key prefix, so that several gateways can share one Redis. Default `mcpwire`.
    pub prefix: String,
}

impl std::fmt::Debug for SharedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedConfig")
            .field("url", &mcpwire_auth::redact::origin(self.url.expose()))
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// `/metrics` access (`[metrics]`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// SHA-256 of each bearer token that may read `/metrics`; empty: open to anyone who can
    /// reach the listener.
    pub bearer_hashes: Vec<[u8; 32]>,
}

/// OpenTelemetry traces (`[telemetry]`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TelemetryConfig {
    /// The collector's OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318` (traces go to
    /// `{otlp_endpoint}/v1/traces`, protobuf).
    pub otlp_endpoint: String,
    /// `service.name` of the spans. Default `mcpwire-gateway`.
    pub service_name: String,
    /// The share of traces started here that are kept, 0.0 to 1.0 (a caller's sampled
    /// `traceparent` is always followed). Default 1.0.
    pub sample_ratio: f64,
}

impl TelemetryConfig {
    /// Traces to `otlp_endpoint` (an `http://` or `https://` URL), every one kept, as
    /// `service_name`.
    pub fn new(otlp_endpoint: &str, service_name: &str) -> Result<TelemetryConfig, String> {
        let url = url::Url::parse(otlp_endpoint).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err("an http:// or https:// URL with a host".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("URLs with user info are not accepted".to_owned());
        }
        Ok(TelemetryConfig {
            otlp_endpoint: otlp_endpoint.trim_end_matches('/').to_owned(),
            service_name: service_name.to_owned(),
            sample_ratio: 1.0,
        })
    }
}

/// The request log pages at `/ui` (`[ui]`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct UiConfig {
    /// SHA-256 of each admin key that may log in (or send the key as a bearer token).
    pub admin_key_hashes: Vec<[u8; 32]>,
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
    /// Token stores by name.
    pub stores: BTreeMap<String, StoreSpec>,
    /// State shared with other replicas; `None`: limits are per process.
    pub shared: Option<SharedConfig>,
    /// This replica's id in logs, audit lines and metrics (default `host:pid`).
    pub replica_id: Option<String>,
    /// Probe every MCP server at start and after a reload (`/readyz` shows the results).
    pub probe_on_start: bool,
    /// The gateway's public base URL (`https://gw.example.com`): the connect flow's redirect
    /// URI is `{public_url}/oauth/callback`.
    pub public_url: Option<String>,
    /// Audit log.
    pub audit: AuditConfig,
    /// `/metrics` access.
    pub metrics: MetricsConfig,
    /// Traces; `None`: off.
    pub telemetry: Option<TelemetryConfig>,
    /// The request log pages; `None`: `/ui` is not served.
    pub ui: Option<UiConfig>,
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

mod parse;
mod raw;

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

    fn with_mcp(extra: &str) -> String {
        format!(
            "{BASE}[[tenants]]\nname = \"a\"\nkey_sha256 = [\"{}\"]\n[[tenants.mcp]]\nurl = \"http://127.0.0.1:9/mcp\"\n{extra}\n",
            key_hash_hex("k")
        )
    }

    #[test]
    fn every_approval_form_loads_or_names_the_field() {
        let floor = |extra: &str| {
            Config::parse(&with_mcp(extra), &env()).map(|c| c.tenants[0].mcp[0].approval.clone())
        };
        assert_eq!(floor("").unwrap(), None);
        assert_eq!(
            floor("require_approval = \"always\"").unwrap(),
            Some(ApprovalFloor::Always)
        );
        assert_eq!(
            floor("require_approval = [\"fetch\"]").unwrap(),
            Some(ApprovalFloor::Tools(vec!["fetch".into()]))
        );
        for (bad, says) in [
            (
                "require_approval = [\"always\"]",
                "would name a tool called `always`",
            ),
            (
                "require_approval = [\"fetch\", \"never\"]",
                "would name a tool called `never`",
            ),
            ("require_approval = \"never\"", "is not a floor"),
            (
                "require_approval = \"sometimes\"",
                "\"sometimes\" is not accepted",
            ),
            ("require_approval = 5", "require_approval takes \"always\""),
            (
                "require_approval = { always = true }",
                "require_approval takes \"always\"",
            ),
        ] {
            let err = floor(bad).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { line: 9, .. }),
                "{bad}: {err}"
            );
            let text = err.to_string();
            assert!(text.contains(says), "{bad}: {text}");
            assert!(text.contains("require_approval"), "{bad}: {text}");
        }
    }

    #[test]
    fn telemetry_and_ui_validate_and_name_the_line() {
        let c = Config::parse(BASE, &env()).unwrap();
        assert!(c.telemetry.is_none() && c.ui.is_none());
        let text = format!(
            "{BASE}[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318/\"\nsample_ratio = 0.25\n[ui]\nadmin_key_sha256 = [\"{}\"]\n",
            key_hash_hex("admin")
        );
        let c = Config::parse(&text, &env()).unwrap();
        let t = c.telemetry.unwrap();
        assert_eq!(t.otlp_endpoint, "http://127.0.0.1:4318");
        assert_eq!(t.service_name, "mcpwire-gateway");
        assert_eq!(t.sample_ratio, 0.25);
        assert_eq!(c.ui.unwrap().admin_key_hashes.len(), 1);
        for (bad, line, says) in [
            (
                "[telemetry]\notlp_endpoint = \"grpc://x:4317\"\n",
                5,
                "telemetry.otlp_endpoint",
            ),
            (
                "[telemetry]\notlp_endpoint = \"http://x:4318\"\nsample_ratio = 1.5\n",
                6,
                "between 0.0 and 1.0",
            ),
            (
                "[telemetry]\notlp_endpoint = \"http://x:4318\"\nservice_name = \" \"\n",
                6,
                "service_name cannot be empty",
            ),
            (
                "[telemetry]\notlp_endpoint = \"http://x:4318\"\nbogus = 1\n",
                6,
                "bogus",
            ),
            ("[ui]\nadmin_key_sha256 = [\"admin\"]\n", 5, "64 hex digits"),
            ("[ui]\nadmin_key_sha256 = []\n", 4, "at least one hash"),
        ] {
            let err = Config::parse(&format!("{BASE}{bad}"), &env()).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { line: l, .. } if l == line),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn new_server_keys_have_defaults_and_refuse_zero() {
        let c = Config::parse(BASE, &env()).unwrap();
        assert_eq!(c.limits.header_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.client_idle_timeout, Duration::from_secs(60));
        assert!(c.limits.max_connections >= c.limits.max_connections_per_peer);
        let err =
            Config::parse(&format!("[server]\nmax_connections = 0\n{BASE}"), &env()).unwrap_err();
        assert!(
            err.to_string()
                .contains("server.max_connections must be positive"),
            "{err}"
        );
        let err = Config::parse(
            &format!("[metrics]\nbearer_sha256 = [\"x\"]\n{BASE}"),
            &env(),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 2, .. }), "{err}");
    }
}
