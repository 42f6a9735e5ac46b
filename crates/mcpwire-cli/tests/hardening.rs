//! Regression tests for the CLI and adapter defects of the hardening pass, each named after the
//! defect and run against the real binary the way the repro did: a local endpoint on
//! 127.0.0.1 (wiremock, or a raw TCP server where the timing matters) behaving as described.

#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::{close_stdout_after_64_bytes, run_args};
use mcpwire_testkit::Route;
use mcpwire_testkit::http_kit::{answering, answering_exactly, rate_limited, serve_raw};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn mcpwire() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcpwire"));
    command
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("RUST_LOG");
    command
}

/// `mcpwire run` against `base` with `extra` flags before the prompt.
fn run(vendor: &str, base: &str, extra: &[&str]) -> Output {
    run_env(vendor, base, &[], extra)
}

/// [`run`] with environment variables.
fn run_env(vendor: &str, base: &str, envs: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut args = run_args(
        vendor,
        "s=https://mcp.example.com/mcp",
        &["--base-url", base],
    );
    args.extend_from_slice(extra);
    args.push("hello");
    mcpwire()
        .envs(envs.iter().copied())
        .args(&args)
        .output()
        .unwrap()
}

/// Runs a blocking command off the async runtime (the mock server lives on it).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("mcpwire-hardening-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

