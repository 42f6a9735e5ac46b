//! Every use of `mcpwire-auth`: building credentials from the configuration (OAuth clients over
//! the named token stores, static tokens and headers from the environment) and resolving them
//! fresh for each request; for per-user servers, each end user's own tokens under the subject
//! `tenant:user` (the connect flow, revocation, ID-JAG token exchange).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_auth::{
    Credentials, IdpTokenExchange, OAuthClient, OAuthConfig, PreRegisteredClient, Resolved, Secret,
    StoreKeySource, TokenStatus, TokenStore,
};
use mcpwire_schema::Sensitive;
use sha2::Digest as _;

use crate::config::{AuthSpec, Config, Env, StoreKey, StoreSpec};
use crate::error::Kind;
use crate::users::User;

/// What to put into a vendor request for one MCP server or connector.
pub(crate) enum Injection {
    /// Nothing.
    None,
    /// A bearer token (OpenAI `authorization`, Anthropic `authorization_token`).
    Bearer(Sensitive),
    /// Headers (OpenAI `headers`).
    Headers(Vec<(String, Sensitive)>),
}

/// Why credentials could not be had; the message never holds a secret.
#[derive(Debug, Clone)]
pub(crate) struct CredentialError {
    /// How the refusal is reported (retryable or not).
    pub(crate) kind: Kind,
    pub(crate) message: String,
    /// The user has not connected this per-user server (or must connect again).
    pub(crate) unconnected: bool,
    /// The OpenAI-style code, when more precise than the kind's.
    pub(crate) code: Option<&'static str>,
}

impl CredentialError {
    fn unconfigured() -> Self {
        CredentialError {
            kind: Kind::CredentialsUnavailable,
            message: "no credentials configured".to_owned(),
            unconnected: false,
            code: None,
        }
    }
}

impl From<mcpwire_auth::Error> for CredentialError {
    /// Only a login or an operator can fix a missing or unrenewable token or a store key that
    /// does not open a record (424, not retryable); an unreachable store is 503; anything
    /// else (the authorization server failing for a moment) is worth a retry.
    fn from(e: mcpwire_auth::Error) -> Self {
        let kind = if e.needs_login()
            || matches!(
                e,
                mcpwire_auth::Error::StoreDecrypt { .. } | mcpwire_auth::Error::StoreKey { .. }
            ) {
            Kind::CredentialsUnavailable
        } else if matches!(
            e,
            mcpwire_auth::Error::StoreUnavailable { .. } | mcpwire_auth::Error::RefreshWait { .. }
        ) {
            Kind::StoreUnavailable
        } else {
            Kind::CredentialsTransient
        };
        CredentialError {
            unconnected: e.needs_login(),
            kind,
            message: e.to_string(),
            code: None,
        }
    }
}

/// One in-process single-flight gate.
type Gate = Arc<tokio::sync::Mutex<()>>;

/// One configured MCP server of one tenant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerRef<'a> {
    /// The tenant's index and name.
    pub(crate) tenant: usize,
    pub(crate) tenant_name: &'a str,
    /// The server's index in the tenant and its URL.
    pub(crate) server: usize,
    pub(crate) url: &'a str,
}

/// How one MCP server's credentials are had.
enum ServerCreds {
    /// The same for every caller of the tenant.
    Shared(Credentials),
    /// Each user's own, from the connect flow.
    PerUser(Arc<OAuthClient>),
    /// Each user's own, by token exchange of their IdP token.
    IdJag {
        client: Arc<OAuthClient>,
        endpoint: String,
        client_id: String,
        secret: Option<Secret>,
    },
}

/// The subject a user's tokens are stored under: `tenant:user` (tenant names hold no `:`).
pub(crate) fn subject(tenant: &str, user: &str) -> String {
    format!("{tenant}:{user}")
}

/// Where a connect flow's browser comes back to.
pub(crate) fn redirect_uri(public_url: &str) -> String {
    format!("{public_url}/oauth/callback")
}

/// One user's stored connection to a per-user server (no token in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Connected {
    /// Tenant name.
    pub(crate) tenant: String,
    /// Server name in the tenant's configuration.
    pub(crate) server: String,
    /// The end user's id.
    pub(crate) user: String,
    /// When the access token expires (Unix seconds), if known.
    pub(crate) expires_at: Option<u64>,
    /// The refresh token was refused: the user must connect again.
    pub(crate) login_required: bool,
}

