//! The pages, rendered from [`RequestRecord`]s. Every value that came from a vendor, an MCP
//! server or a caller (model, tool and server names, ids, errors, arguments, outputs) is
//! escaped with [`esc`]; only the page's own markup is not.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::credentials::Connected;
use crate::records::{RequestRecord, Step, format_utc};

use super::html::{duration, esc, frame, url_part};

/// The login form; `error` says why the last try failed.
pub(super) fn login(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" id=\"login-error\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<form class=\"login\" id=\"login\" method=\"post\" action=\"/ui/login\"><h1>Request log</h1><p class=\"muted\">Log in with an admin key of this gateway.</p>{error}<label for=\"key\">Admin key</label><input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" autofocus required><input type=\"hidden\" name=\"next\" value=\"{}\"><button type=\"submit\" id=\"login-submit\">Log in</button></form>",
        esc(next)
    );
    frame("Log in", None, &body)
}

/// A request id that is in neither the ring nor the audit file's tail.
pub(super) fn missing(id: &str) -> String {
    frame(
        "Not found",
        Some("Requests"),
        &format!(
            "<h1>No such request</h1><p>No audit line names request <code>{}</code> (the page reads the recent requests and the end of the audit file).</p>",
            esc(id)
        ),
    )
}

fn outcome_badge(outcome: &str) -> String {
    let class = match outcome {
        "ok" | "listed" => "ok",
        "unfinished" | "approval_requested" | "client_closed" | "incomplete" => "warn",
        _ => "bad",
    };
    format!(
        "<span class=\"badge {class}\" data-outcome=\"{o}\">{o}</span>",
        o = esc(outcome)
    )
}

/// The outcome, and how many MCP steps failed when some did.
fn outcome_cell(r: &RequestRecord) -> String {
    let failed = r.steps.iter().filter(|s| s.failed()).count();
    let mut out = outcome_badge(&r.outcome);
    if failed > 0 {
        let _ = write!(
            out,
            " <span class=\"badge bad\" title=\"MCP steps that failed\">{failed} MCP failed</span>"
        );
    }
    out
}

fn opt(v: Option<&str>) -> String {
    v.map_or_else(|| "<span class=\"muted\">-</span>".to_owned(), esc)
}

fn tokens(r: &RequestRecord) -> String {
    match (r.input_tokens, r.output_tokens) {
        (None, None) => String::new(),
        (i, o) => format!(
            "{} / {}",
            i.map_or("-".to_owned(), |n| n.to_string()),
            o.map_or("-".to_owned(), |n| n.to_string())
        ),
    }
}

/// The columns a filter can narrow, with the record's value for each.
const COLUMNS: &[&str] = &[
    "time", "tenant", "user", "vendor", "model", "server", "outcome", "duration", "tokens",
];

