//! HTTP plumbing: URL policy (HTTPS except loopback, no `javascript:`/`file:`/`data:`, no
//! link-local or metadata hosts), a reqwest client that never follows redirects, and capped
//! response bodies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::{Host, Url};

use crate::error::{Error, Result};

/// Security switches. The defaults are strict; each field relaxes one rule.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Policy {
    /// Accept `http://` on loopback hosts (`localhost`, `127.0.0.0/8`, `::1`). Default `true`.
    pub allow_http_loopback: bool,
    /// Accept an authorization server that does not advertise `code_challenge_methods_supported`
    /// with `S256`. Default `false`.
    pub allow_missing_pkce_metadata: bool,
    /// 2025-03-26 fallback: with no metadata at all, use `/authorize`, `/token`, `/register` on
    /// the MCP server's origin. Default `false` (a server that blocks discovery could otherwise
    /// harvest refresh tokens at its own `/token`).
    pub allow_legacy_endpoints: bool,
    /// Accept private-network hosts (RFC 1918, CGNAT, ULA, link-local, cloud metadata) in
    /// server-supplied URLs. Default `false`; private hosts are accepted anyway when the MCP
    /// server itself is on a private network.
    pub allow_private_hosts: bool,
    /// Accept token and registration endpoints on another origin than the issuer. Default `false`.
    pub allow_cross_origin_endpoints: bool,
    /// Per-request timeout. Default 30 s.
    pub timeout: Duration,
    /// Response body cap. Default 1 MiB.
    pub max_body: usize,
    /// Maximum number of step-up re-authorizations after the first one. Default 2.
    pub max_step_up: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow_http_loopback: true,
            allow_missing_pkce_metadata: false,
            allow_legacy_endpoints: false,
            allow_private_hosts: false,
            allow_cross_origin_endpoints: false,
            timeout: Duration::from_secs(30),
            max_body: 1024 * 1024,
            max_step_up: 2,
        }
    }
}

/// Whether a host is loopback.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || v4 == Ipv4Addr::new(169, 254, 169, 254)
                || v4.is_unspecified()
                || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6.is_unspecified()
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private_ip(IpAddr::V4(v4)))
        }
    }
}

/// Whether the URL's host is a private, link-local or metadata address (IP literals and the
/// well-known metadata names only; names are not resolved).
pub(crate) fn is_private_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => is_private_ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_private_ip(IpAddr::V6(ip)),
        Some(Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "metadata.google.internal" || d == "metadata" || d.ends_with(".internal")
        }
        None => false,
    }
}

/// Parses and checks a URL against the policy. `private_ok` is true when the MCP server itself
/// is on a private network.
pub(crate) fn check_url(
    field: &'static str,
    raw: &str,
    policy: &Policy,
    private_ok: bool,
) -> Result<Url> {
    let url = Url::parse(raw).map_err(|_| Error::InvalidUrl { field })?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http_loopback && is_loopback(&url) => {}
        "http" => {
            return Err(Error::InsecureUrl {
                field,
                reason: "http is allowed on loopback only".into(),
            });
        }
        other => {
            return Err(Error::InsecureUrl {
                field,
                reason: format!("scheme {other}: is not http(s)"),
            });
        }
    }
    if url.host().is_none() {
        return Err(Error::InvalidUrl { field });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InsecureUrl {
            field,
            reason: "credentials in url".into(),
        });
    }
    if url.fragment().is_some() {
        return Err(Error::InsecureUrl {
            field,
            reason: "fragment in url".into(),
        });
    }
    if is_private_host(&url) && !(policy.allow_private_hosts || private_ok) {
        return Err(Error::InsecureUrl {
            field,
            reason: "private, link-local or metadata host".into(),
        });
    }
    Ok(url)
}

/// Same origin (scheme, host, port).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// A reqwest client with redirects off, a timeout and a body cap.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) max_body: usize,
}

/// A fully read response.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub(crate) fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
    }
}

impl HttpClient {
    /// Builds the client (installs the rustls ring provider if none is installed yet).
    pub(crate) fn new(policy: &Policy) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .user_agent(concat!("mcpwire-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::http("building http client", e))?;
        Ok(HttpClient {
            inner,
            max_body: policy.max_body,
        })
    }

    /// Sends a request and reads the body up to the cap. A 3xx is an error.
    pub(crate) async fn send(
        &self,
        context: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<Response> {
        let resp = self.send_raw(context, req).await?;
        if (300..400).contains(&resp.status) {
            return Err(Error::RedirectRefused {
                context,
                status: resp.status,
            });
        }
        Ok(resp)
    }

    /// Like [`send`](Self::send) but returns 3xx responses as they are.
    pub(crate) async fn send_raw(
        &self,
        context: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<Response> {
        let mut resp = req.send().await.map_err(|e| Error::http(context, e))?;
        let status = resp.status().as_u16();
        if resp
            .content_length()
            .is_some_and(|l| l > self.max_body as u64)
        {
            return Err(Error::BodyTooLarge {
                context,
                limit: self.max_body,
            });
        }
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Error::http(context, e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(Error::BodyTooLarge {
                    context,
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_policy_table() {
        let p = Policy::default();
        let ok = |u: &str| check_url("x", u, &p, false).is_ok();
        assert!(ok("https://as.example.com/token"));
        assert!(ok("http://127.0.0.1:8080/token"));
        assert!(ok("http://localhost:1/x"));
        assert!(ok("http://[::1]:1/x"));
        assert!(!ok("http://as.example.com/token"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("data:text/html,hi"));
        assert!(!ok("https://169.254.169.254/latest"));
        assert!(!ok("https://10.0.0.1/x"));
        assert!(!ok("https://user:pw@as.example.com/x"));
        assert!(check_url("x", "https://10.0.0.1/x", &p, true).is_ok());
    }
}
