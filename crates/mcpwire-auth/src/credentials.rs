//! Per-server [`Credentials`] and what they resolve to before a vendor request ([`Resolved`]).

use std::fmt;
#[cfg(feature = "client")]
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "client")]
use crate::client::OAuthClient;
use crate::error::Result;
use crate::secret::Secret;

/// How requests to one MCP server are authenticated.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// No authentication.
    None,
    /// A static bearer token.
    Bearer(Secret),
    /// Static headers (name, value).
    Headers(Vec<(String, Secret)>),
    /// OAuth tokens kept (and refreshed) by an `OAuthClient` and its store (feature `client`).
    #[cfg(feature = "client")]
    OAuth(Arc<OAuthClient>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
            Credentials::Headers(h) => f
                .debug_list()
                .entries(h.iter().map(|(n, _)| format!("{n}: [redacted]")))
                .finish(),
            #[cfg(feature = "client")]
            Credentials::OAuth(_) => f.write_str("OAuth"),
        }
    }
}

/// What a vendor request needs for one MCP server.
#[non_exhaustive]
pub enum Resolved {
    /// Nothing.
    None,
    /// An access token for `Authorization: Bearer` (OpenAI `authorization`, Anthropic
    /// `authorization_token`) with its remaining lifetime, if known.
    Bearer {
        /// The token.
        token: Secret,
        /// Remaining lifetime.
        expires_in: Option<Duration>,
    },
    /// Headers to send verbatim (OpenAI `headers`).
    Headers(Vec<(String, Secret)>),
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolved::None => f.write_str("None"),
            Resolved::Bearer { expires_in, .. } => f
                .debug_struct("Bearer")
                .field("token", &"[redacted]")
                .field("expires_in", expires_in)
                .finish(),
            Resolved::Headers(h) => f
                .debug_list()
                .entries(h.iter().map(|(n, _)| format!("{n}: [redacted]")))
                .finish(),
        }
    }
}

impl Credentials {
    /// Resolves the credentials for `server_url` (the exact URL placed in the vendor request;
    /// for OAuth it must be the server the tokens were obtained for). OAuth tokens with less
    /// than `min_remaining` left are refreshed first (single-flight); pass the expected
    /// duration of the vendor call plus some skew, since the vendor cannot refresh mid-call.
    ///
    /// ```
    /// # async fn demo() -> mcpwire_auth::Result<()> {
    /// use std::time::Duration;
    /// use mcpwire_auth::{Credentials, Resolved, Secret};
    ///
    /// let creds = Credentials::Bearer(Secret::new("static-token"));
    /// match creds.resolve("https://mcp.example.com/mcp", Duration::from_secs(300)).await? {
    ///     Resolved::Bearer { token, .. } => assert_eq!(token.expose(), "static-token"),
    ///     _ => unreachable!(),
    /// }
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    #[cfg_attr(not(feature = "client"), allow(unused_variables))]
    pub async fn resolve(&self, server_url: &str, min_remaining: Duration) -> Result<Resolved> {
        Ok(match self {
            Credentials::None => Resolved::None,
            Credentials::Bearer(t) => Resolved::Bearer {
                token: t.clone(),
                expires_in: None,
            },
            Credentials::Headers(h) => Resolved::Headers(h.clone()),
            #[cfg(feature = "client")]
            Credentials::OAuth(client) => {
                let (token, expires_in) = client.access_token(server_url, min_remaining).await?;
                Resolved::Bearer { token, expires_in }
            }
        })
    }
}
