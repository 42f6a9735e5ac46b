//! Refusals and failures in the vendor's own error shape, so that SDKs raise their usual
//! exception types (OpenAI: `{"error": {"message", "type", "param", "code"}}`; Anthropic:
//! `{"type": "error", "error": {"type", "message"}}`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
    /// Malformed body, duplicate keys, unknown fields that change meaning (400).
    Invalid,
    /// Missing or unknown gateway key (401).
    Unauthenticated,
    /// Policy: unlisted server, connector, tunnel (403).
    Forbidden,
    /// No such route (404).
    NotFound,
    /// Body over the limit (413).
    TooLarge,
    /// Too many concurrent streams for the tenant (429).
    TooMany,
    /// Upstream unreachable or failed before answering (502).
    Upstream,
    /// MCP credentials could not be obtained (502).
    Credentials,
    /// Upstream did not answer in time (504).
    Timeout,
    /// Shutting down (503).
    Unavailable,
}

impl Kind {
    /// A short label for metrics and logs.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid_request",
            Kind::Unauthenticated => "unauthenticated",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not_found",
            Kind::TooLarge => "too_large",
            Kind::TooMany => "too_many_streams",
            Kind::Upstream => "upstream_error",
            Kind::Credentials => "credentials_error",
            Kind::Timeout => "upstream_timeout",
            Kind::Unavailable => "shutting_down",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Kind::Invalid => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Kind::Upstream | Kind::Credentials => StatusCode::BAD_GATEWAY,
            Kind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn openai_type(self) -> (&'static str, Option<&'static str>) {
        match self {
            Kind::Invalid | Kind::TooLarge | Kind::NotFound => ("invalid_request_error", None),
            Kind::Unauthenticated => ("invalid_request_error", Some("invalid_api_key")),
            Kind::Forbidden => ("invalid_request_error", Some("mcp_server_not_allowed")),
            Kind::TooMany => ("rate_limit_error", Some("too_many_streams")),
            Kind::Upstream | Kind::Credentials | Kind::Timeout | Kind::Unavailable => {
                ("server_error", None)
            }
        }
    }

    fn anthropic_type(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid_request_error",
            Kind::Unauthenticated => "authentication_error",
            Kind::Forbidden => "permission_error",
            Kind::NotFound => "not_found_error",
            Kind::TooLarge => "request_too_large",
            Kind::TooMany => "rate_limit_error",
            Kind::Upstream | Kind::Credentials | Kind::Timeout => "api_error",
            Kind::Unavailable => "overloaded_error",
        }
    }
}

/// A refusal or failure, rendered in a vendor's shape.
#[derive(Debug, Clone)]
pub(crate) struct GatewayError {
    pub(crate) kind: Kind,
    pub(crate) message: String,
    pub(crate) param: Option<String>,
}

impl GatewayError {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        GatewayError {
            kind,
            message: message.into(),
            param: None,
        }
    }

    pub(crate) fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// The HTTP response in `shape`.
    pub(crate) fn render(&self, shape: Shape, request_id: &str) -> Response {
        let body = match shape {
            Shape::OpenAi => {
                let (t, code) = self.kind.openai_type();
                json!({"error": {"message": self.message, "type": t, "param": self.param, "code": code}})
            }
            Shape::Anthropic => json!({
                "type": "error",
                "error": {"type": self.kind.anthropic_type(), "message": self.message},
                "request_id": request_id,
            }),
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
        if self.kind == Kind::TooMany {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.kind == Kind::Unauthenticated && shape == Shape::OpenAi {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
