//! The one scrubber: removes every secret a party was sent from what it sends back (error
//! bodies, messages, request ids, relayed response bytes and headers), leaving [`MARKER`] in
//! its place, and the one rule for what of a URL may be logged ([`origin`]). Used by this
//! crate on token endpoint errors, by `mcpwire-providers` on vendor errors and by
//! `mcpwire-gateway` on everything it relays, so there is one marker and one matcher.
//!
//! A secret is found in every spelling JSON allows, not only as its raw bytes: with `"`, `\`
//! and control characters escaped (`\"`, `\\`, `\n`), with any character written as a `\u`
//! escape in either case (`\u002d`, `\u002D`, surrogate pairs for characters beyond the BMP),
//! and nested up to three levels deep (JSON text inside a JSON string inside a JSON string, as
//! when an MCP tool returns JSON that a vendor embeds in its own events). [`Scrubber::feed`]
//! finds them across chunk boundaries, holding back only bytes that could still become one.

use std::ops::Range;

use zeroize::Zeroizing;

use crate::secret::Secret;

/// What a removed secret is replaced with.
pub const MARKER: &str = "[redacted]";

/// Secrets shorter than this are not scrubbed: replacing every `a` in a text would hide the
/// text without protecting anything.
const MIN_LEN: usize = 4;

/// How many levels of JSON string escaping are undone while matching.
const MAX_DEPTH: u8 = 3;

/// The origin of a URL (`scheme://host[:port]`), or `<invalid url>`: what of a URL may be
/// logged (paths and queries can hold keys).
///
/// ```
/// assert_eq!(mcpwire_auth::redact::origin("https://mcp.example.com/t/ACME-KEY?k=1"), "https://mcp.example.com");
/// ```
pub fn origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "<invalid url>".to_owned(),
    }
}

/// Replaces every occurrence of each secret in `text` (in any JSON spelling) with [`MARKER`].
///
/// ```
/// use mcpwire_auth::{Secret, redact};
/// let key = Secret::new("sk-live-123");
/// assert_eq!(redact::scrub("req_Bearer sk-live-123", [&key]), "req_Bearer [redacted]");
/// assert_eq!(redact::scrub(r#"{"k":"sk\u002dlive-123"}"#, [&key]), r#"{"k":"[redacted]"}"#);
/// ```
pub fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    Scrubber::new(secrets.into_iter().map(Secret::expose)).scrub_str(text)
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

/// One secret to look for.
struct Pattern {
    raw: Zeroizing<Vec<u8>>,
    chars: Zeroizing<Vec<char>>,
    /// Byte length of the raw form of the first `k` characters, for `k` in `0..=chars.len()`.
    prefix_bytes: Vec<usize>,
    /// Every `k >= 1` shorter than the secret, sorted by the last byte of the raw prefix of `k`
    /// characters ([`Pattern::last_byte`]). Only indexes: the bytes stay in `raw`, the one
    /// copy that is zeroised.
    by_last: Vec<usize>,
}

impl Pattern {
    /// The last byte of the raw prefix of `k >= 1` characters.
    fn last_byte(&self, k: usize) -> u8 {
        self.raw[self.prefix_bytes[k] - 1]
    }

    /// The `k >= 1` whose raw prefix of `k` characters ends with `byte`.
    fn ending_with(&self, byte: u8) -> &[usize] {
        let from = self.by_last.partition_point(|&k| self.last_byte(k) < byte);
        let to = from + self.by_last[from..].partition_point(|&k| self.last_byte(k) == byte);
        &self.by_last[from..to]
    }
}