/// Credentials for every tenant's servers and connectors, built once.
pub(crate) struct CredentialSet {
    /// Single-flight ID-JAG exchanges of this process, per (subject, server).
    exchanges: Mutex<HashMap<(String, String), Gate>>,
    /// The OAuth clients that keep per-user tokens (for the connect callback).
    per_user: Vec<Arc<OAuthClient>>,
    /// The configured stores by name (reachability for `/readyz`).
    stores: BTreeMap<String, Arc<dyn TokenStore>>,
    /// `[tenant][server]`.
    servers: Vec<Vec<ServerCreds>>,
    /// `[tenant][connector]`.
    connectors: Vec<Vec<Credentials>>,
    min_remaining: Duration,
    /// SHA-256 of the last token seen per (tenant, server), to count refreshes.
    last: Mutex<HashMap<(usize, usize), [u8; 32]>>,
    /// Every secret known at start (for scrubbing).
    static_secrets: Vec<Sensitive>,
}

/// Opens a configured token store (the one opener `mcpwire auth --store` uses too).
pub(crate) async fn open_store(
    spec: &StoreSpec,
) -> Result<Arc<dyn TokenStore>, mcpwire_auth::Error> {
    let keys = match &spec.key {
        StoreKey::None => StoreKeySource::Env,
        StoreKey::Value(v) => StoreKeySource::Value(Secret::new(v.expose())),
        StoreKey::File(p) => StoreKeySource::File(p.clone()),
    };
    mcpwire_auth::open_store(&Secret::new(spec.url.expose()), keys).await
}

/// The secret in `var`, if one is named, remembered among the secrets to scrub.
fn optional_secret(
    env: &Env,
    var: Option<&str>,
    static_secrets: &mut Vec<Sensitive>,
) -> Result<Option<Secret>, String> {
    let Some(var) = var else { return Ok(None) };
    let s = env_secret(env, var)?;
    static_secrets.push(Sensitive::new(s.expose()));
    Ok(Some(s))
}

fn env_secret(env: &Env, var: &str) -> Result<Secret, String> {
    env.get(var)
        .map(|v| Secret::new(v.clone()))
        .ok_or_else(|| format!("environment variable `{var}` is not set"))
}

impl CredentialSet {
    /// Builds the credentials of `config`; `stores` overrides named stores (tests).
    pub(crate) async fn build(config: &Config, env: &Env) -> Result<Self, String> {
        let mut stores = BTreeMap::new();
        let mut store_handles = BTreeMap::new();
        for (name, spec) in &config.stores {
            let store = open_store(spec)
                .await
                .map_err(|e| format!("stores.{name}: {e}"))?;
            let mut oauth = OAuthConfig::default();
            oauth.refresh_lease = spec.refresh_lease;
            oauth.policy.timeout = spec.token_timeout;
            let client = OAuthClient::new(oauth, store.clone())
                .map_err(|e| format!("stores.{name}: {e}"))?;
            stores.insert(name.clone(), Arc::new(client));
            store_handles.insert(name.clone(), store);
        }
        let mut static_secrets = Vec::new();
        for up in [&config.openai, &config.anthropic].into_iter().flatten() {
            static_secrets.push(up.api_key.clone());
        }
        let make_shared =
            |spec: &AuthSpec, static_secrets: &mut Vec<Sensitive>| -> Result<Credentials, String> {
                Ok(match spec {
                    AuthSpec::OAuth { store } => Credentials::OAuth(
                        stores
                            .get(store)
                            .cloned()
                            .ok_or_else(|| format!("no store `{store}`"))?,
                    ),
                    AuthSpec::BearerEnv(var) => {
                        let s = env_secret(env, var)?;
                        static_secrets.push(Sensitive::new(s.expose()));
                        Credentials::Bearer(s)
                    }
                    AuthSpec::HeadersEnv(h) => {
                        let mut out = Vec::new();
                        for (name, var) in h {
                            let s = env_secret(env, var)?;
                            static_secrets.push(Sensitive::new(s.expose()));
                            out.push((name.clone(), s));
                        }
                        Credentials::Headers(out)
                    }
                    _ => Credentials::None,
                })
            };
        let mut per_user = Vec::new();
        let mut make_server =
            |spec: &AuthSpec, static_secrets: &mut Vec<Sensitive>| -> Result<ServerCreds, String> {
                let per_user_client = |store: &str,
                                       client: Option<PreRegisteredClient>,
                                       scopes: &[String]|
                 -> Result<Arc<OAuthClient>, String> {
                    let spec = config
                        .stores
                        .get(store)
                        .ok_or_else(|| format!("no store `{store}`"))?;
                    let handle = store_handles
                        .get(store)
                        .cloned()
                        .ok_or_else(|| format!("no store `{store}`"))?;
                    let mut oauth = OAuthConfig::default();
                    oauth.refresh_lease = spec.refresh_lease;
                    oauth.policy.timeout = spec.token_timeout;
                    oauth.redirect_uri = config.public_url.as_deref().map(redirect_uri);
                    oauth.extra_scopes = scopes.to_vec();
                    oauth.pre_registered.extend(client);
                    OAuthClient::new(oauth, handle)
                        .map(Arc::new)
                        .map_err(|e| format!("stores.{store}: {e}"))
                };
                Ok(match spec {
                    AuthSpec::OAuthPerUser(p) => {
                        let secret =
                            optional_secret(env, p.client_secret_env.as_deref(), static_secrets)?;
                        let client = p
                            .client_id
                            .as_ref()
                            .map(|id| PreRegisteredClient::new(None, id.clone(), secret));
                        let c = per_user_client(&p.store, client, &p.scopes)?;
                        per_user.push(c.clone());
                        ServerCreds::PerUser(c)
                    }
                    AuthSpec::IdJag(j) => {
                        let secret =
                            optional_secret(env, j.client_secret_env.as_deref(), static_secrets)?;
                        ServerCreds::IdJag {
                            client: per_user_client(&j.store, None, &[])?,
                            endpoint: j.idp_token_endpoint.clone(),
                            client_id: j.client_id.clone(),
                            secret,
                        }
                    }
                    other => ServerCreds::Shared(make_shared(other, static_secrets)?),
                })
            };
        let mut servers = Vec::new();
        let mut connectors = Vec::new();
        for t in &config.tenants {
            let mut row = Vec::new();
            for m in &t.mcp {
                row.push(make_server(&m.auth, &mut static_secrets)?);
            }
            servers.push(row);
            let mut row = Vec::new();
            for c in &t.connectors {
                row.push(make_shared(&c.auth, &mut static_secrets)?);
            }
            connectors.push(row);
        }
        Ok(CredentialSet {
            exchanges: Mutex::new(HashMap::new()),
            per_user,
            stores: store_handles,
            servers,
            connectors,
            min_remaining: config.limits.min_token_lifetime,
            last: Mutex::new(HashMap::new()),
            static_secrets,
        })
    }

