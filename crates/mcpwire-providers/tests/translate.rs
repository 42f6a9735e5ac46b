//! Round trips over the recorded vendor requests: every `fixtures/*/request.*.json` parses into
//! the neutral form and re-renders to the same vendor with equal JSON; translating
//! OpenAI → Anthropic → OpenAI keeps the MCP semantics.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use mcpwire_providers::render::{self, RenderOptions};
use mcpwire_providers::translate::{self, Source};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::check::{self, Kind};
use mcpwire_schema::event::Vendor;
use serde_json::{Value, json};

fn fixtures(vendor: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(vendor);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("request.") && name.ends_with(".json")
        })
        .map(|p: PathBuf| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The fixture as a whole request: a lone `mcp_servers[]` entry is wrapped in a minimal body.
fn as_request(value: Value) -> Value {
    match check::detect(&value).unwrap() {
        Kind::AnthropicMcpServer => json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1000,
            "messages": [{"role": "user", "content": "hi"}],
            "mcp_servers": [value],
        }),
        _ => value,
    }
}

fn same_vendor(value: &Value, vendor: Vendor) -> translate::Translated {
    let beta = match translate::detect_source(value).unwrap() {
        Source::Anthropic(beta) => beta,
        _ => BetaVersion::V2025_11_20,
    };
    let bytes = serde_json::to_vec(value).unwrap();
    translate::translate(&bytes, vendor, beta, &RenderOptions::strict()).unwrap()
}

/// [`translate::translate`] for the `2025-11-20` beta.
fn translate_11_20(body: &[u8], to: Vendor, options: &RenderOptions) -> TranslateResult {
    translate::translate(body, to, BetaVersion::V2025_11_20, options)
}

type TranslateResult = Result<translate::Translated, translate::TranslateError>;

/// `out` is `value` to the letter, without warnings.
fn assert_exact(name: &str, value: &Value, out: &translate::Translated) {
    assert_eq!(
        check::first_difference(value, &out.body, "$"),
        None,
        "{name}: {}",
        serde_json::to_string_pretty(&out.body).unwrap()
    );
    assert!(out.warnings.is_empty(), "{name}: {:?}", out.warnings);
}

#[test]
fn openai_requests_round_trip_exactly() {
    let all = fixtures("openai");
    assert!(all.len() >= 9, "openai request fixtures missing");
    for (name, value) in all {
        let out = same_vendor(&value, Vendor::OpenAi);
        assert_eq!(out.source, Source::OpenAi, "{name}");
        assert_exact(&name, &value, &out);
    }
}

#[test]
fn anthropic_requests_round_trip_exactly() {
    let all = fixtures("anthropic");
    assert!(all.len() >= 10, "anthropic request fixtures missing");
    for (name, value) in all {
        let value = as_request(value);
        let out = same_vendor(&value, Vendor::Anthropic);
        let expected_beta = if name.contains("2025-11-20") {
            BetaVersion::V2025_11_20
        } else {
            BetaVersion::V2025_04_04
        };
        assert_eq!(out.source, Source::Anthropic(expected_beta), "{name}");
        assert_eq!(out.headers[0].1, expected_beta.header_value(), "{name}");
        assert_exact(&name, &value, &out);
    }
}

/// The MCP part of an OpenAI body: its `mcp` tools.
fn mcp_tools(body: &Value) -> Vec<Value> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "mcp")
        .cloned()
        .collect()
}

#[test]
fn openai_to_anthropic_to_openai_keeps_mcp_semantics() {
    let mut strict_ok = 0;
    for (name, value) in fixtures("openai") {
        let bytes = serde_json::to_vec(&value).unwrap();
        for beta in BetaVersion::ALL {
            let strict =
                translate::translate(&bytes, Vendor::Anthropic, beta, &RenderOptions::strict());
            let there = match strict {
                Ok(out) => {
                    strict_ok += 1;
                    out
                }
                Err(err) => {
                    // A capability gap: lossy mode converts, with a warning per field.
                    assert!(
                        matches!(
                            err,
                            translate::TranslateError::Render(
                                render::RenderError::CapabilityGap { .. }
                            )
                        ),
                        "{name}: {err}"
                    );
                    let out = translate::translate(
                        &bytes,
                        Vendor::Anthropic,
                        beta,
                        &RenderOptions::lossy(),
                    )
                    .unwrap();
                    assert!(!out.warnings.is_empty(), "{name}: lossy without warnings");
                    continue;
                }
            };
            assert_eq!(there.source, Source::OpenAi);
            let back = translate::translate(
                &serde_json::to_vec(&there.body).unwrap(),
                Vendor::OpenAi,
                beta,
                &RenderOptions::strict(),
            )
            .unwrap();
            assert_eq!(
                back.source,
                Source::Anthropic(if beta == BetaVersion::V2026_09_15 {
                    BetaVersion::V2025_11_20
                } else {
                    beta
                })
            );
            assert_eq!(
                mcp_tools(&back.body),
                mcp_tools(&value),
                "{name} via {beta}"
            );
            assert_eq!(back.body["model"], value["model"], "{name}");
            assert_eq!(
                back.body.get("instructions"),
                value.get("instructions"),
                "{name}"
            );
        }
    }
    assert!(
        strict_ok >= 6,
        "too few fixtures translate strictly: {strict_ok}"
    );
}