/// Finds secrets in bytes, whole or as a stream of chunks, in every JSON spelling.
///
/// It holds the secrets' bytes (zeroised on drop) and never prints them: there is no `Debug`.
/// A clone looks for the same secrets (their bytes are shared, not copied) and holds what this
/// one holds.
///
/// ```
/// use mcpwire_auth::redact::Scrubber;
/// let mut s = Scrubber::new(["tok-\"SECRET\"-1"]);
/// let mut out = Vec::new();
/// for chunk in [&br#"data: {"echo":"tok-\"SEC"#[..], br#"RET\"-1"}"#] {
///     match s.feed(chunk) {
///         Some(scrubbed) => out.extend(scrubbed),
///         None => out.extend_from_slice(chunk),
///     }
/// }
/// out.extend(s.finish());
/// assert_eq!(String::from_utf8(out).unwrap(), r#"data: {"echo":"[redacted]"}"#);
/// ```
#[derive(Clone)]
pub struct Scrubber {
    /// Shared by clones: a request builds its scrubber once and hands out copies; each
    /// pattern is shared too, so that [`Scrubber::with`] adds secrets without rebuilding the
    /// ones already there.
    patterns: std::sync::Arc<[std::sync::Arc<Pattern>]>,
    held: Vec<u8>,
}

impl Scrubber {
    /// A scrubber for these secret values (values shorter than 4 bytes are ignored).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        Scrubber {
            patterns: Self::patterns(secrets, &[]).into(),
            held: Vec::new(),
        }
    }

    /// A scrubber for this one's secrets and `more` (holding nothing): the patterns of this
    /// one are shared, not built again, so a long-lived scrubber of static secrets can be
    /// extended per request at the cost of the request's own secrets only.
    pub fn with<'a>(&self, more: impl IntoIterator<Item = &'a str>) -> Self {
        let patterns = self
            .patterns
            .iter()
            .cloned()
            .chain(Self::patterns(more, &self.patterns))
            .collect();
        Scrubber {
            patterns,
            held: Vec::new(),
        }
    }

    /// The patterns of `secrets` (long enough, each once) that `known` does not have yet.
    fn patterns<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        known: &[std::sync::Arc<Pattern>],
    ) -> Vec<std::sync::Arc<Pattern>> {
        let mut values: Vec<&str> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_LEN)
            .filter(|s| !known.iter().any(|p| p.raw.as_slice() == s.as_bytes()))
            .collect();
        values.sort_unstable();
        values.dedup();
        values
            .into_iter()
            .map(|v| {
                let chars: Vec<char> = v.chars().collect();
                let mut prefix_bytes = Vec::with_capacity(chars.len() + 1);
                let mut n = 0;
                prefix_bytes.push(0);
                for c in &chars {
                    n += c.len_utf8();
                    prefix_bytes.push(n);
                }
                let mut pattern = Pattern {
                    by_last: (1..chars.len()).collect(),
                    raw: Zeroizing::new(v.as_bytes().to_vec()),
                    chars: Zeroizing::new(chars),
                    prefix_bytes,
                };
                let mut by_last = std::mem::take(&mut pattern.by_last);
                by_last.sort_by_key(|&k| pattern.last_byte(k));
                pattern.by_last = by_last;
                std::sync::Arc::new(pattern)
            })
            .collect()
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Scrubs the next chunk of a stream. `None`: the chunk goes out unchanged (the common
    /// case, no copy). `Some(bytes)`: send these instead; bytes that could be the start of a
    /// secret are held until the next chunk or [`Scrubber::finish`].
    pub fn feed(&mut self, chunk: &[u8]) -> Option<Vec<u8>> {
        if self.patterns.is_empty() {
            return None;
        }
        if self.held.is_empty() {
            let (ranges, cut) = self.scan(chunk, false);
            if ranges.is_empty() && cut == chunk.len() {
                return None;
            }
            let out = replace(&chunk[..cut], &ranges);
            self.held = chunk[cut..].to_vec();
            return Some(out);
        }
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(chunk);
        let (ranges, cut) = self.scan(&data, false);
        let out = replace(&data[..cut], &ranges);
        self.held = data.split_off(cut);
        Some(out)
    }

    /// What is still held at the end of the stream, scrubbed.
    pub fn finish(&mut self) -> Vec<u8> {
        let data = std::mem::take(&mut self.held);
        let (ranges, _) = self.scan(&data, true);
        replace(&data, &ranges)
    }

    /// Scrubs whole bytes; `None` when nothing was found.
    pub fn scrub_bytes(&self, data: &[u8]) -> Option<Vec<u8>> {
        if self.patterns.is_empty() {
            return None;
        }
        let (ranges, _) = self.scan(data, true);
        (!ranges.is_empty()).then(|| replace(data, &ranges))
    }

    /// Scrubs a whole string (audit lines, log messages, header values).
    pub fn scrub_str(&self, text: &str) -> String {
        match self.scrub_bytes(text.as_bytes()) {
            // Matches are whole characters (a secret is a `str`), so the result is UTF-8.
            Some(out) => String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            None => text.to_owned(),
        }
    }

    /// Every match in `data` (merged, sorted) and how far the data may be released: before
    /// the first byte that could still begin a match once more data arrives (all of it when
    /// `at_end`).
    fn scan(&self, data: &[u8], at_end: bool) -> (Vec<Range<usize>>, usize) {
        let mut ranges = Vec::new();
        let mut hold = data.len();
        for p in self.patterns.iter() {
            // Raw occurrences.
            let mut from = 0;
            while let Some(i) = memchr::memmem::find(&data[from..], &p.raw) {
                ranges.push(from + i..from + i + p.raw.len());
                from += i + 1;
            }
            // Occurrences with an escape: `q` starts a run of raw characters that ends at the
            // first backslash `b` of the match.
            for b in memchr::memchr_iter(b'\\', data) {
                let before = match b.checked_sub(1) {
                    Some(i) => p.ending_with(data[i]),
                    None => &[],
                };
                for &k in std::iter::once(&0).chain(before) {
                    let len = p.prefix_bytes[k];
                    if len > b || data[b - len..b] != p.raw[..len] {
                        continue;
                    }
                    let q = b - len;
                    match match_seq(data, b, &p.chars[k..], MAX_DEPTH) {
                        M::Full(end) => ranges.push(q..end),
                        M::Partial if !at_end => hold = hold.min(q),
                        _ => {}
                    }
                }
            }
            if !at_end {
                // A raw tail that is the start of the secret.
                let max = (p.raw.len() - 1).min(data.len());
                for n in (1..=max).rev() {
                    if data[data.len() - n..] == p.raw[..n] {
                        hold = hold.min(data.len() - n);
                        break;
                    }
                }
            }
        }
        if ranges.is_empty() {
            return (ranges, hold);
        }
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        // A match that reaches past the hold point is held whole, to be found again.
        let mut cut = hold;
        for r in &merged {
            if r.start < cut && r.end > cut {
                cut = r.start;
            }
        }
        merged.retain(|r| r.end <= cut);
        (merged, cut)
    }
}

