//! One wiremock server per broken rule: each is reported with the right check failing, for
//! the right vendor, and nothing else fails.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Era, Fake, failing, mount_oauth, status, tool, url, vendor, why};
use mcpwire_auth::Secret;
use mcpwire_probe::{CheckId, ProbeOptions, Report, Status, Target, ToolCall, Verdict, probe};
use mcpwire_schema::event::Vendor::{Anthropic, OpenAi};
use serde_json::json;
use wiremock::MockServer;

fn options() -> ProbeOptions {
    ProbeOptions::default().with_timeout(Duration::from_secs(5))
}

/// Starts `fake` and probes it with [`options`]: the server (kept for the test) and the report.
async fn probe_fake(fake: Fake) -> (MockServer, Report) {
    let server = fake.start().await;
    let report = probe(&Target::new(url(&server)), &options()).await;
    (server, report)
}

/// The secrets planted in a probed server's URL, bearer token and header.
const PATH_KEY: &str = "path-key-9876";
const QUERY_KEY: &str = "query-key-5432";
const BEARER: &str = "bearer-secret-1111";
const HEADER_KEY: &str = "header-secret-2222";

#[tokio::test]
async fn a_correct_server_works_for_both_with_only_the_loopback_warning() {
    let (server, report) = probe_fake(Fake::new(json!([tool("search"), tool("fetch_page")]))).await;
    assert!(report.ok);
    assert_eq!(report.server, server.uri());
    for v in [OpenAi, Anthropic] {
        let r = vendor(&report, v);
        assert_eq!(r.verdict, Verdict::WorksWithWarnings, "{v}");
        for check in &r.checks {
            let expected = if check.id == CheckId::Url {
                Status::Warn
            } else {
                Status::Pass
            };
            assert_eq!(
                check.status,
                expected,
                "{v} {}: {}",
                check.id.as_str(),
                check.why
            );
        }
        assert_eq!(r.tools, Some(2));
        assert_eq!(r.protocol_version.as_deref(), Some("2025-11-25"));
    }
    assert!(why(&report, Anthropic, CheckId::Url).contains("requires https://"));
}

#[tokio::test]
async fn a_tool_name_with_a_space_fails_tool_names() {
    let (_server, report) = probe_fake(Fake::new(json!([tool("search"), tool("get data")]))).await;
    assert!(!report.ok);
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["tool_names"], "{v}");
        let c = vendor(&report, v).check(CheckId::ToolNames).unwrap();
        assert!(c.why.contains("`get data`: contains a space"), "{}", c.why);
        assert_eq!(c.items.len(), 1);
    }
}

#[tokio::test]
async fn a_schema_that_is_not_an_object_fails_tool_schemas() {
    let bad = json!({"name": "lookup", "inputSchema": {"type": "string"}});
    let (_server, report) = probe_fake(Fake::new(json!([tool("ok"), bad]))).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["tool_schemas"], "{v}");
        assert!(
            why(&report, v, CheckId::ToolSchemas)
                .contains("`lookup`: inputSchema type is \"string\"")
        );
    }
}

#[tokio::test]
async fn a_root_any_of_fails_for_anthropic_only() {
    let t = json!({"name": "pick", "inputSchema": {"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}});
    let (_server, report) = probe_fake(Fake::new(json!([t]))).await;
    assert_eq!(failing(&report, Anthropic), ["tool_schemas"]);
    assert!(failing(&report, OpenAi).is_empty());
}

#[tokio::test]
async fn a_2026_07_28_only_server_fails_protocol_for_anthropic_and_warns_for_openai() {
    let mut fake = Fake::new(json!([tool("search")]));
    fake.era = Era::ModernOnly;
    let (_server, report) = probe_fake(fake).await;
    assert!(!report.ok);
    // Anthropic's client opens with `initialize` only: nothing to agree on.
    assert_eq!(failing(&report, Anthropic), ["protocol"]);
    let w = why(&report, Anthropic, CheckId::Protocol);
    assert!(
        w.contains("-32022") && w.contains("the server speaks 2026-07-28"),
        "{w}"
    );
    assert_eq!(status(&report, Anthropic, CheckId::Transport), Status::Pass);
    // OpenAI's client was seen using server/discover: it works, with a warning, and lists.
    assert_eq!(status(&report, OpenAi, CheckId::Protocol), Status::Warn);
    assert!(why(&report, OpenAi, CheckId::Protocol).contains("server/discover 2026-07-28"));
    assert_eq!(vendor(&report, OpenAi).verdict, Verdict::WorksWithWarnings);
    assert_eq!(vendor(&report, OpenAi).tools, Some(1));
    assert_eq!(
        vendor(&report, OpenAi).protocol_version.as_deref(),
        Some("2026-07-28")
    );
}

#[tokio::test]
async fn a_listing_over_the_size_limit_fails_listing_size() {
    let long = "x".repeat(4000);
    let tools: Vec<_> = (0..300)
        .map(|i| json!({"name": format!("t{i}"), "description": long, "inputSchema": {"type": "object"}}))
        .collect();
    let (_server, report) = probe_fake(Fake::new(json!(tools))).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["listing_size"], "{v}");
        assert!(
            why(&report, v, CheckId::ListingSize).contains("1.2 MiB"),
            "{}",
            why(&report, v, CheckId::ListingSize)
        );
    }
    // 300 tools is also over the 128 OpenAI takes in one request (a warning on its own).
    assert!(why(&report, OpenAi, CheckId::ListingSize).contains("300 tools"));
}

#[tokio::test]
async fn a_listing_over_the_read_cap_stops_reading_and_fails() {
    let tools: Vec<_> = (0..50).map(|i| tool(&format!("t{i}"))).collect();
    let server = Fake::new(json!(tools)).start().await;
    let report = probe(&Target::new(url(&server)), &options().with_max_body(2000)).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["listing_size"], "{v}");
        assert!(why(&report, v, CheckId::ListingSize).contains("stopped reading"));
    }
}

