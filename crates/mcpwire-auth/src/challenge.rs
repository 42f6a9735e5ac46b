//! `WWW-Authenticate` parsing with the RFC 9110 §11.6.1 grammar (no regex):
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param  = token BWS "=" BWS ( token / quoted-string )
//! ```

use crate::error_code::OAuthErrorCode;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Challenge {
    /// Auth scheme, as sent (compare case-insensitively).
    pub scheme: String,
    /// A token68 credential, if the challenge carries one instead of parameters.
    pub token68: Option<String>,
    /// Parameters, names lowercased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The first parameter with this (case-insensitive) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the MCP client needs from a `Bearer` challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BearerChallenge {
    /// `resource_metadata` (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
    /// `scope`, split on spaces.
    pub scope: Option<Vec<String>>,
    /// `error` (e.g. [`OAuthErrorCode::InsufficientScope`]).
    pub error: Option<OAuthErrorCode>,
}

impl BearerChallenge {
    /// Parses a header value and extracts the first `Bearer` (or RFC 9449 `DPoP`) challenge.
    /// Returns `None` when the header does not parse or has no such challenge.
    ///
    /// ```
    /// use mcpwire_auth::challenge::BearerChallenge;
    /// let c = BearerChallenge::from_header(
    ///     r#"Basic realm="x", Bearer error="insufficient_scope", scope="a b", resource_metadata="https://h/.well-known/oauth-protected-resource""#,
    /// ).unwrap();
    /// assert_eq!(c.scope.unwrap(), ["a", "b"]);
    /// assert_eq!(c.error, Some(mcpwire_auth::OAuthErrorCode::InsufficientScope));
    /// ```
    pub fn from_header(value: &str) -> Option<Self> {
        let challenges = parse(value).ok()?;
        let c = challenges.into_iter().find(|c| {
            c.scheme.eq_ignore_ascii_case("bearer") || c.scheme.eq_ignore_ascii_case("dpop")
        })?;
        Some(BearerChallenge {
            resource_metadata: c.param("resource_metadata").map(str::to_owned),
            scope: c.param("scope").map(|s| {
                s.split(' ')
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            error: c.param("error").map(OAuthErrorCode::parse),
        })
    }
}

/// A malformed header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed WWW-Authenticate header at byte {at}")]
#[non_exhaustive]
pub struct ParseError {
    /// Byte offset of the problem.
    pub at: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn quoted(&mut self) -> Result<String, ParseError> {
        // Caller saw the opening quote.
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(ParseError { at: self.i }),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or(ParseError { at: self.i })?;
                    out.push(c);
                    self.i += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
    /// At the start of an element: is this `token BWS "=" BWS (token / quoted)`, i.e. an
    /// auth-param (as opposed to a new challenge or a token68)?
    fn looks_like_param(&self) -> bool {
        let mut j = self.i;
        let n = self.s.len();
        let start = j;
        while j < n && is_tchar(self.s[j]) {
            j += 1;
        }
        if j == start {
            return false;
        }
        while j < n && matches!(self.s[j], b' ' | b'\t') {
            j += 1;
        }
        if j >= n || self.s[j] != b'=' {
            return false;
        }
        j += 1;
        while j < n && matches!(self.s[j], b' ' | b'\t') {
            j += 1;
        }
        j < n && (self.s[j] == b'"' || is_tchar(self.s[j])) && self.s[j] != b'='
    }
}

/// Parses a full header value into challenges.
///
/// ```
/// let cs = mcpwire_auth::challenge::parse(r#"Bearer realm="a, b", scope=x, Basic abc=="#).unwrap();
/// assert_eq!(cs.len(), 2);
/// assert_eq!(cs[0].param("realm"), Some("a, b"));
/// assert_eq!(cs[1].token68.as_deref(), Some("abc=="));
/// ```
pub fn parse(header: &str) -> Result<Vec<Challenge>, ParseError> {
    let mut c = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        // Skip empty list elements.
        loop {
            c.ows();
            if c.peek() == Some(b',') {
                c.i += 1;
            } else {
                break;
            }
        }
        if c.peek().is_none() {
            break;
        }
        let scheme = c.token().ok_or(ParseError { at: c.i })?;
        let mut ch = Challenge {
            scheme,
            token68: None,
            params: Vec::new(),
        };
        let had_space = matches!(c.peek(), Some(b' ' | b'\t'));
        c.ows();
        match c.peek() {
            None | Some(b',') => {
                out.push(ch);
                continue;
            }
            _ if !had_space => return Err(ParseError { at: c.i }),
            _ => {}
        }
        if !c.looks_like_param() {
            // token68
            let start = c.i;
            while c.peek().is_some_and(is_token68_char) {
                c.i += 1;
            }
            while c.peek() == Some(b'=') {
                c.i += 1;
            }
            if c.i == start {
                return Err(ParseError { at: c.i });
            }
            ch.token68 = Some(String::from_utf8_lossy(&c.s[start..c.i]).into_owned());
            c.ows();
            match c.peek() {
                None | Some(b',') => {
                    out.push(ch);
                    continue;
                }
                _ => return Err(ParseError { at: c.i }),
            }
        }
        // auth-param list
        loop {
            let name = c.token().ok_or(ParseError { at: c.i })?;
            c.ows();
            if c.peek() != Some(b'=') {
                return Err(ParseError { at: c.i });
            }
            c.i += 1;
            c.ows();
            let value = if c.peek() == Some(b'"') {
                c.quoted()?
            } else {
                c.token().ok_or(ParseError { at: c.i })?
            };
            ch.params.push((name.to_ascii_lowercase(), value));
            c.ows();
            match c.peek() {
                None => break,
                Some(b',') => {
                    // Skip commas, then decide: another param or a new challenge?
                    while matches!(c.peek(), Some(b',' | b' ' | b'\t')) {
                        c.i += 1;
                    }
                    if c.peek().is_none() || !c.looks_like_param() {
                        break;
                    }
                }
                Some(_) => return Err(ParseError { at: c.i }),
            }
        }
        out.push(ch);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_challenge() {
        let h = r#"Bearer resource_metadata="http://localhost:1/.well-known/oauth-protected-resource/mcp", scope="mcp:basic""#;
        let b = BearerChallenge::from_header(h).unwrap();
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("http://localhost:1/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(b.scope.unwrap(), ["mcp:basic"]);
    }

    #[test]
    fn several_challenges_and_unquoted_values() {
        let cs = parse(
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        )
        .unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].scheme, "Newauth");
        assert_eq!(cs[0].param("type"), Some("1"));
        assert_eq!(cs[0].param("title"), Some(r#"Login to "apps""#));
        assert_eq!(cs[1].scheme, "Basic");
    }

    #[test]
    fn bare_scheme_and_case_insensitive() {
        let cs = parse("Negotiate, bearer Scope=\"a\" ,Error = invalid_token").unwrap();
        assert_eq!(cs.len(), 2);
        assert!(cs[0].params.is_empty());
        let b =
            BearerChallenge::from_header("Negotiate, bearer Scope=\"a\" ,Error = invalid_token")
                .unwrap();
        assert_eq!(b.error, Some(OAuthErrorCode::InvalidToken));
        assert_eq!(b.scope.unwrap(), ["a"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
            let _ = BearerChallenge::from_header(&s);
        }

        #[test]
        fn quoted_params_round_trip(
            scope in "[ -~]{0,30}",
            url in "[a-z0-9:/._-]{1,30}",
        ) {
            let quoted = scope.replace('\\', "\\\\").replace('"', "\\\"");
            let h = format!(r#"Basic realm="x", Bearer resource_metadata="{url}", scope="{quoted}", error=insufficient_scope"#);
            let b = BearerChallenge::from_header(&h).unwrap();
            proptest::prop_assert_eq!(b.resource_metadata.as_deref(), Some(url.as_str()));
            let want: Vec<String> = scope.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect();
            proptest::prop_assert_eq!(b.scope.unwrap(), want);
            proptest::prop_assert_eq!(b.error, Some(OAuthErrorCode::InsufficientScope));
        }
    }

    #[test]
    fn malformed() {
        assert!(parse(r#"Bearer realm="unterminated"#).is_err());
        assert!(parse("Bearer a=b c").is_err());
        assert!(BearerChallenge::from_header("Basic realm=x").is_none());
    }
}
