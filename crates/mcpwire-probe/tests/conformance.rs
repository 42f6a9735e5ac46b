//! The official MCP conformance suite's servers as things to probe: its client scenarios run
//! without `--command` serve a mock MCP server (and authorization server) and print its URL,
//! so the probe can be pointed at them like at any server. `tools_call` is a plain server;
//! the `auth/*` scenarios are good and broken OAuth chains. Ignored in a plain `cargo test`:
//! `cargo xtask test` installs the suite (pinned, with a Node 22), sets
//! `MCPWIRE_CONFORMANCE_DIR` / `MCPWIRE_NODE` and runs these with `--ignored`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{failing, status, vendor, why};
use mcpwire_probe::{CheckId, ProbeOptions, Report, Status, Target, probe};
use mcpwire_schema::event::Vendor::{Anthropic, OpenAi};
use mcpwire_testkit::http_kit::UrlServer;

/// One scenario's servers (stopped on drop) and their URL.
async fn serve(scenario: &'static str) -> UrlServer {
    tokio::task::spawn_blocking(move || {
        UrlServer::new(mcpwire_testkit::conformance::spawn_client_scenario(
            scenario,
        ))
    })
    .await
    .unwrap()
}

async fn probe_scenario(name: &'static str) -> Report {
    let scenario = serve(name).await;
    probe(
        &Target::new(&scenario.url),
        &ProbeOptions::default().with_timeout(Duration::from_secs(10)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the MCP conformance suite: cargo xtask test runs it"]
async fn the_suites_plain_server_works() {
    let report = probe_scenario("tools_call").await;
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert!(report.ok, "{text}");
    for v in [OpenAi, Anthropic] {
        assert!(failing(&report, v).is_empty(), "{text}");
        assert_eq!(status(&report, v, CheckId::Auth), Status::Pass);
        assert!(vendor(&report, v).tools.unwrap() >= 1, "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the MCP conformance suite: cargo xtask test runs it"]
async fn the_suites_good_oauth_chains_are_usable() {
    for (scenario, start) in [
        ("auth/metadata-default", "protected resource metadata"),
        ("auth/metadata-var1", "protected resource metadata"),
        ("auth/metadata-var2", "protected resource metadata"),
        ("auth/metadata-var3", "protected resource metadata"),
        (
            "auth/2025-03-26-oauth-metadata-backcompat",
            "2025-03-26 metadata",
        ),
    ] {
        let report = probe_scenario(scenario).await;
        assert!(report.ok, "{scenario}: {}", report.summary());
        for v in [OpenAi, Anthropic] {
            assert_eq!(
                status(&report, v, CheckId::Auth),
                Status::Warn,
                "{scenario}"
            );
            let w = why(&report, v, CheckId::Auth);
            assert!(
                w.contains(&format!("chain usable: 401 -> {start} -> issuer ")),
                "{scenario}: {w}"
            );
            assert!(w.contains("PKCE S256"), "{scenario}: {w}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the MCP conformance suite: cargo xtask test runs it"]
async fn the_suites_broken_oauth_chains_fail_at_the_right_link() {
    for (scenario, link) in [
        (
            "auth/resource-mismatch",
            "OAuth chain broken at the protected resource metadata: it names resource https://evil.example.com/mcp",
        ),
        (
            "auth/metadata-issuer-mismatch",
            "OAuth chain broken at the authorization server metadata: it says issuer https://attacker.example.com",
        ),
        (
            "auth/2025-03-26-oauth-endpoint-fallback",
            "OAuth chain broken: no protected resource or authorization server metadata",
        ),
    ] {
        let report = probe_scenario(scenario).await;
        assert!(!report.ok, "{scenario}");
        for v in [OpenAi, Anthropic] {
            assert_eq!(failing(&report, v), ["auth"], "{scenario}");
            let w = why(&report, v, CheckId::Auth);
            assert!(w.starts_with(link), "{scenario}: {w}");
        }
    }
}
