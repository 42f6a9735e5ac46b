//! Token endpoint requests (authorization code, refresh, client credentials), hand-written
//! rather than through `oauth2`: we need the RFC 8707 `resource` string byte-identical,
//! form-encoded as well as JSON responses, redacted error bodies and our own [`Secret`] type.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tracing::debug;

use crate::error::{Error, Result};
use crate::error_code::OAuthErrorCode;
use crate::http::HttpClient;
use crate::secret::{Secret, redact};

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthMethod {
    /// HTTP Basic with the client secret.
    ClientSecretBasic,
    /// `client_secret` in the form body.
    ClientSecretPost,
    /// Public client: `client_id` in the body only.
    None,
    /// RFC 7523 signed assertion.
    PrivateKeyJwt,
}

impl AuthMethod {
    /// The RFC 8414 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Parses an RFC 8414 name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "client_secret_basic" => AuthMethod::ClientSecretBasic,
            "client_secret_post" => AuthMethod::ClientSecretPost,
            "none" => AuthMethod::None,
            "private_key_jwt" => AuthMethod::PrivateKeyJwt,
            _ => return None,
        })
    }

    /// The one rule that decides how a client authenticates at a token endpoint, for every
    /// grant (authorization code, refresh, client credentials, JWT bearer, ID-JAG exchange):
    ///
    /// 1. a method the operator forced (`explicit`) wins;
    /// 2. a client with a signing key uses `private_key_jwt` when the server lists it (or lists
    ///    nothing);
    /// 3. a client with a secret uses `client_secret_basic`, else `client_secret_post`, as the
    ///    server lists them; an absent list means the RFC 8414 default, `client_secret_basic`;
    /// 4. anything else is a public client (`none`: `client_id` in the body).
    ///
    /// The result is stored with the token entry and reused on refresh.
    pub(crate) fn decide(
        explicit: Option<AuthMethod>,
        supported: Option<&[String]>,
        has_secret: bool,
        has_key: bool,
    ) -> AuthMethod {
        if let Some(m) = explicit {
            return m;
        }
        let listed = |m: &str| supported.is_some_and(|list| list.iter().any(|x| x == m));
        if has_key && (supported.is_none() || listed("private_key_jwt")) {
            return AuthMethod::PrivateKeyJwt;
        }
        if has_secret {
            if supported.is_none() || listed("client_secret_basic") {
                return AuthMethod::ClientSecretBasic;
            }
            if listed("client_secret_post") {
                return AuthMethod::ClientSecretPost;
            }
        }
        AuthMethod::None
    }
}

enum KeyPair {
    Es256(ring::signature::EcdsaKeyPair),
    Rs256(ring::signature::RsaKeyPair),
}

/// A signing key for `private_key_jwt` (ES256 or RS256).
pub struct SigningKey {
    key: KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.key {
            KeyPair::Es256(_) => "SigningKey(ES256, [redacted])",
            KeyPair::Rs256(_) => "SigningKey(RS256, [redacted])",
        })
    }
}

impl SigningKey {
    /// Loads a P-256 (ES256) or RSA (RS256) private key from a PKCS#8 PEM.
    pub fn from_pkcs8_pem(pem: &Secret) -> Result<Self> {
        let b64 = Secret::new(
            pem.expose()
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::trim)
                .collect::<String>(),
        );
        let der =
            zeroize::Zeroizing::new(STANDARD.decode(b64.expose()).map_err(|_| Error::Jwt {
                message: "private key is not base64 pem".into(),
            })?);
        Self::from_pkcs8_der(&der)
    }

    /// Loads a P-256 (ES256) or RSA (RS256) private key from PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let rng = ring::rand::SystemRandom::new();
        if let Ok(k) = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            der,
            &rng,
        ) {
            return Ok(SigningKey {
                key: KeyPair::Es256(k),
            });
        }
        ring::signature::RsaKeyPair::from_pkcs8(der)
            .map(|k| SigningKey {
                key: KeyPair::Rs256(k),
            })
            .map_err(|_| Error::Jwt {
                message: "private key is neither a P-256 nor an RSA PKCS#8 key".into(),
            })
    }

    /// The JWS `alg`.
    pub fn alg(&self) -> &'static str {
        match self.key {
            KeyPair::Es256(_) => "ES256",
            KeyPair::Rs256(_) => "RS256",
        }
    }

    /// Signs an RFC 7523 client assertion (`iss` = `sub` = client_id, `aud` = audience,
    /// five minutes of validity, random `jti`).
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> Result<Secret> {
        let now = unix_now();
        let mut jti = [0u8; 16];
        rand::rng().fill_bytes(&mut jti);
        let header = serde_json::json!({"alg": self.alg(), "typ": "JWT"});
        let claims = serde_json::json!({
            "iss": client_id, "sub": client_id, "aud": audience,
            "iat": now, "exp": now + 300, "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = ring::rand::SystemRandom::new();
        let fail = |_| Error::Jwt {
            message: "signing failed".into(),
        };
        let sig = match &self.key {
            KeyPair::Es256(k) => k
                .sign(&rng, input.as_bytes())
                .map_err(fail)?
                .as_ref()
                .to_vec(),
            KeyPair::Rs256(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(fail)?;
                sig
            }
        };
        Ok(Secret::new(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(sig)
        )))
    }
}

