//! Random ids in each vendor's format, `obfuscation` padding, and timestamps.

use rand::distr::{Alphanumeric, SampleString};

/// `prefix` + `len` random hex digits (OpenAI ids look like this).
pub(crate) fn hex_id(prefix: &str, len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    for _ in 0..len {
        let digit: u32 = rng.random_range(0..16);
        id.push(char::from_digit(digit, 16).unwrap_or('0'));
    }
    id
}

/// `prefix` + `len` random base62 characters (Anthropic ids look like this).
pub(crate) fn b62_id(prefix: &str, len: usize) -> String {
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), len)
    )
}

/// Random padding for `obfuscation` fields.
pub(crate) fn obfuscation(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
