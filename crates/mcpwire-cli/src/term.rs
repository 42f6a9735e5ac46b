//! Escaping for the terminal: anything printed that came from a remote party (a vendor, an MCP
//! server, an authorization server) goes through here first, so that it cannot move the cursor,
//! recolour, rewrite or fake lines, ring the bell or reorder text. Control characters (C0, DEL,
//! C1) and the bidirectional overrides are written as `\n`, `\r`, `\t` or `\u{..}`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// For one line (errors, names, ids, status): every control character is escaped, newlines
/// included.
pub(crate) fn line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// For running text (the model's answer): newlines and tabs are kept, everything else that
/// controls the terminal is escaped.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn unsafe_char(c: char, keep_lines: bool) -> bool {
    if keep_lines && matches!(c, '\n' | '\t') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c, keep_lines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c, keep_lines) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_drives_the_terminal() {
        let scope = "mcp\n\x1b[31mFAKE-LINE\x1b[0m\r\x07";
        assert_eq!(line(scope), "mcp\\n\\u{1b}[31mFAKE-LINE\\u{1b}[0m\\r\\u{7}");
        assert_eq!(text("a\nb\tc\x1b"), "a\nb\tc\\u{1b}");
        assert_eq!(line("\u{9b}x\u{7f}\u{202e}"), "\\u{9b}x\\u{7f}\\u{202e}");
        assert!(matches!(line("plain é"), Cow::Borrowed(_)));
    }
}
