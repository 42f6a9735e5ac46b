//! Every use of `mcpwire-auth`: building credentials from the configuration (OAuth clients over
//! the named token stores, static tokens and headers from the environment) and resolving them
//! fresh for each request.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_auth::{
    Credentials, OAuthClient, OAuthConfig, Resolved, Secret, StoreKeySource, TokenStore,
};
use mcpwire_schema::Sensitive;
use sha2::Digest as _;

use crate::config::{AuthSpec, Config, Env, StoreKey, StoreSpec};
use crate::error::Kind;

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
}

impl CredentialError {
    fn unconfigured() -> Self {
        CredentialError {
            kind: Kind::CredentialsUnavailable,
            message: "no credentials configured".to_owned(),
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
            kind,
            message: e.to_string(),
        }
    }
}

/// Credentials for every tenant's servers and connectors, built once.
pub(crate) struct CredentialSet {
    /// The configured stores by name (reachability for `/readyz`).
    stores: BTreeMap<String, Arc<dyn TokenStore>>,
    /// `[tenant][server]`.
    servers: Vec<Vec<Credentials>>,
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
        let mut make = |spec: &AuthSpec| -> Result<Credentials, String> {
            Ok(match spec {
                AuthSpec::None => Credentials::None,
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
            })
        };
        let mut servers = Vec::new();
        let mut connectors = Vec::new();
        for t in &config.tenants {
            servers.push(
                t.mcp
                    .iter()
                    .map(|m| make(&m.auth))
                    .collect::<Result<_, _>>()?,
            );
            connectors.push(
                t.connectors
                    .iter()
                    .map(|c| make(&c.auth))
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(CredentialSet {
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

    /// Fresh credentials for server `server` of tenant `tenant` at `url`. The flag is `true`
    /// when the token differs from the one last seen (it was refreshed, here or by another
    /// process sharing the store).
    pub(crate) async fn server(
        &self,
        tenant: usize,
        server: usize,
        url: &str,
    ) -> Result<(Injection, bool), CredentialError> {
        let creds = self
            .servers
            .get(tenant)
            .and_then(|s| s.get(server))
            .ok_or_else(CredentialError::unconfigured)?;
        let resolved = creds
            .resolve(url, self.min_remaining)
            .await
            .map_err(CredentialError::from)?;
        let injection = to_injection(resolved);
        let refreshed = match (&injection, creds) {
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
