//! `redis-server` for the Redis token store tests (`mcpwire-auth`: `--test redis_store`,
//! `--test fleet`, and `cargo bench --bench token_lookup`): found on the machine, else installed
//! from the Debian packages. The tests start and stop their own servers on free loopback ports
//! (persistence off); this only provides the binary, in `MCPWIRE_REDIS_SERVER`.

use std::env;
use std::path::PathBuf;

/// The variable the tests read for the binary.
pub(crate) const REDIS_SERVER_ENV: &str = "MCPWIRE_REDIS_SERVER";

fn find() -> Option<PathBuf> {
    if let Some(p) = env::var_os(REDIS_SERVER_ENV).map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let on_path = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("redis-server"));
    let usual = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .map(PathBuf::from);
    on_path.chain(usual).find(|p| p.is_file())
}

/// The `redis-server` binary; installs the Debian package `redis-server` with apt-get when
/// none is found (needs root, as on the project's machines and CI).
pub(crate) fn ensure_redis_server() -> Result<PathBuf, String> {
    if let Some(p) = find() {
        return Ok(p);
    }
    crate::apt::install(&["redis-server"])?;
    find().ok_or_else(|| "apt-get installed redis-server but no binary was found".into())
}

/// Provider for the gated-test table: the variables the Redis tests read.
pub(crate) fn provide_redis_server() -> Result<Vec<(String, String)>, String> {
    let path = ensure_redis_server()?;
    Ok(vec![(
        REDIS_SERVER_ENV.to_owned(),
        path.display().to_string(),
    )])
}
