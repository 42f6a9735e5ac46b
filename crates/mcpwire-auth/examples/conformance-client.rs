//! A client for the official MCP conformance suite (`@modelcontextprotocol/conformance`).
//!
//! The suite runs `conformance-client <server-url>` with `MCP_CONFORMANCE_SCENARIO`,
//! `MCP_CONFORMANCE_CONTEXT` (JSON: `client_id`, `client_secret`, `private_key_pem`, ...) and
//! `MCP_CONFORMANCE_PROTOCOL_VERSION`. The client authorizes headlessly with `mcpwire-auth`,
//! then speaks JSON-RPC over Streamable HTTP: `initialize`, `notifications/initialized`,
//! `tools/list`, `tools/call` (or, at 2026-07-28, the stateless form with the
//! `MCP-Protocol-Version` header and `_meta`). 401 triggers authorization, 403
//! `insufficient_scope` a bounded step-up.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mcpwire_auth::challenge::BearerChallenge;
use mcpwire_auth::{
    IdpTokenExchange, LoginMode, MemoryStore, OAuthClient, OAuthConfig, OAuthErrorCode, Policy,
    PreRegisteredClient, Secret, SigningKey,
};
use serde_json::{Value, json};

const CIMD_URL: &str = "https://conformance-test.local/client-metadata.json";
const CC_EXTENSION: &str = "io.modelcontextprotocol/oauth-client-credentials";

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Session {
    http: reqwest::Client,
    server: String,
    version: String,
    stateless: bool,
    /// Machine-to-machine grant: no step-up, extension declared in capabilities.
    client_credentials: bool,
    grant: Grant,
    oauth: OAuthClient,
    token: Option<Secret>,
    session_id: Option<String>,
    next_id: u64,
    authorizations: u32,
    step_ups: u32,
    dpop_nonce: Option<String>,
}

enum Outcome {
    Ok(Value),
    Unauthorized(Option<BearerChallenge>),
    Forbidden(Option<BearerChallenge>),
    /// RFC 9449 §9: the server wants a DPoP nonce in the proof.
    DpopNonce(String),
}

impl Session {
    fn meta(&self) -> Value {
        let mut caps = json!({});
        if self.client_credentials {
            caps["extensions"] = json!({ CC_EXTENSION: {} });
        }
        json!({
            "io.modelcontextprotocol/protocolVersion": self.version,
            "io.modelcontextprotocol/clientCapabilities": caps,
        })
    }

