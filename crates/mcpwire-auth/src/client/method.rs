//! Which client identity goes with a token request, and how it authenticates. Every grant
//! (authorization code, refresh, client credentials, JWT bearer, ID-JAG exchange) gets its
//! method from [`AuthMethod::decide`] here, from the server metadata and the client record;
//! the choice is stored with the token entry and a refresh reuses it.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::{ClientRecord, TokenEntry};
use crate::token::{AuthMethod, ClientAuth, SigningKey};

use super::{IdpTokenExchange, OAuthClient};

/// A client identity for one token request: who we are and the key for `private_key_jwt`.
pub(super) struct Identity {
    pub(super) auth: ClientAuth,
    pub(super) key: Option<Arc<SigningKey>>,
}

impl Identity {
    /// A public client (`none`); an empty `client_id` is left out of the request.
    fn public(client_id: &str) -> Self {
        Identity {
            auth: ClientAuth {
                client_id: client_id.to_owned(),
                client_secret: None,
                method: AuthMethod::None,
            },
            key: None,
        }
    }
}

/// The methods assumed for an enterprise IdP, whose metadata is not fetched: RFC 8693
/// deployments accept `client_secret_post`, and `none` for public clients.
const IDP_METHODS: [&str; 2] = ["client_secret_post", "none"];

impl OAuthClient {
    /// The pre-registered client for `issuer`, authenticating as [`AuthMethod::decide`] says
    /// for the server's `token_endpoint_auth_methods_supported`.
    pub(super) fn pre_registered_identity(
        &self,
        issuer: &str,
        supported: Option<&[String]>,
    ) -> Option<Identity> {
        let p = self.pre_registered_for(issuer)?;
        let method = AuthMethod::decide(
            p.auth_method,
            supported,
            p.client_secret.is_some(),
            p.signing_key.is_some(),
        );
        Some(Identity {
            auth: ClientAuth {
                client_id: p.client_id.clone(),
                client_secret: p.client_secret.clone(),
                method,
            },
            key: p.signing_key.clone(),
        })
    }

    /// The pre-registered client for `issuer`, or a public client without an ID (JWT bearer
    /// without a registration).
    pub(super) fn pre_registered_or_anonymous(
        &self,
        issuer: &str,
        supported: Option<&[String]>,
    ) -> Identity {
        self.pre_registered_identity(issuer, supported)
            .unwrap_or_else(|| Identity::public(""))
    }

    /// The identity that refreshes `entry`: the stored client registration or the
    /// pre-registered client it was issued to, with the method stored in the entry. Entries
    /// stored before the method was recorded get it decided again from fresh metadata, by the
    /// same rule as at login.
    pub(super) async fn refresh_identity(
        &self,
        entry: &TokenEntry,
        stored: Option<&ClientRecord>,
    ) -> Result<Identity> {
        let (secret, key, explicit) =
            match stored.filter(|c| c.issuer == entry.issuer && c.client_id == entry.client_id) {
                Some(c) => (c.client_secret.clone(), None, Some(c.auth_method)),
                None => match self
                    .pre_registered_for(&entry.issuer)
                    .filter(|p| p.client_id == entry.client_id)
                {
                    Some(p) => (
                        p.client_secret.clone(),
                        p.signing_key.clone(),
                        p.auth_method,
                    ),
                    None => return Ok(Identity::public(&entry.client_id)),
                },
            };
        let method = match entry.auth_method.or(explicit) {
            Some(m) => m,
            None => {
                let md = self
                    .discoverer()
                    .as_metadata(&entry.issuer, true)
                    .await?
                    .ok_or_else(|| Error::Discovery {
                        what: format!("no authorization server metadata for {}", entry.issuer),
                    })?;
                AuthMethod::decide(
                    None,
                    md.token_endpoint_auth_methods_supported.as_deref(),
                    secret.is_some(),
                    key.is_some(),
                )
            }
        };
        Ok(Identity {
            auth: ClientAuth {
                client_id: entry.client_id.clone(),
                client_secret: secret,
                method,
            },
            key,
        })
    }
}

/// Our client at an enterprise IdP (ID-JAG token exchange), by the same rule with
/// [`IDP_METHODS`] as the server's list.
pub(super) fn idp_identity(idp: &IdpTokenExchange) -> Identity {
    let supported = IDP_METHODS.map(str::to_owned);
    Identity {
        auth: ClientAuth {
            client_id: idp.client_id.clone(),
            client_secret: idp.client_secret.clone(),
            method: AuthMethod::decide(None, Some(&supported), idp.client_secret.is_some(), false),
        },
        key: None,
    }
}
