//! Grants without a user: client credentials, RFC 7523 JWT bearer, enterprise-managed
//! authorization (ID-JAG token exchange).

use tracing::debug;

use crate::challenge::BearerChallenge;
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::http::check_url;
use crate::secret::Secret;
use crate::store::TokenEntry;
use crate::token::{TOKEN_EXCHANGE, TokenRequest};

use super::method::{Identity, idp_identity};
use super::{IdpTokenExchange, OAuthClient, TokenStatus, scope_string, token_endpoint};

impl OAuthClient {
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

    pub(super) async fn client_credentials_grant(&self, d: &Discovery) -> Result<TokenEntry> {
        let supported = d.metadata.token_endpoint_auth_methods_supported.as_deref();
        let Identity { auth: client, key } = self
            .pre_registered_identity(&d.issuer, supported)
            .ok_or_else(|| Error::NoRegistration {
                issuer: d.issuer.clone(),
            })?;
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
            signing_key: key.as_deref(),
            audience: &d.issuer,
            dpop: None,
        };
        let resp = req.send(&self.http).await?;
        Ok(self.entry_from(
            d,
            &client,
            &token_endpoint,
            resp,
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
        let Identity { auth: client, .. } = idp_identity(idp);
        let mut params = vec![
            ("grant_type", TOKEN_EXCHANGE.to_owned()),
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

    pub(super) async fn jwt_bearer_grant(
        &self,
        d: &Discovery,
        assertion: &Secret,
    ) -> Result<TokenEntry> {
        let supported = d.metadata.token_endpoint_auth_methods_supported.as_deref();
        let Identity { auth: client, key } = self.pre_registered_or_anonymous(&d.issuer, supported);
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
            &client,
            &token_endpoint,
            resp,
            scope_string(&scopes),
            false,
        ))
    }
}
