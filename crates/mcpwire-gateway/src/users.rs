//! Who the end user is (`[tenants.users]`): named by the tenant in `x-mcpwire-user`
//! (`mode = "header"`: the tenant's key is trusted to say so), or proven by the user's own
//! token in `x-mcpwire-user-token` (`mode = "jwt"`: verified against the tenant's issuer,
//! audience and JWKS; RS256, ES256 and EdDSA only, never `none` or an HMAC; 60 s of clock
//! skew; the JWKS cached and fetched again for an unknown `kid` at most once a minute).
//! The user id goes into audit lines, logs and the per-user store key; a token never does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcpwire_auth::Secret;

use crate::config::{JwtConfig, Tenant, UserMode};
use crate::error::{GatewayError, Kind};

/// The header a tenant names its user in (`mode = "header"`).
pub(crate) const USER_HEADER: &str = "x-mcpwire-user";
/// The header carrying the user's own token (`mode = "jwt"`).
pub(crate) const USER_TOKEN_HEADER: &str = "x-mcpwire-user-token";

/// A JWKS is fetched again for an unknown `kid` at most this often.
const REFETCH_EVERY: Duration = Duration::from_secs(60);
/// Clock skew accepted on `exp` / `nbf`.
const LEEWAY_SECS: u64 = 60;

/// The end user of a request.
#[derive(Clone)]
pub(crate) struct User {
    /// The id (1-256 printable characters).
    pub(crate) id: String,
    /// The verified token (`mode = "jwt"`), for token exchange.
    pub(crate) token: Option<Secret>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && id.bytes().all(|b| (0x20..0x7f).contains(&b))
}

struct CachedKeys {
    keys: JwkSet,
}

/// JWKS documents by URL, shared by every tenant that names the same one.
#[derive(Default)]
pub(crate) struct Jwks {
    cache: tokio::sync::Mutex<HashMap<String, CachedKeys>>,
    /// When each URL was last fetched because of an unknown `kid`.
    refetched: Mutex<HashMap<String, Instant>>,
}

impl Jwks {
    async fn fetch(http: &reqwest::Client, url: &str) -> Result<JwkSet, String> {
        let r = tokio::time::timeout(Duration::from_secs(10), http.get(url).send())
            .await
            .map_err(|_| "the JWKS did not arrive in time".to_owned())?
            .map_err(|_| "the JWKS could not be fetched".to_owned())?;
        if !r.status().is_success() {
            return Err(format!("the JWKS answered {}", r.status().as_u16()));
        }
        let body = r
            .bytes()
            .await
            .map_err(|_| "the JWKS could not be read".to_owned())?;
        serde_json::from_slice(&body).map_err(|e| format!("the JWKS is not a key set: {e}"))
    }

    /// The key for `kid` (or the only key when the token names none), fetching the set when
    /// it is not cached, and again when `kid` is unknown and the last refetch is a minute old.
    async fn key(
        &self,
        http: &reqwest::Client,
        url: &str,
        kid: Option<&str>,
    ) -> Result<jsonwebtoken::jwk::Jwk, String> {
        let find = |set: &JwkSet| -> Option<jsonwebtoken::jwk::Jwk> {
            match kid {
                Some(k) => set.find(k).cloned(),
                None if set.keys.len() == 1 => set.keys.first().cloned(),
                None => None,
            }
        };
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(url)
            && let Some(k) = find(&c.keys)
        {
            return Ok(k);
        }
        let may_fetch = match cache.get(url) {
            None => true,
            Some(_) => {
                let mut last = self.refetched.lock().unwrap_or_else(|p| p.into_inner());
                let due = last.get(url).is_none_or(|t| t.elapsed() >= REFETCH_EVERY);
                if due {
                    last.insert(url.to_owned(), Instant::now());
                }
                due
            }
        };
        if !may_fetch {
            return Err("unknown kid".to_owned());
        }
        let keys = Self::fetch(http, url).await?;
        let found = find(&keys);
        cache.insert(url.to_owned(), CachedKeys { keys });
        found.ok_or_else(|| {
            if kid.is_some() {
                "unknown kid".to_owned()
            } else {
                "the token names no kid and the JWKS has several keys".to_owned()
            }
        })
    }
}

