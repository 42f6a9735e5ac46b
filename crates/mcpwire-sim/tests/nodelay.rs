//! Both servers set `TCP_NODELAY` on accepted connections. Without it, on a kept-alive
//! connection the first small body write after the response head waits for the client's delayed
//! ACK (about 40 ms on Linux), so every streamed reply after the first starts late. Each test
//! sends several requests over one raw HTTP/1.1 connection and times, for every request after
//! the first, how long the first streamed event takes; the median must be far below the stall.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Well below the ~40 ms delayed-ACK stall, well above a loaded machine's scheduling noise.
const LIMIT: Duration = Duration::from_millis(25);

/// Reads until `buf` (from `from`) contains `needle`.
async fn read_until(conn: &mut TcpStream, buf: &mut Vec<u8>, from: usize, needle: &[u8]) {
    loop {
        if buf[from..].windows(needle.len()).any(|w| w == needle) {
            return;
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut chunk))
            .await
            .expect("the server answers within 10 s")
            .unwrap();
        assert!(n > 0, "the server closed the kept-alive connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends one request on `conn` and reads its whole reply (up to `last`); returns the time to
/// `first` and the reply.
async fn exchange(
    conn: &mut TcpStream,
    request: &str,
    first: &[u8],
    last: &[u8],
) -> (Duration, String) {
    let mut buf = Vec::new();
    let started = Instant::now();
    conn.write_all(request.as_bytes()).await.unwrap();
    read_until(conn, &mut buf, 0, first).await;
    let elapsed = started.elapsed();
    read_until(conn, &mut buf, 0, last).await;
    let reply = String::from_utf8_lossy(&buf).into_owned();
    assert!(reply.starts_with("HTTP/1.1 20"), "{reply}");
    (elapsed, reply)
}

/// A `POST` with a JSON body.
fn post(path: &str, headers: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

const END: &[u8] = b"\r\n0\r\n\r\n";

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn simulator_streams_the_first_event_at_once_on_a_reused_connection() {
    let sim = Simulator::start(SimOptions::new()).await.unwrap();
    let request = post(
        "/v1/responses",
        "",
        r#"{"model":"gpt-sim","input":"hello","stream":true}"#,
    );
    let mut conn = TcpStream::connect(sim.addr()).await.unwrap();
    let mut times = Vec::new();
    for round in 0..6 {
        let (elapsed, _) = exchange(&mut conn, &request, b"event: response.created", END).await;
        if round > 0 {
            times.push(elapsed);
        }
    }
    let median = median(times.clone());
    assert!(median < LIMIT, "first event after {median:?} ({times:?})");
}

#[tokio::test]
async fn demo_server_streams_the_first_event_at_once_on_a_reused_connection() {
    let demo = DemoServer::start(DemoOptions::new()).await.unwrap();
    let addr = demo
        .url()
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    let accept = "accept: application/json, text/event-stream\r\n";
    let initialize = post(
        "/mcp",
        accept,
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"nodelay-test","version":"0"}}}"#,
    );
    let (_, reply) = exchange(&mut conn, &initialize, b"data: {", END).await;
    let session = reply
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("mcp-session-id"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .expect("a session id");
    let headers =
        format!("{accept}mcp-session-id: {session}\r\nmcp-protocol-version: 2025-06-18\r\n");
    let initialized = post(
        "/mcp",
        &headers,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    exchange(&mut conn, &initialized, b"\r\n\r\n", b"\r\n\r\n").await;
    // `slow` answers after 5 ms: the response head goes out first, the event after it.
    let call = post(
        "/mcp",
        &headers,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":5}}}"#,
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let (elapsed, reply) = exchange(&mut conn, &call, b"data: {", END).await;
        assert!(reply.contains("\"result\""), "{reply}");
        times.push(elapsed);
    }
    let median = median(times.clone());
    assert!(
        median < LIMIT + Duration::from_millis(5),
        "first event after {median:?} ({times:?})"
    );
}
