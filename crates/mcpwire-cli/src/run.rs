//! `mcpwire run`: one prompt, MCP servers declared on the command line, sent to either vendor
//! through the providers crate; the normalised events printed readably (or as JSON Lines).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use clap::{Args, ValueEnum};
use mcpwire_auth::{Credentials, OAuthConfig, Secret};
use mcpwire_gateway::config::TelemetryConfig;
use mcpwire_gateway::telemetry::{Capture, Finish, Telemetry};
use mcpwire_providers::approval::{ApprovalHandler, ApprovalRequest, ApproveAll, Decision};
use mcpwire_providers::render::RenderOptions;
use mcpwire_providers::request::{Approval, McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint, Limits, Timeouts};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::{Event, EventBody, Vendor};

use crate::term;

/// What to do with approval requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ApproveMode {
    /// Every call needs approval; each is approved automatically.
    Always,
    /// No call needs approval.
    Never,
    /// Every call needs approval; ask on the terminal.
    Ask,
}

/// `mcpwire run` arguments.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The vendor.
    #[arg(long)]
    vendor: Vendor,
    /// The model.
    #[arg(long)]
    model: String,
    /// An MCP server: NAME=URL (repeatable).
    #[arg(long = "mcp", value_name = "NAME=URL", required = true)]
    servers: Vec<String>,
    /// A header for a server: NAME:KEY=VALUE (repeatable; OpenAI only, or an Authorization
    /// bearer header with --lossy at Anthropic). VALUE may be `@FILE` (read from the file,
    /// trailing newline removed) or `env:VAR` (from the environment), to keep it out of `ps`.
    #[arg(long = "header", value_name = "NAME:KEY=VALUE")]
    headers: Vec<String>,
    /// A bearer token for a server: NAME=TOKEN. TOKEN may be `@FILE` or `env:VAR`, to keep it
    /// out of `ps`.
    #[arg(long = "token", value_name = "NAME=TOKEN")]
    tokens: Vec<String>,
    /// Use the tokens stored by `mcpwire auth login` for a server: NAME.
    #[arg(long = "login", value_name = "NAME")]
    logins: Vec<String>,
    /// The token store for --login: `file:` (default), `file:PATH`, `redis://...`,
    /// `rediss://...` (as for `mcpwire auth --store`).
    #[arg(
        long,
        env = "MCPWIRE_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    store: Option<String>,
    /// Allowed tools of a server: NAME=tool,tool.
    #[arg(long = "allow", value_name = "NAME=TOOLS")]
    allows: Vec<String>,
    /// Approvals: always (approve automatically), never, or ask on the terminal.
    #[arg(long, value_enum, default_value_t = ApproveMode::Never)]
    approve: ApproveMode,
    /// The Anthropic MCP connector beta (2025-04-04, 2025-11-20, 2026-09-15).
    #[arg(long, value_name = "VERSION")]
    anthropic_beta: Option<BetaVersion>,
    /// Send to this base URL instead of the vendor (a gateway, proxy or simulator), e.g.
    /// http://127.0.0.1:8080/v1.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Stream the response.
    #[arg(long)]
    stream: bool,
    /// Print JSON Lines instead of readable text.
    #[arg(long)]
    json: bool,
    /// Convert what the vendor cannot express (with a warning) instead of failing.
    #[arg(long)]
    lossy: bool,
    /// Output token limit.
    #[arg(long)]
    max_output_tokens: Option<u64>,
    /// Overall deadline of the whole run in seconds: every attempt, retry and turn, and the
    /// stream until its last event.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = seconds)]
    timeout: Duration,
    /// TCP + TLS connect timeout in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    connect_timeout: Duration,
    /// Seconds to wait for the vendor's response head, per attempt.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = seconds)]
    first_byte_timeout: Duration,
    /// Seconds without any data from the vendor (between events when streaming).
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = seconds)]
    idle_timeout: Duration,
    /// The largest whole (non-streamed) response body read, in bytes; K, M and G suffixes
    /// mean KiB, MiB and GiB.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = byte_size)]
    max_body: usize,
    /// Send a trace of the run (one span following the GenAI conventions, a child span per
    /// MCP listing and call) to this OpenTelemetry collector (OTLP/HTTP, protobuf), e.g.
    /// http://127.0.0.1:4318. Names, ids and outcomes only: no arguments or outputs.
    #[arg(long, value_name = "URL", value_parser = otlp_url)]
    otlp: Option<TelemetryConfig>,
    /// The prompt.
    prompt: String,
}