    /// Whether each store can be reached now, by name.
    pub(crate) async fn store_health(&self) -> Vec<(String, Result<(), String>)> {
        let mut out = Vec::new();
        for (name, store) in &self.stores {
            let check = tokio::time::timeout(Duration::from_secs(1), store.check()).await;
            let status = match check {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 1 s".to_owned()),
            };
            out.push((name.clone(), status));
        }
        out
    }

    /// Secrets known at start: vendor keys, static tokens and header values.
    pub(crate) fn static_secrets(&self) -> &[Sensitive] {
        &self.static_secrets
    }

    /// Fresh credentials for server `server` of tenant `tenant` at `url`, for `user` when
    /// the server is per-user. The flag is `true` when a shared token differs from the one
    /// last seen (it was refreshed, here or by another process sharing the store).
    pub(crate) async fn server(
        &self,
        at: ServerRef<'_>,
        user: Option<&User>,
    ) -> Result<(Injection, bool), CredentialError> {
        let ServerRef {
            tenant,
            tenant_name,
            server,
            url,
        } = at;
        let creds = self
            .servers
            .get(tenant)
            .and_then(|s| s.get(server))
            .ok_or_else(CredentialError::unconfigured)?;
        let per_user = |client: &OAuthClient| -> Result<OAuthClient, CredentialError> {
            let user = user.ok_or_else(|| CredentialError {
                kind: Kind::CredentialsUnavailable,
                message: "this server's credentials are per user, and the request names none"
                    .into(),
                unconnected: false,
                code: None,
            })?;
            Ok(client.for_subject(subject(tenant_name, &user.id)))
        };
        match creds {
            ServerCreds::Shared(c) => {
                let resolved = c
                    .resolve(url, self.min_remaining)
                    .await
                    .map_err(CredentialError::from)?;
                let injection = to_injection(resolved);
                let refreshed = match (&injection, c) {
                    (Injection::Bearer(token), Credentials::OAuth(_)) => {
                        let hash: [u8; 32] = sha2::Sha256::digest(token.expose().as_bytes()).into();
                        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
                        let previous = last.insert((tenant, server), hash);
                        previous.is_some_and(|p| p != hash)
                    }
                    _ => false,
                };
                Ok((injection, refreshed))
            }
            ServerCreds::PerUser(client) => {
                let (token, _) = per_user(client)?
                    .access_token(url, self.min_remaining)
                    .await
                    .map_err(CredentialError::from)?;
                Ok((Injection::Bearer(Sensitive::new(token.expose())), false))
            }
            ServerCreds::IdJag {
                client,
                endpoint,
                client_id,
                secret,
            } => {
                let c = per_user(client)?;
                let first = c.access_token(url, self.min_remaining).await;
                match first {
                    Ok((token, _)) => {
                        return Ok((Injection::Bearer(Sensitive::new(token.expose())), false));
                    }
                    Err(e) if !e.needs_login() => return Err(CredentialError::from(e)),
                    Err(_) => {}
                }
                // No usable token for this user: exchange their IdP token, once at a time.
                let id_token = user
                    .and_then(|u| u.token.clone())
                    .ok_or_else(CredentialError::unconfigured)?;
                let gate = {
                    let key = (c.subject().unwrap_or_default().to_owned(), url.to_owned());
                    let mut all = self.exchanges.lock().unwrap_or_else(|p| p.into_inner());
                    all.entry(key).or_default().clone()
                };
                let _one = gate.lock().await;
                if let Ok((token, _)) = c.access_token(url, self.min_remaining).await {
                    return Ok((Injection::Bearer(Sensitive::new(token.expose())), false));
                }
                let idp = IdpTokenExchange::new(
                    endpoint.clone(),
                    client_id.clone(),
                    secret.clone(),
                    id_token,
                );
                c.login_enterprise(url, None, &idp)
                    .await
                    .map_err(|e| CredentialError {
                        kind: Kind::CredentialsUnavailable,
                        message: format!("the token exchange for this user failed: {e}"),
                        unconnected: false,
                        code: Some("mcp_token_exchange_failed"),
                    })?;
                let (token, _) = c
                    .access_token(url, self.min_remaining)
                    .await
                    .map_err(CredentialError::from)?;
                Ok((Injection::Bearer(Sensitive::new(token.expose())), false))
            }
        }
    }

