//! The authorization-code flow: the authorization request (PKCE, `state`, `resource`), the
//! callback (loopback or headless) and the code redemption.

use std::fmt;

use tracing::{info, warn};
use url::Url;

use crate::challenge::BearerChallenge;
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::error_code::OAuthErrorCode;
use crate::http::check_url;
use crate::loopback::{CallbackListener, CallbackParams};
use crate::secret::Secret;
use crate::store::{ClientRecord, Entry, RegistrationKind};
use crate::token::random_secret;
use crate::token::{ClientAuth, DpopKey, Pkce, TokenRequest};

use super::{LoginMode, OAuthClient, TokenStatus, scope_string, token_endpoint};

/// An authorization request in flight: holds the PKCE verifier, the single-use `state`, the
/// expected issuer and everything needed to redeem the code.
pub struct PendingAuthorization {
    url: String,
    state: Secret,
    verifier: Secret,
    redirect_uri: String,
    expected_issuer: String,
    iss_required: bool,
    discovery: Discovery,
    client: ClientRecord,
    requested_scope: Option<String>,
    consumed: bool,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("issuer", &self.expected_issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field("requested_scope", &self.requested_scope)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    /// The authorization URL to open. It contains the `state`: do not log it.
    pub fn authorization_url(&self) -> &str {
        &self.url
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The scope requested (space-separated), if any.
    pub fn requested_scope(&self) -> Option<&str> {
        self.requested_scope.as_deref()
    }

    /// Validates a callback and returns the code. A missing or wrong `state`, or an `iss` that
    /// fails the RFC 9207 table, leaves this authorization usable for the genuine callback;
    /// after a successful (or `error=`) callback it is consumed.
    fn accept(&mut self, params: &CallbackParams) -> Result<Secret> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if self.consumed {
            return Err(Error::StateMismatch);
        }
        match get("state") {
            Some(s) if Secret::new(s) == self.state => {}
            _ => return Err(Error::StateMismatch),
        }
        match (get("iss"), self.iss_required) {
            (Some(iss), _) if iss != self.expected_issuer => {
                return Err(Error::IssMismatch {
                    expected: self.expected_issuer.clone(),
                    actual: Some(iss.chars().take(200).collect()),
                });
            }
            (None, true) => {
                return Err(Error::IssMismatch {
                    expected: self.expected_issuer.clone(),
                    actual: None,
                });
            }
            _ => {}
        }
        if let Some(err) = get("error") {
            self.consumed = true;
            return Err(Error::AuthorizationDenied {
                error: OAuthErrorCode::parse(err),
            });
        }
        let code = get("code")
            .filter(|c| !c.is_empty())
            .ok_or(Error::MissingCode)?;
        self.consumed = true;
        Ok(Secret::new(code))
    }
}

impl OAuthClient {
    /// Discovers, registers if needed, and builds an authorization request. `previous_scope`
    /// is unioned in (step-up).
    pub async fn begin_authorization(
        &self,
        d: Discovery,
        redirect_uri: &str,
        previous_scope: Option<&str>,
    ) -> Result<PendingAuthorization> {
        let md = &d.metadata;
        if !md.supports_s256() && !self.config.policy.allow_missing_pkce_metadata {
            return Err(Error::PkceUnsupported {
                issuer: d.issuer.clone(),
            });
        }
        if let Some(rt) = &md.response_types_supported
            && !rt.iter().any(|x| x == "code")
        {
            return Err(Error::invalid(
                "authorization server metadata",
                "response_types_supported lacks code",
            ));
        }
        let endpoint = md.authorization_endpoint.as_deref().ok_or_else(|| {
            Error::invalid("authorization server metadata", "no authorization_endpoint")
        })?;
        let private_ok = true; // already checked during discovery
        let mut url = check_url(
            "authorization_endpoint",
            endpoint,
            &self.config.policy,
            private_ok,
        )?;
        let scopes = self.select_scopes(&d, previous_scope);
        let scope = scope_string(&scopes);
        let stored = self.stored_client(&d.issuer).await?;
        let (client, is_new) = self
            .client_for(&d, stored.as_ref(), redirect_uri, scope.as_deref())
            .await?;
        if is_new {
            self.put(Entry::Client(client.clone())).await?;
        }
        let pkce = Pkce::new();
        let state = random_secret();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &client.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", state.expose());
            if let Some(s) = &scope {
                q.append_pair("scope", s);
            }
            q.append_pair("resource", &d.resource);
        }
        info!(issuer = %d.issuer, client_id = %client.client_id, scope = scope.as_deref().unwrap_or(""), "authorization request built");
        Ok(PendingAuthorization {
            url: url.into(),
            state,
            verifier: pkce.verifier,
            redirect_uri: redirect_uri.to_owned(),
            expected_issuer: d.issuer.clone(),
            iss_required: md.authorization_response_iss_parameter_supported == Some(true),
            client,
            requested_scope: scope,
            discovery: d,
            consumed: false,
        })
    }

