//! `mcpwire auth login|token|status|logout`: OAuth tokens for MCP servers, kept in the token
//! store: by default a file (`$MCPWIRE_HOME/tokens.json`, else
//! `$XDG_CONFIG_HOME/mcpwire/tokens.json`, else `~/.config/mcpwire/tokens.json`, mode 0600);
//! with `--store redis://...` (or `MCPWIRE_STORE`) the Redis store a fleet of replicas shares.
//!
//! Output goes through writers ([`run_to`]), so a closed pipe is an `io::Error`, never a
//! panic. Everything printed that came from a remote party (issuer, scope, server URL, error
//! text) has its control characters escaped ([`crate::term::line`]).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::term;
use mcpwire_auth::{
    LoginMode, OAuthClient, OAuthConfig, PreRegisteredClient, Secret, TokenStatus, TokenStore,
};

/// `mcpwire auth [--store URL] <command>`.
#[derive(Debug, Args)]
pub(crate) struct AuthArgs {
    /// Where tokens are kept: `file:` (the default path), `file:PATH`, or `redis://...` /
    /// `rediss://...` for a fleet (query `tenant=`, `prefix=`; encryption key(s) from
    /// MCPWIRE_STORE_KEY or MCPWIRE_STORE_KEY_FILE).
    #[arg(
        long,
        global = true,
        env = "MCPWIRE_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) store: Option<String>,
    #[command(subcommand)]
    pub(crate) command: AuthCommand,
}

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

/// Opens the token store named by a `--store` URL (`None`: the default file); also used by
/// `mcpwire run --login`. A Redis URL may hold a password, so it is never printed.
pub(crate) async fn open_store(url: Option<&str>) -> mcpwire_auth::Result<Arc<dyn TokenStore>> {
    mcpwire_auth::open_store(
        &Secret::new(url.unwrap_or("file:")),
        mcpwire_auth::StoreKeySource::Env,
    )
    .await
    .map_err(|e| match e {
        // The library names the URL generically; here the user typed it as `--store`.
        mcpwire_auth::Error::InvalidUrl { .. } => mcpwire_auth::Error::InvalidUrl {
            field: "--store (file:, file:PATH, memory:, redis://, rediss://)",
        },
        other => other,
    })
}

/// An [`OAuthClient`] over the store named by `store` (see [`open_store`]).
pub(crate) async fn client_over(
    config: OAuthConfig,
    store: Option<&str>,
) -> mcpwire_auth::Result<OAuthClient> {
    OAuthClient::new(config, open_store(store).await?)
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

/// One line on `err`: the subcommand, the error and its causes, escaped.
fn fail(err: &mut impl Write, what: &str, e: &dyn std::error::Error) -> io::Result<ExitCode> {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(line, ": {s}");
        source = s.source();
    }
    writeln!(err, "mcpwire auth {what}: {}", term::line(&line))?;
    Ok(ExitCode::FAILURE)
}

/// Runs an `auth` subcommand on the process's stdout and stderr. A closed stdout (`| head`)
/// ends quietly; any other write error is one line on stderr and a failure exit.
pub(crate) fn run(args: AuthArgs) -> ExitCode {
    let result = run_to(args, &mut io::stdout().lock(), &mut io::stderr().lock());
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "mcpwire auth: writing output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an `auth` subcommand: results on `out` (the token for `token`, the list for
/// `status`), messages and errors on `err`.
pub(crate) fn run_to(
    AuthArgs { store, command }: AuthArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitCode> {
    let store = store.as_deref();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(err, "", &e),
    };
    runtime.block_on(async move {
        match command {
            AuthCommand::Login {
                server_url,
                no_browser,
                headless,
                client_id,
                client_secret,
                scopes,
                client_metadata_url,
            } => {
                let mut config = config(Some(&server_url));
                config.extra_scopes = scopes;
                config.client_metadata_url = client_metadata_url;
                if let Some(client_id) = client_id {
                    config.pre_registered.push(PreRegisteredClient::new(
                        None,
                        client_id,
                        client_secret.map(Secret::new),
                    ));
                }
                let client = match client_over(config, store).await {
                    Ok(c) => c,
                    Err(e) => return fail(err, "login", &e),
                };
                let mode = if headless {
                    LoginMode::Headless
                } else {
                    LoginMode::Interactive {
                        open_browser: !no_browser,
                    }
                };
                let mut url_written = Ok(());
                let on_url = |url: &str| {
                    if !headless {
                        url_written = writeln!(
                            err,
                            "Open this URL to authorize mcpwire:\n\n  {}\n\nWaiting for the redirect on 127.0.0.1 ...",
                            term::line(url)
                        );
                    }
                };
                let result = client.login(&server_url, None, mode, on_url).await;
                url_written?;
                match result {
                    Ok(status) => {
                        writeln!(
                            err,
                            "logged in to {} (issuer {}, {})",
                            term::line(&status.server_url),
                            term::line(&status.issuer),
                            expiry(status.expires_in)
                        )?;
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => fail(err, "login", &e),
                }
            }
            AuthCommand::Token {
                server_url,
                min_ttl,
            } => {
                let client = match client_over(config(Some(&server_url)), store).await {
                    Ok(c) => c,
                    Err(e) => return fail(err, "token", &e),
                };
                match client
                    .access_token(&server_url, Duration::from_secs(min_ttl))
                    .await
                {
                    Ok((token, _)) => {
                        // The library refuses tokens with control characters.
                        writeln!(out, "{}", token.expose())?;
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => fail(err, "token", &e),
                }
            }
            AuthCommand::Status => {
                let client = match client_over(config(None), store).await {
                    Ok(c) => c,
                    Err(e) => return fail(err, "status", &e),
                };
                match client.status().await {
                    Ok(list) if list.is_empty() => {
                        writeln!(out, "no stored logins")?;
                        Ok(ExitCode::SUCCESS)
                    }
                    Ok(list) => {
                        for s in &list {
                            write_status(out, s)?;
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => fail(err, "status", &e),
                }
            }
            AuthCommand::Logout { server_url } => {
                let client = match client_over(config(Some(&server_url)), store).await {
                    Ok(c) => c,
                    Err(e) => return fail(err, "logout", &e),
                };
                match client.logout(&server_url).await {
                    Ok(true) => {
                        writeln!(err, "logged out of {}", term::line(&server_url))?;
                        Ok(ExitCode::SUCCESS)
                    }
                    Ok(false) => {
                        writeln!(
                            err,
                            "mcpwire auth logout: no stored login for {}",
                            term::line(&server_url)
                        )?;
                        Ok(ExitCode::FAILURE)
                    }
                    Err(e) => fail(err, "logout", &e),
                }
            }
        }
    })
}

/// One stored login, every remote-supplied value escaped.
fn write_status(out: &mut impl Write, s: &TokenStatus) -> io::Result<()> {
    writeln!(
        out,
        "{}\n  issuer: {}\n  client: {}\n  expires: {}\n  refresh token: {}\n  scope: {}",
        term::line(&s.server_url),
        term::line(&s.issuer),
        term::line(&s.client_id),
        expiry(s.expires_in),
        if s.has_refresh_token {
            "stored"
        } else {
            "none"
        },
        s.scope
            .as_deref()
            .map_or_else(|| "-".to_owned(), |s| term::line(s).into_owned()),
    )
}

fn expiry(expires_in: Option<Duration>) -> String {
    match expires_in {
        Some(d) if d.is_zero() => "expired".to_owned(),
        Some(d) => format!("in {}s", d.as_secs()),
        None => "no expiry given".to_owned(),
    }
}
