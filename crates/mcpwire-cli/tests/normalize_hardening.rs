//! Regression tests for the hardening issue's `normalize` / `check` items, each named after the
//! defect and run against the binary the way its repro did.

#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common_support;

use common_support::temp_in;
use mcpwire_testkit::fixtures::fixture;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn mcpwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
}

fn temp(name: &str, contents: &[u8]) -> PathBuf {
    temp_in("mcpwire-hardening", name, contents)
}

/// `mcpwire normalize -` fed `parts` with a pause between them; (stdout lines, exit ok, stderr).
fn normalize_stdin(args: &[&str], parts: Vec<Vec<u8>>) -> (Vec<String>, bool, String) {
    let mut child = mcpwire()
        .args(["normalize"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for part in parts {
            stdin.write_all(&part).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (
        stdout.lines().map(str::to_owned).collect(),
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Issue: a short first read breaks `normalize -` (2 bytes, a pause, the rest).
#[test]
fn short_first_read_breaks_normalize_stdin() {
    let f = fixture("anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse");
    let (whole, ok, err) = normalize_stdin(&[], vec![f.clone()]);
    assert!(ok, "{err}");
    assert!(whole.len() > 3);
    for first in [1, 2, 3, 5] {
        let (lines, ok, err) = normalize_stdin(&[], vec![f[..first].to_vec(), f[first..].to_vec()]);
        assert!(ok, "first read of {first} bytes: {err}");
        assert_eq!(lines, whole, "first read of {first} bytes");
    }
    // The same for JSON: a first read of one byte (`{`).
    let json = fixture("anthropic/response.2025-04-04.mcp-echo.vercel-ai.json");
    let (whole, ok, err) = normalize_stdin(&[], vec![json.clone()]);
    assert!(ok, "{err}");
    let (lines, ok, err) = normalize_stdin(&[], vec![json[..1].to_vec(), json[1..].to_vec()]);
    assert!(ok, "{err}");
    assert_eq!(lines, whole);
}

/// Peak resident memory (VmHWM, KiB) of `mcpwire normalize FILE`, sampled while it runs.
fn peak_kib(file: &Path) -> (u64, bool, usize) {
    let mut child = mcpwire()
        .arg("normalize")
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let reader =
        std::thread::spawn(move || std::io::read_to_string(stdout).unwrap().lines().count());
    let mut peak = 0;
    while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        match status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
        {
            Some(kib) => peak = peak.max(kib),
            None => break,
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ok = child.wait().unwrap().success();
    (peak, ok, reader.join().unwrap())
}

/// Issue: quadratic `normalize` on leading whitespace. Vendor detection rescanned and kept the
/// whole buffer after every read; now leading whitespace is skipped as it streams by, so memory
/// stays bounded (the old code held all 64 MB, and took minutes).
#[test]
fn quadratic_normalize_on_leading_whitespace() {
    let stream = fixture("openai/stream.mcp-call-success.exa.sse");
    let plain = temp("plain.sse", &stream);
    let (_, ok, expected) = peak_kib(&plain);
    assert!(ok);
    let mut padded = vec![b'\n'; 64 << 20];
    padded.extend_from_slice(&stream);
    let padded = temp("ws.sse", &padded);
    let (peak, ok, lines) = peak_kib(&padded);
    std::fs::remove_file(&padded).unwrap();
    assert!(ok);
    assert_eq!(lines, expected, "the same events as without the padding");
    assert!(
        peak < 48 * 1024,
        "peak RSS {peak} KiB for 64 MB of leading newlines"
    );
}

/// A leading UTF-8 byte-order mark is accepted before a JSON file, as before SSE, by both
/// `check` and `normalize`.
#[test]
fn bom_before_a_json_file_is_accepted_like_before_sse() {
    for rel in [
        "openai/response.mcp-call-success.exa.json",
        "anthropic/stream.2025-04-04.mcp-echo.vercel-ai.sse",
    ] {
        let plain = fixture(rel);
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(&plain);
        let name = rel.replace('/', "_");
        let plain_path = temp(&format!("plain-{name}"), &plain);
        let bom_path = temp(&format!("bom-{name}"), &with_bom);
        let expected = mcpwire()
            .arg("normalize")
            .arg(&plain_path)
            .output()
            .unwrap();
        assert!(expected.status.success());
        let got = mcpwire().arg("normalize").arg(&bom_path).output().unwrap();
        assert!(
            got.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(got.stdout, expected.stdout, "{rel}");
        let check = mcpwire().arg("check").arg(&bom_path).output().unwrap();
        assert!(
            check.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

/// Issue: unknown stream events and deltas vanish or break the invariant: they come out as
/// stream-only `other` events, which `--settled` drops, for both vendors.
#[test]
fn unknown_stream_events_and_deltas_come_out_stream_only_and_settled_drops_them() {
    let openai = concat!(
        "event: response.created\n",
        "data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"m\",\"output\":[]}}\n\n",
        "event: response.mcp_call.progress\n",
        "data: {\"type\":\"response.mcp_call.progress\",\"sequence_number\":1,\"output_index\":0,\"item_id\":\"mcp_1\"}\n\n",
        "event: response.completed\n",
        "data: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"m\",\"output\":[]}}\n\n",
    );
    let anthropic = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null}}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"sparkle_delta\",\"sparkle\":1}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_sparkle\n",
        "data: {\"type\":\"message_sparkle\"}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    for (name, stream, unknown) in [("openai", openai, 1), ("anthropic", anthropic, 2)] {
        let path = temp(&format!("unknown-{name}.sse"), stream.as_bytes());
        let all = mcpwire().arg("normalize").arg(&path).output().unwrap();
        assert!(all.status.success(), "{name}");
        let all = String::from_utf8(all.stdout).unwrap();
        let others: Vec<&str> = all
            .lines()
            .filter(|l| l.contains(r#""kind":"other""#))
            .collect();
        assert_eq!(others.len(), unknown, "{name}: {all}");
        assert!(others.iter().all(|l| l.contains(r#""stream_only":true"#)));
        let settled = mcpwire()
            .args(["normalize", "--settled"])
            .arg(&path)
            .output()
            .unwrap();
        let settled = String::from_utf8(settled.stdout).unwrap();
        assert!(!settled.contains(r#""kind":"other""#), "{name}: {settled}");
    }
}

/// Issue: big integers lose precision while `check` says "round trip ok": the typed decode now
/// keeps them as exact text, so the round trip is really ok and `check` says so.
#[test]
fn big_integers_lose_precision_while_check_says_round_trip_ok() {
    let item = temp(
        "big.json",
        br#"{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{}","output":null,"error":null,"big":123456789012345678901234567890}"#,
    );
    let output = mcpwire().arg("check").arg(&item).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("round trip ok"), "{stdout}");
}

/// Issue: big integers lose precision: `normalize` should pass them through exactly into
/// `other.raw` and `call.arguments`.
#[test]
fn big_integers_pass_through_normalize_exactly() {
    let response = temp(
        "big-response.json",
        br#"{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{"type":"brand_new","big":123456789012345678901234567890},{"type":"mcp_call","id":"mcp_1","server_label":"s","name":"t","arguments":"{\"n\":123456789012345678901234567890}","output":"ok","error":null,"status":"completed"}]}"#,
    );
    let output = mcpwire().arg("normalize").arg(&response).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.matches("123456789012345678901234567890").count(),
        2,
        "{stdout}"
    );
}
