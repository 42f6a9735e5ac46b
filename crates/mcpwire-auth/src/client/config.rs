//! Configuration of an [`OAuthClient`](super::OAuthClient): pre-registered clients, the
//! enterprise IdP, the login mode.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::http::Policy;
use crate::secret::Secret;
use crate::token::{AuthMethod, SigningKey};

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

    /// Forces the token-endpoint authentication method instead of letting the server
    /// metadata decide.
    pub fn with_auth_method(mut self, method: AuthMethod) -> Self {
        self.auth_method = Some(method);
        self
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

/// Configuration of an [`OAuthClient`](crate::OAuthClient).
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
    /// per request with [`OAuthClient::dpop_proof`](crate::OAuthClient::dpop_proof).
    pub dpop: bool,
    /// How long a refresh lease lasts: a replica that dies mid-refresh blocks the others for
    /// at most this long. Never shorter than the policy's request timeout plus 5 s (a lease
    /// that ran out mid-request would let a second replica redeem the same refresh token).
    /// Default 45 s.
    pub refresh_lease: Duration,
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
            refresh_lease: Duration::from_secs(45),
        }
    }
}

/// How [`OAuthClient::login`](crate::OAuthClient::login) obtains the authorization response.
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
