//! `mcpwire run`: one prompt, MCP servers declared on the command line, sent to either vendor
//! through the providers crate; the normalised events printed readably (or as JSON Lines).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use clap::{Args, ValueEnum};
use mcpwire_auth::{Credentials, OAuthConfig, Secret, cli_support};
use mcpwire_providers::approval::{ApprovalHandler, ApprovalRequest, ApproveAll, Decision};
use mcpwire_providers::render::RenderOptions;
use mcpwire_providers::request::{Approval, McpRequest, McpServerSpec};
use mcpwire_providers::{Client, ClientConfig, Endpoint};
use mcpwire_schema::anthropic::BetaVersion;
use mcpwire_schema::event::{Event, EventBody, Vendor};

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
    /// bearer header with --lossy at Anthropic).
    #[arg(long = "header", value_name = "NAME:KEY=VALUE")]
    headers: Vec<String>,
    /// A bearer token for a server: NAME=TOKEN.
    #[arg(long = "token", value_name = "NAME=TOKEN")]
    tokens: Vec<String>,
    /// Use the tokens stored by `mcpwire auth login` for a server: NAME.
    #[arg(long = "login", value_name = "NAME")]
    logins: Vec<String>,
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
    /// The prompt.
    prompt: String,
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

fn build_request(args: &RunArgs) -> Result<McpRequest, String> {
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
        headers[i].push((key.to_owned(), Secret::new(value)));
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
        request.servers[i].credentials = Credentials::Bearer(Secret::new(value));
    }
    for name in &args.logins {
        let i = find(&mut request, name, "--login")?;
        let client = cli_support::default_client(OAuthConfig::default())
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
            request.server, request.tool, request.arguments
        );
        let answer = tokio::task::spawn_blocking(move || {
            eprint!("{question}");
            let _ = std::io::stderr().flush();
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
                        eprint!("\r{} waiting for the vendor...", frames[i % frames.len()]);
                        let _ = std::io::stderr().flush();
                        i += 1;
                    }
                }
            });
        }
        spinner
    }

    fn pause(&self) {
        if self.enabled && self.active.swap(false, Ordering::SeqCst) {
            eprint!("\r\x1b[2K");
        }
    }

    fn resume(&self) {
        if self.enabled {
            self.active.store(true, Ordering::SeqCst);
        }
    }
}

/// Prints events readably (text deltas inline), or as JSON Lines.
pub(crate) struct Printer {
    json: bool,
    in_text: bool,
    streamed_text: std::collections::HashSet<u64>,
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
        }
    }

    /// Ends a line of streamed text, if one is open.
    pub(crate) fn end(&mut self) {
        if self.in_text {
            println!();
            self.in_text = false;
        }
    }

    /// Prints one event.
    pub(crate) fn print(&mut self, event: &Event) {
        if self.json {
            if let Ok(line) = serde_json::to_string(event) {
                println!("{line}");
            }
            return;
        }
        if let EventBody::TextDelta { index, text } = &event.body {
            self.streamed_text.insert(*index);
            print!("{text}");
            let _ = std::io::stdout().flush();
            self.in_text = true;
            return;
        }
        if self.in_text {
            println!();
            self.in_text = false;
        }
        let line = match &event.body {
            EventBody::ResponseStarted { response_id, model } => {
                format!(
                    "[{}] response {} ({})",
                    event.vendor,
                    response_id.as_deref().unwrap_or("?"),
                    model.as_deref().unwrap_or("?")
                )
            }
            EventBody::ToolsListed { server, tools, .. } => {
                let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                format!("  tools of {server}: {}", names.join(", "))
            }
            EventBody::ToolsListFailed { server, error, .. } => {
                format!("  tools of {server}: FAILED {}", error.message)
            }
            EventBody::CallStarted { server, tool, .. } => {
                format!("  -> calling {server}.{tool} ...")
            }
            EventBody::CallArgumentsDelta { .. } => return,
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
                format!("  -> {server}.{tool} {}{approved}", short(&args, 200))
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
                let text: Vec<&str> = content
                    .iter()
                    .filter_map(|c| c.get("text").and_then(|t| t.as_str()))
                    .collect();
                let status = if *is_error { "ERROR" } else { "ok" };
                let detail = error
                    .as_ref()
                    .and_then(|e| e.message.clone())
                    .unwrap_or_else(|| text.join(" "));
                format!("  <- {target} {status}: {}", short(&detail, 300))
            }
            EventBody::ApprovalRequested {
                server,
                tool,
                arguments,
                ..
            } => {
                format!(
                    "  ?? approval requested for {server}.{tool} {}",
                    arguments
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )
            }
            EventBody::Text { index, text } => {
                if self.streamed_text.contains(index) {
                    return;
                }
                text.clone()
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
                    stop_raw.as_deref().unwrap_or("-")
                )
            }
            EventBody::Error { error } => format!(
                "[{}] ERROR {}: {}",
                event.vendor, error.error_type, error.message
            ),
            EventBody::Other { raw, .. } => format!(
                "  ({} kept as other)",
                raw.get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("untyped")
            ),
            _ => return,
        };
        println!("{line}");
    }
}

/// Runs the command.
pub(crate) fn run(args: RunArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("mcpwire run: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let (request, client) = match build_request(&args).and_then(|r| Ok((r, client(&args)?))) {
            Ok(pair) => pair,
            Err(message) => {
                eprintln!("mcpwire run: invalid_request: {message}");
                return ExitCode::from(2);
            }
        };
        let spinner = Spinner::start(!args.json && std::io::stderr().is_terminal());
        let mut printer = Printer::new(args.json);
        let handler: Option<Box<dyn ApprovalHandler>> = match args.approve {
            ApproveMode::Ask => Some(Box::new(AskHandler {
                spinner: spinner.clone(),
            })),
            ApproveMode::Always => Some(Box::new(ApproveAll)),
            ApproveMode::Never => None,
        };
        let pausing = spinner.clone();
        let mut on_event = |event: &Event| {
            pausing.pause();
            printer.print(event);
            pausing.resume();
        };
        let result = client
            .run(args.vendor, &request, handler.as_deref(), &mut on_event)
            .await;
        spinner.pause();
        spinner.enabled_off();
        if !args.json {
            let _ = std::io::stdout().flush();
        }
        match result {
            Ok(outcome) => {
                for warning in &outcome.warnings {
                    eprintln!("warning: {warning}");
                }
                ExitCode::SUCCESS
            }
            Err(err) => {
                let mut line = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    line.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                eprintln!("mcpwire run: {line}");
                ExitCode::from(1)
            }
        }
    })
}

impl Spinner {
    fn enabled_off(&self) {
        self.active.store(false, Ordering::SeqCst);
    }
}
