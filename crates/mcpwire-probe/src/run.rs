//! One vendor's probe, step by step: the URL, the headers its client would send, connecting
//! the way it does (the openings of its [`VendorRules`], Streamable HTTP first, then the
//! deprecated HTTP+SSE transport), auth, listing the tools (all pages), the listing checks and
//! the optional tool call. A step that fails ends the probe for that vendor.

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use serde_json::{Value, json};
use url::{Host, Url};

use crate::auth::check_unauthorized;
use crate::mcp::{Channel, Era, Http, NetError, Reply, Session};
use crate::report::{Check, CheckId, Status, VendorReport, Verdict};
use crate::rules::{Attempt, Basis, Opening, VendorRules};
use crate::target::{ProbeOptions, Target};
use crate::tools::{self, Listing};
use crate::{human, remote, scrubbed};

/// The most `tools/list` pages read.
const MAX_PAGES: usize = 100;

/// A finished vendor report.
fn finish(
    rules: &VendorRules,
    checks: Vec<Check>,
    version: Option<String>,
    tools: Option<usize>,
) -> VendorReport {
    VendorReport {
        vendor: rules.vendor,
        verdict: Verdict::of(&checks),
        checks,
        protocol_version: version,
        tools,
    }
}

fn is_private(url: &Url) -> (bool, bool) {
    // (loopback, private)
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            (
                d == "localhost" || d.ends_with(".localhost"),
                d.ends_with(".internal") || d.ends_with(".local") || d.ends_with(".lan"),
            )
        }
        Some(Host::Ipv4(ip)) => (
            ip.is_loopback(),
            ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
        ),
        Some(Host::Ipv6(ip)) => {
            let s = ip.segments();
            (
                ip.is_loopback(),
                (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80 || ip.is_unspecified(),
            )
        }
        None => (false, false),
    }
}

/// The URL check: scheme, and whether the vendor's servers can reach the host.
fn url_check(rules: &VendorRules, url: &Url) -> Check {
    let (https_needed, basis, _) = rules.requires_https;
    let http = url.scheme() == "http";
    let (loopback, private) = is_private(url);
    let host = url.host_str().unwrap_or("");
    let https_note = if http && https_needed {
        format!(
            "; {} requires https:// for a real server ({})",
            rules.name,
            basis.as_str()
        )
    } else {
        String::new()
    };
    if loopback || private {
        let what = if loopback {
            "this machine"
        } else {
            "a private network"
        };
        return Check::new(
            CheckId::Url,
            Status::Warn,
            format!(
                "{} is on {what}: {}'s servers cannot reach it; the other checks ran from here{https_note}",
                remote(host, 80),
                rules.name
            ),
        );
    }
    if http && https_needed {
        return Check::new(
            CheckId::Url,
            Status::Fail,
            format!(
                "http:// URL: {} requires https:// ({})",
                rules.name,
                basis.as_str()
            ),
        );
    }
    if http {
        return Check::new(
            CheckId::Url,
            Status::Warn,
            "http:// URL: tokens and headers would cross the internet in clear text",
        );
    }
    Check::new(CheckId::Url, Status::Pass, "https:// on a public host")
}