    /// Validates a callback (state, RFC 9207 `iss`, `error=`), redeems the code and stores the
    /// tokens. A wrong state leaves `pending` usable.
    pub async fn complete_authorization(
        &self,
        pending: &mut PendingAuthorization,
        params: &CallbackParams,
    ) -> Result<TokenStatus> {
        let code = pending.accept(params)?;
        let d = &pending.discovery;
        let token_endpoint = token_endpoint(d)?;
        let client = ClientAuth {
            client_id: pending.client.client_id.clone(),
            client_secret: pending.client.client_secret.clone(),
            method: pending.client.auth_method,
        };
        let key = self
            .pre_registered_for(&d.issuer)
            .and_then(|p| p.signing_key.clone());
        let dpop = if self.config.dpop
            && d.metadata
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|a| a.iter().any(|x| x == "ES256"))
        {
            Some(DpopKey::generate()?)
        } else {
            None
        };
        let req = TokenRequest {
            token_endpoint: &token_endpoint,
            params: vec![
                ("grant_type", "authorization_code".into()),
                ("code", code.expose().to_owned()),
                ("redirect_uri", pending.redirect_uri.clone()),
                ("code_verifier", pending.verifier.expose().to_owned()),
                ("resource", d.resource.clone()),
            ],
            secrets: vec![code.clone(), pending.verifier.clone()],
            client: &client,
            signing_key: key.as_deref(),
            audience: &d.issuer,
            dpop: dpop.as_ref(),
        };
        let resp = match req.send(&self.http).await {
            Ok(r) => r,
            Err(e) => {
                if matches!(
                    &e,
                    Error::TokenEndpoint {
                        error: OAuthErrorCode::InvalidClient,
                        ..
                    }
                ) && pending.client.kind == RegistrationKind::Dynamic
                {
                    // The registration is no longer accepted: forget it so the next login
                    // registers again.
                    self.forget_client(&pending.client.issuer, &pending.client.client_id)
                        .await?;
                }
                return Err(e);
            }
        };
        let mut entry = self.entry_from(
            d,
            &client,
            &token_endpoint,
            resp,
            pending.requested_scope.clone(),
            false,
        );
        entry.dpop_key = dpop.map(|k| k.to_pkcs8_b64().clone());
        self.persist(entry).await
    }

    /// Runs the whole authorization-code flow for a server and stores the tokens.
    ///
    /// `challenge` is a `WWW-Authenticate` challenge already received (a 401, or a 403
    /// `insufficient_scope` for step-up: its scopes are unioned with the stored ones); without
    /// one the server is probed. `on_url` receives the authorization URL (interactive mode).
    pub async fn login(
        &self,
        server_url: &str,
        challenge: Option<BearerChallenge>,
        mode: LoginMode,
        on_url: impl FnOnce(&str),
    ) -> Result<TokenStatus> {
        let d = self.discover(server_url, challenge).await?;
        let previous = self
            .stored_token(server_url)
            .await?
            .and_then(|v| v.entry.as_token().cloned())
            .filter(|e| e.issuer == d.issuer)
            .and_then(|e| e.scope.clone());
        match mode {
            LoginMode::Headless => {
                let redirect = self
                    .config
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| "http://127.0.0.1/callback".into());
                let mut pending = self
                    .begin_authorization(d, &redirect, previous.as_deref())
                    .await?;
                let params = self.headless_callback(&pending).await?;
                self.complete_authorization(&mut pending, &params).await
            }
            LoginMode::Interactive { open_browser } => {
                let listener = match &self.config.redirect_uri {
                    Some(r) => {
                        let u = Url::parse(r).map_err(|_| Error::InvalidUrl {
                            field: "redirect_uri",
                        })?;
                        CallbackListener::bind(u.port().unwrap_or(80)).await?
                    }
                    None => {
                        // Reuse the port of a client registered earlier at this issuer, so its
                        // registered redirect URI still matches; else an ephemeral port.
                        let port = self
                            .stored_client(&d.issuer)
                            .await?
                            .filter(|c| c.kind == RegistrationKind::Dynamic)
                            .and_then(|c| c.redirect_uris.into_iter().next())
                            .and_then(|r| Url::parse(&r).ok())
                            .filter(|u| u.host_str() == Some("127.0.0.1"))
                            .and_then(|u| u.port());
                        match port {
                            Some(p) => match CallbackListener::bind(p).await {
                                Ok(l) => l,
                                Err(_) => CallbackListener::bind(0).await?,
                            },
                            None => CallbackListener::bind(0).await?,
                        }
                    }
                };
                let redirect = self
                    .config
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| listener.redirect_uri());
                let mut pending = self
                    .begin_authorization(d, &redirect, previous.as_deref())
                    .await?;
                on_url(pending.authorization_url());
                if open_browser {
                    open_in_browser(pending.authorization_url());
                }
                let deadline = tokio::time::Instant::now() + self.config.login_timeout;
                loop {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    let callback = listener.next_callback(left).await?;
                    let result = self
                        .complete_authorization(&mut pending, callback.params())
                        .await;
                    callback.respond(result.as_ref().map(|_| ())).await;
                    match result {
                        Err(Error::StateMismatch) => {
                            warn!("discarded a callback with a wrong or missing state");
                        }
                        other => return other,
                    }
                }
            }
        }
    }

    /// Step-up after a 403 `insufficient_scope`: a fresh authorization (a refresh cannot widen
    /// scope) with the union of the stored scope and the challenged one. `attempt` is the number
    /// of step-ups already made for the failing request; at [`Policy::max_step_up`](crate::Policy::max_step_up) this fails
    /// with [`Error::StepUpLimit`] without contacting anyone.
    pub async fn step_up(
        &self,
        server_url: &str,
        challenge: BearerChallenge,
        attempt: u32,
        mode: LoginMode,
        on_url: impl FnOnce(&str),
    ) -> Result<TokenStatus> {
        if attempt >= self.config.policy.max_step_up {
            return Err(Error::StepUpLimit { attempts: attempt });
        }
        self.login(server_url, Some(challenge), mode, on_url).await
    }

    /// Headless mode: GET the authorization URL without following redirects and read the
    /// callback parameters from `Location`, which must point at our redirect URI.
    pub async fn headless_callback(
        &self,
        pending: &PendingAuthorization,
    ) -> Result<CallbackParams> {
        let req = self.http.inner.get(pending.authorization_url());
        let resp = self.http.send_raw("authorization request", req).await?;
        if !(300..400).contains(&resp.status) {
            return Err(Error::HttpStatus {
                context: "authorization request",
                status: resp.status,
            });
        }
        let loc = resp
            .header("location")
            .ok_or_else(|| Error::callback("redirect without location", None))?;
        let base = Url::parse(pending.authorization_url()).map_err(|_| Error::InvalidUrl {
            field: "authorization_endpoint",
        })?;
        let loc = base
            .join(loc)
            .map_err(|_| Error::callback("invalid location", None))?;
        let expected = Url::parse(&pending.redirect_uri).map_err(|_| Error::InvalidUrl {
            field: "redirect_uri",
        })?;
        if loc.origin() != expected.origin() || loc.path() != expected.path() {
            return Err(Error::callback(
                "redirect does not target our redirect uri",
                None,
            ));
        }
        Ok(loc
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect())
    }
}

