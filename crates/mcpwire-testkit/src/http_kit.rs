//! Servers, replies and readers that the tests of several crates share: a mock server that
//! answers every POST, a `429` with a retry hint, a raw TCP server, a conformance scenario
//! with its URL, and a lookup in a JSON array.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Child;

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use wiremock::{MockServer, Respond, ResponseTemplate};

use crate::Route;

/// A mock server that answers every POST with `reply`.
pub async fn answering(reply: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Route::any("POST").reply(&server, reply).await;
    server
}

/// A mock server that answers every POST with `reply` and checks, when it is dropped, that it
/// got exactly `times` of them.
pub async fn answering_exactly(times: u64, reply: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Route::any("POST").expect(times).reply(&server, reply).await;
    server
}

/// A `429` whose `header` (`retry-after` or `retry-after-ms`) is `value`, with an OpenAI
/// `rate_limit_error` body.
pub fn rate_limited(header: &str, value: &str) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header(header, value)
        .set_body_raw(
            r#"{"error":{"type":"rate_limit_error","message":"slow down"}}"#,
            "application/json",
        )
}

/// A raw TCP server on 127.0.0.1 that runs `handle` on every connection it accepts, each in
/// its own task (for answers no HTTP server library would give); returns its address.
pub async fn serve_raw<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("raw test server: bind");
    let addr = listener.local_addr().expect("raw test server: address");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(handle(socket));
        }
    });
    addr
}

/// A child process that prints `Server URL: <url>` on its (piped) stdout, such as a
/// conformance scenario from [`crate::conformance::spawn_client_scenario`]; killed on drop.
pub struct UrlServer {
    child: Child,
    /// The URL it printed.
    pub url: String,
}

impl UrlServer {
    /// Waits for `child`'s `Server URL:` line, then keeps draining its stdout so that it never
    /// blocks on a full pipe.
    pub fn new(mut child: Child) -> Self {
        let stdout = child.stdout.take().expect("the server's stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server ended before printing its URL")
                .expect("read the server's stdout");
            if let Some(url) = line.trim().strip_prefix("Server URL: ") {
                break url.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        UrlServer { child, url }
    }
}

impl Drop for UrlServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first object of the JSON array `list` whose `key` is `value`; panics when there is none.
pub fn find_in<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}
