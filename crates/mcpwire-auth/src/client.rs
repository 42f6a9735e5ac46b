//! [`OAuthClient`]: discovery, registration, authorization (interactive or headless), token
//! exchange, client credentials, single-flight refresh, status and logout.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tracing::{debug, info, warn};
use url::Url;

use crate::challenge::BearerChallenge;
use crate::discovery::{Discoverer, Discovery};
use crate::error::{Error, Result};
use crate::http::{HttpClient, Policy, check_url, is_loopback};
use crate::loopback::{CallbackListener, CallbackParams};
use crate::secret::Secret;
use crate::store::{ClientRecord, RegistrationKind, StoreData, TokenEntry, TokenStore};
use crate::token::{
    AuthMethod, ClientAuth, DpopKey, Pkce, SigningKey, TokenRequest, TokenResponse,
};
use crate::token::{random_secret, unix_now};

/// A client registered out of band (by the operator) at an authorization server.
#[derive(Clone)]
#[non_exhaustive]
pub struct PreRegisteredClient {
    /// Issuer it belongs to; `None` = any issuer (use with care).
    pub issuer: Option<String>,
    /// Client ID.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Option<Secret>,
    /// Forced auth method; `None` = chosen from metadata.
    pub auth_method: Option<AuthMethod>,
    /// ES256 key for `private_key_jwt`.
    pub signing_key: Option<Arc<SigningKey>>,
}

impl PreRegisteredClient {
    /// A client with an ID and optional secret.
    pub fn new(
        issuer: Option<String>,
        client_id: impl Into<String>,
        secret: Option<Secret>,
    ) -> Self {
        PreRegisteredClient {
            issuer,
            client_id: client_id.into(),
            client_secret: secret,
            auth_method: None,
            signing_key: None,
        }
    }

    /// Adds a `private_key_jwt` signing key.
    pub fn with_signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(Arc::new(key));
        self.auth_method = Some(AuthMethod::PrivateKeyJwt);
        self
    }
}

impl fmt::Debug for PreRegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreRegisteredClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_method", &self.auth_method)
            .field("signing_key", &self.signing_key)
            .finish()
    }
}

/// Enterprise-managed authorization (extension
/// `io.modelcontextprotocol/enterprise-managed-authorization`): the enterprise IdP that
/// exchanges the user's ID token for an ID-JAG (RFC 8693 token exchange).
#[derive(Clone)]
#[non_exhaustive]
pub struct IdpTokenExchange {
    /// The IdP's token endpoint.
    pub token_endpoint: String,
    /// Our client ID at the IdP.
    pub client_id: String,
    /// Our client secret at the IdP, if any (sent with `client_secret_post`).
    pub client_secret: Option<Secret>,
    /// The user's ID token from the IdP.
    pub id_token: Secret,
}

impl IdpTokenExchange {
    /// Describes an IdP.
    pub fn new(
        token_endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Option<Secret>,
        id_token: Secret,
    ) -> Self {
        IdpTokenExchange {
            token_endpoint: token_endpoint.into(),
            client_id: client_id.into(),
            client_secret,
            id_token,
        }
    }
}

impl fmt::Debug for IdpTokenExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdpTokenExchange")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("id_token", &self.id_token)
            .finish()
    }
}

/// Configuration of an [`OAuthClient`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// Security policy.
    pub policy: Policy,
    /// `client_name` for dynamic registration.
    pub client_name: String,
    /// MCP protocol version used for the probe and discovery headers.
    pub protocol_version: String,
    /// Operator-registered clients.
    pub pre_registered: Vec<PreRegisteredClient>,
    /// HTTPS URL of our client ID metadata document (CIMD), if we publish one.
    pub client_metadata_url: Option<String>,
    /// Fixed redirect URI (loopback `http://127.0.0.1:<port>/...` or `https://`). `None`: an
    /// ephemeral loopback port for interactive logins, `http://127.0.0.1/callback` headless.
    pub redirect_uri: Option<String>,
    /// Scopes the operator wants in addition to the selected ones.
    pub extra_scopes: Vec<String>,
    /// Ask for `offline_access` when the authorization server lists it. Default `true`.
    pub request_offline_access: bool,
    /// How long an interactive login waits for the redirect. Default 5 minutes.
    pub login_timeout: Duration,
    /// Request DPoP-bound tokens (RFC 9449) when the authorization server supports ES256
    /// proofs. Default `false`: LLM vendors can only present Bearer tokens, so leave it off
    /// for tokens handed to them; callers that talk to the MCP server themselves sign a proof
    /// per request with [`OAuthClient::dpop_proof`].
    pub dpop: bool,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            policy: Policy::default(),
            client_name: "mcpwire".into(),
            protocol_version: "2025-11-25".into(),
            pre_registered: Vec::new(),
            client_metadata_url: None,
            redirect_uri: None,
            extra_scopes: Vec::new(),
            request_offline_access: true,
            login_timeout: Duration::from_secs(300),
            dpop: false,
        }
    }
}

