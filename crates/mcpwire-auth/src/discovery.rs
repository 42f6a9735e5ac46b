//! Discovery: the unauthenticated probe, protected resource metadata (RFC 9728) and
//! authorization server metadata (RFC 8414 / OpenID Connect Discovery) in the order of the MCP
//! authorization spec, with the checks each step requires.

use serde::Deserialize;
use tracing::debug;
use url::Url;

use crate::challenge::BearerChallenge;
use crate::error::{Error, Result};
use crate::http::{HttpClient, Policy, check_url, is_private_host, same_origin};

/// Protected resource metadata (RFC 9728), the fields we use.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier, kept verbatim.
    pub resource: Option<String>,
    /// Issuers of the authorization servers.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes the resource understands.
    pub scopes_supported: Option<Vec<String>>,
}

/// Authorization server metadata (RFC 8414 / OIDC), the fields we use.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuthServerMetadata {
    /// Issuer identifier.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Token endpoint.
    pub token_endpoint: Option<String>,
    /// Dynamic client registration endpoint.
    pub registration_endpoint: Option<String>,
    /// Scopes.
    pub scopes_supported: Option<Vec<String>>,
    /// Response types.
    pub response_types_supported: Option<Vec<String>>,
    /// Grant types.
    pub grant_types_supported: Option<Vec<String>>,
    /// PKCE methods.
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Token endpoint client authentication methods.
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Client ID metadata documents (CIMD) accepted.
    pub client_id_metadata_document_supported: Option<bool>,
    /// RFC 9207 `iss` in authorization responses.
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// RFC 9449 DPoP algorithms.
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// RFC 7009 token revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
}

impl AuthServerMetadata {
    /// Whether S256 PKCE is advertised.
    pub fn supports_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_ref()
            .is_some_and(|m| m.iter().any(|x| x == "S256"))
    }
}

/// Where the authorization server metadata came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataSource {
    /// PRM named the authorization server (2025-06-18 and later).
    ProtectedResource,
    /// No PRM; metadata at the MCP server's origin (2025-03-26).
    LegacyMetadata,
    /// No metadata at all; default `/authorize`, `/token`, `/register` (2025-03-26, opt-in).
    LegacyDefaults,
}

/// The result of discovery for one MCP server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Discovery {
    /// The MCP server URL as given.
    pub server_url: String,
    /// The `resource` to send on authorize, token and refresh requests: the PRM `resource`
    /// verbatim (or the server URL as given in the legacy modes).
    pub resource: String,
    /// Protected resource metadata, if found.
    pub prm: Option<ProtectedResourceMetadata>,
    /// The challenge from the probe, if any.
    pub challenge: Option<BearerChallenge>,
    /// The chosen issuer.
    pub issuer: String,
    /// Validated authorization server metadata.
    pub metadata: AuthServerMetadata,
    /// Provenance.
    pub source: MetadataSource,
}

/// The PRM URLs to try for an MCP server, in order (header URL not included).
///
/// ```text
/// let u = url::Url::parse("https://ex.com/public/mcp").unwrap();
/// assert_eq!(prm_candidates(&u), [
///     "https://ex.com/.well-known/oauth-protected-resource/public/mcp",
///     "https://ex.com/.well-known/oauth-protected-resource",
/// ]);
/// ```
pub(crate) fn prm_candidates(server: &Url) -> Vec<String> {
    let origin = server.origin().ascii_serialization();
    let root = format!("{origin}/.well-known/oauth-protected-resource");
    let path = server.path().trim_end_matches('/');
    let mut out = Vec::new();
    if !path.is_empty() {
        let mut s = format!("{root}{path}");
        if let Some(q) = server.query() {
            s.push('?');
            s.push_str(q);
        }
        out.push(s);
    }
    out.push(root);
    out
}

/// The authorization server metadata URLs to try for an issuer, in the spec's order.
///
/// ```text
/// let u = url::Url::parse("https://auth.ex.com/tenant1").unwrap();
/// assert_eq!(as_metadata_candidates(&u), [
///     "https://auth.ex.com/.well-known/oauth-authorization-server/tenant1",
///     "https://auth.ex.com/.well-known/openid-configuration/tenant1",
///     "https://auth.ex.com/tenant1/.well-known/openid-configuration",
/// ]);
/// ```
pub(crate) fn as_metadata_candidates(issuer: &Url) -> Vec<String> {
    let origin = issuer.origin().ascii_serialization();
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    }
}