fn unauthenticated(message: impl Into<String>) -> GatewayError {
    GatewayError::new(Kind::Unauthenticated, message).with_param(USER_TOKEN_HEADER)
}

/// Verifies a user's JWT and returns its user id.
async fn verify(
    jwks: &Jwks,
    http: &reqwest::Client,
    config: &JwtConfig,
    token: &str,
) -> Result<String, GatewayError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| unauthenticated(format!("{USER_TOKEN_HEADER}: not a JWT")))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
    ) {
        return Err(unauthenticated(format!(
            "{USER_TOKEN_HEADER}: algorithm {:?} is not accepted (RS256, ES256 or EdDSA)",
            header.alg
        )));
    }
    let jwk = jwks
        .key(http, &config.jwks_url, header.kid.as_deref())
        .await
        .map_err(|e| unauthenticated(format!("{USER_TOKEN_HEADER}: {e}")))?;
    // The key decides the algorithm family: an RSA key never verifies an ES256 header.
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|_| unauthenticated(format!("{USER_TOKEN_HEADER}: the JWKS key is not usable")))?;
    if let Some(key_alg) = jwk.common.key_algorithm
        && format!("{key_alg:?}") != format!("{:?}", header.alg)
    {
        return Err(unauthenticated(format!(
            "{USER_TOKEN_HEADER}: the token's algorithm is not its key's"
        )));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let data =
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            let why = match e.kind() {
                K::InvalidSignature => "bad signature",
                K::ExpiredSignature => "expired",
                K::ImmatureSignature => "not valid yet",
                K::InvalidIssuer => "wrong issuer",
                K::InvalidAudience => "wrong audience",
                K::MissingRequiredClaim(_) => "a required claim is missing",
                K::InvalidAlgorithm => "algorithm does not match the key",
                _ => "invalid",
            };
            unauthenticated(format!("{USER_TOKEN_HEADER}: {why}"))
        })?;
    let id = match data.claims.get(&config.claim) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => {
            return Err(unauthenticated(format!(
                "{USER_TOKEN_HEADER}: no `{}` claim naming the user",
                config.claim
            )));
        }
    };
    if !valid_id(&id) {
        return Err(unauthenticated(format!(
            "{USER_TOKEN_HEADER}: the `{}` claim is not 1-256 printable characters",
            config.claim
        )));
    }
    Ok(id)
}

/// The end user of a request of `tenant`; `None` when the tenant names no users.
pub(crate) async fn identify(
    tenant: &Tenant,
    headers: &HeaderMap,
    jwks: &Jwks,
    http: &reqwest::Client,
) -> Result<Option<User>, GatewayError> {
    let Some(mode) = &tenant.users else {
        return Ok(None);
    };
    let single = |name: &str| -> Result<Option<&str>, GatewayError> {
        let mut all = headers.get_all(name).iter();
        let first = all.next();
        if all.next().is_some() {
            return Err(
                GatewayError::new(Kind::Invalid, format!("{name}: sent twice")).with_param(name),
            );
        }
        match first {
            None => Ok(None),
            Some(v) => v.to_str().map(Some).map_err(|_| {
                GatewayError::new(Kind::Invalid, format!("{name}: not printable text"))
                    .with_param(name)
            }),
        }
    };
    match mode {
        UserMode::Header => {
            let id = single(USER_HEADER)?.ok_or_else(|| {
                GatewayError::new(
                    Kind::Invalid,
                    format!("{USER_HEADER}: this tenant names its end user in this header (1-256 printable characters)"),
                )
                .with_param(USER_HEADER)
            })?;
            if !valid_id(id) {
                return Err(GatewayError::new(
                    Kind::Invalid,
                    format!("{USER_HEADER}: 1-256 printable characters"),
                )
                .with_param(USER_HEADER));
            }
            Ok(Some(User {
                id: id.to_owned(),
                token: None,
            }))
        }
        UserMode::Jwt(config) => {
            let token = single(USER_TOKEN_HEADER)?.ok_or_else(|| {
                unauthenticated(format!(
                    "{USER_TOKEN_HEADER}: this tenant needs the end user's token in this header"
                ))
            })?;
            let token = token.trim();
            let id = verify(jwks, http, config, token).await?;
            Ok(Some(User {
                id,
                token: Some(Secret::new(token)),
            }))
        }
    }
}
