//! Lists what a token store holds for each MCP server (issuer, client, scope, lifetime left,
//! whether a refresh token is kept), never the tokens themselves: what `mcpwire auth status`
//! shows.
//!
//! ```sh
//! cargo run -p mcpwire-auth --example status               # the file `mcpwire auth login` writes
//! cargo run -p mcpwire-auth --example status -- tokens.json
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use mcpwire_auth::{FileStore, OAuthClient, OAuthConfig};

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints what it found
fn main() -> ExitCode {
    let path = match std::env::args().nth(1) {
        Some(path) => path.into(),
        None => match FileStore::default_path() {
            Ok(path) => path,
            Err(e) => {
                eprintln!("status: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("status: {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = Arc::new(FileStore::new(&path));
    let listed = runtime.block_on(async {
        OAuthClient::new(OAuthConfig::default(), store)?
            .status()
            .await
    });
    let statuses = match listed {
        Ok(statuses) => statuses,
        Err(e) => {
            eprintln!("status: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    if statuses.is_empty() {
        println!(
            "{}: no tokens (log in with `mcpwire auth login URL`)",
            path.display()
        );
    }
    // Everything below came from an authorization server: escape control characters.
    let shown = |text: &str| text.escape_debug().to_string();
    for status in statuses {
        let left = match (status.login_required, status.expires_in) {
            (true, _) => "login required".to_owned(),
            (false, Some(left)) => format!("{} s left", left.as_secs()),
            (false, None) => "lifetime unknown".to_owned(),
        };
        println!(
            "{}: issuer {}, client {}, scope {}, {} token, {left}, refresh token: {}",
            shown(&status.server_url),
            shown(&status.issuer),
            shown(&status.client_id),
            shown(status.scope.as_deref().unwrap_or("-")),
            shown(&status.token_type),
            if status.has_refresh_token {
                "yes"
            } else {
                "no"
            },
        );
    }
    ExitCode::SUCCESS
}