/// A collector base URL for `--otlp`.
fn otlp_url(value: &str) -> Result<TelemetryConfig, String> {
    TelemetryConfig::new(value, "mcpwire-cli")
}

/// What the events said about the response, for the trace's request span.
#[derive(Default)]
struct Seen {
    response_id: Option<String>,
    model: Option<String>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    finish: Option<String>,
    error: bool,
}

impl Seen {
    fn event(&mut self, event: &Event<'_>) {
        match &event.body {
            EventBody::ResponseStarted { response_id, model } => {
                self.response_id = response_id.clone().or(self.response_id.take());
                self.model = model.clone().or(self.model.take());
            }
            EventBody::ResponseCompleted {
                stop_raw, usage, ..
            } => {
                self.finish = stop_raw.clone();
                if let Some(u) = usage {
                    self.input_tokens = Some(u.input_tokens);
                    self.output_tokens = Some(u.output_tokens);
                }
            }
            EventBody::Error { .. } => self.error = true,
            _ => {}
        }
    }
}

/// Seconds, e.g. `30` or `1.5`.
pub(crate) fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a positive number of seconds, got `{value}`"))
}

/// Bytes, with an optional K, M or G suffix (binary).
fn byte_size(value: &str) -> Result<usize, String> {
    let (digits, unit) = match value.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => value.split_at(i),
        None => (value, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("unknown unit `{unit}` (K, M or G)")),
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1usize << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected a positive size in bytes, got `{value}`"))
}

/// A secret from the command line: the value itself, `@FILE` or `env:VAR`. Errors never
/// repeat the value.
pub(crate) fn secret(value: &str, flag: &str) -> Result<Secret, String> {
    if let Some(path) = value.strip_prefix('@') {
        let mut text = std::fs::read_to_string(path)
            .map_err(|e| format!("{flag}: cannot read {path}: {e}"))?;
        // Trimmed in place and moved into the `Secret`: no other copy is left behind.
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        return Ok(Secret::new(text));
    }
    if let Some(var) = value.strip_prefix("env:") {
        return std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
            .ok_or_else(|| format!("{flag}: environment variable {var} is not set"));
    }
    Ok(Secret::new(value))
}

fn split_pair<'a>(value: &'a str, sep: char, what: &str) -> Result<(&'a str, &'a str), String> {
    value
        .split_once(sep)
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| {
            format!(
                "{what}: expected NAME{sep}VALUE, got `{}`",
                redact_value(value, sep)
            )
        })
}

/// Never echo what may be a secret back in an error.
fn redact_value(value: &str, sep: char) -> String {
    match value.split_once(sep) {
        Some((name, _)) => format!("{name}{sep}..."),
        None => "...".to_owned(),
    }
}