const COMPLETED: &str =
    r#"{"id":"resp_1","object":"response","status":"completed","model":"m","output":[]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn unbounded_body_in_non_streamed_run() {
    // 3 MiB of JSON string against a 1 MiB limit: refused, naming the limit and its flag.
    let mut body = br#"{"id":"resp_1","object":"response","output":[],"pad":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
    body.extend_from_slice(br#""}"#);
    let server = answering(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
    let base = format!("{}/v1", server.uri());
    let out = blocking(move || run("openai", &base, &["--max-body", "1M"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("mcpwire run: too_large"), "{stderr}");
    assert!(
        stderr.contains("1048576-byte limit") && stderr.contains("--max-body"),
        "{stderr}"
    );
    // The same body within the default limit is read (and is a valid, empty response).
    let base = format!("{}/v1", server.uri());
    let out = blocking(move || run("openai", &base, &[])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn to_dev_full(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    mcpwire()
        .args(args)
        .stdout(Stdio::from(full))
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn panics_on_stdout_errors() {
    let sse = fixture("openai/stream.mcp-call-success.exa.sse");
    let sse = sse.to_str().unwrap();
    let request = fixture("neutral/approval-per-tool.json");
    let server =
        answering(ResponseTemplate::new(200).set_body_raw(COMPLETED, "application/json")).await;
    let base = format!("{}/v1", server.uri());
    let full: Vec<Vec<String>> = vec![
        vec!["check".into(), sse.into()],
        vec!["normalize".into(), sse.into()],
        vec![
            "translate".into(),
            "--to".into(),
            "openai".into(),
            request.to_str().unwrap().into(),
        ],
        [
            "run",
            "--vendor",
            "openai",
            "--model",
            "m",
            "--mcp",
            "s=https://mcp.example.com/mcp",
            "--base-url",
            &base,
            "hi",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for args in full {
        let out = blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            to_dev_full(&args)
        })
        .await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains("No space left on device"), "{stderr}");
    }
    // A reader that closes the pipe early: more output than a pipe holds, two lines read.
    for sub in ["check", "normalize"] {
        let files: Vec<&str> = if sub == "check" {
            vec![sse; 3000]
        } else {
            vec![sse]
        };
        let child = mcpwire()
            .arg(sub)
            .args(&files)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = close_stdout_after_64_bytes(child);
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{sub}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{sub}: {stderr}");
    }
}

/// Answers 400 with a request id made of the credential header it received.
struct EchoCredential(&'static str);

impl Respond for EchoCredential {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let value = request
            .headers
            .get(self.0)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_owned();
        ResponseTemplate::new(400)
            .insert_header("x-request-id", format!("req_{value}").as_str())
            .set_body_raw(
                format!(
                    r#"{{"error":{{"type":"invalid_request_error","message":"bad: {value}"}}}}"#
                ),
                "application/json",
            )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_key_leaks_through_the_request_id() {
    for (vendor, header, var) in [
        ("openai", "authorization", "OPENAI_API_KEY"),
        ("anthropic", "x-api-key", "ANTHROPIC_API_KEY"),
    ] {
        let server = MockServer::start().await;
        Route::any("POST")
            .reply(&server, EchoCredential(header))
            .await;
        let base = format!("{}/v1", server.uri());
        let out = blocking(move || run_env(vendor, &base, &[(var, "planted-key-0042")], &[])).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("planted-key-0042"), "{vendor}: {stderr}");
        assert!(stderr.contains("[request id: req_"), "{vendor}: {stderr}");
        assert!(stderr.contains("[redacted]"), "{vendor}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn run_exits_zero_when_the_vendor_failed() {
    let failed_stream = concat!(
        "event: response.created\n",
        r#"data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"m","output":[]}}"#,
        "\n\n",
        "event: response.failed\n",
        r#"data: {"type":"response.failed","sequence_number":1,"response":{"id":"resp_1","object":"response","status":"failed","model":"m","output":[],"error":{"code":"server_error","message":"the stream failed"}}}"#,
        "\n\n",
    );
    let cases: [(&str, ResponseTemplate, &[&str], &str); 3] = [
        (
            "an error body with 200",
            ResponseTemplate::new(200).set_body_raw(
                r#"{"error":{"type":"server_error","message":"the body failed"}}"#,
                "application/json",
            ),
            &[],
            "the body failed",
        ),
        (
            "response.failed",
            ResponseTemplate::new(200).set_body_raw(failed_stream, "text/event-stream"),
            &["--stream"],
            "the stream failed",
        ),
        (
            "status failed",
            ResponseTemplate::new(200).set_body_raw(
                r#"{"id":"resp_1","object":"response","status":"failed","model":"m","output":[],"error":{"code":"server_error","message":"the response failed"}}"#,
                "application/json",
            ),
            &[],
            "the response failed",
        ),
    ];
    for (case, template, flags, message) in cases {
        let server = answering(template).await;
        let base = format!("{}/v1", server.uri());
        let flags: Vec<&'static str> = flags.to_vec();
        let out = blocking(move || run("openai", &base, &flags)).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
        assert!(
            stderr.starts_with("mcpwire run: server (openai"),
            "{case}: the kind first: {stderr}"
        );
        assert!(stderr.contains(message), "{case}: {stderr}");
    }
}

/// The peak resident set of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_stream_memory_grows_with_stream_length() {
    // 80 MB of small unknown Anthropic events (each one becomes an `other` event), then the
    // peak RSS of `run --stream --json` is read before the stream ends.
    const EVENTS: usize = 40_000;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let (measured_tx, measured_rx) = tokio::sync::oneshot::channel::<()>();
    let (sent_tx, sent_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = vec![0u8; 65536];
        let _ = socket.read(&mut head).await.unwrap();
        let chunk = |s: &str| format!("{:x}\r\n{s}\r\n", s.len());
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        let start = r#"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[]}}"#;
        socket
            .write_all(chunk(&format!("{start}\n\n")).as_bytes())
            .await
            .unwrap();
        let pad = "x".repeat(2000);
        let event = format!("data: {{\"type\":\"sparkle\",\"pad\":\"{pad}\"}}\n\n");
        let batch = event.repeat(16);
        for _ in 0..EVENTS / 16 {
            socket.write_all(chunk(&batch).as_bytes()).await.unwrap();
        }
        sent_tx.send(()).unwrap();
        measured_rx.await.unwrap();
        let end = concat!(
            r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#,
            "\n\n",
            r#"data: {"type":"message_stop"}"#,
            "\n\n"
        );
        socket.write_all(chunk(end).as_bytes()).await.unwrap();
        socket.write_all(b"0\r\n\r\n").await.unwrap();
    });
    let child = mcpwire()
        .env("ANTHROPIC_API_KEY", "k")
        .args(run_args(
            "anthropic",
            "s=https://mcp.example.com/mcp",
            &["--base-url", &base, "--stream", "--json", "hi"],
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    sent_rx.await.unwrap();
    // Let the client drain what the socket holds.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let peak = peak_rss_kib(child.id());
    measured_tx.send(()).unwrap();
    let out = blocking(move || child.wait_with_output().unwrap()).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        peak < 60 * 1024,
        "peak RSS {peak} KiB for an 80 MB stream: events are being kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn terminal_injection() {
    let evil = "FAKE\\u001b[31mRED\\u001b[0m\\r\\u0007";
    let body = format!(
        r#"{{"id":"resp_1","object":"response","status":"completed","model":"m{evil}","output":[{{"type":"mcp_list_tools","id":"mcpl_1","server_label":"s{evil}","tools":[{{"name":"t{evil}","input_schema":{{}}}}]}},{{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{{"type":"output_text","text":"answer {evil}\nline two","annotations":[]}}]}}]}}"#
    );
    let server = answering(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
    let base = format!("{}/v1", server.uri());
    let out = blocking(move || run("openai", &base, &[])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for bad in ['\u{1b}', '\r', '\u{7}'] {
        assert!(
            !stdout.contains(bad),
            "{bad:?} reached the terminal: {stdout:?}"
        );
    }
    assert!(stdout.contains("FAKE\\u{1b}[31mRED"), "{stdout}");
    assert!(
        stdout.contains("answer FAKE") && stdout.contains("\nline two"),
        "{stdout}"
    );
    // An error message from the vendor, on stderr.
    let server = answering(ResponseTemplate::new(400).set_body_raw(
        format!(r#"{{"error":{{"type":"invalid_request_error","message":"no {evil}"}}}}"#),
        "application/json",
    ))
    .await;
    let base = format!("{}/v1", server.uri());
    let out = blocking(move || run("openai", &base, &[])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_overall_deadline_in_run() {
    // An endpoint that never sends headers, and one that sends a keep-alive comment every
    // 50 ms forever: both end at `--timeout 2`.
    for keep_alive in [false, true] {
        let addr = serve_raw(move |mut socket| async move {
            let mut head = vec![0u8; 65536];
            let _ = socket.read(&mut head).await;
            if keep_alive {
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                loop {
                    if socket.write_all(b"3\r\n:\n\n\r\n").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .await;
        let base = format!("http://{addr}/v1");
        let started = Instant::now();
        let out = blocking(move || {
            run(
                "openai",
                &base,
                &["--stream", "--timeout", "2", "--idle-timeout", "60"],
            )
        })
        .await;
        let elapsed = started.elapsed();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.starts_with("mcpwire run: timeout"), "{stderr}");
        assert!(stderr.contains("overall deadline"), "{stderr}");
        assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    }
    // The flags and their defaults are documented.
    let help = text(&mcpwire().args(["run", "--help"]).output().unwrap().stdout);
    for flag in [
        "--timeout <SECS>",
        "--connect-timeout <SECS>",
        "--first-byte-timeout <SECS>",
        "--idle-timeout <SECS>",
        "--max-body <BYTES>",
        "[default: 600]",
        "[default: 64M]",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn whole_json_errors_are_not_prefixed_event_0() {
    let path = temp_file(
        "bad.json",
        br#"{"id": "resp_1", "object": "response", "output": 7}"#,
    );
    let out = mcpwire().arg("normalize").arg(&path).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("event 0"), "{stderr}");
    assert!(stderr.contains("output"), "names the field: {stderr}");
    let path = temp_file("truncated.json", br#"{"id": "resp_1", "#);
    let out = mcpwire().arg("normalize").arg(&path).output().unwrap();
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("event 0") && stderr.contains("JSON"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_against_a_200_that_is_html_or_a_json_error_shows_the_vendor_message() {
    let cases = [
        (
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>502 Bad Gateway</body></html>", "text/html"),
            "text/html",
            "502 Bad Gateway",
        ),
        (
            ResponseTemplate::new(200).set_body_raw(
                r#"{"error":{"type":"overloaded_error","message":"Overloaded right now"}}"#,
                "application/json",
            ),
            "overloaded",
            "Overloaded right now",
        ),
    ];
    for (template, kind, message) in cases {
        let server = answering(template).await;
        let base = format!("{}/v1", server.uri());
        let out = blocking(move || run("anthropic", &base, &["--stream"])).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("mid-event"), "{stderr}");
        assert!(stderr.contains(kind), "{stderr}");
        // The HTML is not in the one-line message, but its excerpt is kept on the error; the
        // JSON error's message is the message.
        if kind == "overloaded" {
            assert!(stderr.contains(message), "{stderr}");
        }
    }
}

#[test]
fn whole_json_input_to_check_and_normalize_is_bounded() {
    let started = Instant::now();
    let out = mcpwire().args(["normalize", "/dev/zero"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("neither JSON nor SSE"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A large document that looks like JSON stops at the limit.
    let out = mcpwire()
        .args(["normalize", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(b"[");
                let block = vec![b' '; 1 << 20];
                for _ in 0..80 {
                    if stdin.write_all(&block).is_err() {
                        return;
                    }
                }
            });
            child.wait_with_output()
        })
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("64 MiB limit"), "{stderr}");
    let out = mcpwire().args(["check", "/dev/zero"]).output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("64 MiB limit"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_retry_after_is_honoured_up_to_a_cap() {
    let server = answering_exactly(1, rate_limited("retry-after", "3600")).await;
    let base = format!("{}/v1", server.uri());
    let started = Instant::now();
    let out = blocking(move || run("openai", &base, &[])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("mcpwire run: rate_limited"), "{stderr}");
    assert!(stderr.contains("retry after 3600s"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn header_and_token_accept_file_and_env_forms() {
    let server =
        answering(ResponseTemplate::new(200).set_body_raw(COMPLETED, "application/json")).await;
    let base = format!("{}/v1", server.uri());
    let token_file = temp_file("token", b"tok-FROM-FILE\n");
    let token_arg = format!("a=@{}", token_file.display());
    let out = blocking(move || {
        run_env(
            "openai",
            &base,
            &[("MCPWIRE_TEST_HEADER", "hdr-FROM-ENV")],
            &[
                "--mcp",
                "a=https://a.example.com/mcp",
                "--mcp",
                "b=https://b.example.com/mcp",
                "--token",
                &token_arg,
                "--header",
                "b:X-Key=env:MCPWIRE_TEST_HEADER",
            ],
        )
    })
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sent: serde_json::Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    // tools[0] is run()'s own server `s`.
    assert_eq!(sent["tools"][1]["authorization"], "tok-FROM-FILE");
    assert_eq!(sent["tools"][2]["headers"]["X-Key"], "hdr-FROM-ENV");
    // A missing variable is an error that does not echo anything secret.
    let out = run(
        "openai",
        "http://127.0.0.1:9/v1",
        &["--token", "s=env:MCPWIRE_TEST_UNSET_VAR"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("MCPWIRE_TEST_UNSET_VAR is not set"),
        "{stderr}"
    );
    let help = text(&mcpwire().args(["run", "--help"]).output().unwrap().stdout);
    assert!(help.contains("@FILE") && help.contains("env:VAR"), "{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_log_trace_logs_to_stderr_without_secrets() {
    let secrets = [
        "planted-api-key-77",
        "tok-PLANTED-bearer-88",
        "hdr-PLANTED-value-99",
        "PLANTED-PATH",
        "PLANTED-QUERY",
    ];
    for verbosity in [None, Some("-vvv")] {
        // One failure first, so that the retry path is logged too.
        let server = MockServer::start().await;
        Route::any("POST")
            .times(1)
            .reply(
                &server,
                ResponseTemplate::new(500).set_body_raw(
                    r#"{"error":{"type":"api_error","message":"retry me"}}"#,
                    "application/json",
                ),
            )
            .await;
        Route::any("POST")
            .reply(
                &server,
                ResponseTemplate::new(200).set_body_raw(COMPLETED, "application/json"),
            )
            .await;
        let base = format!("{}/v1", server.uri());
        let out = blocking(move || {
            let mut envs = vec![("OPENAI_API_KEY", "planted-api-key-77")];
            let mut flags = vec![
                "--mcp",
                "a=https://a.example.com/mcp/PLANTED-PATH?k=PLANTED-QUERY",
                "--mcp",
                "b=https://b.example.com/mcp",
                "--token",
                "a=tok-PLANTED-bearer-88",
                "--header",
                "b:X-Key=hdr-PLANTED-value-99",
            ];
            match verbosity {
                Some(v) => flags.push(v),
                None => envs.push(("RUST_LOG", "trace")),
            }
            run_env("openai", &base, &envs, &flags)
        })
        .await;
        let stderr = text(&out.stderr);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("TRACE") && stderr.contains("retrying"),
            "logs at TRACE: {stderr}"
        );
        for secret in secrets {
            assert!(!stderr.contains(secret), "{secret} in the log: {stderr}");
            assert!(!stdout.contains(secret), "{secret} on stdout: {stdout}");
        }
    }
    // Without RUST_LOG or -v, nothing is logged.
    let server =
        answering(ResponseTemplate::new(200).set_body_raw(COMPLETED, "application/json")).await;
    let base = format!("{}/v1", server.uri());
    let out = blocking(move || run("openai", &base, &[])).await;
    assert!(!text(&out.stderr).contains("TRACE"));
}
