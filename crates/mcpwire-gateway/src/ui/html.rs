//! HTML pieces: escaping (every value from a vendor, an MCP server or a caller goes through
//! [`esc`] before it reaches a page), the page frame with its style sheet, and small
//! formatters.

use std::fmt::Write as _;

/// Escapes text for an HTML element or a quoted attribute value: `&`, `<`, `>`, `"`, `'`.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub(super) fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub(super) use crate::records::format_duration as duration;

const STYLE: &str = r#"
:root { color-scheme: light; --fg:#1c2330; --muted:#5b6678; --line:#d9dee7; --bg:#f6f7f9; --ok:#1f7a45; --bad:#b42318; --warn:#9a6700; --bar:#3b6fd8; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:24px; padding:10px 24px; background:#1c2330; color:#fff; }
header b { font-size:16px; letter-spacing:.02em; }
header nav { display:flex; gap:16px; flex:1; }
header a { color:#cfd8ea; text-decoration:none; }
header a.on, header a:hover { color:#fff; }
header form { margin:0; }
header button { background:none; border:1px solid #56617a; color:#cfd8ea; border-radius:4px; padding:3px 10px; cursor:pointer; }
main { padding:20px 24px 40px; }
h1 { font-size:20px; margin:0 0 14px; }
h2 { font-size:16px; margin:22px 0 10px; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f5; font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); }
tr.row:hover td { background:#f3f6fb; }
td.num { text-align:right; font-variant-numeric: tabular-nums; white-space:nowrap; }
td.time { white-space:nowrap; }
.filters input, .filters select { width:100%; font:inherit; font-size:12px; padding:3px 5px; border:1px solid var(--line); border-radius:3px; }
.filters td { background:#fafbfc; }
.badge { display:inline-block; padding:1px 7px; border-radius:9px; font-size:12px; font-weight:600; background:#e7ecf3; }
.badge.ok { background:#ddf3e4; color:var(--ok); }
.badge.bad { background:#fde4e1; color:var(--bad); }
.badge.warn { background:#fdf1d6; color:var(--warn); }
.muted { color:var(--muted); }
dl.facts { display:grid; grid-template-columns: repeat(3, max-content minmax(0, 1fr)); gap:4px 16px; background:#fff; border:1px solid var(--line); padding:12px 16px; margin:0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; overflow-wrap:anywhere; }
.refusal { border:1px solid #f1b3ab; background:#fff4f2; padding:12px 16px; margin:14px 0; border-radius:4px; }
.timeline .step.failed td { background:#fff4f2; }
.track { position:relative; height:14px; background:#eef1f5; border-radius:3px; min-width:240px; }
.track span { position:absolute; top:0; bottom:0; background:var(--bar); border-radius:3px; min-width:2px; }
.step.failed .track span { background:var(--bad); }
pre { margin:4px 0 0; padding:6px 8px; background:#f3f5f8; border:1px solid var(--line); border-radius:3px; white-space:pre-wrap; word-break:break-word; font-size:12px; max-height:240px; overflow:auto; }
.login { max-width:360px; margin:80px auto; background:#fff; border:1px solid var(--line); padding:24px; border-radius:6px; }
.login input { width:100%; font:inherit; padding:7px 9px; margin:6px 0 14px; border:1px solid var(--line); border-radius:4px; }
.login button, .filters button { font:inherit; padding:6px 14px; border:0; border-radius:4px; background:#1c2330; color:#fff; cursor:pointer; }
.error { color:var(--bad); font-weight:600; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap:14px; }
.card th, .card td { padding:4px 6px; }
.timeline td:nth-child(2) { white-space:nowrap; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 14px; }
.card h2 { margin:0 0 6px; }
.card svg { display:block; margin-top:8px; }
"#;

/// The page frame: title, navigation (`on`: which link is current; `None` on the login page,
/// which has no navigation) and body.
pub(super) fn frame(title: &str, on: Option<&str>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + 512);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} - mcpwire</title><style>{STYLE}</style></head><body><header><b>mcpwire</b>",
        esc(title)
    );
    if let Some(on) = on {
        let link = |href: &str, name: &str| {
            let class = if name == on { " class=\"on\"" } else { "" };
            format!("<a href=\"{href}\"{class}>{name}</a>")
        };
        let _ = write!(
            out,
            "<nav>{}{}</nav><form method=\"post\" action=\"/ui/logout\"><button type=\"submit\">Log out</button></form>",
            link("/ui", "Requests"),
            link("/ui/servers", "Servers")
        );
    }
    let _ = write!(out, "</header><main>{body}</main></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_elements_and_attributes() {
        assert_eq!(
            esc("<script>alert('x')</script>\"><img src=x onerror=alert(1)>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;"
        );
        assert_eq!(url_part("gw_1 /?&"), "gw_1%20%2F%3F%26");
        assert_eq!(duration(3.26), "3.3 ms");
        assert_eq!(duration(1250.0), "1.25 s");
    }
}