/// How [`OAuthClient::login`] obtains the authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginMode {
    /// Loopback listener on 127.0.0.1; the URL goes to the `on_url` callback, and a browser is
    /// opened (without a shell) when `open_browser` is set.
    Interactive {
        /// Try `xdg-open` / `open`.
        open_browser: bool,
    },
    /// GET the authorization URL with redirects off and read the `Location` header (for
    /// authorization servers that redirect straight back, as test servers do).
    Headless,
}

/// What is known about the stored tokens of one server; never contains token values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenStatus {
    /// MCP server URL.
    pub server_url: String,
    /// RFC 8707 resource.
    pub resource: String,
    /// Issuer.
    pub issuer: String,
    /// Client ID.
    pub client_id: String,
    /// Expiry (Unix seconds).
    pub expires_at: Option<u64>,
    /// Remaining lifetime.
    pub expires_in: Option<Duration>,
    /// Whether a refresh token is stored.
    pub has_refresh_token: bool,
    /// Scope.
    pub scope: Option<String>,
    /// Token type: `Bearer`, or `DPoP` for DPoP-bound tokens.
    pub token_type: String,
}

impl From<&TokenEntry> for TokenStatus {
    fn from(e: &TokenEntry) -> Self {
        TokenStatus {
            server_url: e.server_url.clone(),
            resource: e.resource.clone(),
            issuer: e.issuer.clone(),
            client_id: e.client_id.clone(),
            expires_at: e.expires_at,
            expires_in: e.remaining(),
            has_refresh_token: e.refresh_token.is_some(),
            scope: e.scope.clone(),
            token_type: e.token_type.clone(),
        }
    }
}

/// An authorization request in flight: holds the PKCE verifier, the single-use `state`, the
/// expected issuer and everything needed to redeem the code.
pub struct PendingAuthorization {
    url: String,
    state: Secret,
    verifier: Secret,
    redirect_uri: String,
    expected_issuer: String,
    iss_required: bool,
    discovery: Discovery,
    client: ClientRecord,
    requested_scope: Option<String>,
    consumed: bool,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("issuer", &self.expected_issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field("requested_scope", &self.requested_scope)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    /// The authorization URL to open. It contains the `state`: do not log it.
    pub fn authorization_url(&self) -> &str {
        &self.url
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The scope requested (space-separated), if any.
    pub fn requested_scope(&self) -> Option<&str> {
        self.requested_scope.as_deref()
    }

    /// Validates a callback and returns the code. A missing or wrong `state`, or an `iss` that
    /// fails the RFC 9207 table, leaves this authorization usable for the genuine callback;
    /// after a successful (or `error=`) callback it is consumed.
    fn accept(&mut self, params: &CallbackParams) -> Result<Secret> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if self.consumed {
            return Err(Error::StateMismatch);
        }
        match get("state") {
            Some(s) if Secret::new(s) == self.state => {}
            _ => return Err(Error::StateMismatch),
        }
        match (get("iss"), self.iss_required) {
            (Some(iss), _) if iss != self.expected_issuer => {
                return Err(Error::IssMismatch {
                    expected: self.expected_issuer.clone(),
                    actual: Some(iss.chars().take(200).collect()),
                });
            }
            (None, true) => {
                return Err(Error::IssMismatch {
                    expected: self.expected_issuer.clone(),
                    actual: None,
                });
            }
            _ => {}
        }
        if let Some(err) = get("error") {
            self.consumed = true;
            let error: String = err
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            return Err(Error::AuthorizationDenied { error });
        }
        let code = get("code")
            .filter(|c| !c.is_empty())
            .ok_or(Error::MissingCode)?;
        self.consumed = true;
        Ok(Secret::new(code))
    }
}

#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    client_secret: Option<Secret>,
    token_endpoint_auth_method: Option<String>,
}