    /// The per-user OAuth client of a server (`None`: the server is not `oauth_per_user`).
    fn per_user_client(&self, tenant: usize, server: usize) -> Option<&Arc<OAuthClient>> {
        match self.servers.get(tenant)?.get(server)? {
            ServerCreds::PerUser(c) => Some(c),
            _ => None,
        }
    }

    /// Whether the server's credentials are each user's own.
    pub(crate) fn is_per_user(&self, tenant: usize, server: usize) -> bool {
        matches!(
            self.servers.get(tenant).and_then(|s| s.get(server)),
            Some(ServerCreds::PerUser(_) | ServerCreds::IdJag { .. })
        )
    }

    /// Starts a connect flow: an authorization URL for the user, its request kept in the
    /// store for `ttl` and bound to `binding`. `None` when the server is not `oauth_per_user`.
    pub(crate) async fn begin_connect(
        &self,
        at: ServerRef<'_>,
        user: &str,
        public_url: &str,
        ttl: Duration,
        binding: String,
    ) -> Option<Result<Secret, CredentialError>> {
        let client = self.per_user_client(at.tenant, at.server)?;
        Some(
            client
                .for_subject(subject(at.tenant_name, user))
                .begin_stored_authorization(at.url, &redirect_uri(public_url), ttl, binding)
                .await
                .map_err(|e| CredentialError {
                    kind: if matches!(e, mcpwire_auth::Error::StoreUnavailable { .. }) {
                        Kind::StoreUnavailable
                    } else {
                        Kind::CredentialsUnavailable
                    },
                    message: format!("the connect flow could not start: {e}"),
                    unconnected: false,
                    code: Some("mcp_connect_failed"),
                }),
        )
    }

    /// Completes a connect flow from its callback, in whichever per-user store holds it.
    pub(crate) async fn complete_connect(
        &self,
        params: &[(String, String)],
    ) -> Result<(String, TokenStatus), mcpwire_auth::Error> {
        let params: Vec<(String, String)> = params.to_vec();
        let mut last = mcpwire_auth::Error::StateMismatch;
        // Each store once (several servers may share one): by the address of its object.
        let mut tried: Vec<usize> = Vec::new();
        for client in &self.per_user {
            let store = Arc::as_ptr(client.store()).cast::<()>() as usize;
            if tried.contains(&store) {
                continue;
            }
            tried.push(store);
            match client.complete_stored_authorization(&params).await {
                Err(mcpwire_auth::Error::StateMismatch) => {}
                Err(e) => last = e,
                Ok(done) => return Ok(done),
            }
        }
        Err(last)
    }

