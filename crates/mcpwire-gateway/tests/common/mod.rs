//! Shared setup: planted secrets, a config in front of given upstreams, a bearer-protected demo
//! MCP server, and small HTTP helpers.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod per_user;

use mcpwire_gateway::config::{Config, Env, key_hash_hex};
use mcpwire_gateway::{Gateway, GatewayHandle};
use mcpwire_testkit::gateway_kit::{self, fetch_text, tenant};
use reqwest::Response;
use serde_json::{Value, json};

/// The vendor key the gateway holds (planted: must never leave the gateway except upstream).
pub const OPENAI_KEY: &str = "planted-vendor-openai-4f1c";
/// The Anthropic vendor key.
pub const ANTHROPIC_KEY: &str = "planted-vendor-anthropic-9d2e";
/// The demo MCP server's bearer token (held by the gateway only).
pub const MCP_TOKEN: &str = "mcp-PLANTED-token-7a3b";
/// The app's gateway key (the config holds its hash).
pub const GATEWAY_KEY: &str = "gw-PLANTED-key-team-a-5c6d";
/// Another tenant's key.
pub const OTHER_KEY: &str = "gw-PLANTED-key-team-b-8e9f";

pub fn planted() -> [&'static str; 5] {
    [OPENAI_KEY, ANTHROPIC_KEY, MCP_TOKEN, GATEWAY_KEY, OTHER_KEY]
}

pub fn env() -> Env {
    [
        ("GW_OPENAI_KEY", OPENAI_KEY),
        ("GW_ANTHROPIC_KEY", ANTHROPIC_KEY),
        ("GW_DEMO_TOKEN", MCP_TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The `[upstream.openai]` table of a config: the vendor at `{base}/v1`, its key from
/// `GW_OPENAI_KEY`.
pub fn openai_upstream(base: &str) -> String {
    gateway_kit::openai_upstream(base, "GW_OPENAI_KEY")
}

/// A config with both upstreams at `base` (OpenAI `{base}/v1`), tenant `team-a` allowed the
/// demo server at `demo_url` with `auth` (a TOML inline table), tenant `team-b` with nothing.
pub fn config_text(
    base: &str,
    demo_url: &str,
    auth: &str,
    extra_server: &str,
    extra_mcp: &str,
) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
max_body_bytes = 65536
response_timeout_secs = 2
idle_timeout_secs = 5
{extra_server}

{openai}

[upstream.anthropic]
base_url = "{base}"
api_key_env = "GW_ANTHROPIC_KEY"

{team_a}
connectors = [{{ id = "connector_allowed" }}]

[[tenants.mcp]]
name = "demo"
url = "{demo_url}"
auth = {auth}
{extra_mcp}

{team_b}
"#,
        openai = openai_upstream(base),
        team_a = tenant("team-a", &key_hash_hex(GATEWAY_KEY)),
        team_b = tenant("team-b", &key_hash_hex(OTHER_KEY)),
    )
}

/// The demo MCP server's auth in a config: the gateway injects [`MCP_TOKEN`] from the env.
pub const DEMO_BEARER: &str = r#"{ bearer_env = "GW_DEMO_TOKEN" }"#;

/// A demo server's `[[tenants.mcp]]` extras: every demo tool allowed, `slow` needs approval.
pub const ALL_TOOLS_SLOW_APPROVED: &str =
    "allowed_tools = [\"echo\", \"add\", \"slow\", \"fail\"]\nrequire_approval = [\"slow\"]";

/// An `[audit]` table writing to `path`, with `include_{x} = true` for each of `include`
/// (`"arguments"`, `"outputs"`).
pub fn audit_table(path: &std::path::Path, include: &[&str]) -> String {
    let mut table = format!("\n[audit]\npath = {:?}\n", path.display().to_string());
    for x in include {
        table += &format!("include_{x} = true\n");
    }
    table
}

/// A `[ui]` table: the `/ui` pages for the holder of `admin_key`.
pub fn ui_table(admin_key: &str) -> String {
    format!(
        "\n[ui]\nadmin_key_sha256 = [\"{}\"]\n",
        key_hash_hex(admin_key)
    )
}

/// The demo MCP server (it wants [`MCP_TOKEN`]) and the simulator, both started.
pub async fn demo_and_sim() -> (mcpwire_sim::DemoServerHandle, mcpwire_sim::SimHandle) {
    let demo =
        mcpwire_sim::DemoServer::start(mcpwire_sim::DemoOptions::new().with_token(MCP_TOKEN))
            .await
            .unwrap();
    let sim = mcpwire_sim::Simulator::start(mcpwire_sim::SimOptions::new())
        .await
        .unwrap();
    (demo, sim)
}

/// A mock authorization server, the demo MCP server checking its tokens (and naming it as
/// its authorization server), and the simulator, all started.
pub async fn oauth_demo_and_sim() -> (
    mcpwire_testkit::mock_as::MockAs,
    mcpwire_sim::DemoServerHandle,
    mcpwire_sim::SimHandle,
) {
    let auth = mcpwire_testkit::mock_as::MockAs::start(3600).await;
    let a2 = auth.clone();
    let demo = mcpwire_sim::DemoServer::start(
        mcpwire_sim::DemoOptions::new()
            .with_token_check(move |t| a2.accepts(t))
            .with_authorization_server(auth.issuer.clone()),
    )
    .await
    .unwrap();
    let sim = mcpwire_sim::Simulator::start(mcpwire_sim::SimOptions::new())
        .await
        .unwrap();
    (auth, demo, sim)
}

/// A port free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// [`config_text`] in front of `sim` with the demo server behind [`DEMO_BEARER`].
pub fn sim_config(
    sim: &mcpwire_sim::SimHandle,
    demo: &mcpwire_sim::DemoServerHandle,
    extra_server: &str,
    extra_mcp: &str,
) -> String {
    config_text(
        &sim.base_url(),
        demo.url(),
        DEMO_BEARER,
        extra_server,
        extra_mcp,
    )
}

/// The demo server and the simulator, both started, and a gateway in front of them:
/// [`sim_config`] with `extra_mcp` in the demo server's table, then `more` tables.
pub async fn sim_gateway(
    extra_mcp: &str,
    more: &str,
) -> (
    mcpwire_sim::DemoServerHandle,
    mcpwire_sim::SimHandle,
    GatewayHandle,
) {
    let (demo, sim) = demo_and_sim().await;
    let gw = start(&(sim_config(&sim, &demo, "", extra_mcp) + more)).await;
    (demo, sim, gw)
}

/// A mock upstream that answers every request with `template`.
pub async fn answering(template: wiremock::ResponseTemplate) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A mock upstream that answers every request `200` with `body`.
pub async fn answering_json(body: Value) -> wiremock::MockServer {
    answering(wiremock::ResponseTemplate::new(200).set_body_json(body)).await
}

pub async fn start(text: &str) -> GatewayHandle {
    start_with(text, &[]).await
}

/// [`start`] with `extra` variables in the environment besides [`env`]'s.
pub async fn start_with(text: &str, extra: &[(&str, &str)]) -> GatewayHandle {
    let mut env = env();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let config = Config::parse(text, &env).unwrap();
    Gateway::start_with_env(config, &env).await.unwrap()
}

/// One client for the whole test binary: building one costs about 100 ms, which 64 requests
/// at once would otherwise spend on the runtime that also serves the gateway.
pub fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| reqwest::Client::builder().no_proxy().build().unwrap())
        .clone()
}