fn build_request(
    args: &RunArgs,
    store: Option<Arc<dyn mcpwire_auth::TokenStore>>,
) -> Result<McpRequest, String> {
    let mut request = McpRequest::new(&args.model, &args.prompt).stream(args.stream);
    if let Some(limit) = args.max_output_tokens {
        request = request.max_output_tokens(limit);
    }
    let approval = match args.approve {
        ApproveMode::Never => Approval::Never,
        ApproveMode::Always | ApproveMode::Ask => Approval::Always,
    };
    for server in &args.servers {
        let (name, url) = split_pair(server, '=', "--mcp")?;
        request = request.server(McpServerSpec::new(name, url).approval(approval.clone()));
    }
    let find = |request: &mut McpRequest, name: &str, flag: &str| -> Result<usize, String> {
        request
            .servers
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| format!("{flag}: no --mcp server named `{name}`"))
    };
    let mut headers: Vec<Vec<(String, Secret)>> = vec![Vec::new(); request.servers.len()];
    for header in &args.headers {
        let (name, kv) = split_pair(header, ':', "--header")?;
        let (key, value) = split_pair(kv, '=', "--header")?;
        let i = find(&mut request, name, "--header")?;
        headers[i].push((key.to_owned(), secret(value, "--header")?));
    }
    for (i, list) in headers.into_iter().enumerate() {
        if !list.is_empty() {
            request.servers[i].credentials = Credentials::Headers(list);
        }
    }
    for token in &args.tokens {
        let (name, value) = split_pair(token, '=', "--token")?;
        let i = find(&mut request, name, "--token")?;
        if !matches!(request.servers[i].credentials, Credentials::None) {
            return Err(format!("--token: server `{name}` already has credentials"));
        }
        request.servers[i].credentials = Credentials::Bearer(secret(value, "--token")?);
    }
    for name in &args.logins {
        let i = find(&mut request, name, "--login")?;
        let store = store
            .clone()
            .ok_or_else(|| format!("--login {name}: no token store"))?;
        let client = mcpwire_auth::OAuthClient::new(OAuthConfig::default(), store)
            .map_err(|e| format!("--login {name}: {e}"))?;
        request.servers[i].credentials = Credentials::OAuth(Arc::new(client));
    }
    for allow in &args.allows {
        let (name, tools) = split_pair(allow, '=', "--allow")?;
        let i = find(&mut request, name, "--allow")?;
        request.servers[i].allowed_tools = Some(
            tools
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        );
    }
    Ok(request)
}

fn client(args: &RunArgs) -> Result<Client, String> {
    let mut config = ClientConfig::default();
    let key = |var: &str| {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    };
    config.openai = Endpoint::openai();
    config.anthropic = Endpoint::anthropic();
    if let Some(k) = key("OPENAI_API_KEY") {
        config.openai = config.openai.api_key(k);
    }
    if let Some(k) = key("ANTHROPIC_API_KEY") {
        config.anthropic = config.anthropic.api_key(k);
    }
    if let Some(base) = &args.base_url {
        config.openai = config.openai.base_url(base);
        config.anthropic = config.anthropic.base_url(base);
    }
    let needs_key = args.base_url.is_none();
    match args.vendor {
        Vendor::Anthropic if needs_key && config.anthropic.api_key.is_none() => {
            return Err("ANTHROPIC_API_KEY is not set".to_owned());
        }
        Vendor::OpenAi if needs_key && config.openai.api_key.is_none() => {
            return Err("OPENAI_API_KEY is not set".to_owned());
        }
        _ => {}
    }
    if let Some(beta) = args.anthropic_beta {
        config.anthropic_beta = beta;
    }
    let mut render = if args.lossy {
        RenderOptions::lossy()
    } else {
        RenderOptions::strict()
    };
    // MCP servers on this machine may use plain http (simulators, local development).
    render.allow_insecure_loopback = true;
    config.render = render;
    let mut timeouts = Timeouts::default();
    timeouts.total = args.timeout;
    timeouts.connect = args.connect_timeout;
    timeouts.first_byte = args.first_byte_timeout;
    timeouts.idle = args.idle_timeout;
    config.timeouts = timeouts;
    let mut limits = Limits::default();
    limits.max_body = args.max_body;
    config.limits = limits;
    Client::new(config).map_err(|e| e.to_string())
}

/// Asks on the terminal.
struct AskHandler {
    spinner: Spinner,
}

