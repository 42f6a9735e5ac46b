//! The vendor-neutral request: declare the MCP servers once, run them on either vendor.
//!
//! ```
//! use mcpwire_providers::request::{Approval, McpRequest, McpServerSpec};
//! use mcpwire_auth::{Credentials, Secret};
//!
//! let request = McpRequest::new("gpt-5", "Roll 2d4+1")
//!     .server(
//!         McpServerSpec::new("dmcp", "https://dmcp-server.deno.dev/sse")
//!             .credentials(Credentials::Bearer(Secret::new("token")))
//!             .allow_tools(["roll"])
//!             .approval(Approval::Never),
//!     )
//!     .max_output_tokens(1024);
//! assert_eq!(request.servers[0].name, "dmcp");
//! ```

use std::fmt;

use mcpwire_auth::Credentials;
use serde_json::{Map, Value};

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub text: String,
}

impl InputMessage {
    /// A message.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        InputMessage {
            role,
            text: text.into(),
        }
    }
}

/// The conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// A single user prompt.
    Text(String),
    /// Several messages.
    Messages(Vec<InputMessage>),
}

/// Which tool calls need the caller's approval first (OpenAI `require_approval`; Anthropic
/// cannot pause for approval, so anything but `Never` is a capability gap there).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Approval {
    /// No call needs approval (the neutral default: the same behaviour on both vendors).
    #[default]
    Never,
    /// Every call needs approval.
    Always,
    /// Per tool: `always` need approval, `never` do not; others follow the vendor default.
    Tools {
        /// Tools that always need approval.
        always: Vec<String>,
        /// Tools that never need approval.
        never: Vec<String>,
    },
}

/// One MCP server the vendor should call.
#[non_exhaustive]
pub struct McpServerSpec {
    /// Unique name (OpenAI `server_label`, Anthropic `name`).
    pub name: String,
    /// The server URL (`None` for an OpenAI connector).
    pub url: Option<String>,
    /// An OpenAI connector id (`connector_googlecalendar`, ...), instead of a URL.
    pub connector_id: Option<String>,
    /// How to authenticate to the server; resolved fresh before every vendor request.
    pub credentials: Credentials,
    /// Only these tools may be used (`None`: all).
    pub allowed_tools: Option<Vec<String>>,
    /// Only tools annotated read-only (OpenAI `allowed_tools.read_only`).
    pub read_only: bool,
    /// Which calls need approval.
    pub approval: Approval,
    /// Description of the server for the model (OpenAI `server_description`).
    pub description: Option<String>,
    /// Load the tools lazily through tool search.
    pub defer_loading: bool,
    /// Per-vendor JSON merged into this server's rendered objects (never credentials).
    pub extra: ServerExtra,
}

/// Per-vendor JSON for one server: keys the neutral form does not model (OpenAI `tunnel_id`,
/// `allowed_callers`, an Anthropic toolset's `cache_control`, ...). Each map is merged into the
/// object the renderer wrote for the server; its keys win. The parsers in [`crate::render`] put
/// here exactly what the neutral fields cannot reproduce, so that a request parsed from one
/// vendor re-renders to that vendor unchanged. Credential keys (`authorization`, `headers`,
/// `authorization_token`) are refused: credentials belong in [`McpServerSpec::credentials`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ServerExtra {
    /// Merged into the OpenAI `{"type": "mcp"}` tool.
    pub openai: Map<String, Value>,
    /// Merged into the Anthropic `mcp_servers[]` entry.
    pub anthropic: Map<String, Value>,
    /// Merged into the Anthropic `mcp_toolset` (2025-11-20 and later betas).
    pub anthropic_toolset: Map<String, Value>,
}

impl ServerExtra {
    /// `true` when every map is empty.
    pub fn is_empty(&self) -> bool {
        self.openai.is_empty() && self.anthropic.is_empty() && self.anthropic_toolset.is_empty()
    }
}