#[tokio::test]
async fn a_server_that_hangs_on_tools_list_fails_listing() {
    let mut fake = Fake::new(json!([tool("search")]));
    fake.list_delay = Some(Duration::from_secs(30));
    let server = fake.start().await;
    let started = std::time::Instant::now();
    let report = probe(
        &Target::new(url(&server)),
        &options().with_timeout(Duration::from_millis(700)),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["listing"], "{v}");
        assert_eq!(
            why(&report, v, CheckId::Listing),
            "tools/list: no answer within 700 ms"
        );
        assert_eq!(status(&report, v, CheckId::Protocol), Status::Pass);
    }
}

#[tokio::test]
async fn a_slow_listing_is_timed_against_the_vendor_limit() {
    let mut fake = Fake::new(json!([tool("search")]));
    fake.list_delay = Some(Duration::from_millis(3200));
    let server = fake.start().await;
    let report = probe(
        &Target::new(url(&server)),
        &options().with_vendors([Anthropic]),
    )
    .await;
    assert_eq!(
        status(&report, Anthropic, CheckId::ListingLatency),
        Status::Warn
    );
    let c = vendor(&report, Anthropic)
        .check(CheckId::ListingLatency)
        .unwrap();
    assert!(c.elapsed_ms.unwrap() >= 3200);
    assert!(report.ok);
}

fn protected(server_resource: Option<&str>) -> Fake {
    let mut fake = Fake::new(json!([tool("search")]));
    fake.token = Some("tok-valid-1234".into());
    fake.challenge = server_resource.map(|_| String::new());
    fake
}

#[tokio::test]
async fn a_prm_that_points_at_the_wrong_resource_fails_auth_naming_the_link() {
    let server = wiremock::MockServer::start().await;
    let mut fake = protected(Some(""));
    fake.challenge = Some(format!(
        r#"Bearer error="invalid_token", resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
        server.uri()
    ));
    fake.mount(&server).await;
    mount_oauth(&server, "https://evil.example.com/mcp", true).await;
    let report = probe(&Target::new(url(&server)), &options()).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(failing(&report, v), ["auth"], "{v}");
        let w = why(&report, v, CheckId::Auth);
        assert!(
            w.starts_with("OAuth chain broken at the protected resource metadata"),
            "{w}"
        );
        assert!(w.contains("https://evil.example.com/mcp"), "{w}");
    }
}

/// A server whose MCP endpoint wants a token, naming its protected resource metadata in the
/// challenge, with an OAuth chain mounted ([`mount_oauth`], S256 PKCE offered when `pkce_s256`).
async fn oauth_protected_server(pkce_s256: bool) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    let mut fake = protected(Some(""));
    fake.challenge = Some(format!(
        r#"Bearer resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
        server.uri()
    ));
    fake.mount(&server).await;
    mount_oauth(&server, &url(&server), pkce_s256).await;
    server
}

#[tokio::test]
async fn a_usable_oauth_chain_warns_until_a_token_is_given() {
    let server = oauth_protected_server(true).await;
    let report = probe(&Target::new(url(&server)), &options()).await;
    assert!(report.ok);
    for v in [OpenAi, Anthropic] {
        assert_eq!(status(&report, v, CheckId::Auth), Status::Warn);
        let w = why(&report, v, CheckId::Auth);
        assert!(
            w.contains("chain usable") && w.contains("dynamic client registration"),
            "{w}"
        );
        assert!(vendor(&report, v).check(CheckId::ToolNames).is_none());
    }
    // With the token both vendors get to the tools.
    let target = Target::new(url(&server)).with_bearer(Secret::new("tok-valid-1234"));
    let report = probe(&target, &options()).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(status(&report, v, CheckId::Auth), Status::Pass);
        assert_eq!(vendor(&report, v).tools, Some(1));
    }
    // A wrong token is refused.
    let target = Target::new(url(&server)).with_bearer(Secret::new("tok-wrong-5678"));
    let report = probe(&target, &options()).await;
    assert_eq!(failing(&report, OpenAi), ["auth"]);
    assert!(why(&report, OpenAi, CheckId::Auth).contains("refused the credentials"));
}