/// A DPoP key (RFC 9449, ES256) that binds tokens to this client and signs a proof per
/// request. Opt-in with [`OAuthConfig::dpop`](crate::OAuthConfig::dpop).
pub(crate) struct DpopKey {
    pair: ring::signature::EcdsaKeyPair,
    pkcs8: Secret,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopKey(ES256, [redacted])")
    }
}

/// `htu` of a proof: the URL without query and fragment.
fn htu(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

impl DpopKey {
    /// A fresh P-256 key.
    pub(crate) fn generate() -> Result<Self> {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .map_err(|_| Error::Jwt {
            message: "cannot generate a dpop key".into(),
        })?;
        Self::from_pkcs8_b64(&Secret::new(STANDARD.encode(doc.as_ref())))
    }

    /// Loads a key saved with [`to_pkcs8_b64`](Self::to_pkcs8_b64).
    pub(crate) fn from_pkcs8_b64(b64: &Secret) -> Result<Self> {
        use ring::signature::KeyPair as _;
        let der =
            zeroize::Zeroizing::new(STANDARD.decode(b64.expose()).map_err(|_| Error::Jwt {
                message: "dpop key is not base64".into(),
            })?);
        let rng = ring::rand::SystemRandom::new();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &rng,
        )
        .map_err(|_| Error::Jwt {
            message: "dpop key is not a P-256 PKCS#8 key".into(),
        })?;
        let public = pair.public_key().as_ref();
        if public.len() != 65 {
            return Err(Error::Jwt {
                message: "unexpected P-256 public key encoding".into(),
            });
        }
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
        });
        Ok(DpopKey {
            pair,
            pkcs8: b64.clone(),
            jwk,
        })
    }

    /// The private key as base64 PKCS#8, for the token store.
    pub(crate) fn to_pkcs8_b64(&self) -> &Secret {
        &self.pkcs8
    }

    /// A proof for one request: `htm`/`htu` of the request, `ath` when presenting an access
    /// token, and the server's nonce when it asked for one.
    pub(crate) fn proof(
        &self,
        htm: &str,
        url: &str,
        access_token: Option<&Secret>,
        nonce: Option<&str>,
    ) -> Result<Secret> {
        let mut jti = [0u8; 16];
        rand::rng().fill_bytes(&mut jti);
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let mut claims = serde_json::json!({
            "jti": URL_SAFE_NO_PAD.encode(jti), "htm": htm, "htu": htu(url), "iat": unix_now(),
        });
        if let Some(at) = access_token {
            claims["ath"] = s256(at.expose()).into();
        }
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = ring::rand::SystemRandom::new();
        let sig = self
            .pair
            .sign(&rng, input.as_bytes())
            .map_err(|_| Error::Jwt {
                message: "dpop signing failed".into(),
            })?;
        Ok(Secret::new(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        )))
    }
}

/// Client identity used at the token endpoint.
#[derive(Clone)]
pub(crate) struct ClientAuth {
    /// Client ID.
    pub client_id: String,
    /// Client secret, if any.
    pub client_secret: Option<Secret>,
    /// Method.
    pub method: AuthMethod,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("method", &self.method)
            .finish()
    }
}

/// A PKCE pair.
pub(crate) struct Pkce {
    pub(crate) verifier: Secret,
    pub(crate) challenge: String,
}

/// 32 random bytes, base64url: used for verifiers and states.
pub(crate) fn random_secret() -> Secret {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    Secret::new(URL_SAFE_NO_PAD.encode(b))
}