fn replace(data: &[u8], ranges: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut at = 0;
    for r in ranges {
        out.extend_from_slice(&data[at..r.start]);
        out.extend_from_slice(MARKER.as_bytes());
        at = r.end;
    }
    out.extend_from_slice(&data[at..]);
    out
}

/// The outcome of matching at a position.
#[derive(Clone, Copy, PartialEq, Eq)]
enum M {
    /// Matched up to this end.
    Full(usize),
    /// The data ended while it still matched.
    Partial,
    /// No match.
    No,
}

/// One element of what is matched: a character, or a hex digit of either case.
#[derive(Clone, Copy)]
enum Pat {
    Lit(char),
    Hex(u8),
}

/// Matches `chars` at `data[pos..]`, each character raw or escaped up to `depth` levels.
fn match_seq(data: &[u8], pos: usize, chars: &[char], depth: u8) -> M {
    let pats: Vec<Pat> = chars.iter().map(|c| Pat::Lit(*c)).collect();
    let mut result = M::No;
    seq(data, pos, &pats, depth, &mut |m| match m {
        M::Full(end) => {
            result = M::Full(end);
            true
        }
        M::Partial => {
            result = M::Partial;
            false
        }
        M::No => false,
    });
    result
}

/// Calls `f` with each way the whole of `pats` can match at `data[pos..]` (or run out of
/// data while matching), until `f` returns `true`.
fn seq(data: &[u8], pos: usize, pats: &[Pat], depth: u8, f: &mut dyn FnMut(M) -> bool) -> bool {
    let Some((first, rest)) = pats.split_first() else {
        return f(M::Full(pos));
    };
    each(data, pos, *first, depth, &mut |m| match m {
        M::Full(end) => seq(data, end, rest, depth, f),
        M::Partial => f(M::Partial),
        M::No => false,
    })
}