#[tokio::test]
async fn an_authorization_server_without_pkce_s256_fails_auth() {
    let server = oauth_protected_server(false).await;
    let report = probe(&Target::new(url(&server)), &options()).await;
    let w = why(&report, Anthropic, CheckId::Auth);
    assert_eq!(failing(&report, Anthropic), ["auth"]);
    assert!(
        w.contains("authorization server metadata") && w.contains("S256"),
        "{w}"
    );
}

#[tokio::test]
async fn a_401_without_any_metadata_fails_auth() {
    let mut fake = protected(None);
    fake.challenge = None;
    let (_server, report) = probe_fake(fake).await;
    let w = why(&report, OpenAi, CheckId::Auth);
    assert_eq!(failing(&report, OpenAi), ["auth"]);
    assert!(w.contains("401 without a WWW-Authenticate header"), "{w}");
}

#[tokio::test]
async fn anthropic_cannot_send_a_custom_header() {
    let mut fake = Fake::new(json!([tool("search")]));
    fake.header = Some(("x-api-key".into(), "key-abcdef-123".into()));
    let server = fake.start().await;
    let target = Target::new(url(&server)).with_header("X-Api-Key", Secret::new("key-abcdef-123"));
    let report = probe(&target, &options()).await;
    assert_eq!(status(&report, OpenAi, CheckId::Headers), Status::Pass);
    assert_eq!(vendor(&report, OpenAi).verdict, Verdict::WorksWithWarnings);
    assert_eq!(status(&report, Anthropic, CheckId::Headers), Status::Warn);
    assert!(why(&report, Anthropic, CheckId::Headers).contains("cannot send x-api-key"));
    assert_eq!(failing(&report, Anthropic), ["auth"]);
}

#[tokio::test]
async fn a_tool_call_is_made_and_timed() {
    let server = Fake::new(json!([tool("search")])).start().await;
    let options = options().with_call(ToolCall::new("search", json!({"q": "x"})));
    let report = probe(&Target::new(url(&server)), &options).await;
    for v in [OpenAi, Anthropic] {
        assert_eq!(status(&report, v, CheckId::Call), Status::Pass);
        assert!(why(&report, v, CheckId::Call).ends_with(": called search"));
    }
    let options = self::options().with_call(ToolCall::new("nope", json!({})));
    let report = probe(&Target::new(url(&server)), &options).await;
    assert_eq!(
        why(&report, OpenAi, CheckId::Call),
        "no tool `nope` is listed"
    );
}

#[tokio::test]
async fn unreachable_and_bad_urls_fail_without_panicking() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let report = probe(
        &Target::new(format!("http://127.0.0.1:{port}/mcp")),
        &options(),
    )
    .await;
    assert_eq!(failing(&report, OpenAi), ["reachability"]);
    assert!(why(&report, OpenAi, CheckId::Reachability).starts_with("cannot connect"));
    for bad in ["not a url", "ftp://example.com/mcp", ""] {
        let report = probe(&Target::new(bad), &options()).await;
        assert!(!report.ok);
        assert_eq!(failing(&report, Anthropic), ["url"], "{bad}");
    }
    let report = probe(
        &Target::new("https://mcp.example.com/mcp").with_header("bad header", Secret::new("v")),
        &options(),
    )
    .await;
    assert_eq!(failing(&report, OpenAi), ["headers"]);
}

#[tokio::test]
async fn a_public_http_url_fails_for_anthropic() {
    // Nothing listens there; the URL check runs first and does not need the network.
    let report = probe(
        &Target::new("http://mcp.example.invalid/mcp"),
        &options().with_timeout(Duration::from_millis(500)),
    )
    .await;
    assert_eq!(status(&report, Anthropic, CheckId::Url), Status::Fail);
    assert_eq!(status(&report, OpenAi, CheckId::Url), Status::Warn);
}

#[tokio::test]
async fn no_secret_reaches_the_report() {
    // The server echoes what it was sent in its errors.
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(|r: &wiremock::Request| {
            let header = |name: &str| {
                r.headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            let (auth, key) = (header("authorization"), header("x-api-key"));
            wiremock::ResponseTemplate::new(400)
                .set_body_string(format!("bad request from {auth} with {key}"))
        })
        .mount(&server)
        .await;
    let target = Target::new(format!("{}/mcp/{PATH_KEY}?k={QUERY_KEY}", server.uri()))
        .with_bearer(Secret::new(BEARER))
        .with_header("X-Api-Key", Secret::new(HEADER_KEY));
    let report = probe(&target, &options()).await;
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("bad request from"), "{json}");
    for secret in [BEARER, HEADER_KEY, PATH_KEY, QUERY_KEY] {
        assert!(!json.contains(secret), "{secret} in {json}");
        assert!(!format!("{report:?}").contains(secret));
        assert!(!format!("{target:?}").contains(secret));
    }
}
