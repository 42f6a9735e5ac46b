//! One test per capability gap (strict: an error naming the neutral field; lossy: a warning),
//! the invalid requests, the exact OpenAI approval mapping, the neutral file form, and a
//! planted token that must never show in `Debug` output.

#![allow(clippy::unwrap_used)]

use mcpwire_auth::{Credentials, Resolved, Secret};
use mcpwire_providers::neutral::{self, Secrets};
use mcpwire_providers::render::{self, RenderError, RenderOptions};
use mcpwire_providers::request::{
    Approval, Input, InputMessage, McpRequest, McpServerSpec, Role, VendorExtra,
};
use mcpwire_providers::translate;
use mcpwire_schema::anthropic::{BetaVersion, CreateMessage};
use mcpwire_schema::event::Vendor;
use serde_json::{Value, json};

const PLANTED: &str = "planted-secret-7f3a9c";

/// [`translate::translate`] for the `2025-11-20` beta.
fn translate_11_20(body: &[u8], to: Vendor, options: &RenderOptions) -> TranslateResult {
    translate::translate(body, to, BetaVersion::V2025_11_20, options)
}

type TranslateResult = Result<translate::Translated, translate::TranslateError>;

fn bearer(token: &str) -> Resolved {
    Resolved::Bearer {
        token: Secret::new(token),
        expires_in: None,
    }
}

fn one(server: McpServerSpec) -> McpRequest {
    McpRequest::new("m", "hi").server(server)
}

fn server() -> McpServerSpec {
    McpServerSpec::new("s", "https://mcp.example.com/mcp")
}

/// [`anthropic`] with no credentials.
fn anthropic_plain(
    request: &McpRequest,
    beta: BetaVersion,
    options: RenderOptions,
) -> Result<(Value, Vec<String>), RenderError> {
    anthropic(request, &[Resolved::None], beta, options)
}

fn anthropic(
    request: &McpRequest,
    creds: &[Resolved],
    beta: BetaVersion,
    options: RenderOptions,
) -> Result<(Value, Vec<String>), RenderError> {
    render::anthropic(request, creds, beta, &options).map(|out| {
        (
            serde_json::to_value(&out.body).unwrap(),
            out.warnings.iter().map(ToString::to_string).collect(),
        )
    })
}

fn gap_field(err: RenderError) -> String {
    match err {
        RenderError::CapabilityGap { field, .. } => field,
        other => panic!("expected a capability gap, got {other:?}"),
    }
}

fn invalid_field(err: RenderError) -> String {
    match err {
        RenderError::Invalid { field, .. } => field,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn header_credentials_strict_error_lossy_bearer_conversion() {
    let request = McpRequest::new("m", "hi")
        .server(McpServerSpec::new("ok", "https://a.example.com/mcp"))
        .server(server());
    let creds = [
        Resolved::None,
        Resolved::Headers(vec![
            ("authorization".to_owned(), Secret::new("Bearer tok-1")),
            ("X-Tenant".to_owned(), Secret::new("acme")),
        ]),
    ];
    for beta in BetaVersion::ALL {
        let err = anthropic(&request, &creds, beta, RenderOptions::strict()).unwrap_err();
        assert_eq!(gap_field(err), "servers[1].credentials");
        let (body, warnings) = anthropic(&request, &creds, beta, RenderOptions::lossy()).unwrap();
        assert_eq!(body["mcp_servers"][1]["authorization_token"], "tok-1");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("servers[1].credentials.headers.authorization:"));
        assert!(warnings[1].starts_with("servers[1].credentials.headers.X-Tenant:"));
    }
}

#[test]
fn approval_is_a_gap_unless_never() {
    for approval in [
        Approval::Always,
        Approval::Tools {
            always: vec!["a".into()],
            never: vec![],
        },
    ] {
        let request = one(server().approval(approval));
        let err = anthropic_plain(&request, BetaVersion::V2025_11_20, RenderOptions::strict())
            .unwrap_err();
        assert_eq!(gap_field(err), "servers[0].approval");
        let (_, warnings) =
            anthropic_plain(&request, BetaVersion::V2025_11_20, RenderOptions::lossy()).unwrap();
        assert_eq!(
            warnings,
            ["servers[0].approval: Anthropic cannot pause for approval; tools run without asking"]
        );
    }
}

#[test]
fn connector_read_only_description_are_gaps() {
    let cases = [
        (
            McpServerSpec::connector("cal", "connector_googlecalendar"),
            "servers[0].connector_id",
        ),
        (server().read_only(true), "servers[0].read_only"),
        (server().description("d"), "servers[0].description"),
    ];
    for (spec, field) in cases {
        let request = one(spec);
        let err = anthropic_plain(&request, BetaVersion::V2025_04_04, RenderOptions::strict())
            .unwrap_err();
        assert_eq!(gap_field(err), field);
        let (body, warnings) =
            anthropic_plain(&request, BetaVersion::V2025_04_04, RenderOptions::lossy()).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with(field), "{warnings:?}");
        if field.ends_with("connector_id") {
            assert!(
                body.get("mcp_servers").is_none(),
                "connector must be dropped"
            );
        }
    }
}