/// A client that does not follow redirects (to read a `location` header).
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `GET {gateway}{path}`.
pub async fn get_path(gw: &GatewayHandle, path: &str) -> Response {
    http()
        .get(format!("{}{path}", gw.url()))
        .send()
        .await
        .unwrap()
}

pub fn openai_body(demo_url: &str, input: &str, stream: bool) -> Value {
    json!({
        "model": "gpt-sim",
        "input": input,
        "stream": stream,
        "tools": [{"type": "mcp", "server_label": "demo", "server_url": demo_url,
                   "require_approval": "never", "authorization": "caller-supplied-token"}],
    })
}

pub fn anthropic_body(demo_url: &str, input: &str, stream: bool) -> Value {
    json!({
        "model": "claude-sim",
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": input}],
        "mcp_servers": [{"type": "url", "url": demo_url, "name": "demo",
                         "authorization_token": "caller-supplied-token"}],
        "tools": [{"type": "mcp_toolset", "mcp_server_name": "demo"}],
    })
}

pub async fn post_openai(gw: &GatewayHandle, key: &str, body: &Value) -> reqwest::Response {
    http()
        .post(format!("{}/v1/responses", gw.url()))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn post_anthropic(gw: &GatewayHandle, key: &str, body: &Value) -> reqwest::Response {
    http()
        .post(format!("{}/v1/messages", gw.url()))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "mcp-client-2025-11-20")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// [`post_openai`] as `team-a` of [`openai_body`] with the demo server at `demo`.
pub async fn team_a_openai(gw: &GatewayHandle, demo: &str, input: &str, stream: bool) -> Response {
    post_openai(gw, GATEWAY_KEY, &openai_body(demo, input, stream)).await
}

/// [`post_anthropic`] as `team-a` of [`anthropic_body`] with the demo server at `demo_url`.
pub async fn team_a_anthropic(
    gw: &GatewayHandle,
    demo_url: &str,
    input: &str,
    stream: bool,
) -> reqwest::Response {
    post_anthropic(gw, GATEWAY_KEY, &anthropic_body(demo_url, input, stream)).await
}

/// The gateway's request id of a response (`x-mcpwire-request-id`).
pub fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get(mcpwire_gateway::REQUEST_ID_HEADER)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// The request id of `r`, once its body is read to the end (the request is over then).
pub async fn request_id_after_body(r: Response) -> String {
    let id = request_id(&r);
    r.text().await.unwrap();
    id
}

/// A prompt: `demo.echo` of `text` (as a JSON string), then the calls in `rest`.
pub fn echo_then(text: &str, rest: &str) -> String {
    format!(
        "call demo.echo {{\"text\":{}}}\n{rest}",
        serde_json::to_string(text).unwrap()
    )
}

/// Asserts that `/metrics` of `gw` holds `line` (all of it in the message otherwise).
pub async fn assert_metric(gw: &GatewayHandle, line: &str) {
    let m = metrics_text(gw).await;
    assert!(m.contains(line), "{m}");
}

/// `/metrics` of a gateway, as text.
pub async fn metrics_text(gw: &GatewayHandle) -> String {
    fetch_text(http().get(format!("{}/metrics", gw.url()))).await
}

/// A fresh directory under the system temp dir.
pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mcpwire-gw-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish()
}