    /// A user's connection to a per-user server: its token status, if connected.
    pub(crate) async fn connection(
        &self,
        at: ServerRef<'_>,
        user: &str,
    ) -> Result<Option<TokenStatus>, CredentialError> {
        let ServerRef {
            tenant,
            tenant_name,
            server,
            url,
        } = at;
        let client = match self.servers.get(tenant).and_then(|s| s.get(server)) {
            Some(ServerCreds::PerUser(c) | ServerCreds::IdJag { client: c, .. }) => c,
            _ => return Ok(None),
        };
        let all = client
            .for_subject(subject(tenant_name, user))
            .status()
            .await
            .map_err(CredentialError::from)?;
        Ok(all.into_iter().find(|s| s.server_url == url))
    }

    /// Revokes a user's tokens for a per-user server (RFC 7009 where offered) and removes
    /// them; `Some(revoked at the authorization server)`, `None` when not per-user.
    pub(crate) async fn disconnect(
        &self,
        at: ServerRef<'_>,
        user: &str,
    ) -> Option<Result<bool, CredentialError>> {
        let ServerRef {
            tenant,
            tenant_name,
            server,
            url,
        } = at;
        let client = match self.servers.get(tenant)?.get(server)? {
            ServerCreds::PerUser(c) | ServerCreds::IdJag { client: c, .. } => c,
            ServerCreds::Shared(_) => return None,
        };
        Some(
            client
                .for_subject(subject(tenant_name, user))
                .revoke(url)
                .await
                .map_err(CredentialError::from),
        )
    }

    /// Who is connected to each per-user server of `config` (built from it), read from the
    /// stores (each store listed once): for `/ui/servers`. Never a token.
    pub(crate) async fn connected(&self, config: &Config) -> Result<Vec<Connected>, String> {
        let mut listed: Vec<(usize, Vec<mcpwire_auth::Versioned>)> = Vec::new();
        let mut out = Vec::new();
        for (ti, tenant) in config.tenants.iter().enumerate() {
            for (si, server) in tenant.mcp.iter().enumerate() {
                let Some(ServerCreds::PerUser(client) | ServerCreds::IdJag { client, .. }) =
                    self.servers.get(ti).and_then(|s| s.get(si))
                else {
                    continue;
                };
                let store = Arc::as_ptr(client.store()).cast::<()>() as usize;
                let at = match listed.iter().position(|(p, _)| *p == store) {
                    Some(at) => at,
                    None => {
                        let all = client.store().list().await.map_err(|e| {
                            format!("the token store of `{}` cannot be listed: {e}", server.name)
                        })?;
                        listed.push((store, all));
                        listed.len() - 1
                    }
                };
                let prefix = subject(&tenant.name, "");
                for v in &listed[at].1 {
                    let Some(t) = v.entry.as_token() else {
                        continue;
                    };
                    let Some(user) = t.subject.as_deref().and_then(|s| s.strip_prefix(&prefix))
                    else {
                        continue;
                    };
                    if !t.serves(&server.url) {
                        continue;
                    }
                    out.push(Connected {
                        tenant: tenant.name.clone(),
                        server: server.name.clone(),
                        user: user.to_owned(),
                        expires_at: t.expires_at,
                        login_required: t.login_required,
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.tenant, &a.server, &a.user).cmp(&(&b.tenant, &b.server, &b.user)));
        Ok(out)
    }

    /// Removes expired connect requests from every per-user store.
    pub(crate) async fn sweep_pending(&self) {
        for client in &self.per_user {
            if let Err(e) = client.sweep_pending().await {
                tracing::debug!(error = %e, "sweeping expired connect requests");
            }
        }
    }

    /// Credentials for connector `connector` of tenant `tenant`.
    pub(crate) async fn connector(
        &self,
        tenant: usize,
        connector: usize,
    ) -> Result<Injection, CredentialError> {
        let creds = self
            .connectors
            .get(tenant)
            .and_then(|s| s.get(connector))
            .ok_or_else(CredentialError::unconfigured)?;
        let resolved = creds
            .resolve("", self.min_remaining)
            .await
            .map_err(CredentialError::from)?;
        Ok(to_injection(resolved))
    }
}

fn to_injection(resolved: Resolved) -> Injection {
    match resolved {
        Resolved::Bearer { token, .. } => Injection::Bearer(Sensitive::new(token.expose())),
        Resolved::Headers(h) => Injection::Headers(
            h.into_iter()
                .map(|(n, v)| (n, Sensitive::new(v.expose())))
                .collect(),
        ),
        _ => Injection::None,
    }
}