fn matches(r: &RequestRecord, filters: &HashMap<String, String>) -> bool {
    let has = |value: Option<&str>, want: &str| {
        value.is_some_and(|v| v.to_lowercase().contains(&want.to_lowercase()))
    };
    for (key, want) in filters {
        let want = want.trim();
        let ok = match key.as_str() {
            "time" => format_utc(r.start_ms).contains(want),
            "tenant" => has(r.tenant.as_deref(), want),
            "user" => has(r.user.as_deref(), want),
            "vendor" => has(r.vendor.as_deref(), want),
            "model" => has(r.model.as_deref(), want),
            "server" => r.servers.iter().any(|s| has(Some(s), want)),
            "outcome" => {
                if want == "failed" {
                    r.failed()
                } else {
                    r.outcome == want
                }
            }
            // At least this many ms / tokens.
            "duration" => want
                .parse::<f64>()
                .is_ok_and(|min| r.duration_ms.is_some_and(|d| d >= min)),
            "tokens" => want
                .parse::<u64>()
                .is_ok_and(|min| r.input_tokens.unwrap_or(0) + r.output_tokens.unwrap_or(0) >= min),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The most rows on the list page.
const MAX_ROWS: usize = 500;

/// The request list with a filter per column.
pub(super) fn list(all: &[RequestRecord], filters: &HashMap<String, String>) -> String {
    let shown: Vec<&RequestRecord> = all
        .iter()
        .filter(|r| matches(r, filters))
        .take(MAX_ROWS)
        .collect();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Requests</h1><p class=\"muted\" id=\"count\">{} of {} requests{}</p>",
        shown.len(),
        all.len(),
        if all.len() > MAX_ROWS {
            format!(" (at most {MAX_ROWS} shown)")
        } else {
            String::new()
        }
    );
    body.push_str("<form method=\"get\" action=\"/ui\"><table id=\"requests\"><thead><tr>");
    for c in COLUMNS {
        let _ = write!(body, "<th>{c}</th>");
    }
    body.push_str("<th></th></tr><tr class=\"filters\">");
    let hint = |c: &str| match c {
        "time" => "2026-07-14 10:",
        "outcome" => "ok, error, refused, failed",
        "duration" => "at least ms",
        "tokens" => "at least",
        _ => "contains",
    };
    for c in COLUMNS {
        let value = filters.get(*c).map(String::as_str).unwrap_or("");
        let _ = write!(
            body,
            "<td><input name=\"{c}\" value=\"{}\" placeholder=\"{}\" aria-label=\"filter {c}\"></td>",
            esc(value),
            hint(c)
        );
    }
    body.push_str("<td><button type=\"submit\">Filter</button></td></tr></thead><tbody>");
    for r in &shown {
        let link = format!("/ui/requests/{}", url_part(&r.request_id));
        let _ = write!(
            body,
            "<tr class=\"row\" data-request-id=\"{id}\"><td class=\"time\"><a href=\"{link}\">{time}</a></td><td>{tenant}</td><td>{user}</td><td>{vendor}</td><td>{model}</td><td>{servers}</td><td>{outcome}</td><td class=\"num\">{dur}</td><td class=\"num\">{tok}</td><td><a href=\"{link}\">open</a></td></tr>",
            id = esc(&r.request_id),
            time = esc(&format_utc(r.start_ms)),
            tenant = opt(r.tenant.as_deref()),
            user = opt(r.user.as_deref()),
            vendor = opt(r.vendor.as_deref()),
            model = opt(r.model.as_deref()),
            servers = esc(&r.servers.join(", ")),
            outcome = outcome_cell(r),
            dur = r.duration_ms.map(duration).unwrap_or_default(),
            tok = tokens(r),
        );
    }
    body.push_str("</tbody></table></form>");
    frame("Requests", Some("Requests"), &body)
}

fn step_title(s: &Step) -> String {
    match s.event.as_str() {
        "tools_listed" => {
            if s.outcome == "list_failed" {
                "tools listed: failed".to_owned()
            } else {
                format!("tools listed: {}", s.tools.unwrap_or(0))
            }
        }
        "approval_requested" => "approval asked".to_owned(),
        "call" => match &s.approval_id {
            Some(_) => "call (approval answered: approved)".to_owned(),
            None => "call".to_owned(),
        },
        other => other.to_owned(),
    }
}

fn json_block(label: &str, v: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    format!(
        "<div class=\"muted\">{label}</div><pre class=\"{label}\">{}</pre>",
        esc(&text)
    )
}

/// One request: what it was, how it ended, and its MCP events as a timeline.
pub(super) fn request(r: &RequestRecord) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Request <code>{}</code></h1><dl class=\"facts\">",
        esc(&r.request_id)
    );
    let fact = |body: &mut String, k: &str, v: String| {
        let _ = write!(body, "<dt>{k}</dt><dd>{v}</dd>");
    };
    fact(&mut body, "time", esc(&format_utc(r.start_ms)));
    fact(&mut body, "outcome", outcome_badge(&r.outcome));
    fact(
        &mut body,
        "status",
        r.status.map(|s| s.to_string()).unwrap_or_default(),
    );
    fact(&mut body, "tenant", opt(r.tenant.as_deref()));
    fact(&mut body, "user", opt(r.user.as_deref()));
    fact(&mut body, "vendor", opt(r.vendor.as_deref()));
    fact(&mut body, "model", opt(r.model.as_deref()));
    fact(&mut body, "MCP servers", esc(&r.servers.join(", ")));
    fact(
        &mut body,
        "duration",
        r.duration_ms.map(duration).unwrap_or_default(),
    );
    fact(
        &mut body,
        "first byte",
        r.first_byte_ms.map(duration).unwrap_or_default(),
    );
    fact(&mut body, "tokens (in / out)", tokens(r));
    fact(&mut body, "response id", opt(r.response_id.as_deref()));
    fact(&mut body, "finish", opt(r.finish.as_deref()));
    fact(&mut body, "replica", opt(r.replica.as_deref()));
    body.push_str("</dl>");
    if let Some(e) = &r.error {
        let _ = write!(
            body,
            "<div class=\"refusal\"><b>Vendor error:</b> {}</div>",
            esc(e)
        );
    }
    if let Some(f) = &r.refused {
        let _ = write!(
            body,
            "<div class=\"refusal\" id=\"refusal\"><b>Refused: {}</b><br>{}{}{}</div>",
            esc(&f.reason),
            esc(&f.message),
            f.param
                .as_deref()
                .map(|p| format!("<br><span class=\"muted\">field:</span> {}", esc(p)))
                .unwrap_or_default(),
            f.target
                .as_deref()
                .map(|t| format!("<br><span class=\"muted\">target:</span> {}", esc(t)))
                .unwrap_or_default(),
        );
    }
    body.push_str("<h2>Timeline</h2>");
    if r.steps.is_empty() {
        body.push_str("<p class=\"muted\">No MCP events were recorded for this request.</p>");
        return frame("Request", Some("Requests"), &body);
    }
    let start = r.start_ms;
    let end = r
        .steps
        .iter()
        .map(|s| s.ts_ms as f64)
        .chain(r.end_ms())
        .fold(start, f64::max);
    let total = (end - start).max(1.0);
    body.push_str("<table class=\"timeline\" id=\"timeline\"><thead><tr><th>at</th><th>event</th><th>server</th><th>tool</th><th>call id</th><th>outcome</th><th>took</th><th style=\"width:30%\">when</th></tr></thead><tbody>");
    for s in &r.steps {
        let left = ((s.start_ms - start) / total * 100.0).clamp(0.0, 100.0);
        let width = (s.latency_ms.unwrap_or(0.0) / total * 100.0).clamp(0.0, 100.0 - left);
        let failed = if s.failed() { " failed" } else { "" };
        let _ = write!(
            body,
            "<tr class=\"step{failed}\" data-event=\"{event}\" data-tool=\"{tool}\" data-outcome=\"{outcome_raw}\"><td class=\"num\">+{at}</td><td>{title}</td><td>{server}</td><td>{tool}</td><td><code>{call}</code></td><td>{outcome}</td><td class=\"num\">{took}</td><td><div class=\"track\"><span style=\"left:{left:.2}%;width:{width:.2}%\"></span></div></td></tr>",
            event = esc(&s.event),
            outcome_raw = esc(&s.outcome),
            at = duration((s.start_ms - start).max(0.0)),
            title = esc(&step_title(s)),
            server = opt(s.server.as_deref()),
            tool = s.tool.as_deref().map(esc).unwrap_or_default(),
            call = s.call_id.as_deref().map(esc).unwrap_or_default(),
            outcome = outcome_badge(&s.outcome),
            took = s.latency_ms.map(duration).unwrap_or_default(),
        );
        let mut detail = String::new();
        if let Some(e) = &s.error {
            let _ = write!(detail, "<div class=\"error\">{}</div>", esc(e));
        }
        if let Some(a) = &s.arguments {
            detail.push_str(&json_block("arguments", a));
        }
        if let Some(o) = &s.output {
            detail.push_str(&json_block("output", o));
        }
        if !detail.is_empty() {
            let _ = write!(
                body,
                "<tr class=\"detail{failed}\"><td></td><td colspan=\"7\">{detail}</td></tr>"
            );
        }
    }
    body.push_str("</tbody></table>");
    frame("Request", Some("Requests"), &body)
}