/// The headers this vendor's client sends, and the caller's headers it cannot send.
fn vendor_headers(
    rules: &VendorRules,
    target: &Target,
) -> Result<(HeaderMap, Vec<String>), String> {
    let mut headers = HeaderMap::new();
    let ua = match rules.user_agent {
        Some((ua, _, _)) => ua.to_owned(),
        None => format!("mcpwire-probe/{}", env!("CARGO_PKG_VERSION")),
    };
    if let Ok(v) = HeaderValue::from_str(&ua) {
        headers.insert(USER_AGENT, v);
    }
    let (custom, _, _) = rules.custom_headers;
    let mut dropped = Vec::new();
    let mut bearer = target.bearer.as_ref().map(|t| t.expose().to_owned());
    for (name, value) in &target.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{}` is not a valid HTTP header name", remote(name, 60)))?;
        let is_auth = header == AUTHORIZATION;
        if !custom {
            // The only credential such a vendor carries is a bearer token.
            match value
                .expose()
                .strip_prefix("Bearer ")
                .or_else(|| value.expose().strip_prefix("bearer "))
            {
                Some(token) if is_auth && bearer.is_none() => bearer = Some(token.to_owned()),
                _ => dropped.push(header.as_str().to_owned()),
            }
            continue;
        }
        let mut v = HeaderValue::from_str(value.expose()).map_err(|_| {
            format!("the value of header `{header}` is not a valid HTTP header value")
        })?;
        v.set_sensitive(true);
        headers.insert(header, v);
    }
    if let Some(token) = bearer
        && (!custom || !headers.contains_key(AUTHORIZATION))
    {
        let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the token is not a valid HTTP header value".to_owned())?;
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    Ok((headers, dropped))
}

/// How a connection attempt ended.
enum Connect<'a> {
    Connected {
        session: Box<Session<'a>>,
        attempt: Attempt,
        first: Duration,
    },
    Unauthorized {
        status: u16,
        www_authenticate: Option<String>,
        first: Duration,
    },
    /// Answers came, but no opening worked.
    Refused {
        first: Duration,
        /// A POST got a JSON-RPC answer (the endpoint speaks MCP).
        speaks_mcp: bool,
        /// That answer came over the HTTP+SSE transport.
        over_sse: bool,
        notes: Vec<String>,
    },
    Unreachable(NetError),
}

fn rpc_note(reply: &Reply) -> String {
    match reply.rpc_error() {
        Some(e) => {
            let mut s = format!(
                "HTTP {}, JSON-RPC error {} {}",
                reply.status,
                e.code,
                remote(&e.message, 120)
            );
            let supported = e.supported_versions();
            if !supported.is_empty() {
                s.push_str(&format!(
                    " (the server speaks {})",
                    remote(&supported.join(", "), 80)
                ));
            }
            s
        }
        None if reply.excerpt.is_empty() => format!("HTTP {}", reply.status),
        None => format!("HTTP {}: {}", reply.status, remote(&reply.excerpt, 120)),
    }
}

/// How one opening ended (network failures aside).
enum Opened {
    /// A version was agreed.
    Agreed,
    /// Refused: whether the answer was a JSON-RPC message (the endpoint speaks MCP), and
    /// whether it is the kind of refusal after which the old HTTP+SSE transport is worth a
    /// try (400, 404, 405 without a modern JSON-RPC error: the transport spec's back-compat rule).
    Refused { rpc: bool, try_sse: bool },
    /// 401 or 403, with the challenge.
    Unauthorized {
        status: u16,
        www_authenticate: Option<String>,
    },
}

fn refused(reply: &Reply) -> Opened {
    let rpc = reply.message.is_some();
    let modern = reply.rpc_error().is_some_and(|e| e.is_modern());
    Opened::Refused {
        rpc,
        try_sse: matches!(reply.status, 400 | 404 | 405) && !modern,
    }
}

/// Tries one opening on a session.
async fn open(
    session: &mut Session<'_>,
    rules: &VendorRules,
    opening: Opening,
    notes: &mut Vec<String>,
) -> Result<Opened, NetError> {
    let (accepts, _, _) = rules.accepts;
    let what = format!("{} {}", opening.method(), opening.version());
    let reply = match opening {
        Opening::Initialize { version } => session.initialize(version).await?,
        Opening::Discover { version } => session.discover(version).await?,
    };
    if reply.status == 401 || reply.status == 403 {
        return Ok(Opened::Unauthorized {
            status: reply.status,
            www_authenticate: reply.header("www-authenticate").map(str::to_owned),
        });
    }
    if !(200..300).contains(&reply.status) {
        notes.push(format!("{what}: {}", rpc_note(&reply)));
        return Ok(refused(&reply));
    }
    let Some(result) = reply.result() else {
        notes.push(match reply.rpc_error() {
            Some(_) => format!("{what}: {}", rpc_note(&reply)),
            None => format!("{what}: the answer is not a JSON-RPC response"),
        });
        return Ok(refused(&reply));
    };
    match opening {
        Opening::Initialize { .. } => {
            let Some(agreed) = result.get("protocolVersion").and_then(Value::as_str) else {
                notes.push(format!("{what}: the result has no protocolVersion"));
                return Ok(refused(&reply));
            };
            if !accepts.contains(&agreed) {
                notes.push(format!(
                    "{what}: the server answered with version {}, which {} is not known to speak",
                    remote(agreed, 40),
                    rules.name
                ));
                return Ok(refused(&reply));
            }
            session.era = Some(Era::Legacy(agreed.to_owned()));
            let ack = session.initialized().await?;
            if !(200..300).contains(&ack.status) {
                notes.push(format!(
                    "notifications/initialized: HTTP {} (ignored)",
                    ack.status
                ));
            }
            Ok(Opened::Agreed)
        }
        Opening::Discover { version } => {
            let supported: Vec<&str> = result
                .get("supportedVersions")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !supported.is_empty() && !supported.contains(&version) {
                notes.push(format!(
                    "{what}: the server lists {}",
                    remote(&supported.join(", "), 80)
                ));
                return Ok(refused(&reply));
            }
            session.era = Some(Era::Modern(version.to_owned()));
            Ok(Opened::Agreed)
        }
    }
}

/// The openings, the ones with the firmer basis first.
fn ordered(rules: &VendorRules) -> Vec<Attempt> {
    let mut v: Vec<Attempt> = rules.attempts.to_vec();
    v.sort_by_key(|a| a.basis == Basis::Inferred);
    v
}

async fn connect<'a>(
    http: &'a Http,
    rules: &VendorRules,
    url: &str,
    headers: &HeaderMap,
) -> Connect<'a> {
    let (name, version, _, _) = rules.client_info;
    let client_info = json!({"name": name, "version": version});
    let mut notes = Vec::new();
    let mut first: Option<Duration> = None;
    let mut speaks_mcp = false;
    let mut sse_worth_trying = false;
    for attempt in ordered(rules) {
        let mut session = Session::new(
            http,
            Channel::Streamable(url.to_owned()),
            headers.clone(),
            client_info.clone(),
        );
        let start = Instant::now();
        match open(&mut session, rules, attempt.opening, &mut notes).await {
            Err(e) if first.is_none() => return Connect::Unreachable(e),
            Err(e) => notes.push(format!(
                "{} {}: {e}",
                attempt.opening.method(),
                attempt.opening.version()
            )),
            Ok(Opened::Agreed) => {
                return Connect::Connected {
                    session: Box::new(session),
                    attempt,
                    first: first.unwrap_or_else(|| start.elapsed()),
                };
            }
            Ok(Opened::Unauthorized {
                status,
                www_authenticate,
            }) => {
                return Connect::Unauthorized {
                    status,
                    www_authenticate,
                    first: first.unwrap_or_else(|| start.elapsed()),
                };
            }
            Ok(Opened::Refused { rpc, try_sse }) => {
                speaks_mcp |= rpc;
                sse_worth_trying |= try_sse;
            }
        }
        first.get_or_insert_with(|| start.elapsed());
    }
    let first = first.unwrap_or_default();
    let (sse, _, _) = rules.legacy_sse;
    if !(sse && sse_worth_trying && !speaks_mcp) {
        return Connect::Refused {
            first,
            speaks_mcp,
            over_sse: false,
            notes,
        };
    }
    let mut channel = match http.open_sse(url, headers).await {
        Ok(Ok(channel)) => Some(channel),
        Ok(Err((status @ (401 | 403), _))) => {
            return Connect::Unauthorized {
                status,
                www_authenticate: None,
                first,
            };
        }
        Ok(Err((status, excerpt))) => {
            notes.push(if excerpt.is_empty() {
                format!("GET for the HTTP+SSE transport: HTTP {status}")
            } else {
                format!(
                    "GET for the HTTP+SSE transport: HTTP {status}: {}",
                    remote(&excerpt, 80)
                )
            });
            return Connect::Refused {
                first,
                speaks_mcp,
                over_sse: false,
                notes,
            };
        }
        Err(e) => {
            notes.push(format!("GET for the HTTP+SSE transport: {e}"));
            return Connect::Refused {
                first,
                speaks_mcp,
                over_sse: false,
                notes,
            };
        }
    };
    let mut return_sse = false;
    for attempt in ordered(rules)
        .into_iter()
        .filter(|a| matches!(a.opening, Opening::Initialize { .. }))
    {
        // One stream per attempt: a server binds a stream to one session.
        let stream = match channel.take() {
            Some(c) => c,
            None => match http.open_sse(url, headers).await {
                Ok(Ok(c)) => c,
                _ => continue,
            },
        };
        let mut session = Session::new(
            http,
            Channel::Sse(stream),
            headers.clone(),
            client_info.clone(),
        );
        match open(&mut session, rules, attempt.opening, &mut notes).await {
            Ok(Opened::Agreed) => {
                return Connect::Connected {
                    session: Box::new(session),
                    attempt,
                    first,
                };
            }
            Ok(Opened::Unauthorized {
                status,
                www_authenticate,
            }) => {
                return Connect::Unauthorized {
                    status,
                    www_authenticate,
                    first,
                };
            }
            Ok(Opened::Refused { .. }) => return_sse = true,
            Err(e) => notes.push(format!("HTTP+SSE {}: {e}", attempt.opening.method())),
        }
    }
    Connect::Refused {
        first,
        speaks_mcp: speaks_mcp || return_sse,
        over_sse: return_sse,
        notes,
    }
}

fn reach_check(url: &Url, first: Duration) -> Check {
    let tls = if url.scheme() == "https" {
        " (TLS certificate accepted)"
    } else {
        ""
    };
    Check::new(
        CheckId::Reachability,
        Status::Pass,
        format!("answered in {}{tls}", human(first)),
    )
    .with_elapsed(first)
}

/// Probes one vendor.
pub(crate) async fn probe_vendor(
    rules: &VendorRules,
    target: &Target,
    options: &ProbeOptions,
    http: &Http,
) -> VendorReport {
    let mut checks = Vec::new();
    let secrets = target.secrets();
    let url = match Url::parse(&target.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        _ => {
            checks.push(Check::new(
                CheckId::Url,
                Status::Fail,
                "not an http:// or https:// URL",
            ));
            return finish(rules, checks, None, None);
        }
    };
    checks.push(url_check(rules, &url));
    let (headers, dropped) = match vendor_headers(rules, target) {
        Ok(h) => h,
        Err(why) => {
            checks.push(Check::new(CheckId::Headers, Status::Fail, why));
            return finish(rules, checks, None, None);
        }
    };
    if !target.headers.is_empty() {
        let (_, basis, _) = rules.custom_headers;
        checks.push(if dropped.is_empty() {
            let names: Vec<&str> = target.headers.iter().map(|(n, _)| n.as_str()).collect();
            Check::new(
                CheckId::Headers,
                Status::Pass,
                format!("sends {} as given", remote(&names.join(", "), 120)),
            )
        } else {
            Check::new(
                CheckId::Headers,
                Status::Warn,
                format!(
                    "{} cannot send {} (it carries only a bearer token, {}); probed without",
                    rules.name,
                    remote(&dropped.join(", "), 120),
                    basis.as_str()
                ),
            )
        });
    }
    let had_credentials = headers.contains_key(AUTHORIZATION)
        || (rules.custom_headers.0 && !target.headers.is_empty());

    let (mut session, attempt) = match connect(http, rules, url.as_str(), &headers).await {
        Connect::Unreachable(e) => {
            let why = match &e {
                NetError::Timeout(_) => format!("{e} (connect, TLS and the first answer)"),
                _ => e.to_string(),
            };
            checks.push(Check::new(
                CheckId::Reachability,
                Status::Fail,
                scrubbed(&why, &secrets, 300),
            ));
            return finish(rules, checks, None, None);
        }
        Connect::Unauthorized {
            status,
            www_authenticate,
            first,
        } => {
            checks.push(reach_check(&url, first));
            let auth = check_unauthorized(
                &target.url,
                status,
                www_authenticate.as_deref(),
                had_credentials,
                &secrets,
                options.timeout,
            )
            .await;
            checks.push(auth);
            return finish(rules, checks, None, None);
        }
        Connect::Refused {
            first,
            speaks_mcp,
            over_sse,
            notes,
        } => {
            checks.push(reach_check(&url, first));
            let notes: Vec<String> = notes.iter().map(|n| scrubbed(n, &secrets, 300)).collect();
            let first_note = notes.first().cloned().unwrap_or_default();
            if speaks_mcp {
                checks.push(if over_sse {
                    Check::new(CheckId::Transport, Status::Warn, "HTTP+SSE (2024-11-05), deprecated since 2025-03-26: the stream answers JSON-RPC")
                } else {
                    Check::new(CheckId::Transport, Status::Pass, "Streamable HTTP: POST answers JSON-RPC")
                });
                let tried: Vec<String> = ordered(rules)
                    .iter()
                    .map(|a| format!("{} {}", a.opening.method(), a.opening.version()))
                    .collect();
                checks.push(
                    Check::new(
                        CheckId::Protocol,
                        Status::Fail,
                        format!(
                            "no opening {} uses was accepted ({}): {first_note}",
                            rules.name,
                            tried.join(", ")
                        ),
                    )
                    .with_items(notes),
                );
            } else {
                checks.push(
                    Check::new(
                        CheckId::Transport,
                        Status::Fail,
                        format!(
                            "no MCP endpoint found (Streamable HTTP or HTTP+SSE): {first_note}"
                        ),
                    )
                    .with_items(notes),
                );
            }
            return finish(rules, checks, None, None);
        }
        Connect::Connected {
            session,
            attempt,
            first,
        } => {
            checks.push(reach_check(&url, first));
            (session, attempt)
        }
    };
    let version = session.era.as_ref().map(|e| e.version().to_owned());
    checks.push(if session.is_sse() {
        Check::new(
            CheckId::Transport,
            Status::Warn,
            format!(
                "HTTP+SSE (2024-11-05), deprecated since 2025-03-26; {} still documents it",
                rules.name
            ),
        )
    } else {
        Check::new(CheckId::Transport, Status::Pass, "Streamable HTTP")
    });
    let agreed = version.clone().unwrap_or_default();
    let proposed = attempt.opening.version();
    let how = if agreed == proposed {
        format!("{} {proposed}", attempt.opening.method())
    } else {
        format!(
            "{} (proposed {proposed}, the server answered {})",
            attempt.opening.method(),
            remote(&agreed, 40)
        )
    };
    checks.push(match attempt.basis {
        Basis::Inferred => Check::new(
            CheckId::Protocol,
            Status::Warn,
            format!(
                "{} agreed only through {how}: not confirmed that {}'s client opens this way (inferred); the openings it is known to use were refused",
                remote(&agreed, 40),
                rules.name
            ),
        ),
        b => Check::new(
            CheckId::Protocol,
            Status::Pass,
            format!("{} agreed through {how} ({})", remote(&agreed, 40), b.as_str()),
        ),
    });

    // The listing, all pages.
    let start = Instant::now();
    let mut listing = Listing::default();
    let mut cursor: Option<String> = None;
    loop {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let reply = match session.request("tools/list", params, None).await {
            Ok(r) => r,
            Err(NetError::Timeout(_)) => {
                let took = start.elapsed();
                checks.push(auth_pass(had_credentials));
                checks.push(
                    Check::new(
                        CheckId::Listing,
                        Status::Fail,
                        format!("tools/list: no answer within {}", human(options.timeout)),
                    )
                    .with_elapsed(took),
                );
                return finish(rules, checks, version, None);
            }
            Err(NetError::TooLarge(n)) => {
                checks.push(auth_pass(had_credentials));
                checks.push(Check::new(
                    CheckId::Listing,
                    Status::Pass,
                    "tools/list answered",
                ));
                checks.push(Check::new(
                    CheckId::ListingSize,
                    Status::Fail,
                    format!(
                        "one tools/list answer is larger than {} (stopped reading)",
                        crate::bytes(n)
                    ),
                ));
                return finish(rules, checks, version, None);
            }
            Err(e) => {
                checks.push(auth_pass(had_credentials));
                checks.push(Check::new(
                    CheckId::Listing,
                    Status::Fail,
                    scrubbed(&format!("tools/list: {e}"), &secrets, 300),
                ));
                return finish(rules, checks, version, None);
            }
        };
        if reply.status == 401 || reply.status == 403 {
            let auth = check_unauthorized(
                &target.url,
                reply.status,
                reply.header("www-authenticate"),
                had_credentials,
                &secrets,
                options.timeout,
            )
            .await;
            checks.push(auth);
            return finish(rules, checks, version, None);
        }
        let Some(result) = reply.result() else {
            checks.push(auth_pass(had_credentials));
            checks.push(Check::new(
                CheckId::Listing,
                Status::Fail,
                scrubbed(&format!("tools/list: {}", rpc_note(&reply)), &secrets, 300),
            ));
            return finish(rules, checks, version, None);
        };
        let Some(page) = result.get("tools").and_then(Value::as_array) else {
            checks.push(auth_pass(had_credentials));
            checks.push(Check::new(
                CheckId::Listing,
                Status::Fail,
                "tools/list: the result has no tools array",
            ));
            return finish(rules, checks, version, None);
        };
        listing.bytes += result.get("tools").map_or(0, |t| t.to_string().len());
        listing.tools.extend(page.iter().cloned());
        listing.pages += 1;
        cursor = result
            .get("nextCursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        if cursor.is_none() || listing.pages >= MAX_PAGES {
            break;
        }
    }
    listing.elapsed = start.elapsed();
    checks.push(auth_pass(had_credentials));
    checks.push(if cursor.is_some() {
        Check::new(
            CheckId::Listing,
            Status::Warn,
            format!("tools/list still had more pages after {MAX_PAGES}; the rest was not read"),
        )
    } else {
        Check::new(
            CheckId::Listing,
            Status::Pass,
            format!(
                "tools/list answered: {}",
                crate::plural(listing.tools.len(), "tool")
            ),
        )
    });
    checks.push(tools::names(rules, &listing.tools));
    checks.push(tools::schemas(rules, &listing.tools));
    checks.push(tools::size(rules, &listing));
    checks.push(tools::latency(
        CheckId::ListingLatency,
        "listed",
        &rules.listing_time,
        listing.elapsed,
    ));

    if let Some(call) = &options.call {
        checks.push(
            call_check(
                &mut session,
                rules,
                &listing,
                call,
                &secrets,
                options.timeout,
            )
            .await,
        );
    }
    finish(rules, checks, version, Some(listing.tools.len()))
}

fn auth_pass(had_credentials: bool) -> Check {
    if had_credentials {
        Check::new(
            CheckId::Auth,
            Status::Pass,
            "the credentials given were accepted",
        )
    } else {
        Check::new(CheckId::Auth, Status::Pass, "no authorization required")
    }
}

async fn call_check(
    session: &mut Session<'_>,
    rules: &VendorRules,
    listing: &Listing,
    call: &crate::ToolCall,
    secrets: &[&mcpwire_auth::Secret],
    timeout: Duration,
) -> Check {
    let name = remote(&call.name, 80);
    if !listing
        .tools
        .iter()
        .any(|t| t.get("name").and_then(Value::as_str) == Some(call.name.as_str()))
    {
        return Check::new(
            CheckId::Call,
            Status::Fail,
            format!("no tool `{name}` is listed"),
        );
    }
    let start = Instant::now();
    let params = json!({"name": call.name, "arguments": call.arguments});
    let reply = match session
        .request("tools/call", params, Some(&call.name))
        .await
    {
        Ok(r) => r,
        Err(NetError::Timeout(_)) => {
            return Check::new(
                CheckId::Call,
                Status::Fail,
                format!("`{name}`: no answer within {}", human(timeout)),
            )
            .with_elapsed(start.elapsed());
        }
        Err(e) => {
            return Check::new(
                CheckId::Call,
                Status::Fail,
                scrubbed(&format!("`{name}`: {e}"), secrets, 300),
            );
        }
    };
    let took = reply.elapsed;
    let Some(result) = reply.result() else {
        return Check::new(
            CheckId::Call,
            Status::Fail,
            scrubbed(&format!("`{name}`: {}", rpc_note(&reply)), secrets, 300),
        )
        .with_elapsed(took);
    };
    let text: String = result
        .get("content")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find_map(|b| b.get("text").and_then(Value::as_str)))
        .unwrap_or("")
        .to_owned();
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return Check::new(
            CheckId::Call,
            Status::Fail,
            scrubbed(&format!("`{name}` returned isError: {text}"), secrets, 200),
        )
        .with_elapsed(took);
    }
    let mut check = tools::latency(
        CheckId::Call,
        &format!("called `{name}`"),
        &rules.call_time,
        took,
    );
    if !text.is_empty() {
        check
            .why
            .push_str(&format!(": {}", scrubbed(&text, secrets, 80)));
    }
    check
}
