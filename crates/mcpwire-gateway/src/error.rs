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
    /// The end user has not connected a per-user MCP server (424, not retryable; the error
    /// carries the link to connect it).
    AuthorizationRequired,
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
            Kind::AuthorizationRequired => "mcp_authorization_required",
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
            Kind::CredentialsUnavailable | Kind::AuthorizationRequired => {
                StatusCode::FAILED_DEPENDENCY
            }
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
            Kind::AuthorizationRequired => (
                "external_connector_error",
                Some("mcp_authorization_required"),
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
            Kind::Invalid | Kind::CredentialsUnavailable | Kind::AuthorizationRequired => {
                "invalid_request_error"
            }
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

/// Which rate limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateLimit {
    /// `requests_per_minute`.
    Requests,
    /// `tokens_per_day`.
    Tokens,
}

/// A rate-limit refusal, rendered as the vendor's rate-limit headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimited {
    pub(crate) what: RateLimit,
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    pub(crate) reset: std::time::Duration,
}

/// A duration as OpenAI writes its `x-ratelimit-reset-*` headers: `1h2m5s`, `6m0s`, `17s`.
fn go_duration(d: std::time::Duration) -> String {
    let s = d.as_secs().max(1);
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// An instant `d` from now as RFC 3339 (Anthropic's `anthropic-ratelimit-*-reset`).
fn rfc3339_in(d: std::time::Duration) -> String {
    let at = std::time::SystemTime::now() + d;
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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
    /// A rate limit, rendered as the vendor's headers.
    pub(crate) rate_limit: Option<RateLimited>,
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
            rate_limit: None,
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

    pub(crate) fn with_retry(mut self, retry: bool) -> Self {
        self.retry = Some(retry);
        self
    }

    pub(crate) fn with_rate_limit(mut self, limit: RateLimited) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Adds a field to the error object (both shapes).
    pub(crate) fn with_field(mut self, key: &str, value: Value) -> Self {
        self.fields.insert(key.to_owned(), value);
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
                let (mut t, code) = self.kind.openai_type();
                if let Some(r) = &self.rate_limit {
                    // OpenAI names the exhausted limit in `type`.
                    t = match r.what {
                        RateLimit::Requests => "requests",
                        RateLimit::Tokens => "tokens",
                    };
                }
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
                    Kind::CredentialsUnavailable
                        | Kind::AuthorizationRequired
                        | Kind::UpstreamGarbage
                        | Kind::StoreUnavailable
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
        if let Some(r) = &self.rate_limit {
            let word = match r.what {
                RateLimit::Requests => "requests",
                RateLimit::Tokens => "tokens",
            };
            let set = |h: &mut axum::http::HeaderMap, name: String, value: String| {
                if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    h.insert(n, v);
                }
            };
            set(
                headers,
                "retry-after".into(),
                r.reset.as_secs().max(1).to_string(),
            );
            match shape {
                Shape::OpenAi => {
                    set(
                        headers,
                        format!("x-ratelimit-limit-{word}"),
                        r.limit.to_string(),
                    );
                    set(
                        headers,
                        format!("x-ratelimit-remaining-{word}"),
                        r.remaining.to_string(),
                    );
                    set(
                        headers,
                        format!("x-ratelimit-reset-{word}"),
                        go_duration(r.reset),
                    );
                }
                Shape::Anthropic => {
                    set(
                        headers,
                        format!("anthropic-ratelimit-{word}-limit"),
                        r.limit.to_string(),
                    );
                    set(
                        headers,
                        format!("anthropic-ratelimit-{word}-remaining"),
                        r.remaining.to_string(),
                    );
                    set(
                        headers,
                        format!("anthropic-ratelimit-{word}-reset"),
                        rfc3339_in(r.reset),
                    );
                }
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_header_formats() {
        use std::time::Duration;
        assert_eq!(go_duration(Duration::from_secs(3725)), "1h2m5s");
        assert_eq!(go_duration(Duration::from_secs(360)), "6m0s");
        assert_eq!(go_duration(Duration::from_millis(10)), "1s");
        let t = rfc3339_in(Duration::ZERO);
        assert_eq!(t.len(), 20, "{t}");
        assert!(
            t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }
}
