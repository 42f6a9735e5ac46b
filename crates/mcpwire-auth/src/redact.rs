//! The one scrubber: removes every secret a party was sent from the text it sends back (error
//! bodies, messages, request ids), leaving [`MARKER`] in its place. Used by this crate on token
//! endpoint errors and by `mcpwire-providers` on vendor errors, so there is one marker.

use crate::secret::Secret;

/// What a removed secret is replaced with.
pub const MARKER: &str = "[redacted]";

/// Secrets shorter than this are not scrubbed: replacing every `a` in a text would hide the
/// text without protecting anything.
const MIN_LEN: usize = 4;

/// Replaces every occurrence of each secret in `text` with [`MARKER`].
///
/// ```
/// use mcpwire_auth::{Secret, redact};
/// let key = Secret::new("sk-live-123");
/// assert_eq!(redact::scrub("req_Bearer sk-live-123", [&key]), "req_Bearer [redacted]");
/// ```
pub fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let value = secret.expose();
        if value.len() >= MIN_LEN && out.contains(value) {
            out = out.replace(value, MARKER);
        }
    }
    out
}

/// [`scrub`], then cut to at most `limit` characters (an ellipsis marks the cut).
pub fn scrub_excerpt<'a>(
    text: &str,
    secrets: impl IntoIterator<Item = &'a Secret>,
    limit: usize,
) -> String {
    let out = scrub(text, secrets);
    match out.char_indices().nth(limit) {
        Some((i, _)) => format!("{}…", &out[..i]),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_occurrence_and_cuts() {
        let a = Secret::new("rt-abcdef");
        let b = Secret::new("xyz");
        assert_eq!(
            scrub("rt-abcdef and rt-abcdef, xyz", [&a, &b]),
            "[redacted] and [redacted], xyz"
        );
        assert_eq!(scrub_excerpt("abcdef", [], 3), "abc…");
        assert_eq!(scrub_excerpt("abc", [], 3), "abc");
    }
}
