//! The adapter's own cost, in one run: a large recorded-event stream replayed over loopback,
//! (a) read as raw bytes with reqwest, (b) through `Client::stream` (SSE framing, typed
//! decoding, normalisation, accumulation), (c) what a user would otherwise write: reqwest + a
//! maintained SSE crate (`sse-stream`, the one the official MCP Rust SDK uses) +
//! `serde_json::Value` per event. Prints time to first byte / first event, total time, the
//! per-event overhead of (b) over (a) and over (c), and the ratios.
//!
//! `cargo bench -p mcpwire-providers --bench adapter`

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mcpwire_auth::Secret;
use mcpwire_providers::request::{McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint, StreamItem};
use mcpwire_schema::event::Vendor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TARGET: usize = 32 * 1024 * 1024;
const RUNS: usize = 5;

/// One long OpenAI response built from the recorded Exa stream: its items repeated with new
/// output indexes and ids.
fn stream() -> (Vec<u8>, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/openai/stream.mcp-call-success.exa.sse");
    let source = std::fs::read_to_string(path).unwrap();
    let events: Vec<&str> = source
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .collect();
    let head: Vec<&str> = events
        .iter()
        .filter(|e| {
            e.contains("event: response.created") || e.contains("event: response.in_progress")
        })
        .copied()
        .collect();
    let middle: Vec<&str> = events
        .iter()
        .filter(|e| {
            !e.contains("event: response.created")
                && !e.contains("event: response.in_progress")
                && !e.contains("event: response.completed")
        })
        .copied()
        .collect();
    let mut out = head.join("\n\n") + "\n\n";
    let mut round = 0u64;
    let mut count = head.len();
    while out.len() < TARGET {
        for e in &middle {
            let mut e = e.replace("\"id\":\"", &format!("\"id\":\"r{round}_"));
            for i in (0..7u64).rev() {
                e = e.replace(
                    &format!("\"output_index\":{i},"),
                    &format!("\"output_index\":{},", i + round * 7),
                );
            }
            out.push_str(&e);
            out.push_str("\n\n");
            count += 1;
        }
        round += 1;
    }
    out.push_str("event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":0,\"response\":{\"id\":\"resp_end\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"m\",\"output\":[]}}\n\n");
    (out.into_bytes(), count + 1)
}

/// Serves `body` to every request, chunked in 16 KiB pieces. Returns `http://addr/v1`.
async fn serve(body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = Vec::new();
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        while seen.len() < end + 4 + len {
                            let n = socket.read(&mut buf).await.unwrap_or(0);
                            if n == 0 {
                                return;
                            }
                            seen.extend_from_slice(&buf[..n]);
                        }
                        break;
                    }
                }
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n").await;
                for chunk in body.chunks(16 * 1024) {
                    let _ = socket
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await;
                    let _ = socket.write_all(chunk).await;
                    let _ = socket.write_all(b"\r\n").await;
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    format!("http://{addr}/v1")
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (body, sse_events) = stream();
        let (body, sse_events) = if benching { (body, sse_events) } else { (body[..body.len().min(1 << 20)].to_vec(), 0) };
        let size = body.len();
        let base = serve(body).await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let raw_client = reqwest::Client::new();
        let mut config = ClientConfig::default();
        config.openai = Endpoint::openai().base_url(&base).api_key(Secret::new("bench"));
        let client = Client::new(config).unwrap();
        let request = McpRequest::new("m", "bench").server(McpServerSpec::new("exa", "https://mcp.exa.ai/mcp")).stream(true);
        let runs = if benching { RUNS } else { 1 };
        let (mut a_first, mut a_total, mut b_first, mut b_total) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut c_first, mut c_total) = (Vec::new(), Vec::new());
        let mut events_out = 0;
        for _ in 0..runs {
            // (a) raw bytes with reqwest.
            let start = Instant::now();
            let response = raw_client.post(format!("{base}/responses")).body("{}").send().await.unwrap();
            let mut bytes = response.bytes_stream();
            let mut first = None;
            let mut n = 0;
            while let Some(chunk) = bytes.next().await {
                first.get_or_insert_with(|| start.elapsed());
                n += chunk.unwrap().len();
            }
            assert_eq!(n, size);
            a_first.push(first.unwrap());
            a_total.push(start.elapsed());
            // (b) the adapter.
            let start = Instant::now();
            let mut stream = client.stream(Vendor::OpenAi, &request).await.unwrap();
            let mut first = None;
            events_out = 0;
            while let Some(item) = stream.next().await {
                if let StreamItem::Event(_) = item.unwrap() {
                    first.get_or_insert_with(|| start.elapsed());
                    events_out += 1;
                }
            }
            b_first.push(first.unwrap());
            b_total.push(start.elapsed());
            // (c) reqwest + sse-stream + serde_json::Value per event.
            let start = Instant::now();
            let response = raw_client.post(format!("{base}/responses")).body("{}").send().await.unwrap();
            let mut events = sse_stream::SseStream::from_bytes_stream(response.bytes_stream());
            let mut first = None;
            while let Some(sse) = events.next().await {
                if let Some(data) = sse.unwrap().data {
                    let value: serde_json::Value = serde_json::from_str(&data).unwrap();
                    std::hint::black_box(&value);
                    first.get_or_insert_with(|| start.elapsed());
                }
            }
            c_first.push(first.unwrap());
            c_total.push(start.elapsed());
        }
        let (af, at, bf, bt) = (median(a_first), median(a_total), median(b_first), median(b_total));
        let (cf, ct) = (median(c_first), median(c_total));
        println!("stream: {:.1} MB, {sse_events} SSE events, {events_out} mcpwire events, loopback, 16 KiB chunks; median of {runs}", size as f64 / 1e6);
        println!("(a) reqwest raw bytes:  first byte  {:>9.3} ms   total {:>9.1} ms   {:>7.1} MB/s", af.as_secs_f64() * 1e3, at.as_secs_f64() * 1e3, size as f64 / 1e6 / at.as_secs_f64());
        println!("(b) mcpwire adapter:    first event {:>9.3} ms   total {:>9.1} ms   {:>7.1} MB/s", bf.as_secs_f64() * 1e3, bt.as_secs_f64() * 1e3, size as f64 / 1e6 / bt.as_secs_f64());
        println!("(c) reqwest + sse-stream + Value: first event {:>9.3} ms   total {:>9.1} ms   {:>7.1} MB/s", cf.as_secs_f64() * 1e3, ct.as_secs_f64() * 1e3, size as f64 / 1e6 / ct.as_secs_f64());
        if sse_events > 0 {
            let overhead = bt.saturating_sub(at).as_secs_f64() / sse_events as f64;
            println!("adapter overhead per vendor event: {:.2} us; time to first event b - a: {:.3} ms", overhead * 1e6, (bf.as_secs_f64() - af.as_secs_f64()) * 1e3);
        }
        if sse_events > 0 {
            let overhead = (bt.as_secs_f64() - ct.as_secs_f64()) / sse_events as f64;
            println!("adapter vs user loop (c): {:+.2} us per vendor event; time to first event b - c: {:+.3} ms", overhead * 1e6, (bf.as_secs_f64() - cf.as_secs_f64()) * 1e3);
        }
        println!("ratio b/a (total time): {:.2}", bt.as_secs_f64() / at.as_secs_f64());
        println!("ratio b/c (total time): {:.2} (below 1: the adapter, typed and normalised, beats the user loop)", bt.as_secs_f64() / ct.as_secs_f64());
    });
}
