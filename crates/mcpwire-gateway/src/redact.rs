//! What may be logged (the providers' rules): URL origins only, never a header value, token or
//! URL path; and the streaming form of `mcpwire_auth::redact::scrub` (same marker), which removes
//! known secrets from bytes on their way out, across chunk boundaries.

use mcpwire_schema::Sensitive;

/// The origin of a URL (`scheme://host[:port]`), or `<invalid url>`.
pub(crate) fn origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "<invalid url>".to_owned(),
    }
}

/// The one marker (`mcpwire_auth::redact`): what a removed secret becomes, here as everywhere.
const MASK: &[u8] = mcpwire_auth::redact::MARKER.as_bytes();

/// Replaces every occurrence of a secret in a byte stream, across chunk boundaries. Bytes are
/// held back only while the end of a chunk could be the start of a secret.
pub(crate) struct Scrubber {
    secrets: Vec<Vec<u8>>,
    held: Vec<u8>,
}

impl Scrubber {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Sensitive>) -> Self {
        let mut secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .map(|s| s.expose().as_bytes().to_vec())
            .filter(|s| s.len() >= 4)
            .collect();
        secrets.sort();
        secrets.dedup();
        Scrubber {
            secrets,
            held: Vec::new(),
        }
    }

    /// Scrubs a chunk; `None` means the chunk can go out unchanged (the common case).
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Option<Vec<u8>> {
        if self.secrets.is_empty() {
            return None;
        }
        if self.held.is_empty() && !self.touches(chunk) {
            return None;
        }
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(chunk);
        let mut data = self.replace(data);
        let keep = self.partial_suffix(&data);
        self.held = data.split_off(data.len() - keep);
        Some(data)
    }

    /// What is still held at the end of the stream.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }

    /// Whether the chunk holds a secret or ends with the start of one.
    fn touches(&self, chunk: &[u8]) -> bool {
        self.secrets
            .iter()
            .any(|s| memchr::memmem::find(chunk, s).is_some())
            || self.partial_suffix(chunk) > 0
    }

    fn replace(&self, mut data: Vec<u8>) -> Vec<u8> {
        for s in &self.secrets {
            if memchr::memmem::find(&data, s).is_none() {
                continue;
            }
            let mut out = Vec::with_capacity(data.len());
            let mut rest = &data[..];
            while let Some(i) = memchr::memmem::find(rest, s) {
                out.extend_from_slice(&rest[..i]);
                out.extend_from_slice(MASK);
                rest = &rest[i + s.len()..];
            }
            out.extend_from_slice(rest);
            data = out;
        }
        data
    }

    /// The length of the longest suffix of `data` that is a proper prefix of a secret.
    fn partial_suffix(&self, data: &[u8]) -> usize {
        let mut best = 0;
        for s in &self.secrets {
            let max = (s.len() - 1).min(data.len());
            for n in (best + 1..=max).rev() {
                if data[data.len() - n..] == s[..n] {
                    best = n;
                    break;
                }
            }
        }
        best
    }

    /// Scrubs a whole string (audit lines, log messages).
    pub(crate) fn scrub_str(&self, text: &str) -> String {
        let out = self.replace(text.as_bytes().to_vec());
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_removed_across_chunks() {
        let secret = Sensitive::new("tok-SECRET-123");
        let mut s = Scrubber::new([&secret]);
        let mut out = Vec::new();
        for chunk in [
            &b"data: x tok-SEC"[..],
            b"RET-123 y tok",
            b"-S",
            b"ECRET-123\n",
            b"plain",
        ] {
            match s.feed(chunk) {
                Some(v) => out.extend(v),
                None => out.extend_from_slice(chunk),
            }
        }
        out.extend(s.finish());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "data: x [redacted] y [redacted]\nplain"
        );
        assert!(s.feed(b"nothing here").is_none());
    }
}