#[test]
fn defer_loading_is_a_gap_only_before_toolsets() {
    let request = one(server().defer_loading(true));
    let err =
        anthropic_plain(&request, BetaVersion::V2025_04_04, RenderOptions::strict()).unwrap_err();
    assert_eq!(gap_field(err), "servers[0].defer_loading");
    for beta in [BetaVersion::V2025_11_20, BetaVersion::V2026_09_15] {
        let (body, warnings) = anthropic_plain(&request, beta, RenderOptions::strict()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            body["tools"][0]["default_config"],
            json!({"defer_loading": true})
        );
    }
}

#[test]
fn https_is_required_even_in_lossy_mode() {
    let insecure = one(McpServerSpec::new("s", "http://mcp.example.com/mcp"));
    let loopback = one(McpServerSpec::new("s", "http://127.0.0.1:8080/mcp"));
    let localhost = one(McpServerSpec::new("s", "http://localhost:8080/mcp"));
    for options in [RenderOptions::strict(), RenderOptions::lossy()] {
        for request in [&insecure, &loopback, &localhost] {
            let err = anthropic_plain(request, BetaVersion::V2025_11_20, options).unwrap_err();
            assert_eq!(gap_field(err), "servers[0].url");
        }
    }
    let mut allow = RenderOptions::strict();
    allow.allow_insecure_loopback = true;
    for request in [&loopback, &localhost] {
        anthropic_plain(request, BetaVersion::V2025_11_20, allow).unwrap();
    }
    let err = anthropic_plain(&insecure, BetaVersion::V2025_11_20, allow).unwrap_err();
    assert_eq!(gap_field(err), "servers[0].url");
    // OpenAI takes any URL.
    render::openai(&insecure, &[Resolved::None], &RenderOptions::strict()).unwrap();
}

#[test]
fn invalid_requests_name_the_field() {
    let cases: Vec<(McpRequest, usize, &str)> = vec![
        (
            McpRequest::new("m", "hi").server(server()).server(server()),
            2,
            "servers[1].name",
        ),
        (
            one(McpServerSpec::new("", "https://a.example.com")),
            1,
            "servers[0].name",
        ),
        (
            one(McpServerSpec::new("s", "not a url")),
            1,
            "servers[0].url",
        ),
        (
            {
                let mut spec = server();
                spec.url = None;
                one(spec)
            },
            1,
            "servers[0].url",
        ),
        (one(server()), 0, "credentials"),
        (McpRequest::new("", "hi"), 0, "model"),
    ];
    for (request, n, field) in cases {
        let creds: Vec<Resolved> = (0..n).map(|_| Resolved::None).collect();
        let err = render::openai(&request, &creds, &RenderOptions::lossy()).unwrap_err();
        assert_eq!(invalid_field(err), field);
        let err = anthropic(
            &request,
            &creds,
            BetaVersion::V2025_04_04,
            RenderOptions::lossy(),
        )
        .unwrap_err();
        assert_eq!(invalid_field(err), field);
    }
}

