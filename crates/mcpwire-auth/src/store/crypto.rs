//! [`StoreKeys`]: AES-256-GCM (ring's AEAD) encryption of token store records at rest.
//!
//! Keys are 32 random bytes, base64 (standard alphabet). A key's id is derived from the key
//! (`k` + 8 hex digits of a SHA-256 over a label and the key), so records name the key that
//! encrypted them without anyone choosing ids. Several keys may be configured for rotation:
//! the first encrypts, every one decrypts. A record sealed under a key that is not configured,
//! or that fails authentication, is [`Error::StoreDecrypt`] naming the record's key id.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::Digest;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Secret;

const KEY_ENV: &str = StoreKeys::KEY_ENV;
const KEY_FILE_ENV: &str = StoreKeys::KEY_FILE_ENV;

struct StoreKey {
    id: String,
    key: LessSafeKey,
}

/// The encryption keys of a store: the first seals new records, all open old ones.
pub struct StoreKeys {
    keys: Vec<StoreKey>,
    rng: SystemRandom,
}

impl fmt::Debug for StoreKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKeys")
            .field("ids", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

fn key_id(raw: &[u8]) -> String {
    let digest = sha2::Sha256::new()
        .chain_update(b"mcpwire store key id\0")
        .chain_update(raw)
        .finalize();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("k{hex}")
}

impl StoreKeys {
    /// The environment variable holding the key(s): base64 keys separated by commas or
    /// whitespace, the encrypting key first.
    pub const KEY_ENV: &'static str = "MCPWIRE_STORE_KEY";
    /// The environment variable naming a file with the key(s), in the same format.
    pub const KEY_FILE_ENV: &'static str = "MCPWIRE_STORE_KEY_FILE";

    /// Parses base64 keys separated by commas or whitespace (the first encrypts).
    pub fn parse(text: &Secret) -> Result<Self> {
        let mut keys = Vec::new();
        for (i, part) in text
            .expose()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let raw = Zeroizing::new(STANDARD.decode(part).map_err(|_| Error::StoreKey {
                reason: format!("key #{} is not base64", i + 1),
            })?);
            if raw.len() != 32 {
                return Err(Error::StoreKey {
                    reason: format!("key #{} has {} bytes, expected 32", i + 1, raw.len()),
                });
            }
            let unbound = UnboundKey::new(&AES_256_GCM, &raw).map_err(|_| Error::StoreKey {
                reason: format!("key #{} is not an AES-256 key", i + 1),
            })?;
            keys.push(StoreKey {
                id: key_id(&raw),
                key: LessSafeKey::new(unbound),
            });
        }
        if keys.is_empty() {
            return Err(Error::StoreKey {
                reason: "no key given".into(),
            });
        }
        Ok(StoreKeys {
            keys,
            rng: SystemRandom::new(),
        })
    }

    /// Keys from [`Self::KEY_ENV`], else from the file named by [`Self::KEY_FILE_ENV`].
    pub fn from_env() -> Result<Self> {
        if let Ok(v) = std::env::var(KEY_ENV)
            && !v.trim().is_empty()
        {
            return Self::parse(&Secret::new(v));
        }
        match std::env::var_os(KEY_FILE_ENV).filter(|p| !p.is_empty()) {
            Some(path) => Self::from_file(std::path::Path::new(&path)),
            None => Err(Error::StoreKey {
                reason: format!("set {KEY_ENV} or {KEY_FILE_ENV} (32 random bytes, base64)"),
            }),
        }
    }

    /// Keys from a file.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::store("reading the store key file", Some(e)))?;
        Self::parse(&Secret::new(text))
    }

    /// A fresh random key, base64 (for `mcpwire auth` setup and tests).
    pub fn generate() -> Result<Secret> {
        let mut raw = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(raw.as_mut())
            .map_err(|_| Error::StoreKey {
                reason: "no randomness for a new key".into(),
            })?;
        Ok(Secret::new(STANDARD.encode(raw.as_ref())))
    }

    /// The id of the key that encrypts.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// The ids of every configured key.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Encrypts `plain` bound to `aad`; returns (key id, base64 of nonce ‖ ciphertext ‖ tag).
    pub(crate) fn seal(&self, plain: &Secret, aad: &[u8]) -> Result<(String, String)> {
        let k = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| Error::StoreKey {
            reason: "no randomness for a nonce".into(),
        })?;
        let mut buf = Zeroizing::new(plain.expose().as_bytes().to_vec());
        k.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut *buf,
            )
            .map_err(|_| Error::StoreKey {
                reason: "encryption failed".into(),
            })?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok((k.id.clone(), STANDARD.encode(out)))
    }

    /// Decrypts a record sealed by [`seal`](Self::seal) under key `id`.
    pub(crate) fn open(&self, id: &str, sealed: &str, aad: &[u8]) -> Result<Secret> {
        let fail = |reason| Error::StoreDecrypt {
            key_id: id.chars().take(32).collect(),
            reason,
        };
        let k = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(fail("no configured key has this id"))?;
        let raw = STANDARD
            .decode(sealed)
            .map_err(|_| fail("record is not base64"))?;
        if raw.len() < NONCE_LEN {
            return Err(fail("record too short"));
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| fail("bad nonce"))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = k
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| {
                fail("authentication failed (another key with the same id, or a tampered record)")
            })?;
        let text = std::str::from_utf8(plain).map_err(|_| fail("plaintext is not utf-8"))?;
        Ok(Secret::new(text))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seal_open_rotate_and_wrong_key() {
        let k1 = StoreKeys::generate().unwrap();
        let k2 = StoreKeys::generate().unwrap();
        let old = StoreKeys::parse(&k1).unwrap();
        let (id1, sealed) = old.seal(&Secret::new("RT-secret"), b"aad").unwrap();
        assert_eq!(id1, old.current_id());
        assert!(!sealed.contains("RT-secret"));
        let rotated =
            StoreKeys::parse(&Secret::new(format!("{}, {}", k2.expose(), k1.expose()))).unwrap();
        assert_eq!(
            rotated.open(&id1, &sealed, b"aad").unwrap().expose(),
            "RT-secret"
        );
        let (id2, _) = rotated.seal(&Secret::new("x"), b"aad").unwrap();
        assert_ne!(id1, id2);
        assert!(matches!(
            rotated.open(&id1, &sealed, b"other key name"),
            Err(Error::StoreDecrypt { .. })
        ));
        let wrong = StoreKeys::parse(&k2).unwrap();
        match wrong.open(&id1, &sealed, b"aad") {
            Err(Error::StoreDecrypt { key_id, .. }) => assert_eq!(key_id, id1),
            other => panic!("{other:?}"),
        }
        assert!(!format!("{rotated:?}").contains(k1.expose()));
    }

    #[test]
    fn bad_keys_are_typed_errors() {
        for bad in ["", "not base64!", "AAAA"] {
            assert!(matches!(
                StoreKeys::parse(&Secret::new(bad)),
                Err(Error::StoreKey { .. })
            ));
        }
    }
}