impl fmt::Debug for McpServerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry tenant keys in its path or query: only the origin is shown.
        f.debug_struct("McpServerSpec")
            .field("name", &self.name)
            .field("url", &self.url.as_deref().map(crate::origin::origin))
            .field("connector_id", &self.connector_id)
            .field("credentials", &self.credentials)
            .field("allowed_tools", &self.allowed_tools)
            .field("read_only", &self.read_only)
            .field("approval", &self.approval)
            .field("description", &self.description)
            .field("defer_loading", &self.defer_loading)
            .field("extra", &self.extra)
            .finish()
    }
}

impl McpServerSpec {
    /// A server at `url` named `name`, no credentials, every tool allowed, no approvals.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        McpServerSpec {
            name: name.into(),
            url: Some(url.into()),
            connector_id: None,
            credentials: Credentials::None,
            allowed_tools: None,
            read_only: false,
            approval: Approval::Never,
            description: None,
            defer_loading: false,
            extra: ServerExtra::default(),
        }
    }

    /// An OpenAI connector (`connector_dropbox`, ...) named `name`.
    pub fn connector(name: impl Into<String>, connector_id: impl Into<String>) -> Self {
        McpServerSpec {
            url: None,
            connector_id: Some(connector_id.into()),
            ..McpServerSpec::new(name, "")
        }
    }

    /// Sets the credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Allows only these tools.
    pub fn allow_tools<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tools: I) -> Self {
        self.allowed_tools = Some(tools.into_iter().map(Into::into).collect());
        self
    }

    /// Allows only tools annotated read-only.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Sets the approval policy.
    pub fn approval(mut self, approval: Approval) -> Self {
        self.approval = approval;
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Loads the tools lazily.
    pub fn defer_loading(mut self, defer: bool) -> Self {
        self.defer_loading = defer;
        self
    }

    /// Sets the per-vendor extras.
    pub fn extra(mut self, extra: ServerExtra) -> Self {
        self.extra = extra;
        self
    }
}

/// Per-vendor JSON merged into the rendered body, top-level key by key: its keys win, except
/// the MCP fields. An extra `tools` array is appended after the rendered MCP tools (for function
/// tools and other non-MCP tools); an extra `mcp_servers` is refused (declare servers in
/// [`McpRequest::servers`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct VendorExtra {
    /// Merged into the OpenAI Responses body (e.g. `reasoning`, `store`).
    pub openai: Map<String, Value>,
    /// Merged into the Anthropic Messages body (e.g. `thinking`, `temperature`).
    pub anthropic: Map<String, Value>,
}

/// A vendor-neutral hosted-MCP request.
#[derive(Debug)]
#[non_exhaustive]
pub struct McpRequest {
    /// The model.
    pub model: String,
    /// The conversation.
    pub input: Input,
    /// System instructions.
    pub instructions: Option<String>,
    /// The MCP servers.
    pub servers: Vec<McpServerSpec>,
    /// Output token limit (required by Anthropic; a default is used there when absent).
    pub max_output_tokens: Option<u64>,
    /// Stream the response.
    pub stream: bool,
    /// Per-vendor escape hatch.
    pub extra: VendorExtra,
}

impl McpRequest {
    /// A request to `model` with a single user prompt.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        McpRequest {
            model: model.into(),
            input: Input::Text(prompt.into()),
            instructions: None,
            servers: Vec::new(),
            max_output_tokens: None,
            stream: false,
            extra: VendorExtra::default(),
        }
    }

    /// Adds a server.
    pub fn server(mut self, server: McpServerSpec) -> Self {
        self.servers.push(server);
        self
    }

    /// Sets the instructions.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the output token limit.
    pub fn max_output_tokens(mut self, limit: u64) -> Self {
        self.max_output_tokens = Some(limit);
        self
    }

    /// Streams the response.
    pub fn stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// Replaces the conversation.
    pub fn input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    /// Sets the per-vendor escape hatch.
    pub fn extra(mut self, extra: VendorExtra) -> Self {
        self.extra = extra;
        self
    }
}

impl Role {
    /// `"user"` or `"assistant"`, as both vendors spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// Parses `"user"` or `"assistant"`.
    pub fn from_wire(role: &str) -> Option<Role> {
        match role {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}
