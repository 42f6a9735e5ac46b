//! The `mcpwire` binary, driven as a user would.

#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common_support;

use common_support::temp_in;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mcpwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
}

/// `mcpwire {args} {file}`, run to the end.
fn mcpwire_on(args: &[&str], file: &Path) -> Output {
    mcpwire().args(args).arg(file).output().unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn fixture_files(ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for vendor in ["openai", "anthropic"] {
        for entry in std::fs::read_dir(fixtures().join(vendor)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn temp(name: &str, contents: &[u8]) -> PathBuf {
    temp_in("mcpwire-cli-test", name, contents)
}

#[test]
fn check_accepts_every_fixture() {
    let mut files = fixture_files("json");
    files.extend(fixture_files("sse"));
    let output = mcpwire().arg("check").args(&files).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len()
    );
}

#[test]
fn check_reports_kept_unknowns_and_fails_naming_file_and_path() {
    let unknown = temp("unknown.json", br#"{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}","shiny_new":1}"#);
    let broken = temp("broken.json", br#"{"id":"resp_1","object":"response","output":[{"type":"mcp_approval_request","id":"mcpr_1","name":"t","arguments":"{}"}]}"#);
    let output = mcpwire()
        .arg("check")
        .arg(&unknown)
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("ok ")
            && lines[0].contains("openai item")
            && lines[0].contains("field shiny_new"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        format!(
            "FAIL  {}: output[0]: missing field `server_label`",
            broken.display()
        )
    );
}

#[test]
fn normalize_settled_stream_equals_normalize_of_its_final_response() {
    let mut checked = 0;
    for stream in fixture_files("sse") {
        let bytes = std::fs::read(&stream).unwrap();
        let events = mcpwire_schema::sse::decode_all(&bytes).unwrap();
        let Some(completed) = events.iter().find(|e| e.event_type == "response.completed") else {
            continue;
        };
        let value: serde_json::Value = serde_json::from_str(&completed.data).unwrap();
        let whole = temp(
            &format!("{checked}.json"),
            value["response"].to_string().as_bytes(),
        );
        let settled = mcpwire_on(&["normalize", "--settled"], &stream);
        let from_whole = mcpwire_on(&["normalize"], &whole);
        assert!(settled.status.success() && from_whole.status.success());
        assert_eq!(
            String::from_utf8(settled.stdout).unwrap(),
            String::from_utf8(from_whole.stdout).unwrap(),
            "{}",
            stream.display()
        );
        checked += 1;
    }
    assert!(checked >= 7);
}

#[test]
fn normalize_from_stdin_prints_each_event_as_soon_as_its_input_arrives() {
    let bytes =
        std::fs::read(fixtures().join("anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse"))
            .unwrap();
    let first_event_end = bytes.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let mut child = mcpwire()
        .args(["normalize", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(&bytes[..first_event_end]).unwrap();
    stdin.flush().unwrap();
    // The first event is printed while stdin is still open.
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with(r#"{"kind":"response_started","vendor":"anthropic""#),
        "{line}"
    );
    stdin.write_all(&bytes[first_event_end..]).unwrap();
    drop(stdin);
    let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    assert_eq!(
        rest.last().unwrap().split(',').next().unwrap(),
        r#"{"kind":"response_completed""#
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn normalize_writes_events_before_a_fault_then_one_error_line_and_exits_1() {
    let mut bytes =
        std::fs::read(fixtures().join("openai/stream.approval-request.zip1.sse")).unwrap();
    bytes.truncate(bytes.len() - 30);
    let cut = temp("cut.sse", &bytes);
    let output = mcpwire_on(&["normalize"], &cut);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.lines().count() >= 3, "{stdout}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("mcpwire normalize: "), "{stderr}");
    // Malformed JSON: no events, one line, exit 1.
    let bad = temp("bad.json", b"{\"id\":");
    let output = mcpwire_on(&["normalize"], &bad);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(String::from_utf8(output.stderr).unwrap().lines().count(), 1);
}

#[test]
fn normalize_from_forces_the_vendor() {
    let stream = fixtures().join("anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse");
    let output = mcpwire_on(&["normalize", "--from", "openai"], &stream);
    assert_eq!(
        output.status.code(),
        Some(1),
        "an Anthropic stream read as OpenAI fails"
    );
    let output = mcpwire_on(&["normalize", "--from", "anthropic"], &stream);
    assert!(output.status.success());
    let output = mcpwire_on(&["normalize", "--from", "gemini"], &stream);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn demo_runs_offline_and_both_vendors_agree() {
    let start = std::time::Instant::now();
    let output = mcpwire().arg("demo").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("== openai (streamed) ==") && stdout.contains("== anthropic (streamed) ==")
    );
    assert!(stdout.contains("<- demo.add ok: 5"), "{stdout}");
    assert!(
        stdout.contains("settled events agree across vendors (8 events)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("demo-token-not-a-secret"),
        "the MCP token is never printed"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn translate_round_trips_fixture_requests_and_names_capability_gaps() {
    let mut checked = 0;
    for file in fixture_files("json") {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.starts_with("request.") || !file.parent().unwrap().ends_with("openai") {
            continue;
        }
        let original: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let to_anthropic = mcpwire_on(
            &[
                "translate",
                "--to",
                "anthropic",
                "--anthropic-beta",
                "2025-11-20",
            ],
            &file,
        );
        if !to_anthropic.status.success() {
            // Strict mode refuses what Anthropic cannot express, naming the field.
            let stderr = String::from_utf8(to_anthropic.stderr).unwrap();
            assert!(
                stderr.starts_with("mcpwire translate: servers[")
                    || stderr.starts_with("mcpwire translate: input"),
                "{name}: {stderr}"
            );
            continue;
        }
        let anthropic = temp(&format!("{name}.anthropic.json"), &to_anthropic.stdout);
        assert!(
            String::from_utf8_lossy(&to_anthropic.stderr)
                .contains("# anthropic-beta: mcp-client-2025-11-20"),
            "{name}"
        );
        let back = mcpwire_on(&["translate", "--to", "openai"], &anthropic);
        assert!(
            back.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&back.stderr)
        );
        let back: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
        // The MCP servers survive the trip: label, URL, allowed tools, credentials.
        let mcp = |v: &serde_json::Value| -> Vec<serde_json::Value> {
            v["tools"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["type"] == "mcp")
                .map(|t| {
                    serde_json::json!([
                        t["server_label"],
                        t["server_url"],
                        t["allowed_tools"],
                        t["authorization"]
                    ])
                })
                .collect()
        };
        assert_eq!(mcp(&back), mcp(&original), "{name}");
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} requests translated");
    // A gap in strict mode, converted in lossy mode with a warning.
    let headers = fixtures().join("openai/request.mcp-with-headers.deepwiki.json");
    let strict = mcpwire_on(&["translate", "--to", "anthropic"], &headers);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        String::from_utf8(strict.stderr)
            .unwrap()
            .contains("servers[0].credentials")
    );
    let lossy = mcpwire_on(&["translate", "--to", "anthropic", "--lossy"], &headers);
    assert!(lossy.status.success());
    assert!(
        String::from_utf8(lossy.stderr)
            .unwrap()
            .contains("warning: servers[0]")
    );
}

#[test]
fn sim_command_serves_both_vendor_apis_until_stopped() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = mcpwire()
        .args(["sim", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(
        first.trim(),
        format!("OpenAI Responses:   POST http://127.0.0.1:{port}/v1/responses")
    );
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    assert!(
        second.contains(&format!("http://127.0.0.1:{port}/v1/messages")),
        "{second}"
    );
    // It answers: an Anthropic request without the beta header is refused as the vendor would.
    let body = r#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"mcp_servers":[]}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("invalid_request_error"));
    child.kill().unwrap();
    child.wait().unwrap();
}