#[test]
fn openai_approval_maps_exactly() {
    let cases = [
        (Approval::Never, json!("never")),
        (Approval::Always, json!("always")),
        (
            Approval::Tools {
                always: vec!["a".into(), "b".into()],
                never: vec!["c".into()],
            },
            json!({"always": {"tool_names": ["a", "b"]}, "never": {"tool_names": ["c"]}}),
        ),
        (
            Approval::Tools {
                always: vec![],
                never: vec!["c".into()],
            },
            json!({"never": {"tool_names": ["c"]}}),
        ),
        (
            Approval::Tools {
                always: vec!["a".into()],
                never: vec![],
            },
            json!({"always": {"tool_names": ["a"]}}),
        ),
    ];
    for (approval, expected) in cases {
        let request = one(server().approval(approval));
        let out = render::openai(&request, &[Resolved::None], &RenderOptions::strict()).unwrap();
        let body = serde_json::to_value(&out.body).unwrap();
        assert_eq!(body["tools"][0]["require_approval"], expected);
    }
}

#[test]
fn openai_fields() {
    let mut extra = VendorExtra::default();
    extra.openai.insert(
        "tools".to_owned(),
        json!([{"type": "function", "name": "f", "parameters": {}}]),
    );
    extra.openai.insert("store".to_owned(), json!(false));
    let request = McpRequest::new("gpt-5", "")
        .input(Input::Messages(vec![
            InputMessage::new(Role::User, "q"),
            InputMessage::new(Role::Assistant, "a"),
        ]))
        .instructions("be brief")
        .max_output_tokens(99)
        .stream(true)
        .extra(extra)
        .server(
            server()
                .allow_tools(["x"])
                .read_only(true)
                .description("d")
                .defer_loading(true),
        )
        .server(McpServerSpec::connector("cal", "connector_googlecalendar"));
    let creds = [
        Resolved::Headers(vec![("X-Key".to_owned(), Secret::new("k"))]),
        bearer("t"),
    ];
    let out = render::openai(&request, &creds, &RenderOptions::strict()).unwrap();
    assert!(out.warnings.is_empty() && out.headers.is_empty());
    let body = serde_json::to_value(&out.body).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "gpt-5",
            "input": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "instructions": "be brief",
            "stream": true,
            "max_output_tokens": 99,
            "store": false,
            "tools": [
                {"type": "mcp", "server_label": "s", "server_url": "https://mcp.example.com/mcp",
                 "headers": {"X-Key": "k"}, "server_description": "d",
                 "allowed_tools": {"tool_names": ["x"], "read_only": true},
                 "require_approval": "never", "defer_loading": true},
                {"type": "mcp", "server_label": "cal", "connector_id": "connector_googlecalendar",
                 "authorization": "t", "require_approval": "never"},
                {"type": "function", "name": "f", "parameters": {}}
            ]
        })
    );
}

#[test]
fn anthropic_extra_cannot_declare_servers_and_tools_are_appended() {
    let mut extra = VendorExtra::default();
    extra.anthropic.insert(
        "tools".to_owned(),
        json!([{"name": "add", "input_schema": {}}]),
    );
    let request = one(server()).extra(extra.clone());
    let (body, _) =
        anthropic_plain(&request, BetaVersion::V2025_11_20, RenderOptions::strict()).unwrap();
    assert_eq!(body["tools"][0]["type"], "mcp_toolset");
    assert_eq!(body["tools"][1]["name"], "add");
    extra.anthropic.insert("mcp_servers".to_owned(), json!([]));
    let err = anthropic(
        &one(server()).extra(extra),
        &[Resolved::None],
        BetaVersion::V2025_11_20,
        RenderOptions::strict(),
    )
    .unwrap_err();
    assert_eq!(invalid_field(err), "extra.anthropic.mcp_servers");
}

#[test]
fn empty_allowlist_disables_every_tool() {
    let request = one(server().allow_tools(Vec::<String>::new()));
    let (old, _) =
        anthropic_plain(&request, BetaVersion::V2025_04_04, RenderOptions::strict()).unwrap();
    assert_eq!(
        old["mcp_servers"][0]["tool_configuration"],
        json!({"enabled": false})
    );
    let (new, _) =
        anthropic_plain(&request, BetaVersion::V2025_11_20, RenderOptions::strict()).unwrap();
    assert_eq!(
        new["tools"][0],
        json!({"type": "mcp_toolset", "mcp_server_name": "s", "default_config": {"enabled": false}})
    );
}