/// Per server: calls, errors and call-time quantiles of the last hour, and a chart of calls
/// per five minutes (errors in red).
/// The servers page: MCP activity of the last hour per server, then (when a tenant has
/// per-user servers) who is connected to each.
pub(super) fn servers(
    all: &[RequestRecord],
    now_ms: f64,
    connected: Option<&Result<Vec<Connected>, String>>,
) -> String {
    const HOUR: f64 = 3_600_000.0;
    const BUCKETS: usize = 12;
    #[derive(Default)]
    struct Acc {
        calls: u64,
        errors: u64,
        lists: u64,
        latencies: Vec<f64>,
        buckets: [(u64, u64); BUCKETS],
    }
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for r in all {
        for s in &r.steps {
            let age = now_ms - s.ts_ms as f64;
            if !(0.0..HOUR).contains(&age) {
                continue;
            }
            let name = s
                .server
                .clone()
                .or_else(|| s.server_label.clone())
                .unwrap_or_else(|| "unknown".to_owned());
            let acc = by.entry(name).or_default();
            if s.event == "tools_listed" {
                acc.lists += 1;
                continue;
            }
            if s.event != "call" {
                continue;
            }
            let b = (BUCKETS - 1).saturating_sub((age / (HOUR / BUCKETS as f64)) as usize);
            acc.calls += 1;
            acc.buckets[b].0 += 1;
            if s.failed() {
                acc.errors += 1;
                acc.buckets[b].1 += 1;
            }
            if let Some(l) = s.latency_ms {
                acc.latencies.push(l);
            }
        }
    }
    let mut body = String::from(
        "<h1>MCP servers</h1><p class=\"muted\">Calls seen in responses over the last hour, by server (call times as seen in the vendor's stream).</p>",
    );
    if by.is_empty() {
        body.push_str("<p id=\"no-servers\">No MCP activity in the last hour.</p>");
    }
    body.push_str("<div class=\"cards\">");
    for (name, mut acc) in by {
        acc.latencies.sort_by(f64::total_cmp);
        let q = |p: f64| -> String {
            if acc.latencies.is_empty() {
                return "-".to_owned();
            }
            let i = ((acc.latencies.len() as f64 - 1.0) * p).round() as usize;
            duration(acc.latencies[i])
        };
        let rate = if acc.calls == 0 {
            0.0
        } else {
            acc.errors as f64 * 100.0 / acc.calls as f64
        };
        let _ = write!(
            body,
            "<section class=\"card server\" data-server=\"{n}\"><h2>{n}</h2><table><tr><th>calls</th><th>errors</th><th>error rate</th><th>p50</th><th>p99</th><th>listings</th></tr><tr><td class=\"num calls\">{}</td><td class=\"num\">{}</td><td class=\"num\">{rate:.1}%</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr></table>",
            acc.calls,
            acc.errors,
            q(0.5),
            q(0.99),
            acc.lists,
            n = esc(&name),
        );
        let max = acc.buckets.iter().map(|b| b.0).max().unwrap_or(0).max(1) as f64;
        let (w, h, bw) = (300.0, 48.0, 300.0 / BUCKETS as f64);
        let _ = write!(
            body,
            "<svg width=\"100%\" viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"calls per five minutes\">",
            h + 14.0
        );
        for (i, (calls, errors)) in acc.buckets.iter().enumerate() {
            let x = i as f64 * bw + 1.0;
            let ch = *calls as f64 / max * h;
            let eh = *errors as f64 / max * h;
            let _ = write!(
                body,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{ch:.1}\" fill=\"#3b6fd8\"><title>{calls} calls, {errors} errors</title></rect><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{eh:.1}\" fill=\"#b42318\"></rect>",
                h - ch,
                bw - 2.0,
                h - eh,
                bw - 2.0
            );
        }
        let _ = write!(
            body,
            "<text x=\"0\" y=\"{}\" font-size=\"10\" fill=\"#5b6678\">-60 min</text><text x=\"{w}\" y=\"{}\" font-size=\"10\" fill=\"#5b6678\" text-anchor=\"end\">now</text></svg></section>",
            h + 12.0,
            h + 12.0
        );
    }
    body.push_str("</div>");
    match connected {
        None => {}
        Some(Err(e)) => {
            let _ = write!(
                body,
                "<h2>Connected users</h2><p id=\"connected-error\" class=\"failed\">{}</p>",
                esc(e)
            );
        }
        Some(Ok(list)) => connected_users(&mut body, list, now_ms / 1000.0),
    }
    frame("Servers", Some("Servers"), &body)
}

