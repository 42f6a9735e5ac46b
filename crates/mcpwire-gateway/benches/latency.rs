//! Added latency of the gateway: a bounded load generator on loopback sends streamed OpenAI
//! Responses requests with an MCP tool (the demo MCP server behind a bearer token) to
//! `mcpwire sim` directly and through a gateway (its own process), at 1, 64 and 256 concurrent
//! streams; then the same against a minimal SSE upstream that sets TCP_NODELAY, to isolate the
//! gateway's own cost. Prints time to first event and total (p50, p99), requests per second,
//! and the gateway's peak RSS.
//!
//! Each row also gives the gateway's CPU time per request (user + system, from the gateway
//! process's own `/proc/<pid>/stat` over the row's run). With `redis-server` on the machine
//! (or `MCPWIRE_REDIS_SERVER`), a last row set puts the gateway on `[shared]` Redis (limits on)
//! and compares it with the same gateway without, in the same run, with the Redis round trips
//! and commands each request cost (`INFO commandstats`). `MCPWIRE_BENCH_PIN=1` pins the load
//! generator and the upstream to core 0 and the gateway to core 1 (`taskset`).
//!
//! `cargo bench -p mcpwire-gateway --bench latency` (release build, ~2 minutes).

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
    if pinned() {
        // This process (load generator and upstream) on core 0; gateways on core 1.
        let _ = Command::new("taskset")
            .args(["-a", "-pc", "0", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

fn pinned() -> bool {
    std::env::var("MCPWIRE_BENCH_PIN").is_ok_and(|v| v == "1")
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
    spawn_gateway_with(upstream, demo_url, name, "")
}

fn spawn_gateway_with(upstream: &str, demo_url: &str, name: &str, extra: &str) -> Child_ {
    let dir = std::env::temp_dir().join(format!("mcpwire-gw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[upstream.openai]\nbase_url = \"{upstream}/v1\"\napi_key_env = \"BENCH_VENDOR_KEY\"\n{extra}\n[[tenants]]\nname = \"bench\"\nkey_sha256 = [\"{}\"]\nmax_concurrent_streams = 1024\nrequests_per_minute = 1000000\ntokens_per_day = 1000000000\n\n[[tenants.mcp]]\nname = \"demo\"\nurl = \"{demo_url}\"\nauth = {{ bearer_env = \"BENCH_MCP_TOKEN\" }}\n",
            key_hash_hex(KEY)
        ),
    )
    .unwrap();
    let mut command = if pinned() {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(std::env::current_exe().unwrap());
        c
    } else {
        Command::new(std::env::current_exe().unwrap())
    };
    let mut child = command
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

/// User + system CPU time of a process so far (`/proc/<pid>/stat`, in clock ticks of 10 ms).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
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
        "| streams | direct TTFE p50 / p99 (ms) | gateway TTFE p50 / p99 (ms) | added TTFE p50 / p99 (ms) | direct total p50 / p99 (ms) | gateway total p50 / p99 (ms) | gateway req/s | gateway CPU per request (µs) | gateway RSS (MiB) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let gw_url = format!("{}/v1/responses", gw.1);
    // Warm both paths (connections, token caches).
    load(client, direct_url, "sk-direct", direct_body, 8, 32).await;
    load(client, &gw_url, KEY, gw_body, 8, 32).await;
    for (c, n) in LEVELS {
        let d = load(client, direct_url, "sk-direct", direct_body, c, n).await;
        let cpu0 = cpu_time(gw.0.id());
        let g = load(client, &gw_url, KEY, gw_body, c, n).await;
        let cpu = (cpu_time(gw.0.id()) - cpu0).as_secs_f64() * 1e6 / g.ttfe.len() as f64;
        let rss = rss_kib(gw.0.id(), "VmRSS:") as f64 / 1024.0;
        println!(
            "| {c} | {:.2} / {:.2} | {:.2} / {:.2} | {:+.2} / {:+.2} | {:.2} / {:.2} | {:.2} / {:.2} | {:.0} | {cpu:.0} | {:.1} |",
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
    drop(gw_stub);
    shared_rows(&client, &stub, demo.url(), &tool(false)).await;
}

/// A private redis-server on a free port (persistence off), if one can be found.
struct Redis(Child, u16);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Option<Redis> {
    let bin = std::env::var_os("MCPWIRE_REDIS_SERVER")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
                .iter()
                .map(std::path::PathBuf::from)
                .find(|p| p.exists())
        })?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let mut command = if pinned() {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let child = command
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let redis = Redis(child, port);
    for _ in 0..200 {
        if redis_calls(port).is_some() {
            return Some(redis);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Total commands Redis has executed (`INFO commandstats`), minus `INFO` itself.
fn redis_calls(port: u16) -> Option<u64> {
    Some(redis_commands(port)?.values().sum())
}

/// Calls per command (`INFO commandstats`), without `INFO` itself. Commands a Lua script
/// runs are counted under their own names, beside the script's `evalsha`.
fn redis_commands(port: u16) -> Option<std::collections::BTreeMap<String, u64>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    s.write_all(b"INFO commandstats\r\n").ok()?;
    // A bulk string: `$<len>\r\n<len bytes>\r\n`.
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let text = loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let Some(head_end) = data.windows(2).position(|w| w == b"\r\n") else {
            continue;
        };
        let len: usize = std::str::from_utf8(data.get(1..head_end)?)
            .ok()?
            .parse()
            .ok()?;
        if data.len() >= head_end + 2 + len {
            break String::from_utf8_lossy(&data[head_end + 2..head_end + 2 + len]).into_owned();
        }
    };
    Some(
        text.lines()
            .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
            .filter_map(|l| {
                let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = rest
                    .split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()?;
                Some((name.to_owned(), calls))
            })
            .collect(),
    )
}

/// The commands the gateway itself sends to the shared Redis, one round trip each: its scripts
/// (and their loading) and the owner writes. Redis counts the commands a script runs under
/// their own names as well; none of the scripts runs `SET` (the owner reads, `GET`, belong to
/// by-id requests, which this bench does not make).
const ROUND_TRIPS: &[&str] = &["evalsha", "eval", "script", "set"];

/// The gateway with and without `[shared]` Redis, same upstream, same run.
async fn shared_rows(
    client: &reqwest::Client,
    stub: &str,
    demo_url: &str,
    body: &serde_json::Value,
) {
    let Some(redis) = start_redis() else {
        println!("\n(no redis-server: the [shared] rows were not run)");
        return;
    };
    let plain = spawn_gateway(stub, demo_url, "plain");
    let shared = spawn_gateway_with(
        stub,
        demo_url,
        "shared",
        &format!("\n[shared]\nurl = \"redis://127.0.0.1:{}/\"\n", redis.1),
    );
    println!(
        "\n## [shared] Redis (max_concurrent_streams, requests_per_minute, tokens_per_day on) vs the same gateway without, minimal upstream"
    );
    println!(
        "| streams | without TTFE p50 / p99 (ms) | with [shared] TTFE p50 / p99 (ms) | added p50 / p99 (ms) | Redis round trips per request | Redis commands per request | CPU per request without / with (µs) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let plain_url = format!("{}/v1/responses", plain.1);
    let shared_url = format!("{}/v1/responses", shared.1);
    load(client, &plain_url, KEY, body, 8, 32).await;
    load(client, &shared_url, KEY, body, 8, 32).await;
    let mut breakdown = Vec::new();
    for (c, n) in [(1, 300), (64, 640)] {
        let cpu0 = cpu_time(plain.0.id());
        let p = load(client, &plain_url, KEY, body, c, n).await;
        let cpu_p = (cpu_time(plain.0.id()) - cpu0).as_secs_f64() * 1e6 / p.ttfe.len() as f64;
        // Commands that finish after the last response (the end-of-request script) count too.
        let by0 = redis_commands(redis.1).unwrap_or_default();
        let cpu0 = cpu_time(shared.0.id());
        let s = load(client, &shared_url, KEY, body, c, n).await;
        let cpu_s = (cpu_time(shared.0.id()) - cpu0).as_secs_f64() * 1e6 / s.ttfe.len() as f64;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let by1 = redis_commands(redis.1).unwrap_or_default();
        // Commands of this row, by name, per request.
        let per_request: Vec<(&str, f64)> = by1
            .iter()
            .filter_map(|(name, n)| {
                let d = n.saturating_sub(by0.get(name).copied().unwrap_or(0));
                (d > 0).then(|| (name.as_str(), d as f64 / s.ttfe.len() as f64))
            })
            .collect();
        let calls: f64 = per_request.iter().map(|(_, d)| d).sum();
        let trips: f64 = per_request
            .iter()
            .filter(|(name, _)| ROUND_TRIPS.contains(name))
            .map(|(_, d)| d)
            .sum();
        let each: Vec<String> = per_request
            .iter()
            .map(|(name, d)| format!("{name} {d:.2}"))
            .collect();
        breakdown.push(format!("{c} streams: {}", each.join(", ")));
        println!(
            "| {c} | {:.2} / {:.2} | {:.2} / {:.2} | {:+.3} / {:+.3} | {trips:.2} | {calls:.2} | {cpu_p:.0} / {cpu_s:.0} |",
            pct(&p.ttfe, 0.5),
            pct(&p.ttfe, 0.99),
            pct(&s.ttfe, 0.5),
            pct(&s.ttfe, 0.99),
            pct(&s.ttfe, 0.5) - pct(&p.ttfe, 0.5),
            pct(&s.ttfe, 0.99) - pct(&p.ttfe, 0.99),
        );
    }
    println!("Redis commands per request, by command (scripts' own commands under their names):");
    for line in breakdown {
        println!("  {line}");
    }
}
