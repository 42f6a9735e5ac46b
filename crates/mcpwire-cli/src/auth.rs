//! `mcpwire auth login|token|status|logout`: OAuth tokens for MCP servers, kept in the token
//! store (`$MCPWIRE_HOME/tokens.json`, else `~/.config/mcpwire/tokens.json`, mode 0600).

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use mcpwire_auth::{LoginMode, OAuthConfig, PreRegisteredClient, Secret, cli_support};

/// The `auth` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Run the OAuth flow for an MCP server (browser + loopback redirect on 127.0.0.1) and store
    /// the tokens.
    Login {
        /// The MCP server URL, exactly as it will be placed in vendor requests.
        server_url: String,
        /// Do not open a browser; only print the URL.
        #[arg(long)]
        no_browser: bool,
        /// Follow the authorization URL without a browser (for servers that redirect straight
        /// back, like test servers).
        #[arg(long)]
        headless: bool,
        /// A pre-registered client id (skips dynamic registration).
        #[arg(long)]
        client_id: Option<String>,
        /// Its secret (or set MCPWIRE_CLIENT_SECRET).
        #[arg(long, env = "MCPWIRE_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// Extra scopes to request.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Our client ID metadata document (an https URL), used when the authorization server
        /// supports client ID metadata documents.
        #[arg(long, value_name = "URL")]
        client_metadata_url: Option<String>,
    },
    /// Print a valid access token on stdout (refreshing it when needed), nothing else.
    Token {
        /// The MCP server URL.
        server_url: String,
        /// Refresh when less than this many seconds remain.
        #[arg(long, default_value_t = 300)]
        min_ttl: u64,
    },
    /// List stored logins: servers, issuers, expiry. Never token values.
    Status,
    /// Forget the tokens of a server.
    Logout {
        /// The MCP server URL.
        server_url: String,
    },
}

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        matches!(u.host(), Some(url::Host::Domain("localhost")))
            || matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
    })
}

fn config(server_url: Option<&str>) -> OAuthConfig {
    let mut config = OAuthConfig::default();
    // Plain http is accepted for servers on this machine only (local development and tests).
    if server_url.is_some_and(is_loopback) {
        config.policy.allow_http_loopback = true;
    }
    config
}

fn fail(what: &str, err: impl std::fmt::Display) -> ExitCode {
    eprintln!("mcpwire auth {what}: {err}");
    ExitCode::FAILURE
}

/// Runs an `auth` subcommand.
pub(crate) fn run(command: AuthCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => return fail("", err),
    };
    runtime.block_on(async move {
        match command {
            AuthCommand::Login { server_url, no_browser, headless, client_id, client_secret, scopes, client_metadata_url } => {
                let mut config = config(Some(&server_url));
                config.extra_scopes = scopes;
                config.client_metadata_url = client_metadata_url;
                if let Some(client_id) = client_id {
                    config.pre_registered.push(PreRegisteredClient::new(None, client_id, client_secret.map(Secret::new)));
                }
                let client = match cli_support::default_client(config) {
                    Ok(c) => c,
                    Err(err) => return fail("login", err),
                };
                let mode = if headless { LoginMode::Headless } else { LoginMode::Interactive { open_browser: !no_browser } };
                let on_url = |url: &str| {
                    if !headless {
                        eprintln!("Open this URL to authorize mcpwire:\n\n  {url}\n\nWaiting for the redirect on 127.0.0.1 ...");
                    }
                };
                match cli_support::login(&client, &server_url, mode, on_url).await {
                    Ok(status) => {
                        eprintln!("logged in to {} (issuer {}, {})", status.server_url, status.issuer, expiry(status.expires_in));
                        ExitCode::SUCCESS
                    }
                    Err(err) => fail("login", err),
                }
            }
            AuthCommand::Token { server_url, min_ttl } => {
                let client = match cli_support::default_client(config(Some(&server_url))) {
                    Ok(c) => c,
                    Err(err) => return fail("token", err),
                };
                match cli_support::token(&client, &server_url, Duration::from_secs(min_ttl)).await {
                    Ok(token) => {
                        println!("{}", token.expose());
                        ExitCode::SUCCESS
                    }
                    Err(err) => fail("token", err),
                }
            }
            AuthCommand::Status => {
                let client = match cli_support::default_client(config(None)) {
                    Ok(c) => c,
                    Err(err) => return fail("status", err),
                };
                match cli_support::status(&client).await {
                    Ok(list) if list.is_empty() => {
                        println!("no stored logins");
                        ExitCode::SUCCESS
                    }
                    Ok(list) => {
                        for s in list {
                            println!(
                                "{}\n  issuer: {}\n  client: {}\n  expires: {}\n  refresh token: {}\n  scope: {}",
                                s.server_url,
                                s.issuer,
                                s.client_id,
                                expiry(s.expires_in),
                                if s.has_refresh_token { "stored" } else { "none" },
                                s.scope.as_deref().unwrap_or("-"),
                            );
                        }
                        ExitCode::SUCCESS
                    }
                    Err(err) => fail("status", err),
                }
            }
            AuthCommand::Logout { server_url } => {
                let client = match cli_support::default_client(config(Some(&server_url))) {
                    Ok(c) => c,
                    Err(err) => return fail("logout", err),
                };
                match cli_support::logout(&client, &server_url).await {
                    Ok(true) => {
                        eprintln!("logged out of {server_url}");
                        ExitCode::SUCCESS
                    }
                    Ok(false) => fail("logout", format!("no stored login for {server_url}")),
                    Err(err) => fail("logout", err),
                }
            }
        }
    })
}

fn expiry(expires_in: Option<Duration>) -> String {
    match expires_in {
        Some(d) if d.is_zero() => "expired".to_owned(),
        Some(d) => format!("in {}s", d.as_secs()),
        None => "no expiry given".to_owned(),
    }
}
