//! Client connections cannot hold the gateway: a slow request head (slowloris), a silent
//! connection and an idle kept-alive connection are closed after their timeouts, and a flood
//! of connections stops at the per-peer and total caps while the gateway keeps answering.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

const DEMO_URL: &str = "https://mcp.example.com/mcp";

async fn gateway(server: &str) -> mcpwire_gateway::GatewayHandle {
    start(&config_text(
        "http://127.0.0.1:9",
        DEMO_URL,
        DEMO_BEARER,
        server,
        "",
    ))
    .await
}

/// A connection from `source` (any 127.0.0.0/8 address is loopback on Linux).
async fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the peer has closed the connection (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// How long the peer took to close `stream`, if it did within `wait`.
async fn closed_after(stream: &mut TcpStream, wait: Duration) -> Option<Duration> {
    let started = Instant::now();
    closed_within(stream, wait).await.then(|| started.elapsed())
}

async fn healthz_from(source: &str, addr: SocketAddr) -> Option<String> {
    let mut s = connect_from(source, addr).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut out))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    text.starts_with("HTTP/1.1 200").then_some(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_head_is_cut_off() {
    let gw = gateway("header_timeout_secs = 1").await;
    let mut s = TcpStream::connect(gw.addr()).await.unwrap();
    s.write_all(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut closed = false;
    // One header byte every 200 ms: the head never completes.
    for _ in 0..40 {
        if s.write_all(b"x").await.is_err() {
            closed = true;
            break;
        }
        if closed_within(&mut s, Duration::from_millis(200)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "still open after {:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        metrics_text(&gw)
            .await
            .contains("mcpwire_gateway_connections_timed_out_total{timeout=\"header\"} 1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_idle_connections_are_closed() {
    let gw = gateway("header_timeout_secs = 1\nclient_idle_timeout_secs = 3").await;
    // Silent: never sends a byte.
    let mut silent = TcpStream::connect(gw.addr()).await.unwrap();
    let closed = closed_after(&mut silent, Duration::from_secs(4)).await;
    assert!(closed.is_some());
    assert!(closed >= Some(Duration::from_millis(900)), "{closed:?}");

    // Kept alive after a request: survives the header timeout, not the idle timeout.
    let mut kept = TcpStream::connect(gw.addr()).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    assert!(!closed_within(&mut kept, Duration::from_millis(1500)).await);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let n = kept.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "a second request on the kept-alive connection"
    );
    let closed = closed_after(&mut kept, Duration::from_secs(6)).await;
    assert!(closed.is_some());
    let since_first = idle_from.elapsed();
    assert!(
        closed >= Some(Duration::from_millis(2500)),
        "{since_first:?}"
    );
    assert_metric(
        &gw,
        "mcpwire_gateway_connections_timed_out_total{timeout=\"idle\"} 1",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_stops_at_the_caps_and_healthz_keeps_answering() {
    let gw =
        gateway("header_timeout_secs = 3\nmax_connections = 30\nmax_connections_per_peer = 20")
            .await;
    let addr = gw.addr();
    // 50 silent connections from one peer: 20 stay open, 30 are closed at once.
    let mut flood = Vec::new();
    for _ in 0..50 {
        flood.push(connect_from("127.0.0.2", addr).await);
    }
    assert_eq!(count_closed(&mut flood).await, 30, "per-peer cap");
    // Another peer is still served, at once.
    let started = Instant::now();
    assert!(healthz_from("127.0.0.3", addr).await.is_some());
    assert!(started.elapsed() < Duration::from_secs(1));
    // Ten more from a third peer reach the total cap of 30.
    let mut more = Vec::new();
    for _ in 0..15 {
        more.push(connect_from("127.0.0.4", addr).await);
    }
    assert_eq!(count_closed(&mut more).await, 5, "total cap");
    let m = metrics_from_fresh_peer(addr).await;
    assert!(
        m.is_none(),
        "over the total cap, a new connection is refused too"
    );
    // The flood times out (header timeout) and the gateway is free again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(healthz_from("127.0.0.5", addr).await.is_some());
    let m = metrics_text(&gw).await;
    assert!(
        m.contains("mcpwire_gateway_connections_refused_total{limit=\"peer\"} 30"),
        "{m}"
    );
    assert!(
        m.contains("mcpwire_gateway_connections_refused_total{limit=\"total\"} 6"),
        "{m}"
    );
    assert!(m.contains("mcpwire_gateway_open_connections 1"), "{m}");
}

/// How many of `streams` the gateway closes within 300 ms (all watched at once).
async fn count_closed(streams: &mut [TcpStream]) -> usize {
    let checks = streams
        .iter_mut()
        .map(|s| closed_within(s, Duration::from_millis(300)));
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .filter(|c| *c)
        .count()
}

async fn metrics_from_fresh_peer(addr: SocketAddr) -> Option<String> {
    healthz_from("127.0.0.6", addr).await
}