#[async_trait]
impl ApprovalHandler for AskHandler {
    async fn decide(&self, request: &ApprovalRequest) -> Decision {
        self.spinner.pause();
        let question = format!(
            "approve {}.{} {}? [y/N] ",
            term::line(&request.server),
            term::line(&request.tool),
            term::line(&request.arguments.to_string())
        );
        let answer = tokio::task::spawn_blocking(move || {
            let mut stderr = io::stderr();
            let _ = write!(stderr, "{question}");
            let _ = stderr.flush();
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            line
        })
        .await
        .unwrap_or_default();
        self.spinner.resume();
        if matches!(answer.trim(), "y" | "Y" | "yes") {
            Decision::Approve
        } else {
            Decision::Deny {
                reason: Some("denied on the terminal".to_owned()),
            }
        }
    }
}

/// A spinner on stderr while waiting, only on a terminal.
#[derive(Clone)]
struct Spinner {
    active: Arc<AtomicBool>,
    enabled: bool,
}

impl Spinner {
    fn start(enabled: bool) -> Self {
        let spinner = Spinner {
            active: Arc::new(AtomicBool::new(enabled)),
            enabled,
        };
        if enabled {
            let active = spinner.active.clone();
            tokio::spawn(async move {
                let frames = ['|', '/', '-', '\\'];
                let mut i = 0;
                loop {
                    tokio::time::sleep(Duration::from_millis(120)).await;
                    if active.load(Ordering::SeqCst) {
                        let mut stderr = io::stderr();
                        let frame = frames[i % frames.len()];
                        let _ = write!(stderr, "\r{frame} waiting for the vendor...");
                        let _ = stderr.flush();
                        i += 1;
                    }
                }
            });
        }
        spinner
    }

