//! Added latency of the gateway: a bounded load generator on loopback sends streamed OpenAI
//! Responses requests with an MCP tool (the demo MCP server behind a bearer token) to
//! `mcpwire sim` directly and through a gateway (its own process), at 1, 64 and 256 concurrent
//! streams; then the same against a minimal SSE upstream that sets TCP_NODELAY, to isolate the
//! gateway's own cost. Prints time to first event and total (p50, p99), requests per second,
//! and the gateway's peak RSS.
//!
//! `cargo bench -p mcpwire-gateway --bench latency` (release build, ~1 minute).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use mcpwire_gateway::config::{Config, key_hash_hex};
use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
use serde_json::json;

const KEY: &str = "gw-bench-key";
const TOKEN: &str = "bench-mcp-token";
const LEVELS: [(usize, usize); 3] = [(1, 300), (64, 640), (256, 1280)];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-gateway") {
        serve_gateway(&args[i + 1]);
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here.
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

/// Child mode: one gateway until stdin closes.
fn serve_gateway(config: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = Config::load(std::path::Path::new(config)).unwrap();
        let gw = mcpwire_gateway::Gateway::start(config).await.unwrap();
        println!("{}", gw.url());
        tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
        })
        .await
        .unwrap();
        gw.shutdown().await;
    });
}

struct Child_(Child, String);