/// Whether a PRM `resource` identifies the MCP server: same origin, and the resource path is
/// the server path or a path-boundary prefix of it. No fragment allowed.
pub(crate) fn resource_matches(server: &Url, resource: &str) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.fragment().is_some() || !same_origin(server, &r) {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    let sp = server.path().trim_end_matches('/');
    rp.is_empty() || sp == rp || sp.starts_with(&format!("{rp}/"))
}

/// JSON-RPC body used to probe a server, by protocol version.
pub(crate) fn probe_body(protocol_version: &str) -> serde_json::Value {
    if protocol_version >= "2026-07-28" {
        serde_json::json!({
            "jsonrpc": "2.0", "id": 0, "method": "server/discover",
            "params": {"_meta": {
                "io.modelcontextprotocol/protocolVersion": protocol_version,
                "io.modelcontextprotocol/clientCapabilities": {},
            }}
        })
    } else {
        serde_json::json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": protocol_version,
                "capabilities": {},
                "clientInfo": {"name": "mcpwire-auth", "version": env!("CARGO_PKG_VERSION")},
            }
        })
    }
}

pub(crate) struct Discoverer<'a> {
    pub(crate) http: &'a HttpClient,
    pub(crate) policy: &'a Policy,
    pub(crate) protocol_version: &'a str,
}