    async fn post(
        &mut self,
        method: &str,
        params: Value,
        notification: bool,
    ) -> AnyResult<Outcome> {
        let mut params = params;
        if self.stateless {
            params["_meta"] = self.meta();
        }
        let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params});
        let id = self.next_id;
        if !notification {
            self.next_id += 1;
            body["id"] = json!(id);
        }
        let mut req = self
            .http
            .post(&self.server)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string());
        if self.stateless || method != "initialize" {
            req = req.header("mcp-protocol-version", &self.version);
        }
        if let Some(t) = &self.token {
            let proof = self
                .oauth
                .dpop_proof(
                    &self.server,
                    "POST",
                    &self.server,
                    self.dpop_nonce.as_deref(),
                )
                .await?;
            match proof {
                Some(p) => {
                    req = req
                        .header("authorization", format!("DPoP {}", t.expose()))
                        .header("dpop", p.expose());
                }
                None => req = req.header("authorization", format!("Bearer {}", t.expose())),
            }
        }
        if let Some(s) = &self.session_id {
            req = req.header("mcp-session-id", s);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(BearerChallenge::from_header);
        if status == 401 {
            let nonce = resp
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let wants_nonce = challenge
                .as_ref()
                .is_some_and(|c| c.error == Some(OAuthErrorCode::UseDpopNonce));
            if let (true, Some(n)) = (wants_nonce && self.token.is_some(), nonce) {
                return Ok(Outcome::DpopNonce(n));
            }
            return Ok(Outcome::Unauthorized(challenge));
        }
        if status == 403 {
            return Ok(Outcome::Forbidden(challenge));
        }
        if let Some(s) = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
        {
            self.session_id = Some(s.to_owned());
        }
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = resp.text().await?;
        if !(200..300).contains(&status) {
            return Err(format!("{method}: http status {status}").into());
        }
        if notification || text.trim().is_empty() {
            return Ok(Outcome::Ok(Value::Null));
        }
        let msg = if ctype.contains("text/event-stream") {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .find(|v| v.get("id") == Some(&json!(id)))
                .ok_or("no response in event stream")?
        } else {
            serde_json::from_str(&text)?
        };
        if let Some(err) = msg.get("error") {
            return Err(format!("{method}: json-rpc error {err}").into());
        }
        Ok(Outcome::Ok(
            msg.get("result").cloned().unwrap_or(Value::Null),
        ))
    }

    async fn authorize(&mut self, challenge: Option<BearerChallenge>) -> AnyResult<()> {
        self.authorizations += 1;
        match &self.grant {
            Grant::AuthorizationCode => {
                self.oauth
                    .login(&self.server, challenge, LoginMode::Headless, |_| {})
                    .await?;
            }
            Grant::ClientCredentials => {
                self.oauth
                    .login_client_credentials(&self.server, challenge)
                    .await?;
            }
            Grant::JwtBearer(assertion) => {
                self.oauth
                    .login_jwt_bearer(&self.server, challenge, assertion)
                    .await?;
            }
            Grant::Enterprise(idp) => {
                self.oauth
                    .login_enterprise(&self.server, challenge, idp)
                    .await?;
            }
        }
        let (token, _) = self
            .oauth
            .access_token(&self.server, Duration::from_secs(0))
            .await?;
        self.token = Some(token);
        Ok(())
    }

    /// Sends a request, authorizing on 401 and stepping up on 403 within the policy's bounds.
    async fn call(&mut self, method: &str, params: Value, notification: bool) -> AnyResult<Value> {
        // One authorization per request on 401 (the token may have been invalidated, e.g. the
        // resource moved to another authorization server); step-ups are bounded by the policy.
        let mut reauthorized = false;
        loop {
            match self.post(method, params.clone(), notification).await? {
                Outcome::Ok(v) => return Ok(v),
                Outcome::DpopNonce(n) => {
                    if self.dpop_nonce.as_deref() == Some(n.as_str()) {
                        return Err(format!("{method}: dpop nonce not accepted").into());
                    }
                    self.dpop_nonce = Some(n);
                }
                Outcome::Unauthorized(c) => {
                    if std::mem::replace(&mut reauthorized, true) {
                        return Err(
                            format!("{method}: still unauthorized after authorizing").into()
                        );
                    }
                    self.authorize(c).await?;
                }
                Outcome::Forbidden(c) => {
                    let insufficient = c
                        .as_ref()
                        .is_some_and(|c| c.error == Some(OAuthErrorCode::InsufficientScope));
                    if !insufficient || self.client_credentials {
                        return Err(format!("{method}: forbidden").into());
                    }
                    let Some(c) = c else {
                        return Err(format!("{method}: forbidden without a challenge").into());
                    };
                    self.oauth
                        .step_up(&self.server, c, self.step_ups, LoginMode::Headless, |_| {})
                        .await?;
                    self.step_ups += 1;
                    self.authorizations += 1;
                    let (token, _) = self
                        .oauth
                        .access_token(&self.server, Duration::from_secs(0))
                        .await?;
                    self.token = Some(token);
                }
            }
        }
    }

    async fn run(&mut self) -> AnyResult<()> {
        if !self.stateless {
            let mut caps = json!({});
            if self.client_credentials {
                caps["extensions"] = json!({ CC_EXTENSION: {} });
            }
            let init = self
                .call(
                    "initialize",
                    json!({
                        "protocolVersion": self.version,
                        "capabilities": caps,
                        "clientInfo": {"name": "mcpwire-conformance-client", "version": "0.1.0"},
                    }),
                    false,
                )
                .await?;
            if let Some(v) = init.get("protocolVersion").and_then(Value::as_str) {
                self.version = v.to_owned();
            }
            self.call("notifications/initialized", json!({}), true)
                .await?;
        }
        let tools = self.call("tools/list", json!({}), false).await?;
        let first = tools
            .get("tools")
            .and_then(Value::as_array)
            .and_then(|t| t.first())
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(name) = first {
            self.call("tools/call", json!({"name": name, "arguments": {}}), false)
                .await?;
        }
        Ok(())
    }
}