#[test]
fn beta_is_detected_from_the_shape() {
    let base = json!({"model": "m", "max_tokens": 1, "messages": [],
        "mcp_servers": [{"type": "url", "url": "https://a.example.com", "name": "a"}]});
    let mut toolset = base.clone();
    toolset["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "a"}]);
    let mut pinned = base.clone();
    pinned["tools"] = json!([{"type": "mcp_toolset", "mcp_server_name": "a",
        "tools": [{"name": "t", "input_schema": {"type": "object"}}]}]);
    for (value, beta) in [
        (base, BetaVersion::V2025_04_04),
        (toolset, BetaVersion::V2025_11_20),
        (pinned.clone(), BetaVersion::V2026_09_15),
    ] {
        let body: CreateMessage = mcpwire_schema::decode::from_value(&value).unwrap();
        assert_eq!(render::detect_beta(&body), beta);
    }
    // The pinned listing has no neutral equivalent: kept for Anthropic, with a warning.
    let body: CreateMessage = mcpwire_schema::decode::from_value(&pinned).unwrap();
    let (request, warnings) = render::from_anthropic(&body, BetaVersion::V2026_09_15).unwrap();
    assert!(
        request.servers[0]
            .extra
            .anthropic_toolset
            .contains_key("tools")
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let back = translate::render_to(
        &request,
        Vendor::Anthropic,
        BetaVersion::V2026_09_15,
        &RenderOptions::strict(),
    )
    .unwrap();
    assert_eq!(back.body.to_json(), pinned);
    assert!(!format!("{back:?}").is_empty());
}

#[test]
fn deny_lists_and_per_tool_settings_survive_same_vendor_only() {
    let value = json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}],
        "mcp_servers": [{"type": "url", "url": "https://a.example.com", "name": "a"}],
        "tools": [{"type": "mcp_toolset", "mcp_server_name": "a",
                   "configs": {"delete_all": {"enabled": false}}}]});
    let out = translate_11_20(
        &serde_json::to_vec(&value).unwrap(),
        Vendor::Anthropic,
        &RenderOptions::strict(),
    )
    .unwrap();
    assert_eq!(out.body, value);
    let out = translate_11_20(
        &serde_json::to_vec(&value).unwrap(),
        Vendor::OpenAi,
        &RenderOptions::strict(),
    )
    .unwrap();
    assert!(out.body["tools"][0].get("allowed_tools").is_none());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.field == "servers[0].configs.delete_all"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn planted_token_never_shows_in_debug_output() {
    let request = McpRequest::new("m", "hi")
        .server(server().credentials(Credentials::Bearer(Secret::new(PLANTED))))
        .server(
            McpServerSpec::new("h", "https://h.example.com/mcp").credentials(Credentials::Headers(
                vec![(
                    "Authorization".to_owned(),
                    Secret::new(format!("Bearer {PLANTED}")),
                )],
            )),
        );
    let creds = translate::resolve_static(&request).unwrap();
    let openai = render::openai(&request, &creds, &RenderOptions::strict()).unwrap();
    assert!(
        serde_json::to_string(&openai.body)
            .unwrap()
            .contains(PLANTED)
    );
    let mut shown = vec![
        format!("{request:?}"),
        format!("{creds:?}"),
        format!("{openai:?}"),
    ];
    for beta in BetaVersion::ALL {
        let err = render::anthropic(&request, &creds, beta, &RenderOptions::strict()).unwrap_err();
        shown.push(format!("{err:?} {err}"));
        let lossy = render::anthropic(&request, &creds, beta, &RenderOptions::lossy()).unwrap();
        assert!(
            serde_json::to_string(&lossy.body)
                .unwrap()
                .contains(PLANTED)
        );
        shown.push(format!("{lossy:?}"));
    }
    let (parsed, warnings) = render::from_openai(&openai.body).unwrap();
    shown.push(format!("{parsed:?} {warnings:?}"));
    shown.push(
        neutral::to_value(&request, Secrets::Redact)
            .unwrap()
            .to_string(),
    );
    let body = serde_json::to_vec(&openai.body).unwrap();
    for to in [Vendor::OpenAi, Vendor::Anthropic] {
        let out = translate_11_20(&body, to, &RenderOptions::lossy()).unwrap();
        assert!(out.body.to_string().contains(PLANTED));
        shown.push(format!("{out:?}"));
        let rendered = translate::render_to(
            &parsed,
            to,
            BetaVersion::V2025_11_20,
            &RenderOptions::lossy(),
        )
        .unwrap();
        shown.push(format!("{rendered:?}"));
    }
    for text in shown {
        assert!(!text.contains(PLANTED), "token leaked: {text}");
    }
    let exposed = neutral::to_value(&request, Secrets::Expose).unwrap();
    assert_eq!(exposed["servers"][0]["credentials"]["token"], PLANTED);
}

