//! `mcpwire gateway --config FILE`: the gateway in front of OpenAI / Anthropic (or the
//! simulator); `mcpwire gateway --demo`: the simulator, a bearer-protected demo MCP server and
//! a gateway in front of them, in one command.

use std::path::PathBuf;
use std::process::ExitCode;

use mcpwire_gateway::config::{Config, Env, key_hash_hex};
use mcpwire_gateway::{Gateway, GatewayHandle};

/// Arguments of `mcpwire gateway`.
#[derive(Debug, clap::Args)]
pub(crate) struct GatewayArgs {
    /// The TOML configuration (see the README's gateway section).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["demo", "check_config"])]
    config: Option<PathBuf>,
    /// Validate a configuration (secrets from the environment as at start) and exit: 0 when
    /// it would load, 2 with the line at fault when not. Nothing is started.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "demo"])]
    check_config: Option<PathBuf>,
    /// Start the simulator and a bearer-protected demo MCP server on 127.0.0.1 and a gateway in
    /// front of them, with a generated configuration (printed).
    #[arg(long, conflicts_with = "config")]
    demo: bool,
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn announce(gw: &GatewayHandle) {
    println!("mcpwire gateway listening on {}", gw.url());
    println!("  OpenAI SDKs:    base_url = \"{}/v1\"", gw.url());
    println!("  Anthropic SDKs: base_url = \"{}\"", gw.url());
}

pub(crate) fn run(args: GatewayArgs) -> ExitCode {
    if let Some(path) = &args.check_config {
        return match Config::load(path) {
            Ok(c) => {
                println!(
                    "{}: ok ({} tenant{}, {} store{})",
                    path.display(),
                    c.tenants.len(),
                    if c.tenants.len() == 1 { "" } else { "s" },
                    c.stores.len(),
                    if c.stores.len() == 1 { "" } else { "s" },
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mcpwire gateway: {}: {e}", path.display());
                ExitCode::from(2)
            }
        };
    }
    init_logs();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mcpwire gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.demo {
        return runtime.block_on(demo());
    }
    let Some(path) = args.config else {
        return ExitCode::from(2);
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mcpwire gateway: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let gw = match Gateway::start(config).await {
            Ok(gw) => gw,
            Err(e) => {
                eprintln!("mcpwire gateway: {e}");
                return ExitCode::FAILURE;
            }
        };
        announce(&gw);
        // SIGHUP: reload the file; an invalid one is rejected and the old one keeps serving.
        gw.reload_on_sighup(path.clone());
        terminated().await;
        eprintln!("mcpwire gateway: draining");
        gw.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn demo() -> ExitCode {
    use mcpwire_sim::{DemoOptions, DemoServer, SimOptions, Simulator};
    let token = format!("demo-mcp-{:016x}", rand_u64());
    let key = format!("gw-demo-{:016x}", rand_u64());
    let started = async {
        let demo = DemoServer::start(DemoOptions::new().with_token(token.clone())).await?;
        let sim = Simulator::start(SimOptions::new()).await?;
        Ok::<_, std::io::Error>((demo, sim))
    };
    let (demo, sim) = match started.await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("mcpwire gateway --demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = format!(
        r#"[server]
listen = "127.0.0.1:8788"

[upstream.openai]
base_url = "{sim}/v1"
api_key_env = "DEMO_VENDOR_KEY"

[upstream.anthropic]
base_url = "{sim}"
api_key_env = "DEMO_VENDOR_KEY"

[[tenants]]
name = "demo"
key_sha256 = ["{hash}"]

[[tenants.mcp]]
name = "demo"
url = "{url}"
allowed_tools = ["echo", "add", "slow", "fail"]
require_approval = ["slow"]
auth = {{ bearer_env = "DEMO_MCP_TOKEN" }}
"#,
        sim = sim.base_url(),
        hash = key_hash_hex(&key),
        url = demo.url(),
    );
    let env: Env = [
        ("DEMO_VENDOR_KEY".to_owned(), "sim-needs-no-key".to_owned()),
        ("DEMO_MCP_TOKEN".to_owned(), token),
    ]
    .into_iter()
    .collect();
    let gw = match Config::parse(&text, &env) {
        Ok(config) => Gateway::start_with_env(config, &env).await,
        Err(e) => {
            eprintln!("mcpwire gateway --demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let gw = match gw {
        Ok(gw) => gw,
        Err(e) => {
            eprintln!("mcpwire gateway --demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("# configuration in use (the MCP token and vendor key come from the environment):");
    println!("{text}");
    announce(&gw);
    println!("  gateway key:    {key}");
    println!(
        "  demo MCP URL:   {} (bearer-protected; only the gateway has the token)",
        demo.url()
    );
    println!();
    println!("try:");
    println!(
        "  curl -s {}/v1/responses -H 'authorization: Bearer {key}' -H 'content-type: application/json' \\\n    -d '{{\"model\":\"sim\",\"input\":\"call demo.add {{\\\"a\\\":2,\\\"b\\\":3}}\",\"tools\":[{{\"type\":\"mcp\",\"server_label\":\"demo\",\"server_url\":\"{}\",\"require_approval\":\"never\"}}]}}'",
        gw.url(),
        demo.url()
    );
    println!("Ctrl-C stops.");
    terminated().await;
    gw.shutdown().await;
    drop(sim);
    drop(demo);
    ExitCode::SUCCESS
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}
