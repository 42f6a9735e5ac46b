//! The auth check after a 401: is there a chain a client can get a token through, and if not,
//! which link breaks? The `WWW-Authenticate` challenge, RFC 9728 protected resource metadata,
//! RFC 8414 / OIDC authorization server metadata, PKCE S256 and a way to register a client.
//!
//! Discovery itself is `mcpwire-auth`'s ([`OAuthClient::discover`], the code `mcpwire auth
//! login` runs): the probe reports what it finds, and names the link its error comes from.
//! The vendors never run this chain themselves: the caller obtains the token and hands it over
//! (`authorization` / `authorization_token`), which is why a usable chain is a `warn` until a
//! token is supplied.

use std::sync::Arc;
use std::time::Duration;

use mcpwire_auth::challenge::BearerChallenge;
use mcpwire_auth::discovery::MetadataSource;
use mcpwire_auth::{Error, MemoryStore, OAuthClient, OAuthConfig, Secret};

use crate::report::{Check, CheckId, Status};
use crate::scrubbed;

/// Which link of the chain an `mcpwire-auth` discovery error comes from.
fn link(e: &Error) -> &'static str {
    match e {
        Error::ResourceMismatch { .. } => "protected resource metadata",
        Error::IssuerMismatch { .. } => "authorization server metadata",
        Error::InsecureUrl { field, .. } | Error::InvalidUrl { field } => field,
        Error::InvalidResponse { context, .. }
        | Error::HttpStatus { context, .. }
        | Error::RedirectRefused { context, .. }
        | Error::BodyTooLarge { context, .. }
        | Error::Http { context, .. } => context,
        _ => "discovery",
    }
}

/// The error and its causes on one line.
fn describe(e: &Error) -> String {
    let mut line = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line
}

/// One line naming the link of the chain that broke, and how.
fn broken(e: &Error) -> String {
    match e {
        Error::ResourceMismatch { actual, .. } => format!(
            "OAuth chain broken at the protected resource metadata: it names resource {actual}, not this server"
        ),
        Error::IssuerMismatch { expected, actual } => format!(
            "OAuth chain broken at the authorization server metadata: it says issuer {actual}, but was fetched for {expected}"
        ),
        Error::Discovery { what } => format!("OAuth chain broken: {what}"),
        _ => {
            let (link, detail) = (link(e), describe(e));
            if detail.starts_with(link) {
                format!("OAuth chain broken at the {detail}")
            } else {
                format!("OAuth chain broken at the {link}: {detail}")
            }
        }
    }
}

/// What to tell the user about a 401/403, from the status and the challenge.
pub(crate) async fn check_unauthorized(
    url: &str,
    status: u16,
    www_authenticate: Option<&str>,
    had_credentials: bool,
    secrets: &[&Secret],
    timeout: Duration,
) -> Check {
    let clean = |text: &str| scrubbed(&text.replace(url, "this server"), secrets, 300);
    if status == 403 {
        return Check::new(
            CheckId::Auth,
            Status::Fail,
            "HTTP 403: the server refuses these credentials (a token with more scope, or access, is needed)",
        );
    }
    let challenge = www_authenticate.and_then(BearerChallenge::from_header);
    if had_credentials {
        let error = challenge
            .as_ref()
            .and_then(|c| c.error.as_ref())
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Check::new(
            CheckId::Auth,
            Status::Fail,
            format!(
                "HTTP 401: the server refused the credentials given{}",
                clean(&error)
            ),
        );
    }
    let mut notes = Vec::new();
    match (&www_authenticate, &challenge) {
        (None, _) => notes.push("401 without a WWW-Authenticate header".to_owned()),
        (Some(_), None) => {
            notes.push("401 without a Bearer challenge in WWW-Authenticate".to_owned())
        }
        (Some(_), Some(c)) if c.resource_metadata.is_none() => {
            notes.push("the challenge has no resource_metadata".to_owned())
        }
        _ => {}
    }
    let mut config = OAuthConfig::default();
    config.policy.timeout = timeout;
    let client = match OAuthClient::new(config, Arc::new(MemoryStore::new())) {
        Ok(c) => c,
        Err(e) => {
            return Check::new(CheckId::Auth, Status::Fail, clean(&describe(&e)));
        }
    };
    let discovery = match client.discover(url, challenge.clone()).await {
        Ok(d) => d,
        Err(e) => {
            let mut why = broken(&e);
            if !notes.is_empty() {
                why = format!("{} ({})", why, notes.join("; "));
            }
            return Check::new(CheckId::Auth, Status::Fail, clean(&why));
        }
    };
    let md = &discovery.metadata;
    let issuer = &discovery.issuer;
    if !md.supports_s256() {
        return Check::new(
            CheckId::Auth,
            Status::Fail,
            clean(&format!(
                "OAuth chain broken at the authorization server metadata: {issuer} does not list S256 in code_challenge_methods_supported (PKCE S256 is required)"
            )),
        );
    }
    if md
        .response_types_supported
        .as_ref()
        .is_some_and(|t| !t.iter().any(|x| x == "code"))
    {
        return Check::new(
            CheckId::Auth,
            Status::Fail,
            clean(&format!(
                "OAuth chain broken at the authorization server metadata: {issuer} does not list the code response type"
            )),
        );
    }
    let registration = if md.registration_endpoint.is_some() {
        "dynamic client registration"
    } else if md.client_id_metadata_document_supported == Some(true) {
        "client ID metadata documents"
    } else {
        notes.push(
            "no registration endpoint and no client ID metadata documents: only a pre-registered client (mcpwire auth login --client-id) can log in".to_owned(),
        );
        "pre-registered clients only"
    };
    let start = match discovery.source {
        MetadataSource::ProtectedResource => "protected resource metadata",
        MetadataSource::LegacyMetadata => {
            notes.push("no protected resource metadata (RFC 9728): 2025-03-26 style metadata at the server's origin".to_owned());
            "2025-03-26 metadata"
        }
        _ => "default endpoints",
    };
    let mut why = format!(
        "OAuth required; chain usable: 401 -> {start} -> issuer {issuer} -> PKCE S256, {registration}. Tools not checked: log in with `mcpwire auth login` and probe with --login (or --token)"
    );
    if !notes.is_empty() {
        why.push_str(&format!(" [{}]", notes.join("; ")));
    }
    Check::new(CheckId::Auth, Status::Warn, clean(&why))
}
