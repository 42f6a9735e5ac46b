//! The crate's one [`Error`] type. No variant ever holds a token, code, verifier, state or
//! client secret; server-supplied text is redacted and cut before it is stored here.

use crate::error_code::OAuthErrorCode;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while discovering, authorizing, refreshing or storing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL uses a scheme or host the policy refuses (`http://` off loopback, `javascript:`, ...).
    #[error("insecure {field} url: {reason}")]
    InsecureUrl {
        /// Which URL (e.g. `token_endpoint`).
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A URL does not parse.
    #[error("invalid {field} url")]
    InvalidUrl {
        /// Which URL.
        field: &'static str,
    },
    /// Authorization server metadata names another issuer than the one it was fetched for.
    #[error("issuer mismatch: expected {expected}, metadata says {actual}")]
    IssuerMismatch {
        /// Issuer used to build the metadata URL.
        expected: String,
        /// `issuer` in the document.
        actual: String,
    },
    /// RFC 9207: the `iss` of the authorization response is missing or differs.
    #[error("authorization response issuer mismatch: expected {expected}, got {}", actual.as_deref().unwrap_or("none"))]
    IssMismatch {
        /// Recorded issuer.
        expected: String,
        /// `iss` received, if any.
        actual: Option<String>,
    },
    /// The protected resource metadata describes another resource than the server we call.
    #[error("resource mismatch: server {expected}, metadata resource {actual}")]
    ResourceMismatch {
        /// The MCP server URL.
        expected: String,
        /// PRM `resource`.
        actual: String,
    },
    /// The authorization server does not advertise PKCE S256.
    #[error("authorization server {issuer} does not advertise PKCE S256")]
    PkceUnsupported {
        /// The issuer.
        issuer: String,
    },
    /// A stored authorization request was completed after it expired (it is gone now).
    #[error("the authorization request expired; start it again")]
    AuthorizationExpired,
    /// The callback's `state` is missing, wrong or already used.
    #[error("authorization callback state mismatch")]
    StateMismatch,
    /// The authorization server answered the callback with `error=`.
    #[error("authorization denied: {error}")]
    AuthorizationDenied {
        /// The `error` code (never the description).
        error: OAuthErrorCode,
    },
    /// The callback has neither `code` nor `error`.
    #[error("authorization callback has no code")]
    MissingCode,
    /// Network or protocol failure.
    #[cfg(feature = "client")]
    #[error("{context}: http request failed")]
    Http {
        /// What was being fetched.
        context: &'static str,
        /// The cause, stripped of its URL.
        #[source]
        source: reqwest::Error,
    },
    /// Unexpected HTTP status.
    #[error("{context}: unexpected status {status}")]
    HttpStatus {
        /// What was being fetched.
        context: &'static str,
        /// The status code.
        status: u16,
    },
    /// A redirect was returned where none is followed.
    #[error("{context}: refused to follow redirect (status {status})")]
    RedirectRefused {
        /// What was being fetched.
        context: &'static str,
        /// The status code.
        status: u16,
    },
    /// A response body exceeded the cap.
    #[error("{context}: response body larger than {limit} bytes")]
    BodyTooLarge {
        /// What was being fetched.
        context: &'static str,
        /// The cap.
        limit: usize,
    },
    /// A response could not be decoded (the message never quotes the payload).
    #[error("{context}: invalid response: {message}")]
    InvalidResponse {
        /// What was being decoded.
        context: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A field of a token response is unusable: a `token_type` other than `Bearer` / `DPoP`,
    /// a control character (CR, LF, ...) in a token field, an `expires_in` that is negative or
    /// not a number. The value itself is never quoted.
    #[error("token response: invalid {field}: {reason}")]
    InvalidTokenField {
        /// The field (`access_token`, `refresh_token`, `token_type`, `scope`, `expires_in`).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Discovery found no usable document.
    #[error("discovery failed: {what}")]
    Discovery {
        /// What could not be found.
        what: String,
    },
    /// No client identity can be obtained for this authorization server.
    #[error("no client registration possible for {issuer}")]
    NoRegistration {
        /// The issuer.
        issuer: String,
    },
    /// The token endpoint answered with an OAuth error.
    #[error("token endpoint error {error} (status {status}){}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    TokenEndpoint {
        /// HTTP status.
        status: u16,
        /// OAuth `error` code.
        error: OAuthErrorCode,
        /// `error_description`, redacted and cut.
        description: Option<String>,
    },
    /// Dynamic client registration (RFC 7591) was refused.
    #[error("client registration refused (status {status}){}", error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    RegistrationRejected {
        /// HTTP status.
        status: u16,
        /// The RFC 7591 `error` code, when the body carried one.
        error: Option<OAuthErrorCode>,
    },
    /// The refresh token was rejected (`invalid_grant`); log in again.
    #[error("refresh token rejected; run the login again")]
    RefreshRejected,
    /// No stored credentials for this server.
    #[error("not logged in to {server}")]
    NotLoggedIn {
        /// The server URL.
        server: String,
    },
    /// Stored credentials cannot be renewed without a new login.
    #[error("login required for {server}: {reason}")]
    LoginRequired {
        /// The server URL.
        server: String,
        /// Why.
        reason: &'static str,
    },
    /// Step-up authorization did not succeed within the retry cap.
    #[error("step-up authorization failed after {attempts} attempts")]
    StepUpLimit {
        /// Attempts made.
        attempts: u32,
    },
    /// The loopback callback listener or the headless redirect failed.
    #[error("callback listener: {message}")]
    Callback {
        /// What went wrong.
        message: String,
        /// The I/O cause, if any.
        #[source]
        source: Option<std::io::Error>,
    },
    /// Signing a client assertion failed.
    #[error("client assertion: {message}")]
    Jwt {
        /// What went wrong.
        message: String,
    },
    /// The token store failed.
    #[error("token store: {context}")]
    Store {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Option<std::io::Error>,
    },
    /// The caller asked for something this client does not do.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What.
        what: String,
    },
    /// The token store cannot be reached (e.g. Redis down); no stored token was used.
    #[error("token store {store} unavailable: {message}")]
    StoreUnavailable {
        /// Which store (`redis`).
        store: &'static str,
        /// What failed (no secrets, no credentials from the store URL).
        message: String,
    },
    /// A stored record cannot be decrypted with the configured keys: the key it names is
    /// missing, or the record was encrypted with another key under that id, or tampered with.
    #[error("token store record cannot be decrypted with key {key_id}: {reason}")]
    StoreDecrypt {
        /// The key id stored with the record.
        key_id: String,
        /// Why.
        reason: &'static str,
    },
    /// The store's encryption key configuration is unusable.
    #[error("token store key: {reason}")]
    StoreKey {
        /// Why (never the key).
        reason: String,
    },
    /// Another caller held the refresh lease and no fresh token appeared in time.
    #[error("timed out waiting for another replica to refresh the token of {server}")]
    RefreshWait {
        /// The server URL.
        server: String,
    },
}

