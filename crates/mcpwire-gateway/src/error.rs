//! Refusals and failures in the vendor's own error shape, so that SDKs raise their usual
//! exception types (OpenAI: `{"error": {"message", "type", "param", "code"}}`; Anthropic:
//! `{"type": "error", "error": {"type", "message"}}`).
//!
//! Retries: both official SDKs retry 408, 409, 429 and every 5xx (and connection errors), and
//! obey an `x-should-retry: true|false` response header before looking at the status. A
//! refusal that cannot succeed on a retry (bad input, policy, a credential only an operator or
//! user can fix) therefore uses a 4xx other than those and says `x-should-retry: false`; one
//! that can (upstream trouble, a store that is briefly down, a rate limit) uses 429/5xx.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Which vendor's error shape a response takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// OpenAI.
    OpenAi,
    /// Anthropic.
    Anthropic,
}

/// Why a request was not (or not completely) served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Malformed body, duplicate keys or headers, unknown fields that change meaning (400).
    Invalid,
    /// Missing or unknown gateway key (401).
    Unauthenticated,
    /// Policy: unlisted server, connector, tunnel (403).
    Forbidden,
    /// No such route, or a response id the caller does not own (404).
    NotFound,
    /// Body over the limit (413).
    TooLarge,
    /// A tenant limit (429, retryable after `retry-after`).
    TooMany,
    /// Upstream unreachable or failed before answering (502).
    Upstream,
    /// The upstream answered with something its route does not promise (502).
    UpstreamGarbage,
    /// MCP credentials that only an operator or user can provide: a login, a configuration
    /// change (424, not retryable).
    CredentialsUnavailable,
    /// MCP credentials could not be refreshed for a passing reason (502, retryable).
    CredentialsTransient,
    /// The token store cannot be reached (503, retryable).
    StoreUnavailable,
    /// Upstream did not answer in time (504).
    Timeout,
    /// Shutting down (503).
    Draining,
}

impl Kind {
    /// A short label for metrics, logs and the audit log.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid_request",
            Kind::Unauthenticated => "unauthenticated",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not_found",
            Kind::TooLarge => "too_large",
            Kind::TooMany => "too_many_streams",
            Kind::Upstream => "upstream_error",
            Kind::UpstreamGarbage => "upstream_invalid_response",
            Kind::CredentialsUnavailable => "mcp_credentials_unavailable",
            Kind::CredentialsTransient => "credentials_error",
            Kind::StoreUnavailable => "store_unavailable",
            Kind::Timeout => "upstream_timeout",
            Kind::Draining => "shutting_down",
        }
    }

    pub(crate) fn status(self) -> StatusCode {
        match self {
            Kind::Invalid => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Kind::Upstream | Kind::UpstreamGarbage | Kind::CredentialsTransient => {
                StatusCode::BAD_GATEWAY
            }
            Kind::CredentialsUnavailable => StatusCode::FAILED_DEPENDENCY,
            Kind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Kind::StoreUnavailable | Kind::Draining => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Whether a retry of the same request can succeed (what `x-should-retry` says).
    pub(crate) fn retryable(self) -> bool {
        matches!(
            self,
            Kind::TooMany
                | Kind::Upstream
                | Kind::UpstreamGarbage
                | Kind::CredentialsTransient
                | Kind::StoreUnavailable
                | Kind::Timeout
                | Kind::Draining
        )
    }

    fn openai_type(self) -> (&'static str, Option<&'static str>) {
        match self {
            Kind::Invalid | Kind::TooLarge | Kind::NotFound => ("invalid_request_error", None),
            Kind::Unauthenticated => ("invalid_request_error", Some("invalid_api_key")),
            Kind::Forbidden => ("invalid_request_error", Some("mcp_server_not_allowed")),
            Kind::TooMany => ("rate_limit_error", Some("too_many_streams")),
            Kind::CredentialsUnavailable => (
                "external_connector_error",
                Some("mcp_credentials_unavailable"),
            ),
            Kind::UpstreamGarbage => ("server_error", Some("upstream_invalid_response")),
            Kind::StoreUnavailable => ("server_error", Some("store_unavailable")),
            Kind::Upstream | Kind::CredentialsTransient | Kind::Timeout | Kind::Draining => {
                ("server_error", None)
            }
        }
    }

    fn anthropic_type(self) -> &'static str {
        match self {
            Kind::Invalid | Kind::CredentialsUnavailable => "invalid_request_error",
            Kind::Unauthenticated => "authentication_error",
            Kind::Forbidden => "permission_error",
            Kind::NotFound => "not_found_error",
            Kind::TooLarge => "request_too_large",
            Kind::TooMany => "rate_limit_error",
            Kind::Upstream | Kind::UpstreamGarbage | Kind::CredentialsTransient | Kind::Timeout => {
                "api_error"
            }
            Kind::StoreUnavailable | Kind::Draining => "overloaded_error",
        }
    }
}

