//! Set-up shared by the token-store tests of several crates (the auth crate's and the CLI's
//! `auth` commands): a fresh directory for a file store or an `MCPWIRE_HOME`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// A new, empty directory `<temp dir>/<prefix>-<pid>-<nanos>`, unique to this process and
/// moment; the test removes it when done.
pub fn fresh_dir(prefix: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("temp dir test set-up")
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir test set-up");
    dir
}