/// The OAuth client for MCP servers, bound to one token store.
///
/// ```no_run
/// # async fn demo() -> mcpwire_auth::Result<()> {
/// use std::{sync::Arc, time::Duration};
/// use mcpwire_auth::{FileStore, LoginMode, OAuthClient, OAuthConfig};
///
/// let store = Arc::new(FileStore::new(FileStore::default_path()?));
/// let client = OAuthClient::new(OAuthConfig::default(), store)?;
/// client
///     .login("https://mcp.example.com/mcp", None, LoginMode::Interactive { open_browser: true },
///            |url| eprintln!("open {url}"))
///     .await?;
/// let (token, _expires_in) = client
///     .access_token("https://mcp.example.com/mcp", Duration::from_secs(300))
///     .await?;
/// # let _ = token; Ok(()) }
/// ```
pub struct OAuthClient {
    config: OAuthConfig,
    http: HttpClient,
    store: Arc<dyn TokenStore>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn scope_string(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

fn push_unique(v: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for s in items {
        if !s.is_empty() && !v.contains(&s) {
            v.push(s);
        }
    }
}

impl OAuthClient {
    /// Creates a client. Fails if `redirect_uri` is neither loopback `http` nor `https`.
    pub fn new(config: OAuthConfig, store: Arc<dyn TokenStore>) -> Result<Self> {
        if let Some(r) = &config.redirect_uri {
            let u = check_url("redirect_uri", r, &config.policy, true)?;
            if u.scheme() == "http" && !is_loopback(&u) {
                return Err(Error::InsecureUrl {
                    field: "redirect_uri",
                    reason: "http is allowed on loopback only".into(),
                });
            }
        }
        if let Some(c) = &config.client_metadata_url {
            let u = check_url("client_metadata_url", c, &config.policy, true)?;
            if u.scheme() != "https" || u.path() == "/" {
                return Err(Error::InsecureUrl {
                    field: "client_metadata_url",
                    reason: "must be https with a path".into(),
                });
            }
        }
        let http = HttpClient::new(&config.policy)?;
        Ok(OAuthClient {
            config,
            http,
            store,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    fn discoverer(&self) -> Discoverer<'_> {
        Discoverer {
            http: &self.http,
            policy: &self.config.policy,
            protocol_version: &self.config.protocol_version,
        }
    }

    /// Probes the server (unless a challenge is given) and discovers its authorization server.
    pub async fn discover(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
    ) -> Result<Discovery> {
        self.discoverer().discover(server_url, challenge).await
    }

    fn pre_registered_for(&self, issuer: &str) -> Option<&PreRegisteredClient> {
        self.config
            .pre_registered
            .iter()
            .find(|p| p.issuer.as_deref() == Some(issuer))
            .or_else(|| {
                self.config
                    .pre_registered
                    .iter()
                    .find(|p| p.issuer.is_none())
            })
    }

    /// The scopes for a grant that issues no refresh token (client credentials, JWT bearer,
    /// token exchange): the selected scopes without `offline_access`.
    fn grant_scopes(&self, d: &Discovery) -> Vec<String> {
        self.select_scopes(d, None)
            .into_iter()
            .filter(|s| s != "offline_access")
            .collect()
    }

    /// Scope selection: challenge `scope`, else PRM `scopes_supported`, else none; plus
    /// `previous` (step-up union), operator scopes and `offline_access` when advertised.
    pub fn select_scopes(&self, d: &Discovery, previous: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(prev) = previous {
            push_unique(&mut out, prev.split(' ').map(str::to_owned));
        }
        let from_challenge = d
            .challenge
            .as_ref()
            .and_then(|c| c.scope.clone())
            .filter(|s| !s.is_empty());
        let base = from_challenge.or_else(|| {
            d.prm
                .as_ref()
                .and_then(|p| p.scopes_supported.clone())
                .filter(|s| !s.is_empty())
        });
        push_unique(&mut out, base.unwrap_or_default());
        push_unique(&mut out, self.config.extra_scopes.iter().cloned());
        let md = &d.metadata;
        let as_offline = md
            .scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x == "offline_access"));
        let rt_grant = md
            .grant_types_supported
            .as_ref()
            .is_none_or(|g| g.iter().any(|x| x == "refresh_token"));
        if self.config.request_offline_access && as_offline && rt_grant && !out.is_empty() {
            push_unique(&mut out, ["offline_access".to_owned()]);
        }
        out
    }

    async fn client_for(
        &self,
        d: &Discovery,
        data: &StoreData,
        redirect_uri: &str,
        scope: Option<&str>,
    ) -> Result<(ClientRecord, bool)> {
        let md = &d.metadata;
        if let Some(p) = self.pre_registered_for(&d.issuer) {
            let method = p.auth_method.unwrap_or_else(|| {
                AuthMethod::choose(
                    md.token_endpoint_auth_methods_supported.as_deref(),
                    p.client_secret.is_some(),
                )
            });
            return Ok((
                ClientRecord {
                    issuer: d.issuer.clone(),
                    client_id: p.client_id.clone(),
                    client_secret: p.client_secret.clone(),
                    auth_method: method,
                    redirect_uris: vec![redirect_uri.to_owned()],
                    kind: RegistrationKind::PreRegistered,
                },
                false,
            ));
        }
        if let Some(c) = data.client(&d.issuer) {
            let usable = match c.kind {
                RegistrationKind::Dynamic => c.redirect_uris.iter().any(|r| r == redirect_uri),
                RegistrationKind::MetadataDocument => {
                    self.config.client_metadata_url.as_deref() == Some(c.client_id.as_str())
                }
                RegistrationKind::PreRegistered => false,
            };
            if usable {
                debug!(issuer = %d.issuer, "reusing stored client registration");
                return Ok((c.clone(), false));
            }
        }
        if md.client_id_metadata_document_supported == Some(true)
            && let Some(url) = &self.config.client_metadata_url
        {
            return Ok((
                ClientRecord {
                    issuer: d.issuer.clone(),
                    client_id: url.clone(),
                    client_secret: None,
                    auth_method: AuthMethod::None,
                    redirect_uris: vec![redirect_uri.to_owned()],
                    kind: RegistrationKind::MetadataDocument,
                },
                true,
            ));
        }
        let Some(reg) = &md.registration_endpoint else {
            return Err(Error::NoRegistration {
                issuer: d.issuer.clone(),
            });
        };
        let supported = md.token_endpoint_auth_methods_supported.as_deref();
        let requested = supported.map(|s| {
            ["client_secret_basic", "client_secret_post", "none"]
                .into_iter()
                .find(|m| s.iter().any(|x| x == m))
                .unwrap_or("none")
        });
        let mut body = serde_json::json!({
            "client_name": self.config.client_name,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "application_type": "native",
        });
        if let Some(m) = requested {
            body["token_endpoint_auth_method"] = m.into();
        }
        if let Some(s) = scope {
            body["scope"] = s.into();
        }
        debug!(issuer = %d.issuer, "dynamic client registration");
        let req = self
            .http
            .inner
            .post(reg)
            .header("accept", "application/json")
            .json(&body);
        let resp = self.http.send("client registration", req).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Error::HttpStatus {
                context: "client registration",
                status: resp.status,
            });
        }
        let r: RegistrationResponse = serde_json::from_slice(&resp.body)
            .map_err(|e| Error::json("client registration", &e))?;
        let method = r
            .token_endpoint_auth_method
            .as_deref()
            .and_then(AuthMethod::parse)
            .unwrap_or_else(|| AuthMethod::choose(supported, r.client_secret.is_some()));
        Ok((
            ClientRecord {
                issuer: d.issuer.clone(),
                client_id: r.client_id,
                client_secret: r.client_secret,
                auth_method: method,
                redirect_uris: vec![redirect_uri.to_owned()],
                kind: RegistrationKind::Dynamic,
            },
            true,
        ))
    }