/// A refusal or failure, rendered in a vendor's shape (boxed: it travels in every `Result`
/// of the request path).
#[derive(Debug, Clone)]
pub(crate) struct GatewayError(Box<ErrorInfo>);

impl std::ops::Deref for GatewayError {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for GatewayError {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

/// What a [`GatewayError`] says.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub(crate) kind: Kind,
    pub(crate) message: String,
    pub(crate) param: Option<String>,
    /// Overrides the kind's OpenAI `code` and the audit/metrics reason.
    pub(crate) code: Option<&'static str>,
    /// What was refused, for the audit log: an MCP server's origin or a connector id.
    pub(crate) target: Option<String>,
    /// Extra fields of the error object (both shapes).
    pub(crate) fields: Map<String, Value>,
    /// Extra response headers (`retry-after`, rate-limit headers).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Overrides [`Kind::retryable`] (a daily budget that is spent is not worth a retry).
    pub(crate) retry: Option<bool>,
}

impl GatewayError {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        GatewayError(Box::new(ErrorInfo {
            kind,
            message: message.into(),
            param: None,
            code: None,
            target: None,
            fields: Map::new(),
            headers: Vec::new(),
            retry: None,
        }))
    }

    pub(crate) fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The reason in metrics and the audit log.
    pub(crate) fn reason(&self) -> &'static str {
        self.code.unwrap_or_else(|| self.kind.label())
    }

    /// The HTTP response in `shape`.
    pub(crate) fn render(&self, shape: Shape, request_id: &str) -> Response {
        let mut error = Map::new();
        match shape {
            Shape::OpenAi => {
                let (t, code) = self.kind.openai_type();
                error.insert("message".into(), self.message.clone().into());
                error.insert("type".into(), t.into());
                error.insert("param".into(), self.param.clone().into());
                error.insert("code".into(), self.code.or(code).into());
            }
            Shape::Anthropic => {
                error.insert("type".into(), self.kind.anthropic_type().into());
                error.insert("message".into(), self.message.clone().into());
                // The Anthropic shape has no code; the gateway's own conditions name one so
                // that an app can tell them apart.
                let own = matches!(
                    self.kind,
                    Kind::CredentialsUnavailable | Kind::UpstreamGarbage | Kind::StoreUnavailable
                );
                if let Some(code) = self.code.or(own.then(|| self.kind.label())) {
                    error.insert("code".into(), code.into());
                }
            }
        }
        for (k, v) in &self.fields {
            error.insert(k.clone(), v.clone());
        }
        let body = match shape {
            Shape::OpenAi => json!({ "error": error }),
            Shape::Anthropic => json!({"type": "error", "error": error, "request_id": request_id}),
        };
        let mut response = (self.kind.status(), body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert(crate::REQUEST_ID_HEADER, v);
        }
        let retry = self.retry.unwrap_or_else(|| self.kind.retryable());
        headers.insert(
            HeaderName::from_static("x-should-retry"),
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
        if self.kind == Kind::TooMany && !self.headers.iter().any(|(n, _)| n == header::RETRY_AFTER)
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.kind == Kind::Unauthenticated && shape == Shape::OpenAi {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}
