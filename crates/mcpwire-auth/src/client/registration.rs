//! Which client we are at an authorization server: pre-registered, stored, a client ID
//! metadata document (CIMD) or a dynamic registration (RFC 7591); and scope selection.

use serde::Deserialize;
use tracing::debug;

use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::error_code::OAuthErrorCode;
use crate::secret::Secret;
use crate::store::{ClientRecord, RegistrationKind};
use crate::token::AuthMethod;

use super::{OAuthClient, push_unique};

#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    client_secret: Option<Secret>,
    token_endpoint_auth_method: Option<String>,
}

impl OAuthClient {
    /// The scopes for a grant that issues no refresh token (client credentials, JWT bearer,
    /// token exchange): the selected scopes without `offline_access`.
    pub(super) fn grant_scopes(&self, d: &Discovery) -> Vec<String> {
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

    pub(super) async fn client_for(
        &self,
        d: &Discovery,
        stored: Option<&ClientRecord>,
        redirect_uri: &str,
        scope: Option<&str>,
    ) -> Result<(ClientRecord, bool)> {
        let md = &d.metadata;
        let supported = md.token_endpoint_auth_methods_supported.as_deref();
        if let Some(p) = self.pre_registered_identity(&d.issuer, supported) {
            return Ok((
                ClientRecord {
                    issuer: d.issuer.clone(),
                    client_id: p.auth.client_id,
                    client_secret: p.auth.client_secret,
                    auth_method: p.auth.method,
                    redirect_uris: vec![redirect_uri.to_owned()],
                    kind: RegistrationKind::PreRegistered,
                },
                false,
            ));
        }
        if let Some(c) = stored.filter(|c| c.issuer == d.issuer) {
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
        // Ask for what the same rule would pick for a confidential client.
        let requested =
            supported.map(|_| AuthMethod::decide(None, supported, true, false).as_str());
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
            let error = serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(OAuthErrorCode::parse));
            return Err(Error::RegistrationRejected {
                status: resp.status,
                error,
            });
        }
        let r: RegistrationResponse = serde_json::from_slice(&resp.body)
            .map_err(|e| Error::json("client registration", &e))?;
        // The method the server registered wins; else the one rule decides.
        let registered = r
            .token_endpoint_auth_method
            .as_deref()
            .and_then(AuthMethod::parse);
        let method = AuthMethod::decide(registered, supported, r.client_secret.is_some(), false);
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
}