#[test]
fn file_errors_name_the_path() {
    let cases = [
        (json!({"input": "hi"}), "$", "model"),
        (
            json!({"model": "m", "input": 3}),
            "input",
            "expected a string",
        ),
        (
            json!({"model": "m", "input": [{"role": "system", "text": "x"}]}),
            "input[0].role",
            "user",
        ),
        (
            json!({"model": "m", "input": "x", "servers": [{"name": "a", "approval": "sometimes"}]}),
            "servers[0].approval",
            "expected",
        ),
        (
            json!({"model": "m", "input": "x", "servers": [{"name": "a", "credentials": {"type": "bearer"}}]}),
            "servers[0].credentials",
            "token",
        ),
        (
            json!({"model": "m", "input": "x", "servers": [{"name": "a", "approval": {"always": "x"}}]}),
            "servers[0].approval",
            "array",
        ),
    ];
    for (value, path, needle) in cases {
        let err = neutral::from_value(&value).unwrap_err();
        assert_eq!(err.path, path, "{err}");
        assert!(err.message.contains(needle), "{err}");
    }
}

#[test]
fn neutral_fixtures_survive_the_file_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/neutral");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let request = neutral::from_value(&value).unwrap();
        let written = neutral::to_value(&request, Secrets::Expose).unwrap();
        let again =
            neutral::to_value(&neutral::from_value(&written).unwrap(), Secrets::Expose).unwrap();
        assert_eq!(written, again, "{}", path.display());
        n += 1;
    }
    assert!(n >= 8);
}

#[test]
fn an_openai_tunnel_parses_and_is_a_gap_for_anthropic() {
    let value = json!({"model": "gpt-5", "input": "hi", "tools": [{"type": "mcp",
        "server_label": "t", "tunnel_id": "tunnel_0123456789abcdef0123456789abcdef",
        "require_approval": "never"}]});
    let bytes = serde_json::to_vec(&value).unwrap();
    let same = translate_11_20(&bytes, Vendor::OpenAi, &RenderOptions::strict()).unwrap();
    assert_eq!(same.body, value);
    let err = translate_11_20(&bytes, Vendor::Anthropic, &RenderOptions::strict()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "servers[0].extra.openai.tunnel_id: Anthropic cannot reach an MCP tunnel"
    );
}

#[test]
fn anthropic_beta_migration_keeps_the_allowlist() {
    let old = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}],
        "mcp_servers": [{"type": "url", "url": "https://a.example.com/mcp", "name": "a",
            "tool_configuration": {"enabled": true, "allowed_tools": ["t1", "t2"]}}]});
    let new = translate_11_20(
        &serde_json::to_vec(&old).unwrap(),
        Vendor::Anthropic,
        &RenderOptions::strict(),
    )
    .unwrap();
    assert_eq!(
        new.source,
        translate::Source::Anthropic(BetaVersion::V2025_04_04)
    );
    assert!(
        new.body["mcp_servers"][0]
            .get("tool_configuration")
            .is_none()
    );
    assert_eq!(
        new.body["tools"],
        json!([{"type": "mcp_toolset", "mcp_server_name": "a", "default_config": {"enabled": false},
                "configs": {"t1": {"enabled": true}, "t2": {"enabled": true}}}])
    );
    let back = translate::translate(
        &serde_json::to_vec(&new.body).unwrap(),
        Vendor::Anthropic,
        BetaVersion::V2025_04_04,
        &RenderOptions::strict(),
    )
    .unwrap();
    assert_eq!(back.body, old);
}