    /// Discovers, registers if needed, and builds an authorization request. `previous_scope`
    /// is unioned in (step-up).
    pub async fn begin_authorization(
        &self,
        d: Discovery,
        redirect_uri: &str,
        previous_scope: Option<&str>,
    ) -> Result<PendingAuthorization> {
        let md = &d.metadata;
        if !md.supports_s256() && !self.config.policy.allow_missing_pkce_metadata {
            return Err(Error::PkceUnsupported {
                issuer: d.issuer.clone(),
            });
        }
        if let Some(rt) = &md.response_types_supported
            && !rt.iter().any(|x| x == "code")
        {
            return Err(Error::invalid(
                "authorization server metadata",
                "response_types_supported lacks code",
            ));
        }
        let endpoint = md.authorization_endpoint.as_deref().ok_or_else(|| {
            Error::invalid("authorization server metadata", "no authorization_endpoint")
        })?;
        let private_ok = true; // already checked during discovery
        let mut url = check_url(
            "authorization_endpoint",
            endpoint,
            &self.config.policy,
            private_ok,
        )?;
        let scopes = self.select_scopes(&d, previous_scope);
        let scope = scope_string(&scopes);
        let data = self.store.load().await?;
        let (client, is_new) = self
            .client_for(&d, &data, redirect_uri, scope.as_deref())
            .await?;
        if is_new {
            let _lock = self.store.lock().await?;
            let mut data = self.store.load().await?;
            data.upsert_client(client.clone());
            self.store.save(&data).await?;
        }
        let pkce = Pkce::new();
        let state = random_secret();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &client.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", state.expose());
            if let Some(s) = &scope {
                q.append_pair("scope", s);
            }
            q.append_pair("resource", &d.resource);
        }
        info!(issuer = %d.issuer, client_id = %client.client_id, scope = scope.as_deref().unwrap_or(""), "authorization request built");
        Ok(PendingAuthorization {
            url: url.into(),
            state,
            verifier: pkce.verifier,
            redirect_uri: redirect_uri.to_owned(),
            expected_issuer: d.issuer.clone(),
            iss_required: md.authorization_response_iss_parameter_supported == Some(true),
            client,
            requested_scope: scope,
            discovery: d,
            consumed: false,
        })
    }

    /// Validates a callback (state, RFC 9207 `iss`, `error=`), redeems the code and stores the
    /// tokens. A wrong state leaves `pending` usable.
    pub async fn complete_authorization(
        &self,
        pending: &mut PendingAuthorization,
        params: &CallbackParams,
    ) -> Result<TokenStatus> {
        let code = pending.accept(params)?;
        let d = &pending.discovery;
        let token_endpoint = token_endpoint(d)?;
        let client = ClientAuth {
            client_id: pending.client.client_id.clone(),
            client_secret: pending.client.client_secret.clone(),
            method: pending.client.auth_method,
        };
        let key = self
            .pre_registered_for(&d.issuer)
            .and_then(|p| p.signing_key.clone());
        let dpop = if self.config.dpop
            && d.metadata
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|a| a.iter().any(|x| x == "ES256"))
        {
            Some(DpopKey::generate()?)
        } else {
            None
        };
        let req = TokenRequest {
            token_endpoint: &token_endpoint,
            params: vec![
                ("grant_type", "authorization_code".into()),
                ("code", code.expose().to_owned()),
                ("redirect_uri", pending.redirect_uri.clone()),
                ("code_verifier", pending.verifier.expose().to_owned()),
                ("resource", d.resource.clone()),
            ],
            secrets: vec![code.clone(), pending.verifier.clone()],
            client: &client,
            signing_key: key.as_deref(),
            audience: &d.issuer,
            dpop: dpop.as_ref(),
        };
        let resp = match req.send(&self.http).await {
            Ok(r) => r,
            Err(e) => {
                if matches!(&e, Error::TokenEndpoint { error, .. } if error == "invalid_client")
                    && pending.client.kind == RegistrationKind::Dynamic
                {
                    // The registration is no longer accepted: forget it so the next login
                    // registers again.
                    let _lock = self.store.lock().await?;
                    let mut data = self.store.load().await?;
                    data.clients.retain(|c| {
                        !(c.issuer == pending.client.issuer
                            && c.client_id == pending.client.client_id)
                    });
                    self.store.save(&data).await?;
                }
                return Err(e);
            }
        };
        let mut entry = self.entry_from(
            d,
            &client.client_id,
            &token_endpoint,
            resp,
            None,
            pending.requested_scope.clone(),
            false,
        );
        entry.dpop_key = dpop.map(|k| k.to_pkcs8_b64().clone());
        self.persist(entry).await
    }

    #[allow(clippy::too_many_arguments)]
    fn entry_from(
        &self,
        d: &Discovery,
        client_id: &str,
        token_endpoint: &str,
        resp: TokenResponse,
        old_refresh: Option<Secret>,
        requested_scope: Option<String>,
        client_credentials: bool,
    ) -> TokenEntry {
        TokenEntry {
            server_url: d.server_url.clone(),
            resource: d.resource.clone(),
            issuer: d.issuer.clone(),
            client_id: client_id.to_owned(),
            token_endpoint: token_endpoint.to_owned(),
            access_token: resp.access_token,
            refresh_token: resp.refresh_token.or(old_refresh),
            expires_at: resp.expires_in.map(|e| unix_now() + e.as_secs()),
            scope: resp.scope.or(requested_scope),
            token_type: resp.token_type,
            client_credentials,
            dpop_key: None,
        }
    }

    async fn persist(&self, entry: TokenEntry) -> Result<TokenStatus> {
        let _lock = self.store.lock().await?;
        let mut data = self.store.load().await?;
        let status = TokenStatus::from(&entry);
        data.upsert(entry);
        self.store.save(&data).await?;
        Ok(status)
    }

    /// Runs the whole authorization-code flow for a server and stores the tokens.
    ///
    /// `challenge` is a `WWW-Authenticate` challenge already received (a 401, or a 403
    /// `insufficient_scope` for step-up: its scopes are unioned with the stored ones); without
    /// one the server is probed. `on_url` receives the authorization URL (interactive mode).
    pub async fn login(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
        mode: LoginMode,
        on_url: impl FnOnce(&str),
    ) -> Result<TokenStatus> {
        let d = self.discover(server_url, challenge).await?;
        let previous = self
            .store
            .load()
            .await?
            .find(server_url)
            .filter(|e| e.issuer == d.issuer)
            .and_then(|e| e.scope.clone());
        match mode {
            LoginMode::Headless => {
                let redirect = self
                    .config
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| "http://127.0.0.1/callback".into());
                let mut pending = self
                    .begin_authorization(d, &redirect, previous.as_deref())
                    .await?;
                let params = self.headless_callback(&pending).await?;
                self.complete_authorization(&mut pending, &params).await
            }
            LoginMode::Interactive { open_browser } => {
                let listener = match &self.config.redirect_uri {
                    Some(r) => {
                        let u = Url::parse(r).map_err(|_| Error::InvalidUrl {
                            field: "redirect_uri",
                        })?;
                        CallbackListener::bind(u.port().unwrap_or(80)).await?
                    }
                    None => {
                        // Reuse the port of a client registered earlier at this issuer, so its
                        // registered redirect URI still matches; else an ephemeral port.
                        let data = self.store.load().await?;
                        let port = data
                            .client(&d.issuer)
                            .filter(|c| c.kind == RegistrationKind::Dynamic)
                            .and_then(|c| c.redirect_uris.first())
                            .and_then(|r| Url::parse(r).ok())
                            .filter(|u| u.host_str() == Some("127.0.0.1"))
                            .and_then(|u| u.port());
                        match port {
                            Some(p) => match CallbackListener::bind(p).await {
                                Ok(l) => l,
                                Err(_) => CallbackListener::bind(0).await?,
                            },
                            None => CallbackListener::bind(0).await?,
                        }
                    }
                };
                let redirect = self
                    .config
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| listener.redirect_uri());
                let mut pending = self
                    .begin_authorization(d, &redirect, previous.as_deref())
                    .await?;
                on_url(pending.authorization_url());
                if open_browser {
                    open_in_browser(pending.authorization_url());
                }
                let deadline = tokio::time::Instant::now() + self.config.login_timeout;
                loop {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    let params = listener.next_callback(left).await?;
                    match self.complete_authorization(&mut pending, &params).await {
                        Err(Error::StateMismatch) => {
                            warn!("discarded a callback with a wrong or missing state");
                        }
                        other => return other,
                    }
                }
            }
        }
    }

    /// Step-up after a 403 `insufficient_scope`: a fresh authorization (a refresh cannot widen
    /// scope) with the union of the stored scope and the challenged one. `attempt` is the number
    /// of step-ups already made for the failing request; at [`Policy::max_step_up`] this fails
    /// with [`Error::StepUpLimit`] without contacting anyone.
    pub async fn step_up(
        &self,
        server_url: &str,
        challenge: BearerChallenge,
        attempt: u32,
        mode: LoginMode,
        on_url: impl FnOnce(&str),
    ) -> Result<TokenStatus> {
        if attempt >= self.config.policy.max_step_up {
            return Err(Error::StepUpLimit { attempts: attempt });
        }
        self.login(server_url, Some(challenge), mode, on_url).await
    }

    /// Headless mode: GET the authorization URL without following redirects and read the
    /// callback parameters from `Location`, which must point at our redirect URI.
    pub async fn headless_callback(
        &self,
        pending: &PendingAuthorization,
    ) -> Result<CallbackParams> {
        let req = self.http.inner.get(pending.authorization_url());
        let resp = self.http.send_raw("authorization request", req).await?;
        if !(300..400).contains(&resp.status) {
            return Err(Error::HttpStatus {
                context: "authorization request",
                status: resp.status,
            });
        }
        let loc = resp.header("location").ok_or_else(|| Error::Callback {
            message: "redirect without location".into(),
        })?;
        let base = Url::parse(pending.authorization_url()).map_err(|_| Error::InvalidUrl {
            field: "authorization_endpoint",
        })?;
        let loc = base.join(loc).map_err(|_| Error::Callback {
            message: "invalid location".into(),
        })?;
        let expected = Url::parse(&pending.redirect_uri).map_err(|_| Error::InvalidUrl {
            field: "redirect_uri",
        })?;
        if loc.origin() != expected.origin() || loc.path() != expected.path() {
            return Err(Error::Callback {
                message: "redirect does not target our redirect uri".into(),
            });
        }
        Ok(loc
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect())
    }

    /// Machine-to-machine: the client-credentials grant (extension
    /// `io.modelcontextprotocol/oauth-client-credentials`) with a pre-registered client,
    /// authenticated by `private_key_jwt` or a client secret.
    pub async fn login_client_credentials(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
    ) -> Result<TokenStatus> {
        let d = self.discover(server_url, challenge).await?;
        let entry = self.client_credentials_grant(&d).await?;
        self.persist(entry).await
    }

    async fn client_credentials_grant(&self, d: &Discovery) -> Result<TokenEntry> {
        let p = self
            .pre_registered_for(&d.issuer)
            .ok_or_else(|| Error::NoRegistration {
                issuer: d.issuer.clone(),
            })?;
        let supported = d.metadata.token_endpoint_auth_methods_supported.as_deref();
        let method = p.auth_method.unwrap_or_else(|| {
            if p.signing_key.is_some() {
                AuthMethod::PrivateKeyJwt
            } else {
                AuthMethod::choose(supported, p.client_secret.is_some())
            }
        });
        let client = ClientAuth {
            client_id: p.client_id.clone(),
            client_secret: p.client_secret.clone(),
            method,
        };
        let token_endpoint = token_endpoint(d)?;
        let scopes = self.grant_scopes(d);
        let mut params = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("resource", d.resource.clone()),
        ];
        if let Some(s) = scope_string(&scopes) {
            params.push(("scope", s));
        }
        let req = TokenRequest {
            token_endpoint: &token_endpoint,
            params,
            secrets: vec![],
            client: &client,
            signing_key: p.signing_key.as_deref(),
            audience: &d.issuer,
            dpop: None,
        };
        let resp = req.send(&self.http).await?;
        Ok(self.entry_from(
            d,
            &client.client_id,
            &token_endpoint,
            resp,
            None,
            scope_string(&scopes),
            true,
        ))
    }

    /// RFC 7523 JWT-bearer grant with an assertion the caller already holds, e.g. a workload
    /// identity token (extension `io.modelcontextprotocol/auth/wif`). The client authenticates
    /// as pre-registered for the issuer, if it is; a rejected assertion is returned as an
    /// error and never retried with another grant.
    pub async fn login_jwt_bearer(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
        assertion: &Secret,
    ) -> Result<TokenStatus> {
        let d = self.discover(server_url, challenge).await?;
        let entry = self.jwt_bearer_grant(&d, assertion).await?;
        self.persist(entry).await
    }

    /// Enterprise-managed authorization: exchanges the IdP ID token for an ID-JAG at the IdP
    /// (audience = the MCP server's issuer, resource = its resource), then redeems the ID-JAG
    /// with the JWT-bearer grant at the authorization server.
    pub async fn login_enterprise(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
        idp: &IdpTokenExchange,
    ) -> Result<TokenStatus> {
        let d = self.discover(server_url, challenge).await?;
        check_url(
            "idp token_endpoint",
            &idp.token_endpoint,
            &self.config.policy,
            true,
        )?;
        let client = ClientAuth {
            client_id: idp.client_id.clone(),
            client_secret: idp.client_secret.clone(),
            method: if idp.client_secret.is_some() {
                AuthMethod::ClientSecretPost
            } else {
                AuthMethod::None
            },
        };
        let mut params = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
            ),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id-jag".to_owned(),
            ),
            ("subject_token", idp.id_token.expose().to_owned()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token".to_owned(),
            ),
            ("audience", d.issuer.clone()),
            ("resource", d.resource.clone()),
        ];
        let scopes = self.grant_scopes(&d);
        if let Some(s) = scope_string(&scopes) {
            params.push(("scope", s));
        }
        debug!(issuer = %d.issuer, "id-jag token exchange at the idp");
        let jag = TokenRequest {
            token_endpoint: &idp.token_endpoint,
            params,
            secrets: vec![idp.id_token.clone()],
            client: &client,
            signing_key: None,
            audience: &idp.token_endpoint,
            dpop: None,
        }
        .send(&self.http)
        .await?;
        let entry = self.jwt_bearer_grant(&d, &jag.access_token).await?;
        self.persist(entry).await
    }

    async fn jwt_bearer_grant(&self, d: &Discovery, assertion: &Secret) -> Result<TokenEntry> {
        let supported = d.metadata.token_endpoint_auth_methods_supported.as_deref();
        let (client, key) = match self.pre_registered_for(&d.issuer) {
            Some(p) => (
                ClientAuth {
                    client_id: p.client_id.clone(),
                    client_secret: p.client_secret.clone(),
                    method: p.auth_method.unwrap_or_else(|| {
                        AuthMethod::choose(supported, p.client_secret.is_some())
                    }),
                },
                p.signing_key.clone(),
            ),
            None => (
                ClientAuth {
                    client_id: String::new(),
                    client_secret: None,
                    method: AuthMethod::None,
                },
                None,
            ),
        };
        let token_endpoint = token_endpoint(d)?;
        let scopes = self.grant_scopes(d);
        let mut params = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned(),
            ),
            ("assertion", assertion.expose().to_owned()),
            ("resource", d.resource.clone()),
        ];
        if let Some(s) = scope_string(&scopes) {
            params.push(("scope", s));
        }
        let resp = TokenRequest {
            token_endpoint: &token_endpoint,
            params,
            secrets: vec![assertion.clone()],
            client: &client,
            signing_key: key.as_deref(),
            audience: &d.issuer,
            dpop: None,
        }
        .send(&self.http)
        .await?;
        Ok(self.entry_from(
            d,
            &client.client_id,
            &token_endpoint,
            resp,
            None,
            scope_string(&scopes),
            false,
        ))
    }

    /// A valid access token for a server, refreshed first when less than `min_remaining` is
    /// left. Refreshes are single-flight: concurrent callers in this process, and processes
    /// sharing a [`FileStore`](crate::FileStore), cause one refresh request; a rotated refresh
    /// token is persisted before the new access token is returned.
    pub async fn access_token(
        &self,
        server_url: &str,
        min_remaining: Duration,
    ) -> Result<(Secret, Option<Duration>)> {
        let data = self.store.load().await?;
        let entry = data.find(server_url).ok_or_else(|| Error::NotLoggedIn {
            server: server_url.to_owned(),
        })?;
        if !entry.needs_refresh(min_remaining) {
            return Ok((entry.access_token.clone(), entry.remaining()));
        }
        let _lock = self.store.lock().await?;
        let mut data = self.store.load().await?;
        let entry = data
            .find(server_url)
            .cloned()
            .ok_or_else(|| Error::NotLoggedIn {
                server: server_url.to_owned(),
            })?;
        if !entry.needs_refresh(min_remaining) {
            debug!("token was refreshed by another caller");
            return Ok((entry.access_token.clone(), entry.remaining()));
        }
        let fresh = self.refresh_entry(&entry, &data).await?;
        let out = (fresh.access_token.clone(), fresh.remaining());
        data.upsert(fresh);
        self.store.save(&data).await?;
        Ok(out)
    }

    async fn refresh_entry(&self, entry: &TokenEntry, data: &StoreData) -> Result<TokenEntry> {
        if entry.client_credentials {
            // Renew with a new grant at the same issuer (metadata re-validated).
            let md = self
                .discoverer()
                .as_metadata(&entry.issuer, true)
                .await?
                .ok_or_else(|| Error::Discovery {
                    what: format!("no authorization server metadata for {}", entry.issuer),
                })?;
            let d = Discovery {
                server_url: entry.server_url.clone(),
                resource: entry.resource.clone(),
                prm: None,
                challenge: None,
                issuer: entry.issuer.clone(),
                metadata: md,
                source: crate::discovery::MetadataSource::ProtectedResource,
            };
            let mut e = self.client_credentials_grant(&d).await?;
            e.scope = e.scope.or(entry.scope.clone());
            return Ok(e);
        }
        let rt = entry.refresh_token.clone().ok_or(Error::LoginRequired {
            server: entry.server_url.clone(),
            reason: "no refresh token",
        })?;
        let (client, key) = match data
            .client(&entry.issuer)
            .filter(|c| c.client_id == entry.client_id)
        {
            Some(c) => (
                ClientAuth {
                    client_id: c.client_id.clone(),
                    client_secret: c.client_secret.clone(),
                    method: c.auth_method,
                },
                None,
            ),
            None => match self
                .pre_registered_for(&entry.issuer)
                .filter(|p| p.client_id == entry.client_id)
            {
                Some(p) => (
                    ClientAuth {
                        client_id: p.client_id.clone(),
                        client_secret: p.client_secret.clone(),
                        method: p.auth_method.unwrap_or(if p.client_secret.is_some() {
                            AuthMethod::ClientSecretBasic
                        } else {
                            AuthMethod::None
                        }),
                    },
                    p.signing_key.clone(),
                ),
                None => (
                    ClientAuth {
                        client_id: entry.client_id.clone(),
                        client_secret: None,
                        method: AuthMethod::None,
                    },
                    None,
                ),
            },
        };
        check_url(
            "token_endpoint",
            &entry.token_endpoint,
            &self.config.policy,
            true,
        )?;
        let dpop = entry
            .dpop_key
            .as_ref()
            .map(DpopKey::from_pkcs8_b64)
            .transpose()?;
        let mut params = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt.expose().to_owned()),
            ("resource", entry.resource.clone()),
        ];
        if let Some(s) = &entry.scope {
            params.push(("scope", s.clone()));
        }
        debug!(issuer = %entry.issuer, "refreshing access token");
        let req = TokenRequest {
            token_endpoint: &entry.token_endpoint,
            params,
            secrets: vec![rt.clone()],
            client: &client,
            signing_key: key.as_deref(),
            audience: &entry.issuer,
            dpop: dpop.as_ref(),
        };
        let resp = req.send(&self.http).await?;
        Ok(TokenEntry {
            access_token: resp.access_token,
            refresh_token: resp.refresh_token.or(Some(rt)),
            expires_at: resp.expires_in.map(|e| unix_now() + e.as_secs()),
            scope: resp.scope.or(entry.scope.clone()),
            token_type: resp.token_type,
            ..entry.clone()
        })
    }

    /// A DPoP proof for a request to the MCP server (`htm`, `url`), bound to the stored access
    /// token (`ath`), with the server's nonce if it asked for one. `None` when the stored
    /// tokens are not DPoP-bound. Present the token as `Authorization: DPoP <token>` with the
    /// proof in the `DPoP` header.
    pub async fn dpop_proof(
        &self,
        server_url: &str,
        htm: &str,
        url: &str,
        nonce: Option<&str>,
    ) -> Result<Option<Secret>> {
        let data = self.store.load().await?;
        let entry = data.find(server_url).ok_or_else(|| Error::NotLoggedIn {
            server: server_url.to_owned(),
        })?;
        let Some(k) = &entry.dpop_key else {
            return Ok(None);
        };
        let key = DpopKey::from_pkcs8_b64(k)?;
        key.proof(htm, url, Some(&entry.access_token), nonce)
            .map(Some)
    }

    /// Stored servers, issuers and expiry; never token values.
    pub async fn status(&self) -> Result<Vec<TokenStatus>> {
        Ok(self
            .store
            .load()
            .await?
            .tokens
            .iter()
            .map(TokenStatus::from)
            .collect())
    }

    /// Removes the tokens stored for a server. Returns whether anything was removed.
    pub async fn logout(&self, server_url: &str) -> Result<bool> {
        let _lock = self.store.lock().await?;
        let mut data = self.store.load().await?;
        let before = data.tokens.len();
        data.tokens.retain(|t| !t.serves(server_url));
        let removed = data.tokens.len() != before;
        if removed {
            self.store.save(&data).await?;
        }
        Ok(removed)
    }
}

/// Opens an http(s) URL in the desktop browser without a shell; errors are ignored.
fn open_in_browser(url: &str) {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// The token endpoint from the authorization server metadata.
fn token_endpoint(d: &Discovery) -> Result<String> {
    d.metadata
        .token_endpoint
        .clone()
        .ok_or_else(|| Error::invalid("authorization server metadata", "no token_endpoint"))
}
