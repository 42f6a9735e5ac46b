//! [`Route`]: one wiremock route per line, and helpers to read what a server received.

use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, Respond};

/// A wiremock route being built: a method and path, more matchers, how often it may answer and
/// how often it must be called; [`Route::reply`] mounts it.
///
/// ```no_run
/// # async fn demo(server: &wiremock::MockServer) {
/// use mcpwire_testkit::{Route, oauth::token_json};
/// Route::post("/token")
///     .body_contains("grant_type=refresh_token")
///     .times(1)
///     .reply(server, token_json("AT-2", None, 3600))
///     .await;
/// # }
/// ```
#[must_use = "a route does nothing until it is mounted with `reply`"]
pub struct Route {
    builder: MockBuilder,
    up_to: Option<u64>,
    expect: Option<u64>,
}

impl Route {
    /// `METHOD path`.
    pub fn new(verb: &str, route: &str) -> Self {
        Route {
            builder: Mock::given(method(verb)).and(path(route)),
            up_to: None,
            expect: None,
        }
    }

    /// Any request with this method, whatever its path.
    pub fn any(verb: &str) -> Self {
        Route {
            builder: Mock::given(method(verb)),
            up_to: None,
            expect: None,
        }
    }

    /// `GET path`.
    pub fn get(route: &str) -> Self {
        Route::new("GET", route)
    }

    /// `POST path`.
    pub fn post(route: &str) -> Self {
        Route::new("POST", route)
    }

    /// Also matching `matcher`.
    pub fn and(mut self, matcher: impl Match + 'static) -> Self {
        self.builder = self.builder.and(matcher);
        self
    }

    /// Only requests whose body contains `text`.
    pub fn body_contains(self, text: impl Into<String>) -> Self {
        let text: String = text.into();
        self.and(body_string_contains(text))
    }

    /// Only requests with this header value.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.and(header(name, value))
    }

    /// Answers at most `n` requests (then the next matching route answers).
    pub fn times(mut self, n: u64) -> Self {
        self.up_to = Some(n);
        self
    }

    /// Must be called exactly `n` times: checked when the server is dropped.
    pub fn expect(mut self, n: u64) -> Self {
        self.expect = Some(n);
        self
    }

    /// Mounts the route on `server`, answering with `response`.
    pub async fn reply(self, server: &MockServer, response: impl Respond + 'static) {
        let mut mock = self.builder.respond_with(response);
        if let Some(n) = self.up_to {
            mock = mock.up_to_n_times(n);
        }
        if let Some(n) = self.expect {
            mock = mock.expect(n);
        }
        mock.mount(server).await;
    }
}

/// The requests `server` received for `route` (a path), in order.
pub async fn requests_to(server: &MockServer, route: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == route)
        .collect()
}

/// The form-encoded pairs of a request body.
pub fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The query pairs of a request URL.
pub fn query(req: &Request) -> Vec<(String, String)> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value named `key` in `pairs` (from [`form`] or [`query`]).
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == key)
        .map(|(_, v)| v.as_str())
}