fn config_from_env(scenario: &str, version: &str, ctx: &Value) -> AnyResult<OAuthConfig> {
    let mut policy = Policy::default();
    policy.allow_legacy_endpoints = true; // the 2025-03-26 back-compat scenarios need it
    let mut cfg = OAuthConfig::default();
    cfg.policy = policy;
    cfg.client_name = "mcpwire-conformance-client".into();
    cfg.protocol_version = version.to_owned();
    cfg.client_metadata_url = Some(CIMD_URL.into());
    cfg.dpop = scenario.starts_with("auth/dpop");
    let s = |k: &str| ctx.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(id) = s("client_id") {
        let mut p = PreRegisteredClient::new(s("issuer"), id, s("client_secret").map(Secret::new));
        if let Some(pem) = s("private_key_pem") {
            p = p.with_signing_key(SigningKey::from_pkcs8_pem(&Secret::new(pem))?);
        }
        cfg.pre_registered.push(p);
    }
    let _ = scenario;
    Ok(cfg)
}

/// How the scenario wants the client to obtain tokens.
enum Grant {
    AuthorizationCode,
    ClientCredentials,
    /// Workload identity federation: a JWT from the environment (`valid_jwt`).
    JwtBearer(Secret),
    /// Enterprise-managed authorization: ID token → ID-JAG at the IdP → JWT-bearer.
    Enterprise(IdpTokenExchange),
}

fn grant_for(scenario: &str, ctx: &Value) -> Grant {
    let s = |k: &str| ctx.get(k).and_then(Value::as_str).map(str::to_owned);
    if scenario.starts_with("auth/client-credentials") {
        return Grant::ClientCredentials;
    }
    if let Some(jwt) = s("valid_jwt") {
        return Grant::JwtBearer(Secret::new(jwt));
    }
    if let (Some(ep), Some(id), Some(tok)) = (
        s("idp_token_endpoint"),
        s("idp_client_id"),
        s("idp_id_token"),
    ) {
        return Grant::Enterprise(IdpTokenExchange::new(
            ep,
            id,
            s("idp_client_secret").map(Secret::new),
            Secret::new(tok),
        ));
    }
    Grant::AuthorizationCode
}

async fn run() -> AnyResult<()> {
    let server = std::env::args()
        .next_back()
        .ok_or("usage: conformance-client <server-url>")?;
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let version = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "2025-11-25".into());
    let ctx: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    let cfg = config_from_env(&scenario, &version, &ctx)?;
    let oauth = OAuthClient::new(cfg, Arc::new(MemoryStore::new()))?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()?;
    let grant = grant_for(&scenario, &ctx);
    let mut session = Session {
        http,
        server,
        stateless: version.as_str() >= "2026-07-28",
        version,
        client_credentials: !matches!(grant, Grant::AuthorizationCode),
        grant,
        oauth,
        token: None,
        session_id: None,
        next_id: 1,
        authorizations: 0,
        step_ups: 0,
        dpop_nonce: None,
    };
    session.run().await
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "mcpwire_auth=debug".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // the harness shows the client's stderr
            {
                eprintln!("conformance-client: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