#[cfg_attr(not(feature = "client"), allow(dead_code))]
impl Error {
    /// Whether only a new login can fix this: no stored tokens ([`Error::NotLoggedIn`]),
    /// tokens that cannot be renewed ([`Error::LoginRequired`]) or a rejected refresh token
    /// ([`Error::RefreshRejected`]). Network failures and server errors are `false`.
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            Error::NotLoggedIn { .. } | Error::LoginRequired { .. } | Error::RefreshRejected
        )
    }

    #[cfg(feature = "client")]
    pub(crate) fn http(context: &'static str, source: reqwest::Error) -> Self {
        Error::Http {
            context,
            source: source.without_url(),
        }
    }

    pub(crate) fn invalid(context: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidResponse {
            context,
            message: message.into(),
        }
    }

    pub(crate) fn callback(message: impl Into<String>, source: Option<std::io::Error>) -> Self {
        Error::Callback {
            message: message.into(),
            source,
        }
    }

    pub(crate) fn store(context: impl Into<String>, source: Option<std::io::Error>) -> Self {
        Error::Store {
            context: context.into(),
            source,
        }
    }

    /// A JSON error described by category and position only (serde messages can quote values).
    pub(crate) fn json(context: &'static str, e: &serde_json::Error) -> Self {
        let kind = match e.classify() {
            serde_json::error::Category::Io => "io error",
            serde_json::error::Category::Syntax => "malformed json",
            serde_json::error::Category::Data => "unexpected json shape",
            serde_json::error::Category::Eof => "truncated json",
        };
        Error::invalid(
            context,
            format!("{kind} at line {} column {}", e.line(), e.column()),
        )
    }
}