/// S256 challenge of a verifier.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

impl Pkce {
    pub(crate) fn new() -> Self {
        let verifier = random_secret();
        let challenge = s256(verifier.expose());
        Pkce {
            verifier,
            challenge,
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A successful token response.
pub(crate) struct TokenResponse {
    /// Access token.
    pub access_token: Secret,
    /// Token type (usually `Bearer`).
    pub token_type: String,
    /// Lifetime.
    pub expires_in: Option<Duration>,
    /// Refresh token, if issued.
    pub refresh_token: Option<Secret>,
    /// Granted scope, if returned.
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A token request ready to send. `params` never includes client auth; `secrets` lists every
/// secret value in it, for redaction of echoed error bodies.
pub(crate) struct TokenRequest<'a> {
    pub(crate) token_endpoint: &'a str,
    pub(crate) params: Vec<(&'static str, String)>,
    pub(crate) secrets: Vec<Secret>,
    pub(crate) client: &'a ClientAuth,
    pub(crate) signing_key: Option<&'a SigningKey>,
    /// Audience for a client assertion (the issuer).
    pub(crate) audience: &'a str,
    /// DPoP key: a proof goes with the request (retried once with a `use_dpop_nonce` nonce).
    pub(crate) dpop: Option<&'a DpopKey>,
}

fn form_urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TokenRequest<'_> {
    /// Adds the client's authentication (parameters or an `Authorization` header).
    fn authenticate(&mut self) -> Result<Option<Secret>> {
        let mut auth_header: Option<Secret> = None;
        match self.client.method {
            AuthMethod::ClientSecretBasic => {
                let secret = self
                    .client
                    .client_secret
                    .as_ref()
                    .ok_or(Error::Unsupported {
                        what: "client_secret_basic without a client secret".into(),
                    })?;
                let raw = format!(
                    "{}:{}",
                    form_urlencode(&self.client.client_id),
                    form_urlencode(secret.expose())
                );
                auth_header = Some(Secret::new(format!("Basic {}", STANDARD.encode(raw))));
                self.secrets.push(secret.clone());
            }
            AuthMethod::ClientSecretPost => {
                let secret = self
                    .client
                    .client_secret
                    .as_ref()
                    .ok_or(Error::Unsupported {
                        what: "client_secret_post without a client secret".into(),
                    })?;
                self.params
                    .push(("client_id", self.client.client_id.clone()));
                self.params
                    .push(("client_secret", secret.expose().to_owned()));
                self.secrets.push(secret.clone());
            }
            AuthMethod::None => {
                if !self.client.client_id.is_empty() {
                    self.params
                        .push(("client_id", self.client.client_id.clone()));
                }
            }
            AuthMethod::PrivateKeyJwt => {
                let key = self.signing_key.ok_or(Error::Unsupported {
                    what: "private_key_jwt without a signing key".into(),
                })?;
                let assertion = key.client_assertion(&self.client.client_id, self.audience)?;
                self.params
                    .push(("client_id", self.client.client_id.clone()));
                self.params.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                self.params
                    .push(("client_assertion", assertion.expose().to_owned()));
                self.secrets.push(assertion);
            }
        }
        Ok(auth_header)
    }

    /// Sends the form (with a DPoP proof and one `use_dpop_nonce` retry when asked).
    async fn post(
        &self,
        http: &HttpClient,
        auth_header: Option<&Secret>,
        what: &'static str,
    ) -> Result<crate::http::Response> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let body = Secret::new(body);
        let mut nonce: Option<String> = None;
        let resp = loop {
            let mut req = http
                .inner
                .post(self.token_endpoint)
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.expose().to_owned());
            if let Some(h) = auth_header {
                req = req.header("authorization", h.expose());
            }
            if let Some(key) = self.dpop {
                let proof = key.proof("POST", self.token_endpoint, None, nonce.as_deref())?;
                req = req.header("dpop", proof.expose());
            }
            let resp = http.send(what, req).await?;
            let new_nonce = resp.header("dpop-nonce").map(str::to_owned);
            let wants_nonce = self.dpop.is_some()
                && nonce.is_none()
                && matches!(resp.status, 400 | 401)
                && new_nonce.is_some()
                && parse_fields(&resp.body, resp.is_json()).is_ok_and(|f| {
                    f.get("error").map(|e| OAuthErrorCode::parse(e))
                        == Some(OAuthErrorCode::UseDpopNonce)
                });
            if wants_nonce {
                debug!("token endpoint asked for a dpop nonce; retrying once");
                nonce = new_nonce;
                continue;
            }
            break resp;
        };
        Ok(resp)
    }

    /// RFC 7009: revokes a token; any 2xx is success.
    pub(crate) async fn revoke(mut self, http: &HttpClient) -> Result<()> {
        let auth_header = self.authenticate()?;
        let resp = self
            .post(http, auth_header.as_ref(), "token revocation")
            .await?;
        if (200..300).contains(&resp.status) {
            Ok(())
        } else {
            Err(Error::HttpStatus {
                context: "token revocation",
                status: resp.status,
            })
        }
    }

    pub(crate) async fn send(mut self, http: &HttpClient) -> Result<TokenResponse> {
        let auth_header = self.authenticate()?;
        let grant = self
            .params
            .iter()
            .find(|(k, _)| *k == "grant_type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        debug!(grant_type = %grant, method = self.client.method.as_str(), "token request");
        let resp = self
            .post(http, auth_header.as_ref(), "token request")
            .await?;
        let secret_refs: Vec<&Secret> = self.secrets.iter().collect();
        let fields = parse_fields(&resp.body, resp.is_json())?;
        if !(200..300).contains(&resp.status) {
            let error = OAuthErrorCode::parse(
                &fields
                    .get("error")
                    .map(|e| redact(e, &secret_refs))
                    .unwrap_or_else(|| "unknown_error".into()),
            );
            let description = fields
                .get("error_description")
                .map(|d| redact(d, &secret_refs));
            debug!(status = resp.status, error = %error, "token endpoint error");
            if error == OAuthErrorCode::InvalidGrant && grant == "refresh_token" {
                return Err(Error::RefreshRejected);
            }
            return Err(Error::TokenEndpoint {
                status: resp.status,
                error,
                description,
            });
        }
        let access_token = token_field(&fields, "access_token")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::invalid("token response", "missing access_token"))?;
        let token_type = match token_field(&fields, "token_type")? {
            // RFC 6749 makes it required; servers that leave it out mean Bearer.
            None => "Bearer".to_owned(),
            // RFC 8693 §2.2.1: a token exchange that issues no access token (an ID-JAG)
            // says `N_A`.
            Some(t) if grant == TOKEN_EXCHANGE && t == "N_A" => "N_A".to_owned(),
            Some(t) => normalize_token_type(t)?.to_owned(),
        };
        let expires_in = token_field(&fields, "expires_in")?
            .map(|v| parse_expires_in(v))
            .transpose()?;
        Ok(TokenResponse {
            access_token: Secret::new(access_token.clone()),
            token_type,
            expires_in,
            refresh_token: token_field(&fields, "refresh_token")?
                .filter(|t| !t.is_empty())
                .map(|t| Secret::new(t.clone())),
            scope: token_field(&fields, "scope")?.cloned(),
        })
    }
}

/// The RFC 8693 token-exchange grant type.
pub(crate) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The longest access-token lifetime taken from a token response: one year. A larger
/// `expires_in` (`1e30`, `18446744073709551615`) is cut to this, so the token is renewed
/// after a year at the latest (or as soon as a server rejects it).
pub(crate) const MAX_EXPIRES_IN: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `expires_in` as a lifetime: a non-negative number of seconds (fractions dropped), cut to
/// [`MAX_EXPIRES_IN`]. Negative, non-numeric or non-finite values are an
/// [`Error::InvalidTokenField`]: an unusable lifetime never means "never expires".
pub(crate) fn parse_expires_in(v: &str) -> Result<Duration> {
    let bad = |reason| Error::InvalidTokenField {
        field: "expires_in",
        reason,
    };
    let secs: f64 = v.trim().parse().map_err(|_| bad("not a number"))?;
    if !secs.is_finite() {
        return Err(bad("not a finite number"));
    }
    if secs < 0.0 {
        return Err(bad("negative"));
    }
    // `as` saturates; the clamp keeps the result far below any overflow.
    Ok(Duration::from_secs(secs as u64).min(MAX_EXPIRES_IN))
}

/// `Bearer` or `DPoP` (RFC 6749 §7.1 and RFC 9449: case-insensitive), in canonical spelling.
pub(crate) fn normalize_token_type(t: &str) -> Result<&'static str> {
    if t.eq_ignore_ascii_case("bearer") {
        Ok("Bearer")
    } else if t.eq_ignore_ascii_case("dpop") {
        Ok("DPoP")
    } else {
        Err(Error::InvalidTokenField {
            field: "token_type",
            reason: "neither Bearer nor DPoP",
        })
    }
}