impl Drop for Child_ {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_gateway(upstream: &str, demo_url: &str, name: &str) -> Child_ {
    let dir = std::env::temp_dir().join(format!("mcpwire-gw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[upstream.openai]\nbase_url = \"{upstream}/v1\"\napi_key_env = \"BENCH_VENDOR_KEY\"\n\n[[tenants]]\nname = \"bench\"\nkey_sha256 = [\"{}\"]\nmax_concurrent_streams = 1024\n\n[[tenants.mcp]]\nname = \"demo\"\nurl = \"{demo_url}\"\nauth = {{ bearer_env = \"BENCH_MCP_TOKEN\" }}\n",
            key_hash_hex(KEY)
        ),
    )
    .unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve-gateway")
        .arg(&path)
        .env("BENCH_VENDOR_KEY", "sk-bench")
        .env("BENCH_MCP_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Child_(child, line.trim().to_owned())
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A minimal OpenAI-like SSE upstream with TCP_NODELAY: headers, then four events.
async fn stub() -> String {
    let handler = || async {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        tokio::spawn(async move {
            for (i, t) in [
                "response.created",
                "response.in_progress",
                "response.output_text.delta",
                "response.completed",
            ]
            .iter()
            .enumerate()
            {
                let ev = format!(
                    "event: {t}\ndata: {{\"type\":\"{t}\",\"sequence_number\":{i},\"response\":{{\"id\":\"resp_1\",\"output\":[]}},\"delta\":\"x\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0}}\n\n"
                );
                if tx.send(Bytes::from(ev)).await.is_err() {
                    return;
                }
            }
        });
        let body =
            axum::body::Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
            }));
        axum::response::Response::builder()
            .header("content-type", "text/event-stream")
            .body(body)
            .unwrap()
    };
    let router = axum::Router::new().route("/v1/responses", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use axum::serve::ListenerExt as _;
        let listener = listener.tap_io(|t| {
            let _ = t.set_nodelay(true);
        });
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

struct Sample {
    ttfe: Vec<Duration>,
    total: Vec<Duration>,
    wall: Duration,
}

async fn load(
    client: &reqwest::Client,
    url: &str,
    bearer: &str,
    body: &serde_json::Value,
    concurrency: usize,
    count: usize,
) -> Sample {
    let per = count / concurrency;
    let started = Instant::now();
    let body = Arc::new(serde_json::to_vec(body).unwrap());
    let tasks = (0..concurrency).map(|_| {
        let client = client.clone();
        let url = url.to_owned();
        let bearer = bearer.to_owned();
        let body = body.clone();
        tokio::spawn(async move {
            let mut out = Vec::with_capacity(per);
            for _ in 0..per {
                let t0 = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&bearer)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let mut s = r.bytes_stream();
                let mut first = None;
                let mut all = Vec::new();
                while let Some(chunk) = s.next().await {
                    let chunk = chunk.unwrap();
                    first.get_or_insert_with(|| t0.elapsed());
                    all.extend_from_slice(&chunk);
                }
                assert!(
                    memchr::memmem::find(&all, b"response.completed").is_some(),
                    "stream did not complete"
                );
                out.push((first.unwrap(), t0.elapsed()));
            }
            out
        })
    });
    let mut ttfe = Vec::new();
    let mut total = Vec::new();
    for t in futures_util::future::join_all(tasks).await {
        for (a, b) in t.unwrap() {
            ttfe.push(a);
            total.push(b);
        }
    }
    ttfe.sort();
    total.sort();
    Sample {
        ttfe,
        total,
        wall: started.elapsed(),
    }
}

fn pct(v: &[Duration], p: f64) -> f64 {
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

async fn compare(
    label: &str,
    client: &reqwest::Client,
    direct_url: &str,
    gw: &Child_,
    direct_body: &serde_json::Value,
    gw_body: &serde_json::Value,
) {
    println!("\n{label}");
    println!(
        "| streams | direct TTFE p50 / p99 (ms) | gateway TTFE p50 / p99 (ms) | added TTFE p50 / p99 (ms) | direct total p50 / p99 (ms) | gateway total p50 / p99 (ms) | gateway req/s | gateway RSS (MiB) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let gw_url = format!("{}/v1/responses", gw.1);
    // Warm both paths (connections, token caches).
    load(client, direct_url, "sk-direct", direct_body, 8, 32).await;
    load(client, &gw_url, KEY, gw_body, 8, 32).await;
    for (c, n) in LEVELS {
        let d = load(client, direct_url, "sk-direct", direct_body, c, n).await;
        let g = load(client, &gw_url, KEY, gw_body, c, n).await;
        let rss = rss_kib(gw.0.id(), "VmRSS:") as f64 / 1024.0;
        println!(
            "| {c} | {:.2} / {:.2} | {:.2} / {:.2} | {:+.2} / {:+.2} | {:.2} / {:.2} | {:.2} / {:.2} | {:.0} | {:.1} |",
            pct(&d.ttfe, 0.5),
            pct(&d.ttfe, 0.99),
            pct(&g.ttfe, 0.5),
            pct(&g.ttfe, 0.99),
            pct(&g.ttfe, 0.5) - pct(&d.ttfe, 0.5),
            pct(&g.ttfe, 0.99) - pct(&d.ttfe, 0.99),
            pct(&d.total, 0.5),
            pct(&d.total, 0.99),
            pct(&g.total, 0.5),
            pct(&g.total, 0.99),
            g.ttfe.len() as f64 / g.wall.as_secs_f64(),
            rss,
        );
    }
    println!(
        "gateway peak RSS: {:.1} MiB",
        rss_kib(gw.0.id(), "VmHWM:") as f64 / 1024.0
    );
}

async fn bench() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let demo = DemoServer::start(DemoOptions::new().with_token(TOKEN))
        .await
        .unwrap();
    let sim = Simulator::start(SimOptions::new()).await.unwrap();
    let stub = stub().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let tool = |auth: bool| {
        let mut t = json!({"type": "mcp", "server_label": "demo", "server_url": demo.url(), "require_approval": "never"});
        if auth {
            t["authorization"] = json!(TOKEN);
        }
        json!({"model": "sim", "input": "call demo.echo {\"text\":\"hi\"}", "stream": true, "tools": [t]})
    };
    let gw_sim = spawn_gateway(&sim.base_url(), demo.url(), "sim");
    compare(
        "## streamed Responses request with an MCP tool call: mcpwire sim directly vs through the gateway",
        &client,
        &sim.responses_url(),
        &gw_sim,
        &tool(true),
        &tool(false),
    )
    .await;
    drop(gw_sim);
    let gw_stub = spawn_gateway(&stub, demo.url(), "stub");
    compare(
        "## streamed Responses request (MCP tool in the request, 4 events): minimal TCP_NODELAY upstream directly vs through the gateway",
        &client,
        &format!("{stub}/v1/responses"),
        &gw_stub,
        &tool(true),
        &tool(false),
    )
    .await;
}