    fn pause(&self) {
        if self.enabled && self.active.swap(false, Ordering::SeqCst) {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }

    fn resume(&self) {
        if self.enabled {
            self.active.store(true, Ordering::SeqCst);
        }
    }
}

/// Prints events readably (text deltas inline), or as JSON Lines, on stdout. Everything in
/// the readable view came from the vendor or an MCP server, so it is escaped for the terminal
/// ([`term`]); JSON escapes control characters itself. The first output error is kept and
/// stops the printing ([`Printer::result`]).
pub(crate) struct Printer {
    json: bool,
    in_text: bool,
    streamed_text: std::collections::HashSet<u64>,
    out: io::Stdout,
    failed: Option<io::Error>,
}

fn short(text: &str, limit: usize) -> String {
    let one_line = text.replace('\n', " ");
    match one_line.char_indices().nth(limit) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

impl Printer {
    /// A printer; `json` prints one JSON object per line.
    pub(crate) fn new(json: bool) -> Self {
        Printer {
            json,
            in_text: false,
            streamed_text: Default::default(),
            out: io::stdout(),
            failed: None,
        }
    }

    /// Ends a line of streamed text, if one is open.
    pub(crate) fn end(&mut self) {
        if self.in_text {
            self.in_text = false;
            self.write(|out| writeln!(out));
        }
        self.write(|out| out.flush());
    }

    /// The first output error, if any (a closed pipe, a full disk).
    pub(crate) fn result(&mut self) -> io::Result<()> {
        self.failed.take().map_or(Ok(()), Err)
    }

    fn write(&mut self, f: impl FnOnce(&mut io::Stdout) -> io::Result<()>) {
        if self.failed.is_none()
            && let Err(err) = f(&mut self.out)
        {
            self.failed = Some(err);
        }
    }

    /// Prints one event.
    pub(crate) fn print(&mut self, event: &Event<'_>) {
        if self.failed.is_some() {
            return;
        }
        if self.json {
            if let Ok(line) = serde_json::to_string(event) {
                self.write(|out| writeln!(out, "{line}"));
            }
            return;
        }
        if let EventBody::TextDelta { index, text } = &event.body {
            self.streamed_text.insert(*index);
            self.in_text = true;
            let text = term::text(text);
            self.write(|out| {
                write!(out, "{text}")?;
                out.flush()
            });
            return;
        }
        if self.in_text {
            self.in_text = false;
            self.write(|out| writeln!(out));
        }
        let Some(line) = self.line(event) else {
            return;
        };
        self.write(|out| writeln!(out, "{line}"));
    }

    /// The readable line of an event (escaped), or `None` for events not shown.
    fn line(&self, event: &Event<'_>) -> Option<String> {
        let l = |s: &str| term::line(s).into_owned();
        Some(match &event.body {
            EventBody::ResponseStarted { response_id, model } => {
                format!(
                    "[{}] response {} ({})",
                    event.vendor,
                    l(response_id.as_deref().unwrap_or("?")),
                    l(model.as_deref().unwrap_or("?"))
                )
            }
            EventBody::ToolsListed { server, tools, .. } => {
                let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                format!("  tools of {}: {}", l(server), l(&names.join(", ")))
            }
            EventBody::ToolsListFailed { server, error, .. } => {
                format!("  tools of {}: FAILED {}", l(server), l(&error.message))
            }
            EventBody::CallStarted { server, tool, .. } => {
                format!("  -> calling {}.{} ...", l(server), l(tool))
            }
            EventBody::CallArgumentsDelta { .. } => return None,
            EventBody::Call {
                server,
                tool,
                arguments,
                arguments_text,
                approval_id,
                ..
            } => {
                let args = arguments.as_ref().map_or_else(
                    || arguments_text.clone().unwrap_or_default(),
                    ToString::to_string,
                );
                let approved = if approval_id.is_some() {
                    " (approved)"
                } else {
                    ""
                };
                format!(
                    "  -> {}.{} {}{approved}",
                    l(server),
                    l(tool),
                    l(&short(&args, 200))
                )
            }
            EventBody::CallResult {
                server,
                tool,
                is_error,
                content,
                error,
                ..
            } => {
                let target = match (server, tool) {
                    (Some(s), Some(t)) => format!("{s}.{t}"),
                    _ => "earlier call".to_owned(),
                };
                let text: Vec<String> =
                    content.iter().filter_map(|c| c.field_str("text")).collect();
                let status = if *is_error { "ERROR" } else { "ok" };
                let detail = error
                    .as_ref()
                    .and_then(|e| e.message.clone())
                    .unwrap_or_else(|| text.join(" "));
                format!("  <- {} {status}: {}", l(&target), l(&short(&detail, 300)))
            }
            EventBody::ApprovalRequested {
                server,
                tool,
                arguments,
                ..
            } => {
                format!(
                    "  ?? approval requested for {}.{} {}",
                    l(server),
                    l(tool),
                    l(&arguments
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default())
                )
            }
            EventBody::Text { index, text } => {
                if self.streamed_text.contains(index) {
                    return None;
                }
                term::text(text).into_owned()
            }
            EventBody::ResponseCompleted {
                stop,
                stop_raw,
                usage,
            } => {
                let usage = usage
                    .map(|u| format!(", {} in / {} out tokens", u.input_tokens, u.output_tokens))
                    .unwrap_or_default();
                format!(
                    "[{}] done: {} ({}){usage}",
                    event.vendor,
                    serde_json::to_string(stop)
                        .unwrap_or_default()
                        .trim_matches('"'),
                    l(stop_raw.as_deref().unwrap_or("-"))
                )
            }
            EventBody::Error { error } => format!(
                "[{}] ERROR {}: {}",
                event.vendor,
                l(&error.error_type),
                l(&error.message)
            ),
            EventBody::Other { raw, .. } => format!(
                "  ({} kept as other)",
                l(raw.type_tag().as_deref().unwrap_or("untyped"))
            ),
            _ => return None,
        })
    }
}

/// An error and its causes on one line, escaped for the terminal (vendor messages are
/// remote text).
pub(crate) fn report(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    term::line(&line).into_owned()
}

/// Runs the command: exit 0 when the run completed, 1 when it failed (the vendor's failure
/// included: an error event, a failed response, an error body), 2 for invalid arguments. The
/// error's kind starts the line on stderr.
pub(crate) fn run(args: RunArgs) -> io::Result<ExitCode> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            let _ = writeln!(io::stderr(), "mcpwire run: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    runtime.block_on(async move {
        let store = if args.logins.is_empty() {
            None
        } else {
            match crate::auth::open_store(args.store.as_deref()).await {
                Ok(s) => Some(s),
                Err(e) => {
                    let _ = writeln!(
                        io::stderr(),
                        "mcpwire run: token store: {}",
                        term::line(&e.to_string())
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        };
        let (request, client) =
            match build_request(&args, store).and_then(|r| Ok((r, client(&args)?))) {
                Ok(pair) => pair,
                Err(message) => {
                    let _ = writeln!(
                        io::stderr(),
                        "mcpwire run: invalid_request: {}",
                        term::line(&message)
                    );
                    return Ok(ExitCode::from(2));
                }
            };
        let spinner = Spinner::start(!args.json && io::stderr().is_terminal());
        let mut printer = Printer::new(args.json);
        let handler: Option<Box<dyn ApprovalHandler>> = match args.approve {
            ApproveMode::Ask => Some(Box::new(AskHandler {
                spinner: spinner.clone(),
            })),
            ApproveMode::Always => Some(Box::new(ApproveAll)),
            ApproveMode::Never => None,
        };
        let telemetry = match &args.otlp {
            Some(config) => match Telemetry::connect(config, Capture::default()) {
                Ok(t) => Some(t),
                Err(e) => {
                    let _ = writeln!(io::stderr(), "mcpwire run: {}", term::line(&e));
                    return Ok(ExitCode::from(2));
                }
            },
            None => None,
        };
        let run_id = format!(
            "run_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        );
        let trace = telemetry
            .as_ref()
            .map(|t| t.request(args.vendor, &run_id, None));
        let names: Vec<String> = request.servers.iter().map(|s| s.name.clone()).collect();
        if let Some(trace) = &trace {
            trace.set_model(&args.model);
            trace.set_request(args.stream, &names);
        }
        let mut spans = trace
            .as_ref()
            .map(|t| t.mcp(names.iter().map(|n| (n.clone(), n.clone())).collect(), None));
        let mut seen = Seen::default();
        let pausing = spinner.clone();
        let mut on_event = |event: &Event<'static>| {
            if let Some(spans) = &mut spans {
                spans.event(event);
            }
            seen.event(event);
            pausing.pause();
            printer.print(event);
            pausing.resume();
        };
        let result = client
            .run(args.vendor, &request, handler.as_deref(), &mut on_event)
            .await;
        drop(spans);
        if let Some(trace) = trace {
            let outcome = if result.is_ok() && !seen.error {
                "ok"
            } else {
                "error"
            };
            trace.finish(&Finish {
                status: None,
                outcome,
                response_id: seen.response_id.as_deref(),
                response_model: seen.model.as_deref(),
                input_tokens: seen.input_tokens,
                output_tokens: seen.output_tokens,
                finish_reason: seen.finish.as_deref(),
            });
        }
        if let Some(t) = &telemetry {
            t.flush().await;
            if t.spans_dropped() > 0 {
                let _ = writeln!(
                    io::stderr(),
                    "warning: {} trace span(s) could not be sent to the collector",
                    t.spans_dropped()
                );
            }
        }
        spinner.pause();
        spinner.enabled_off();
        printer.end();
        printer.result()?;
        match result {
            Ok(outcome) => {
                for warning in &outcome.warnings {
                    let _ = writeln!(
                        io::stderr(),
                        "warning: {}",
                        term::line(&warning.to_string())
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => {
                let _ = writeln!(io::stderr(), "mcpwire run: {}", report(&err));
                Ok(ExitCode::from(1))
            }
        }
    })
}

impl Spinner {
    fn enabled_off(&self) {
        self.active.store(false, Ordering::SeqCst);
    }
}