#[test]
fn what_the_neutral_form_cannot_hold_stays_with_its_vendor() {
    let value = json!({
        "model": "gpt-5",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"role": "developer", "content": "be brief"}
        ],
        "previous_response_id": "resp_1",
        "tools": [
            {"type": "mcp", "server_label": "a", "server_url": "https://a.example.com/mcp",
             "allowed_callers": ["direct"], "server_description": null,
             "allowed_tools": {"tool_names": ["x"], "read_only": false},
             "require_approval": {"never": {"read_only": true}, "always": null}},
            {"type": "function", "name": "f", "parameters": {}}
        ]
    });
    // Non-MCP tools come back after the MCP tools (their order among MCP tools is lost).
    let bytes = serde_json::to_vec(&value).unwrap();
    let same = translate_11_20(&bytes, Vendor::OpenAi, &RenderOptions::strict()).unwrap();
    assert_eq!(same.body, value);
    assert!(same.warnings.is_empty());
    let other = translate_11_20(&bytes, Vendor::Anthropic, &RenderOptions::lossy()).unwrap();
    let fields: Vec<&str> = other.warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "input[1]",
            "input[2]",
            "servers[0].require_approval.never.read_only",
            "tools[1]",
            "servers[0].allowed_callers",
            "previous_response_id",
            "servers[0].approval",
        ],
        "{:#?}",
        other.warnings
    );
    assert_eq!(
        other.body["messages"],
        json!([{"role": "user", "content": "q"}])
    );
    assert_eq!(
        other.body["tools"],
        json!([{"type": "mcp_toolset", "mcp_server_name": "a",
                "default_config": {"enabled": false}, "configs": {"x": {"enabled": true}}}])
    );
}

/// Every neutral fixture that renders strictly for a target parses back from that body into a
/// request that renders to the same body again.
#[test]
fn neutral_fixtures_render_parse_render_fixed_point() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/neutral");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let request =
            mcpwire_providers::neutral::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut targets = vec![(Vendor::OpenAi, BetaVersion::LATEST)];
        targets.extend(BetaVersion::ALL.map(|beta| (Vendor::Anthropic, beta)));
        for (to, beta) in targets {
            let Ok(first) = translate::render_to(&request, to, beta, &RenderOptions::strict())
            else {
                continue;
            };
            let first = first.body.to_json();
            let again = translate::translate(
                &serde_json::to_vec(&first).unwrap(),
                to,
                beta,
                &RenderOptions::strict(),
            )
            .unwrap();
            assert_eq!(
                check::first_difference(&first, &again.body, "$"),
                None,
                "{} for {to} {beta}",
                path.display()
            );
            assert!(again.warnings.is_empty());
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn no_error_prints_its_cause_twice() {
    let inputs: [&[u8]; 3] = [
        b"{\"model\": ",
        br#"{"model": "m", "input": "hi", "servers": [{"name": "x", "aproval": "never"}]}"#,
        br#"{"model": "gpt-5", "input": "hi", "tools": [{"type": "mcp", "server_label": "s", "server_url": "https://s.example/mcp", "require_approval": "always"}]}"#,
    ];
    for input in inputs {
        let err = translate_11_20(input, Vendor::Anthropic, &RenderOptions::strict()).unwrap_err();
        let mut messages = vec![err.to_string()];
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            let text = cause.to_string();
            assert!(
                !messages.iter().any(|m| m.contains(&text)),
                "{text:?} already printed in {messages:?}"
            );
            messages.push(text);
            source = cause.source();
        }
    }
}