/// A field of a successful token response. Token values and the token type end up in HTTP
/// headers, the scope in the store and on terminals: a control character (CR, LF, ESC, ...)
/// in any of them is refused with the field named.
fn token_field<'a>(fields: &'a FieldMap, name: &'static str) -> Result<Option<&'a String>> {
    match fields.get(name) {
        Some(v) if v.chars().any(char::is_control) => Err(Error::InvalidTokenField {
            field: name,
            reason: "contains a control character",
        }),
        other => Ok(other),
    }
}

/// Fields of a token response, JSON (numbers and strings) or form-encoded.
fn parse_fields(body: &[u8], json_hint: bool) -> Result<FieldMap> {
    let json: Option<serde_json::Value> = if json_hint || body.first() == Some(&b'{') {
        match serde_json::from_slice(body) {
            Ok(v) => Some(v),
            Err(e) if json_hint => return Err(Error::json("token response", &e)),
            Err(_) => None,
        }
    } else {
        None
    };
    let mut map = Vec::new();
    if let Some(v) = json {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::invalid("token response", "not a json object"))?;
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            map.push((k.clone(), s));
        }
    } else {
        for (k, v) in url::form_urlencoded::parse(body) {
            map.push((k.into_owned(), v.into_owned()));
        }
    }
    Ok(FieldMap(map))
}