impl Discoverer<'_> {
    /// POSTs an unauthenticated request and returns the Bearer challenge of a 401, if any.
    pub(crate) async fn probe(&self, server: &Url) -> Result<(u16, Option<BearerChallenge>)> {
        let req = self
            .http
            .inner
            .post(server.as_str())
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", self.protocol_version)
            .json(&probe_body(self.protocol_version));
        // Only the status and headers matter; the body (possibly an event stream) is not read.
        let resp = req.send().await.map_err(|e| Error::http("probe", e))?;
        let status = resp.status().as_u16();
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(BearerChallenge::from_header);
        debug!(status, has_challenge = challenge.is_some(), "probe");
        Ok((status, challenge))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        context: &'static str,
        url: &str,
    ) -> Result<Option<T>> {
        let req = self
            .http
            .inner
            .get(url)
            .header("accept", "application/json")
            .header("mcp-protocol-version", self.protocol_version);
        let resp = match self.http.send(context, req).await {
            Ok(r) => r,
            Err(Error::RedirectRefused { status, .. }) => {
                debug!(url, status, "discovery redirect not followed");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if !(200..300).contains(&resp.status) {
            debug!(url, status = resp.status, "discovery candidate unavailable");
            return Ok(None);
        }
        serde_json::from_slice(&resp.body)
            .map(Some)
            .map_err(|e| Error::json(context, &e))
    }

    /// Full discovery. `challenge` is a challenge already seen (skips the probe).
    pub(crate) async fn discover(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
    ) -> Result<Discovery> {
        let server = check_url("server", server_url, self.policy, true)?;
        let private_ok = is_private_host(&server) || crate::http::is_loopback(&server);
        let (status, challenge) = match challenge {
            Some(c) => (401, Some(c)),
            None => self.probe(&server).await?,
        };

        // Protected resource metadata: header URL (same origin only), path-aware, root.
        let mut candidates = Vec::new();
        if let Some(rm) = challenge
            .as_ref()
            .and_then(|c| c.resource_metadata.as_deref())
        {
            match Url::parse(rm) {
                Ok(u) if same_origin(&u, &server) => candidates.push(rm.to_owned()),
                _ => debug!("ignoring cross-origin or invalid resource_metadata url"),
            }
        }
        for c in prm_candidates(&server) {
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
        let mut prm: Option<ProtectedResourceMetadata> = None;
        for c in &candidates {
            check_url("resource_metadata", c, self.policy, private_ok)?;
            if let Some(doc) = self
                .get_json::<ProtectedResourceMetadata>("protected resource metadata", c)
                .await?
            {
                prm = Some(doc);
                break;
            }
        }

        if let Some(prm) = prm {
            let resource = prm
                .resource
                .clone()
                .ok_or_else(|| Error::invalid("protected resource metadata", "missing resource"))?;
            if !resource_matches(&server, &resource) {
                return Err(Error::ResourceMismatch {
                    expected: server_url.to_owned(),
                    actual: resource,
                });
            }
            let issuer = prm.authorization_servers.first().cloned().ok_or_else(|| {
                Error::invalid("protected resource metadata", "no authorization_servers")
            })?;
            let metadata = self
                .as_metadata(&issuer, private_ok)
                .await?
                .ok_or_else(|| Error::Discovery {
                    what: format!("no authorization server metadata for {issuer}"),
                })?;
            return Ok(Discovery {
                server_url: server_url.to_owned(),
                resource,
                prm: Some(prm),
                challenge,
                issuer,
                metadata,
                source: MetadataSource::ProtectedResource,
            });
        }

        if status != 401 {
            return Err(Error::Discovery {
                what: format!("server did not ask for authorization (status {status})"),
            });
        }
        // 2025-03-26: the MCP server's origin is the authorization server.
        let issuer = server.origin().ascii_serialization();
        if let Some(metadata) = self.as_metadata(&issuer, private_ok).await? {
            return Ok(Discovery {
                server_url: server_url.to_owned(),
                resource: server_url.to_owned(),
                prm: None,
                challenge,
                issuer,
                metadata,
                source: MetadataSource::LegacyMetadata,
            });
        }
        if !self.policy.allow_legacy_endpoints {
            return Err(Error::Discovery {
                what: "no protected resource or authorization server metadata".into(),
            });
        }
        let metadata = AuthServerMetadata {
            issuer: issuer.clone(),
            authorization_endpoint: Some(format!("{issuer}/authorize")),
            token_endpoint: Some(format!("{issuer}/token")),
            registration_endpoint: Some(format!("{issuer}/register")),
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            response_types_supported: Some(vec!["code".into()]),
            ..Default::default()
        };
        Ok(Discovery {
            server_url: server_url.to_owned(),
            resource: server_url.to_owned(),
            prm: None,
            challenge,
            issuer,
            metadata,
            source: MetadataSource::LegacyDefaults,
        })
    }

    /// Fetches and validates authorization server metadata for an issuer.
    pub(crate) async fn as_metadata(
        &self,
        issuer: &str,
        private_ok: bool,
    ) -> Result<Option<AuthServerMetadata>> {
        let issuer_url = check_url("issuer", issuer, self.policy, private_ok)?;
        for c in as_metadata_candidates(&issuer_url) {
            let Some(md) = self
                .get_json::<AuthServerMetadata>("authorization server metadata", &c)
                .await?
            else {
                continue;
            };
            if md.issuer != issuer {
                return Err(Error::IssuerMismatch {
                    expected: issuer.to_owned(),
                    actual: md.issuer,
                });
            }
            validate_endpoints(&md, &issuer_url, self.policy, private_ok)?;
            return Ok(Some(md));
        }
        Ok(None)
    }
}

fn validate_endpoints(
    md: &AuthServerMetadata,
    issuer: &Url,
    policy: &Policy,
    private_ok: bool,
) -> Result<()> {
    if let Some(a) = &md.authorization_endpoint {
        check_url("authorization_endpoint", a, policy, private_ok)?;
    }
    for (field, v) in [
        ("token_endpoint", &md.token_endpoint),
        ("registration_endpoint", &md.registration_endpoint),
    ] {
        if let Some(v) = v {
            let u = check_url(field, v, policy, private_ok)?;
            if !policy.allow_cross_origin_endpoints && !same_origin(&u, issuer) {
                return Err(Error::InsecureUrl {
                    field,
                    reason: "not on the issuer's origin".into(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prm_urls() {
        let u = Url::parse("https://ex.com").unwrap();
        assert_eq!(
            prm_candidates(&u),
            ["https://ex.com/.well-known/oauth-protected-resource"]
        );
        let u = Url::parse("https://ex.com/mcp/?x=1").unwrap();
        assert_eq!(
            prm_candidates(&u)[0],
            "https://ex.com/.well-known/oauth-protected-resource/mcp?x=1"
        );
    }

    #[test]
    fn as_urls_root() {
        let u = Url::parse("https://auth.ex.com").unwrap();
        assert_eq!(
            as_metadata_candidates(&u),
            [
                "https://auth.ex.com/.well-known/oauth-authorization-server",
                "https://auth.ex.com/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn resource_matching() {
        let s = Url::parse("http://localhost:9/mcp").unwrap();
        assert!(resource_matches(&s, "http://localhost:9/mcp"));
        assert!(resource_matches(&s, "http://localhost:9"));
        assert!(resource_matches(&s, "http://localhost:9/"));
        assert!(!resource_matches(&s, "http://localhost:9/mc"));
        assert!(!resource_matches(&s, "https://evil.example.com/mcp"));
        assert!(!resource_matches(&s, "http://localhost:9/mcp#frag"));
        assert!(!resource_matches(&s, "http://localhost:10/mcp"));
    }
}
