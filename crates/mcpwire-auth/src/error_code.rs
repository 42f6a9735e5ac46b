//! [`OAuthErrorCode`]: the `error` values of OAuth responses and challenges as a type, so
//! callers match on variants instead of comparing strings.

use std::fmt;

/// An OAuth `error` code, from a token endpoint, an authorization response, a registration
/// endpoint or a `WWW-Authenticate` challenge. Codes this crate does not know are kept in
/// [`Other`](Self::Other), reduced to the RFC 6749 §5.2 character set and cut to 64
/// characters.
///
/// ```
/// use mcpwire_auth::OAuthErrorCode;
/// assert_eq!(OAuthErrorCode::parse("invalid_grant"), OAuthErrorCode::InvalidGrant);
/// assert_eq!(OAuthErrorCode::parse("slow_down").as_str(), "slow_down");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// RFC 6749: `invalid_request`.
    InvalidRequest,
    /// RFC 6749: `invalid_client` (client authentication failed).
    InvalidClient,
    /// RFC 6749: `invalid_grant` (code, refresh token or assertion rejected).
    InvalidGrant,
    /// RFC 6749: `unauthorized_client`.
    UnauthorizedClient,
    /// RFC 6749: `unsupported_grant_type`.
    UnsupportedGrantType,
    /// RFC 6749: `invalid_scope`.
    InvalidScope,
    /// RFC 6749: `access_denied` (the user or server refused the authorization).
    AccessDenied,
    /// RFC 6749: `unsupported_response_type`.
    UnsupportedResponseType,
    /// RFC 6749: `server_error`.
    ServerError,
    /// RFC 6749: `temporarily_unavailable`.
    TemporarilyUnavailable,
    /// RFC 6750: `invalid_token` (in a resource server challenge).
    InvalidToken,
    /// RFC 6750: `insufficient_scope` (in a resource server challenge; step-up).
    InsufficientScope,
    /// RFC 7591: `invalid_redirect_uri`.
    InvalidRedirectUri,
    /// RFC 7591: `invalid_client_metadata`.
    InvalidClientMetadata,
    /// RFC 7591: `invalid_software_statement`.
    InvalidSoftwareStatement,
    /// RFC 7591: `unapproved_software_statement`.
    UnapprovedSoftwareStatement,
    /// RFC 8693 (and RFC 8707): `invalid_target`.
    InvalidTarget,
    /// RFC 9449: `invalid_dpop_proof`.
    InvalidDpopProof,
    /// RFC 9449: `use_dpop_nonce` (retry with the server's nonce).
    UseDpopNonce,
    /// Any other code, sanitised.
    Other(String),
}

const KNOWN: [(&str, OAuthErrorCode); 19] = [
    ("invalid_request", OAuthErrorCode::InvalidRequest),
    ("invalid_client", OAuthErrorCode::InvalidClient),
    ("invalid_grant", OAuthErrorCode::InvalidGrant),
    ("unauthorized_client", OAuthErrorCode::UnauthorizedClient),
    (
        "unsupported_grant_type",
        OAuthErrorCode::UnsupportedGrantType,
    ),
    ("invalid_scope", OAuthErrorCode::InvalidScope),
    ("access_denied", OAuthErrorCode::AccessDenied),
    (
        "unsupported_response_type",
        OAuthErrorCode::UnsupportedResponseType,
    ),
    ("server_error", OAuthErrorCode::ServerError),
    (
        "temporarily_unavailable",
        OAuthErrorCode::TemporarilyUnavailable,
    ),
    ("invalid_token", OAuthErrorCode::InvalidToken),
    ("insufficient_scope", OAuthErrorCode::InsufficientScope),
    ("invalid_redirect_uri", OAuthErrorCode::InvalidRedirectUri),
    (
        "invalid_client_metadata",
        OAuthErrorCode::InvalidClientMetadata,
    ),
    (
        "invalid_software_statement",
        OAuthErrorCode::InvalidSoftwareStatement,
    ),
    (
        "unapproved_software_statement",
        OAuthErrorCode::UnapprovedSoftwareStatement,
    ),
    ("invalid_target", OAuthErrorCode::InvalidTarget),
    ("invalid_dpop_proof", OAuthErrorCode::InvalidDpopProof),
    ("use_dpop_nonce", OAuthErrorCode::UseDpopNonce),
];

impl OAuthErrorCode {
    /// The code for a received `error` value. Unknown values become [`Other`](Self::Other)
    /// holding at most 64 characters of `A-Z a-z 0-9 _ - .`.
    pub fn parse(s: &str) -> Self {
        if let Some((_, c)) = KNOWN.iter().find(|(n, _)| *n == s) {
            return c.clone();
        }
        OAuthErrorCode::Other(
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                .take(64)
                .collect(),
        )
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            OAuthErrorCode::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(_, c)| c == known)
                .map_or("", |(n, _)| n),
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_round_trip() {
        for (name, code) in &KNOWN {
            assert_eq!(&OAuthErrorCode::parse(name), code);
            assert_eq!(code.as_str(), *name);
        }
    }

    #[test]
    fn unknown_codes_are_sanitised() {
        let c = OAuthErrorCode::parse("weird\r\n\u{1b}[31m<b>code</b>");
        assert_eq!(c, OAuthErrorCode::Other("weird31mbcodeb".into()));
        assert_eq!(OAuthErrorCode::parse(&"x".repeat(500)).as_str().len(), 64);
    }
}
