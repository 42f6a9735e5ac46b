//! Validation: the raw TOML types become a [`Config`], every error naming its line.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::raw::{RawApproval, RawAuth, RawConfig, RawUpstream};
use toml::Spanned;

use super::{
    ApprovalFloor, AuditConfig, AuthSpec, Config, ConfigError, ConnectorPolicy, Env, IdJagAuth,
    JwtConfig, Limits, McpServerPolicy, MetricsConfig, PerUserAuth, SharedConfig, StoreKey,
    StoreSpec, TelemetryConfig, Tenant, UiConfig, Unconnected, Upstream, UserMode, normalize_url,
};

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
        for (key, value) in [
            ("max_body_bytes", s.max_body_bytes as u64),
            ("header_timeout_secs", s.header_timeout_secs),
            ("client_idle_timeout_secs", s.client_idle_timeout_secs),
            ("max_connections", s.max_connections as u64),
            (
                "max_connections_per_peer",
                s.max_connections_per_peer as u64,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Syntax(format!(
                    "server.{key} must be positive"
                )));
            }
        }
        let limits = Limits {
            max_body_bytes: s.max_body_bytes,
            connect_timeout: Duration::from_millis(s.connect_timeout_ms),
            response_timeout: Duration::from_secs(s.response_timeout_secs),
            idle_timeout: Duration::from_secs(s.idle_timeout_secs),
            total_timeout: Duration::from_secs(s.total_timeout_secs),
            shutdown_grace: Duration::from_secs(s.shutdown_grace_secs),
            min_token_lifetime: Duration::from_secs(s.min_token_lifetime_secs),
            header_timeout: Duration::from_secs(s.header_timeout_secs),
            client_idle_timeout: Duration::from_secs(s.client_idle_timeout_secs),
            max_connections: s.max_connections,
            max_connections_per_peer: s.max_connections_per_peer,
            stream_lease: Duration::from_secs(s.stream_lease_secs),
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
        // A URL given directly or through an environment variable (so that a password
        // stays out of the file).
        let url_of = |url: &Option<Spanned<String>>,
                      url_env: &Option<Spanned<String>>,
                      what: &str,
                      span: std::ops::Range<usize>|
         -> Result<Option<String>, ConfigError> {
            match (url, url_env) {
                (Some(_), Some(e)) => Err(at(
                    e.span(),
                    format!("{what}: give url or url_env, not both"),
                )),
                (Some(u), None) => Ok(Some(u.get_ref().trim().to_owned())),
                (None, Some(var)) => env
                    .get(var.get_ref())
                    .map(|v| Some(v.trim().to_owned()))
                    .ok_or_else(|| {
                        at(
                            var.span(),
                            format!(
                                "{what}.url_env: environment variable `{}` is not set",
                                var.get_ref()
                            ),
                        )
                    }),
                (None, None) => {
                    let _ = span;
                    Ok(None)
                }
            }
        };
        let is_redis = |u: &str| u.starts_with("redis://") || u.starts_with("rediss://");
        let mut stores = BTreeMap::new();
        for (name, store) in &raw.stores {
            let span = store.span();
            let store = store.get_ref();
            let what = format!("stores.{name}");
            let url = url_of(&store.url, &store.url_env, &what, span.clone())?;
            let url = match (url, &store.path) {
                (Some(_), Some(_)) => {
                    return Err(at(
                        span,
                        format!("{what}: give url (or url_env) or path, not both"),
                    ));
                }
                (Some(u), None) => {
                    if !(is_redis(&u) || u == "memory:" || u.starts_with("file:")) {
                        return Err(at(
                            store.url.as_ref().map_or(span.clone(), |u| u.span()),
                            format!(
                                "{what}.url: store url (file:PATH, memory:, redis://, rediss://), not `{}`",
                                mcpwire_auth::redact::origin(&u)
                            ),
                        ));
                    }
                    u
                }
                (None, Some(path)) => format!("file:{}", path.display()),
                (None, None) => "memory:".to_owned(),
            };
            let key = match (&store.key_env, &store.key_file) {
                (Some(_), Some(_)) => {
                    return Err(at(
                        span,
                        format!("{what}: give key_env or key_file, not both"),
                    ));
                }
                _ if !is_redis(&url) => {
                    if store.key_env.is_some() || store.key_file.is_some() {
                        return Err(at(
                            span,
                            format!(
                                "{what}: key_env and key_file are for redis:// stores (memory and file stores are not encrypted; the file store is mode 0600)"
                            ),
                        ));
                    }
                    StoreKey::None
                }
                (Some(var), None) => StoreKey::Value(mcpwire_schema::Sensitive::new(
                    env.get(var.get_ref()).cloned().ok_or_else(|| {
                        at(
                            var.span(),
                            format!(
                                "{what}.key_env: environment variable `{}` is not set",
                                var.get_ref()
                            ),
                        )
                    })?,
                )),
                (None, Some(path)) => StoreKey::File(path.clone()),
                (None, None) => match (
                    env.get("MCPWIRE_STORE_KEY"),
                    env.get("MCPWIRE_STORE_KEY_FILE"),
                ) {
                    (Some(v), _) => StoreKey::Value(mcpwire_schema::Sensitive::new(v.clone())),
                    (None, Some(p)) => StoreKey::File(PathBuf::from(p)),
                    (None, None) => {
                        return Err(at(
                            span,
                            format!(
                                "{what}: a redis store encrypts its records: set key_env or key_file (32 random bytes, base64; several, comma-separated, to rotate)"
                            ),
                        ));
                    }
                },
            };
            let secs = |v: Option<u64>, default: u64, key: &str| match v {
                Some(0) => Err(at(span.clone(), format!("{what}.{key} must be positive"))),
                v => Ok(Duration::from_secs(v.unwrap_or(default))),
            };
            stores.insert(
                name.clone(),
                StoreSpec {
                    url: mcpwire_schema::Sensitive::new(url),
                    key,
                    refresh_lease: secs(store.refresh_lease_secs, 45, "refresh_lease_secs")?,
                    token_timeout: secs(store.token_timeout_secs, 30, "token_timeout_secs")?,
                },
            );
        }
        let shared = match &raw.shared {
            None => None,
            Some(sh) => {
                let span = sh.span();
                let sh = sh.get_ref();
                let url =
                    url_of(&sh.url, &sh.url_env, "shared", span.clone())?.ok_or_else(|| {
                        at(
                            span.clone(),
                            "shared: give url or url_env (redis:// or rediss://)".to_owned(),
                        )
                    })?;
                if !is_redis(&url) {
                    return Err(at(
                        span,
                        "shared.url: a redis:// or rediss:// URL".to_owned(),
                    ));
                }
                let prefix = sh
                    .prefix
                    .as_ref()
                    .map_or("mcpwire", |p| p.get_ref().as_str());
                if prefix.is_empty()
                    || !prefix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                {
                    return Err(at(
                        sh.prefix.as_ref().map_or(span, |p| p.span()),
                        "shared.prefix: letters, digits, `_`, `-`, `.`".to_owned(),
                    ));
                }
                Some(SharedConfig {
                    url: mcpwire_schema::Sensitive::new(url),
                    prefix: prefix.to_owned(),
                })
            }
        };
        let replica_id = match &s.replica_id {
            None => None,
            Some(r) => {
                let id = r.get_ref();
                if id.is_empty()
                    || id.len() > 128
                    || id.chars().any(|c| c.is_control() || c.is_whitespace())
                {
                    return Err(at(
                        r.span(),
                        "server.replica_id: 1-128 printable characters without spaces".to_owned(),
                    ));
                }
                Some(id.clone())
            }
        };

        let need_env = |var: &Spanned<String>, what: &str| -> Result<(), ConfigError> {
            if env.contains_key(var.get_ref()) {
                Ok(())
            } else {
                Err(at(
                    var.span(),
                    format!(
                        "{what}: environment variable `{}` is not set",
                        var.get_ref()
                    ),
                ))
            }
        };
        // The store a per-user server's tokens live in: the one named, or the only one.
        let per_user_store = |named: Option<&Spanned<String>>,
                              span: std::ops::Range<usize>,
                              what: &str|
         -> Result<String, ConfigError> {
            match named {
                Some(n) if stores.contains_key(n.get_ref()) => Ok(n.get_ref().clone()),
                Some(n) => Err(at(
                    n.span(),
                    format!("{what}: no [stores.{}] table", n.get_ref()),
                )),
                None if stores.len() == 1 => Ok(stores.keys().next().cloned().unwrap_or_default()),
                None => Err(at(
                    span,
                    format!(
                        "{what}: per-user tokens need a store: add a [stores.NAME] table and name it with store = \"NAME\""
                    ),
                )),
            }
        };
        let public_url = match &s.public_url {
            None => None,
            Some(u) => {
                let v = u.get_ref().trim_end_matches('/').to_owned();
                let parsed = url::Url::parse(&v)
                    .map_err(|e| at(u.span(), format!("server.public_url: not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
                    return Err(at(u.span(), "server.public_url: an http(s) URL without a query, e.g. https://gateway.example.com".to_owned()));
                }
                Some(v)
            }
        };
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
                Some(RawAuth::OauthPerUser(p)) => {
                    if !allow_oauth {
                        return Err(at(
                            span,
                            format!("{what}: per-user OAuth is only available for MCP server URLs"),
                        ));
                    }
                    if let Some(var) = &p.client_secret_env {
                        need_env(var, what)?;
                    }
                    if p.client_secret_env.is_some() && p.client_id.is_none() {
                        return Err(at(
                            span,
                            format!("{what}: oauth_per_user.client_secret_env needs a client_id"),
                        ));
                    }
                    AuthSpec::OAuthPerUser(PerUserAuth {
                        store: per_user_store(p.store.as_ref(), span.clone(), what)?,
                        client_id: p.client_id.clone(),
                        client_secret_env: p
                            .client_secret_env
                            .as_ref()
                            .map(|v| v.get_ref().clone()),
                        scopes: p.scopes.clone(),
                    })
                }
                Some(RawAuth::IdJag(j)) => {
                    if !allow_oauth {
                        return Err(at(
                            span,
                            format!("{what}: id_jag is only available for MCP server URLs"),
                        ));
                    }
                    normalize_url(j.idp_token_endpoint.get_ref()).map_err(|e| {
                        at(
                            j.idp_token_endpoint.span(),
                            format!("{what}: id_jag.idp_token_endpoint: {e}"),
                        )
                    })?;
                    if let Some(var) = &j.client_secret_env {
                        need_env(var, what)?;
                    }
                    AuthSpec::IdJag(IdJagAuth {
                        store: per_user_store(j.store.as_ref(), span.clone(), what)?,
                        idp_token_endpoint: j.idp_token_endpoint.get_ref().clone(),
                        client_id: j.client_id.clone(),
                        client_secret_env: j
                            .client_secret_env
                            .as_ref()
                            .map(|v| v.get_ref().clone()),
                    })
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
            if name.contains(':') || name.chars().any(char::is_control) {
                return Err(at(
                    t.name.span(),
                    format!(
                        "tenant name `{name}`: no `:` or control characters (it prefixes its users' ids)"
                    ),
                ));
            }
            let users = match &t.users {
                None => None,
                Some(u) => {
                    let u_span = u.span();
                    let u = u.get_ref();
                    match u.mode.get_ref().as_str() {
                        "header" => {
                            if u.issuer.is_some()
                                || u.audience.is_some()
                                || u.jwks_url.is_some()
                                || u.claim.is_some()
                            {
                                return Err(at(
                                    u_span,
                                    format!(
                                        "tenant `{name}`: users.issuer, audience, jwks_url and claim are for mode = \"jwt\""
                                    ),
                                ));
                            }
                            Some(UserMode::Header)
                        }
                        "jwt" => {
                            let (Some(issuer), Some(audience), Some(jwks)) =
                                (&u.issuer, &u.audience, &u.jwks_url)
                            else {
                                return Err(at(
                                    u_span,
                                    format!(
                                        "tenant `{name}`: users mode = \"jwt\" needs issuer, audience and jwks_url"
                                    ),
                                ));
                            };
                            normalize_url(jwks.get_ref()).map_err(|e| {
                                at(jwks.span(), format!("tenant `{name}`: users.jwks_url: {e}"))
                            })?;
                            Some(UserMode::Jwt(JwtConfig {
                                issuer: issuer.clone(),
                                audience: audience.clone(),
                                jwks_url: jwks.get_ref().clone(),
                                claim: u.claim.clone().unwrap_or_else(|| "sub".to_owned()),
                            }))
                        }
                        other => {
                            return Err(at(
                                u.mode.span(),
                                format!(
                                    "tenant `{name}`: users.mode is \"header\" or \"jwt\", not `{other}`"
                                ),
                            ));
                        }
                    }
                }
            };
            let mut return_urls = Vec::new();
            for r in &t.return_urls {
                let parsed = url::Url::parse(r.get_ref()).map_err(|e| {
                    at(
                        r.span(),
                        format!("tenant `{name}`: return_urls: not a URL: {e}"),
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(at(
                        r.span(),
                        format!("tenant `{name}`: return_urls are http(s) URLs"),
                    ));
                }
                return_urls.push(parsed.to_string());
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
                    Some(RawApproval::Always) => Some(ApprovalFloor::Always),
                    Some(RawApproval::Tools(tools)) => Some(ApprovalFloor::Tools(tools.clone())),
                };
                let server_name = m.name.clone().unwrap_or_else(|| {
                    url::Url::parse(&url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned))
                        .unwrap_or_default()
                });
                let what = format!("tenant `{name}` mcp `{url}`");
                let spec = auth(&m.auth, span.clone(), &what, true)?;
                let per_user = matches!(spec, AuthSpec::OAuthPerUser(_) | AuthSpec::IdJag(_));
                if per_user && users.is_none() {
                    return Err(at(
                        span,
                        format!(
                            "{what}: per-user credentials need [tenants.users] (who the user is)"
                        ),
                    ));
                }
                if matches!(spec, AuthSpec::IdJag(_)) && !matches!(users, Some(UserMode::Jwt(_))) {
                    return Err(at(
                        span,
                        format!(
                            "{what}: id_jag exchanges the user's IdP token: it needs [tenants.users] mode = \"jwt\""
                        ),
                    ));
                }
                if matches!(spec, AuthSpec::OAuthPerUser(_)) && public_url.is_none() {
                    return Err(at(
                        span,
                        format!(
                            "{what}: the connect flow needs [server] public_url (its redirect URI is {{public_url}}/oauth/callback)"
                        ),
                    ));
                }
                let when_unconnected = match m
                    .when_unconnected
                    .as_ref()
                    .map(|w| (w, w.get_ref().as_str()))
                {
                    None | Some((_, "refuse")) => Unconnected::Refuse,
                    Some((_, "drop")) => Unconnected::Drop,
                    Some((w, other)) => {
                        return Err(at(
                            w.span(),
                            format!(
                                "{what}: when_unconnected is \"refuse\" or \"drop\", not `{other}`"
                            ),
                        ));
                    }
                };
                if m.when_unconnected.is_some() && !per_user {
                    return Err(at(
                        span,
                        format!(
                            "{what}: when_unconnected is for per-user servers (oauth_per_user, id_jag)"
                        ),
                    ));
                }
                mcp.push(McpServerPolicy {
                    name: server_name,
                    auth: spec,
                    url,
                    allowed_tools: m.allowed_tools.clone(),
                    approval,
                    when_unconnected,
                });
            }
            let positive = |v: Option<u64>, key: &str| match v {
                Some(0) => Err(at(
                    t_span.clone(),
                    format!("tenant `{name}`: {key} must be positive (leave it out for no limit)"),
                )),
                v => Ok(v),
            };
            let requests_per_minute = positive(t.requests_per_minute, "requests_per_minute")?;
            let tokens_per_day = positive(t.tokens_per_day, "tokens_per_day")?;
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
                requests_per_minute,
                tokens_per_day,
                users,
                return_urls,
                allow_foreign_response_ids: t.allow_foreign_response_ids,
            });
        }
        let telemetry = match &raw.telemetry {
            None => None,
            Some(t) => {
                let t = t.get_ref();
                let mut config = TelemetryConfig::new(t.otlp_endpoint.get_ref(), "mcpwire-gateway")
                    .map_err(|e| {
                        at(
                            t.otlp_endpoint.span(),
                            format!("telemetry.otlp_endpoint: {e}"),
                        )
                    })?;
                if let Some(name) = &t.service_name {
                    if name.get_ref().trim().is_empty() {
                        return Err(at(
                            name.span(),
                            "telemetry.service_name cannot be empty".to_owned(),
                        ));
                    }
                    config.service_name = name.get_ref().clone();
                }
                if let Some(ratio) = &t.sample_ratio {
                    let r = *ratio.get_ref();
                    if !(0.0..=1.0).contains(&r) {
                        return Err(at(
                            ratio.span(),
                            format!("telemetry.sample_ratio is between 0.0 and 1.0, not {r}"),
                        ));
                    }
                    config.sample_ratio = r;
                }
                Some(config)
            }
        };
        let ui = match &raw.ui {
            None => None,
            Some(u) => {
                let span = u.span();
                let u = u.get_ref();
                if u.admin_key_sha256.is_empty() {
                    return Err(at(
                        span,
                        "ui.admin_key_sha256 needs at least one hash (leave [ui] out to turn the pages off)".to_owned(),
                    ));
                }
                let mut admin_key_hashes = Vec::new();
                for h in &u.admin_key_sha256 {
                    admin_key_hashes.push(parse_hash(h.get_ref()).ok_or_else(|| {
                        at(
                            h.span(),
                            "ui.admin_key_sha256 entries are 64 hex digits (the SHA-256 of a key, never the key)".to_owned(),
                        )
                    })?);
                }
                Some(UiConfig { admin_key_hashes })
            }
        };
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
            shared,
            replica_id,
            probe_on_start: s.probe_on_start,
            public_url,
            audit: AuditConfig {
                path: raw.audit.path,
                include_arguments: raw.audit.include_arguments,
                include_outputs: raw.audit.include_outputs,
            },
            metrics: MetricsConfig {
                bearer_hashes: raw
                    .metrics
                    .bearer_sha256
                    .iter()
                    .map(|h| {
                        parse_hash(h.get_ref()).ok_or_else(|| {
                            at(
                                h.span(),
                                "metrics.bearer_sha256 entries are 64 hex digits (the SHA-256 of a token, never the token)".to_owned(),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
            telemetry,
            ui,
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

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}
