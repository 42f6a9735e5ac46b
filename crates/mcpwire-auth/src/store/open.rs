//! One way to name a token store, shared by `mcpwire auth --store`, `mcpwire run --login` and
//! the gateway's `[stores.NAME] url`: a URL, with the same errors everywhere.
//!
//! | URL | store |
//! |---|---|
//! | `file:` | the default file (`mcpwire auth`'s, under `MCPWIRE_HOME`) |
//! | `file:PATH`, `file:///abs/path` | a file store at that path |
//! | `memory:` | this process's memory (nothing survives a restart) |
//! | `redis://…`, `rediss://…` | Redis, records encrypted (feature `redis`); the query may set `prefix`, `tenant`, `cache=off` |

use std::path::PathBuf;
use std::sync::Arc;

use super::{FileStore, MemoryStore, TokenStore};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where an encrypted store's keys come from (base64 keys separated by commas or whitespace;
/// the first encrypts, the others only decrypt, for rotation).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum StoreKeySource {
    /// `MCPWIRE_STORE_KEY`, else the file named by `MCPWIRE_STORE_KEY_FILE`.
    #[default]
    Env,
    /// These keys.
    Value(Secret),
    /// A file holding the keys.
    File(PathBuf),
}

const FORMS: &str = "store url (file:, file:PATH, memory:, redis://, rediss://)";

/// Opens the store `url` names (see the module docs). A Redis URL may hold a password: it is
/// never printed, and errors never repeat it.
///
/// ```no_run
/// # async fn demo() -> mcpwire_auth::Result<()> {
/// use mcpwire_auth::{Secret, StoreKeySource, open_store};
/// let store = open_store(&Secret::new("memory:"), StoreKeySource::Env).await?;
/// # Ok(()) }
/// ```
pub async fn open(url: &Secret, keys: StoreKeySource) -> Result<Arc<dyn TokenStore>> {
    let url = url.expose().trim();
    let url = if url.is_empty() { "file:" } else { url };
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        return open_redis(url, keys).await;
    }
    if url == "memory:" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    match url
        .strip_prefix("file:")
        .map(|p| p.strip_prefix("//").unwrap_or(p))
    {
        Some("") => Ok(Arc::new(FileStore::new(FileStore::default_path()?))),
        Some(path) => Ok(Arc::new(FileStore::new(path))),
        None => Err(Error::InvalidUrl { field: FORMS }),
    }
}

#[cfg(feature = "redis")]
async fn open_redis(url: &str, keys: StoreKeySource) -> Result<Arc<dyn TokenStore>> {
    use super::{RedisStore, StoreKeys};
    let keys = match keys {
        StoreKeySource::Env => StoreKeys::from_env()?,
        StoreKeySource::Value(v) => StoreKeys::parse(&v)?,
        StoreKeySource::File(path) => StoreKeys::from_file(&path)?,
    };
    Ok(Arc::new(
        RedisStore::open_with_keys(&Secret::new(url), keys).await?,
    ))
}

#[cfg(not(feature = "redis"))]
async fn open_redis(_url: &str, _keys: StoreKeySource) -> Result<Arc<dyn TokenStore>> {
    Err(Error::Unsupported {
        what: "a redis:// store needs mcpwire-auth's `redis` feature".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn forms_and_errors() {
        assert!(
            open(&Secret::new("memory:"), StoreKeySource::Env)
                .await
                .is_ok()
        );
        let dir = std::env::temp_dir().join(format!("mcpwire-open-{}", std::process::id()));
        let path = format!("file://{}", dir.join("t.json").display());
        assert!(open(&Secret::new(path), StoreKeySource::Env).await.is_ok());
        let err = open(&Secret::new("ftp://x/PASSWORD"), StoreKeySource::Env)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("memory:"), "{err}");
        assert!(!err.contains("PASSWORD"), "{err}");
    }
}