/// Parsed response fields. Holds raw token values only until they are wrapped in [`Secret`];
/// deliberately has no `Debug`.
struct FieldMap(Vec<(String, String)>);

impl FieldMap {
    fn get(&self, k: &str) -> Option<&String> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }
}

impl Drop for FieldMap {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, v) in &mut self.0 {
            v.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_example() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn es256_client_assertion_verifies() {
        use ring::signature::KeyPair as _;
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(doc.as_ref())
        );
        let key = SigningKey::from_pkcs8_pem(&Secret::new(pem)).unwrap();
        assert_eq!(key.alg(), "ES256");
        assert_eq!(format!("{key:?}"), "SigningKey(ES256, [redacted])");
        let jwt = key.client_assertion("cid", "https://as.example").unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "cid");
        assert_eq!(claims["sub"], "cid");
        assert_eq!(claims["aud"], "https://as.example");
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, doc.as_ref(), &rng).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            pair.public_key().as_ref().to_vec(),
        );
        let input = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
            .unwrap();
        assert!(SigningKey::from_pkcs8_pem(&Secret::new("not a key")).is_err());
    }

    #[test]
    fn auth_method_decision() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let d = AuthMethod::decide;
        let post_none = l(&["none", "client_secret_post"]);
        assert_eq!(
            d(None, Some(&post_none), true, false),
            AuthMethod::ClientSecretPost
        );
        assert_eq!(d(None, None, true, false), AuthMethod::ClientSecretBasic);
        assert_eq!(d(None, Some(&l(&["none"])), true, false), AuthMethod::None);
        assert_eq!(d(None, None, false, false), AuthMethod::None);
        assert_eq!(d(None, None, true, true), AuthMethod::PrivateKeyJwt);
        assert_eq!(
            d(None, Some(&post_none), true, true),
            AuthMethod::ClientSecretPost
        );
        let pkj = l(&["private_key_jwt"]);
        assert_eq!(d(None, Some(&pkj), false, true), AuthMethod::PrivateKeyJwt);
        let explicit = Some(AuthMethod::ClientSecretBasic);
        assert_eq!(
            d(explicit, Some(&post_none), true, false),
            AuthMethod::ClientSecretBasic
        );
    }

    #[test]
    fn form_and_json_fields() {
        let f = parse_fields(b"access_token=a&expires_in=10&scope=x+y", false).unwrap();
        assert_eq!(f.get("scope").map(String::as_str), Some("x y"));
        let f = parse_fields(br#"{"access_token":"a","expires_in":10}"#, true).unwrap();
        assert_eq!(f.get("expires_in").map(String::as_str), Some("10"));
        assert!(parse_fields(b"{nope", true).is_err());
    }
}