/// Calls `f` with each way `pat` can match at `data[pos..]`, until `f` returns `true`.
fn each(data: &[u8], pos: usize, pat: Pat, depth: u8, f: &mut dyn FnMut(M) -> bool) -> bool {
    let c = match pat {
        Pat::Lit(c) => c,
        Pat::Hex(v) => {
            let lower = char::from_digit(u32::from(v), 16).unwrap_or('0');
            let upper = lower.to_ascii_uppercase();
            if each(data, pos, Pat::Lit(lower), depth, f) {
                return true;
            }
            return upper != lower && each(data, pos, Pat::Lit(upper), depth, f);
        }
    };
    let rest = &data[pos.min(data.len())..];
    let mut buf = [0u8; 4];
    let raw = c.encode_utf8(&mut buf).as_bytes();
    if rest.len() < raw.len() {
        if raw.starts_with(rest) && f(M::Partial) {
            return true;
        }
    } else if rest.starts_with(raw) && f(M::Full(pos + raw.len())) {
        return true;
    }
    if depth == 0 || rest.first().is_some_and(|b| *b != b'\\') {
        return false;
    }
    if rest.is_empty() {
        // Nothing yet: an escape could follow; the raw check above already said Partial.
        return false;
    }
    let short = match c {
        '"' => Some('"'),
        '\\' => Some('\\'),
        '/' => Some('/'),
        '\u{8}' => Some('b'),
        '\u{c}' => Some('f'),
        '\n' => Some('n'),
        '\r' => Some('r'),
        '\t' => Some('t'),
        _ => None,
    };
    if let Some(letter) = short
        && seq(data, pos, &[Pat::Lit('\\'), Pat::Lit(letter)], depth - 1, f)
    {
        return true;
    }
    let mut units = [0u16; 2];
    let units = c.encode_utf16(&mut units);
    let mut pats = Vec::with_capacity(12);
    for u in units.iter() {
        pats.push(Pat::Lit('\\'));
        pats.push(Pat::Lit('u'));
        for shift in [12, 8, 4, 0] {
            pats.push(Pat::Hex(((u >> shift) & 0xf) as u8));
        }
    }
    seq(data, pos, &pats, depth - 1, f)
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

    fn stream(s: &mut Scrubber, chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        for chunk in chunks {
            match s.feed(chunk) {
                Some(v) => out.extend(v),
                None => out.extend_from_slice(chunk),
            }
        }
        out.extend(s.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn secrets_are_removed_across_chunks() {
        let mut s = Scrubber::new(["tok-SECRET-123"]);
        assert_eq!(
            stream(
                &mut s,
                &[
                    b"data: x tok-SEC",
                    b"RET-123 y tok",
                    b"-S",
                    b"ECRET-123\n",
                    b"plain"
                ]
            ),
            "data: x [redacted] y [redacted]\nplain"
        );
        assert!(s.feed(b"nothing here").is_none());
    }

    #[test]
    fn json_spellings_are_found() {
        let s = Scrubber::new([r#"a"b\c-d/e"#]);
        for spelled in [
            r#"a"b\c-d/e"#,
            r#"a\"b\\c-d/e"#,
            r#"a\"b\\c\u002dd\/e"#,
            r#"a\u0022b\u005Cc\u002Dd/e"#,
            // Twice encoded (JSON text in a JSON string), and three times.
            r#"a\\\"b\\\\c-d/e"#,
            r#"a\\\\\\\"b\\\\\\\\c-d/e"#,
            r#"\u0061\"b\\c-d/e"#,
        ] {
            let text = format!("<{spelled}>");
            assert_eq!(s.scrub_str(&text), "<[redacted]>", "{spelled}");
        }
        let s = Scrubber::new(["key-é😀-9"]);
        assert_eq!(
            s.scrub_str(r#"x key-\u00e9\ud83d\ude00-9 y"#),
            "x [redacted] y"
        );
        assert_eq!(s.scrub_str("x key-é😀-9 y"), "x [redacted] y");
        // Not a secret: unchanged, no copy.
        assert!(s.scrub_bytes(br#"key-\u00e9-9 key-"#).is_none());
    }

    #[test]
    fn a_chunk_that_ends_inside_an_escape_is_held() {
        let mut s = Scrubber::new(["tok-SECRET"]);
        assert_eq!(
            stream(&mut s, &[b"x tok\\", b"u002", b"dSECRET y"]),
            "x [redacted] y"
        );
        let mut s = Scrubber::new(["ab\"cd"]);
        assert_eq!(stream(&mut s, &[b"ab", b"\\", b"\"cd!"]), "[redacted]!");
        // Held bytes that turn out not to be a secret come out unchanged.
        let mut s = Scrubber::new(["tok-SECRET"]);
        assert_eq!(stream(&mut s, &[b"x tok\\", b"n y tok"]), "x tok\\n y tok");
    }

    #[test]
    fn a_clone_finds_the_same_secrets_and_holds_what_the_original_held() {
        let mut s = Scrubber::new(["tok-SECRET", "other-1"]);
        let fresh = s.clone();
        // Mid-stream: `tok\` is held, so the clone must finish the match too.
        assert_eq!(s.feed(b"x tok\\"), Some(b"x ".to_vec()));
        let mut mid = s.clone();
        assert_eq!(stream(&mut s, &[b"u002dSECRET y"]), "[redacted] y");
        assert_eq!(stream(&mut mid, &[b"u002dSECRET y"]), "[redacted] y");
        assert_eq!(
            fresh.scrub_str("other-1 and tok-SECRET"),
            "[redacted] and [redacted]"
        );
    }

    #[test]
    fn with_adds_secrets_and_leaves_the_original_as_it_was() {
        let statics = Scrubber::new(["static-key-1"]);
        let mut per_request = statics.with(["user-tok-2", "static-key-1", "abc"]);
        // Both kinds are found, in every spelling, whole and streamed; the repeated static
        // secret is not added twice and the short one is ignored, as `new` does.
        assert_eq!(per_request.patterns.len(), 2);
        assert_eq!(
            per_request.scrub_str(r"static-key-1 user\u002dtok-2 abc"),
            "[redacted] [redacted] abc"
        );
        assert_eq!(
            stream(&mut per_request, &[b"a user-t", b"ok-2 b"]),
            "a [redacted] b"
        );
        // The original still looks for its own secrets only.
        assert_eq!(
            statics.scrub_str("static-key-1 user-tok-2"),
            "[redacted] user-tok-2"
        );
        // The static pattern is shared, not rebuilt.
        assert!(std::sync::Arc::ptr_eq(
            &statics.patterns[0],
            &per_request.patterns[0]
        ));
        // Adding nothing gives the same secrets.
        assert_eq!(statics.with([]).scrub_str("static-key-1"), "[redacted]");
    }

    #[test]
    fn origin_drops_path_and_query() {
        assert_eq!(origin("http://127.0.0.1:9/a?b"), "http://127.0.0.1:9");
        assert_eq!(origin("not a url"), "<invalid url>");
    }
}