/// Seconds for people, coarsely: `45 s`, `17 min`, `5 h`.
fn coarse(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.0} h", secs / 3600.0)
    }
}

/// Per (tenant, per-user server), the users whose tokens the store holds.
fn connected_users(body: &mut String, list: &[Connected], now_s: f64) {
    body.push_str("<h2>Connected users</h2><p class=\"muted\">Users whose tokens the store holds for each per-user server (the tokens themselves are never shown).</p>");
    if list.is_empty() {
        body.push_str("<p id=\"no-connections\">No user has connected a per-user server yet.</p>");
        return;
    }
    body.push_str("<table id=\"connections\"><tr><th>tenant</th><th>server</th><th>user</th><th>token</th></tr>");
    for c in list {
        let state = if c.login_required {
            "<span class=\"failed\">must connect again</span>".to_owned()
        } else {
            match c.expires_at {
                Some(at) if (at as f64) <= now_s => "expired, refreshed on next use".to_owned(),
                Some(at) => format!("expires in {}", coarse(at as f64 - now_s)),
                None => "no expiry".to_owned(),
            }
        };
        let _ = write!(
            body,
            "<tr class=\"connection\"><td>{}</td><td>{}</td><td class=\"user\">{}</td><td>{state}</td></tr>",
            esc(&c.tenant),
            esc(&c.server),
            esc(&c.user)
        );
    }
    body.push_str("</table>");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::records::group;
    use serde_json::json;

    fn sample() -> Vec<RequestRecord> {
        let lines = vec![
            json!({"event":"call","request_id":"r1","ts_ms":1_000_200,"tenant":"a","vendor":"openai","server":"demo<b>","tool":"echo","call_id":"c1","outcome":"ok","latency_ms":100.0,
                   "output":[{"type":"text","text":"<script>alert(1)</script>\"><img src=x onerror=alert(2)>"}]}),
            json!({"event":"call","request_id":"r1","ts_ms":1_000_300,"tenant":"a","vendor":"openai","server":"demo<b>","tool":"fail","call_id":"c2","outcome":"error","error":{"message":"<i>boom</i>"},"latency_ms":50.0}),
            json!({"event":"request","request_id":"r1","ts_ms":1_000_400,"tenant":"a","vendor":"openai","model":"gpt<x>","servers":["demo<b>"],"status":200,"outcome":"ok","duration_ms":400.0}),
            json!({"event":"refusal","request_id":"r2","ts_ms":1_000_500,"route":"responses","reason":"mcp_server_not_allowed","status":403,"message":"not <allowed>"}),
        ];
        group(&lines)
    }

    #[test]
    fn everything_remote_is_escaped() {
        let all = sample();
        let page = request(&all[0]);
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("<i>boom"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("demo&lt;b&gt;"));
        let list_page = list(&all, &HashMap::new());
        assert!(!list_page.contains("gpt<x>") && list_page.contains("gpt&lt;x&gt;"));
        let refused = request(&all[1]);
        assert!(
            refused.contains("mcp_server_not_allowed") && refused.contains("not &lt;allowed&gt;")
        );
        let servers_page = servers(&all, 1_000_500.0, None);
        assert!(!servers_page.contains("demo<b>") && servers_page.contains("demo&lt;b&gt;"));
    }

    #[test]
    fn the_timeline_keeps_call_order_and_marks_failures() {
        let page = request(&sample()[0]);
        let echo = page.find("data-tool=\"echo\"").unwrap();
        let fail = page.find("data-tool=\"fail\"").unwrap();
        assert!(echo < fail);
        assert!(page.contains("class=\"step failed\" data-event=\"call\" data-tool=\"fail\""));
        // echo started at +100 of 400 ms and took 100 ms: the second quarter of the track.
        assert!(page.contains("left:25.00%;width:25.00%"), "{page}");
    }

    #[test]
    fn filters_narrow_each_column() {
        let all = sample();
        let only = |k: &str, v: &str| {
            let f: HashMap<String, String> = [(k.to_owned(), v.to_owned())].into();
            all.iter().filter(|r| matches(r, &f)).count()
        };
        assert_eq!(only("outcome", "refused"), 1);
        assert_eq!(only("outcome", "failed"), 2);
        assert_eq!(only("tenant", "A"), 1);
        assert_eq!(only("model", "gpt"), 1);
        assert_eq!(only("server", "demo"), 1);
        assert_eq!(only("duration", "300"), 1);
        assert_eq!(only("duration", "500"), 0);
        assert_eq!(only("vendor", "anthropic"), 0);
    }

    #[test]
    fn servers_count_the_last_hour() {
        let page = servers(&sample(), 1_000_500.0, None);
        assert!(
            page.contains(
                "<td class=\"num calls\">2</td><td class=\"num\">1</td><td class=\"num\">50.0%</td>"
            ),
            "{page}"
        );
        let later = servers(&sample(), 1_000_500.0 + 4_000_000.0, None);
        assert!(later.contains("No MCP activity"));
        assert!(
            !page.contains("Connected users"),
            "no per-user server: no section"
        );
    }

    #[test]
    fn servers_name_who_is_connected_escaped() {
        let list = vec![
            Connected {
                tenant: "a".into(),
                server: "docs".into(),
                user: "<b>mallory</b>".into(),
                expires_at: Some(2_000),
                login_required: false,
            },
            Connected {
                tenant: "a".into(),
                server: "docs".into(),
                user: "bob".into(),
                expires_at: None,
                login_required: true,
            },
        ];
        let page = servers(&[], 1_000_000.0, Some(&Ok(list)));
        assert!(page.contains("&lt;b&gt;mallory&lt;/b&gt;"), "{page}");
        assert!(!page.contains("<b>mallory"), "{page}");
        assert!(page.contains("expires in 17 min"), "{page}");
        assert!(page.contains("must connect again"), "{page}");
        let none = servers(&[], 1_000_000.0, Some(&Ok(Vec::new())));
        assert!(none.contains("No user has connected"), "{none}");
        let broken = servers(&[], 1_000_000.0, Some(&Err("store <down>".into())));
        assert!(broken.contains("store &lt;down&gt;"), "{broken}");
    }
}