/// Opens an http(s) URL in the desktop browser without a shell; errors are ignored.
fn open_in_browser(url: &str) {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// The store id of an authorization request: the hex SHA-256 of its `state`.
fn pending_id(state: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl OAuthClient {
    /// Builds an authorization request for `server_url` (for this client's subject) and keeps
    /// it in the store for `ttl`, bound to `binding`, so that any process sharing the store can
    /// complete it once ([`OAuthClient::complete_stored_authorization`]). Returns the URL the
    /// user opens (it holds the `state`: do not log it).
    pub async fn begin_stored_authorization(
        &self,
        server_url: &str,
        redirect_uri: &str,
        ttl: std::time::Duration,
        binding: String,
    ) -> Result<Secret> {
        let d = self.discover(server_url, None).await?;
        let p = self.begin_authorization(d, redirect_uri, None).await?;
        let entry = crate::store::PendingEntry {
            id: pending_id(p.state.expose()),
            server_url: server_url.to_owned(),
            subject: self.subject.clone(),
            binding,
            expires_at: crate::token::unix_now().saturating_add(ttl.as_secs()),
            verifier: p.verifier.clone(),
            redirect_uri: p.redirect_uri.clone(),
            expected_issuer: p.expected_issuer.clone(),
            iss_required: p.iss_required,
            client: {
                // An operator's client secret stays in the configuration, not the store.
                let mut c = p.client.clone();
                if c.kind == RegistrationKind::PreRegistered {
                    c.client_secret = None;
                }
                c
            },
            requested_scope: p.requested_scope.clone(),
        };
        let key = Entry::Pending(entry);
        match self
            .store
            .compare_and_set(&key.key(), None, Some(&key))
            .await?
        {
            crate::store::CasOutcome::Written(_) => Ok(Secret::new(p.url)),
            _ => Err(Error::StateMismatch),
        }
    }

    /// Completes a stored authorization from its callback parameters: the request is taken
    /// from the store and removed in one compare-and-set (a replayed or concurrent callback
    /// finds nothing), refused when expired, then validated and redeemed as
    /// [`OAuthClient::complete_authorization`] does, for the subject it was begun for.
    /// Returns its binding and the stored tokens' status.
    pub async fn complete_stored_authorization(
        &self,
        params: &CallbackParams,
    ) -> Result<(String, TokenStatus)> {
        let state = params
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone())
            .ok_or(Error::StateMismatch)?;
        let key = crate::store::EntryKey::Pending {
            id: pending_id(&state),
        };
        let v = self.store.get(&key).await?.ok_or(Error::StateMismatch)?;
        let Some(p) = v.entry.as_pending().cloned() else {
            return Err(Error::StateMismatch);
        };
        match self
            .store
            .compare_and_set(&key, Some(v.version), None)
            .await?
        {
            crate::store::CasOutcome::Written(_) => {}
            _ => return Err(Error::StateMismatch),
        }
        if p.expires_at < crate::token::unix_now() {
            return Err(Error::AuthorizationExpired);
        }
        let client = OAuthClient {
            config: self.config.clone(),
            http: self.http.clone(),
            store: self.store.clone(),
            refresh_gates: self.refresh_gates.clone(),
            subject: p.subject.clone(),
        };
        let d = client.discover(&p.server_url, None).await?;
        if d.issuer != p.expected_issuer {
            return Err(Error::IssuerMismatch {
                expected: p.expected_issuer.clone(),
                actual: d.issuer.clone(),
            });
        }
        let mut pending = PendingAuthorization {
            url: String::new(),
            state: Secret::new(state),
            verifier: p.verifier.clone(),
            redirect_uri: p.redirect_uri.clone(),
            expected_issuer: p.expected_issuer.clone(),
            iss_required: p.iss_required,
            client: {
                let mut c = p.client.clone();
                if c.kind == RegistrationKind::PreRegistered {
                    c.client_secret = client
                        .pre_registered_for(&d.issuer)
                        .filter(|r| r.client_id == c.client_id)
                        .and_then(|r| r.client_secret.clone());
                }
                c
            },
            discovery: d,
            requested_scope: p.requested_scope.clone(),
            consumed: false,
        };
        let status = client.complete_authorization(&mut pending, params).await?;
        Ok((p.binding, status))
    }

    /// Removes stored authorization requests that expired; returns how many.
    pub async fn sweep_pending(&self) -> Result<usize> {
        let now = crate::token::unix_now();
        let mut removed = 0;
        for v in self.store.list().await? {
            if let Some(p) = v.entry.as_pending()
                && p.expires_at < now
                && let crate::store::CasOutcome::Written(_) = self
                    .store
                    .compare_and_set(&v.entry.key(), Some(v.version), None)
                    .await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
