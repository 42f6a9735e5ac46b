//! Every log line at TRACE, every error and every Debug output over the client's paths
//! (success, retried failure, streamed approval loop, error) holds none of the planted secrets:
//! API key, header value, bearer token, nor the path and query of a server URL.
//!
//! Alone in its own test binary: tracing's callsite cache is process-wide, so a thread-local
//! subscriber is only reliable when no other test runs beside it.

#![cfg(feature = "client")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mcpwire_providers::approval::ApproveAll;
use mcpwire_schema::event::Vendor;
use wiremock::{MockServer, ResponseTemplate};

#[test]
fn logs_errors_and_debug_never_contain_secrets() {
    let logs = capture_logs(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // A success, a retried failure, a stream, an approval loop: every path that logs.
            let server = MockServer::start().await;
            Route::any("POST")
                .times(1)
                .reply(
                    &server,
                    ResponseTemplate::new(429)
                        .insert_header("retry-after-ms", "10")
                        .set_body_string(format!(
                            r#"{{"error":{{"message":"{API_KEY}","type":"x"}}}}"#
                        )),
                )
                .await;
            first_then(
                &server,
                ok_sse_fixture("openai/stream.approval-request-retry.zip1.sse"),
                ok_sse_fixture("openai/stream.approval-approved-mcp-call.zip1.sse"),
            )
            .await;
            let client = client_for(&server);
            let req = request(true);
            let debug_text = format!("{req:?} {:?} {client:?}", anthropic_request(true));
            let outcome = client
                .run(Vendor::OpenAi, &req, Some(&ApproveAll), &mut |_| {})
                .await
                .unwrap();
            assert_eq!(outcome.responses.len(), 2, "two streamed turns");
            let err = client_for(&MockServer::start().await)
                .send(Vendor::Anthropic, &anthropic_request(false))
                .await
                .unwrap_err();
            tracing::info!("{err} {err:?} {debug_text}");
        });
    });
    assert!(
        logs.contains("mcpwire.request"),
        "the span was captured: {logs}"
    );
    assert!(
        logs.contains("https://zip1.io"),
        "server origins are logged"
    );
    for secret in [API_KEY, HEADER_VALUE, BEARER, "SECRET-PATH", "SECRET-QUERY"] {
        assert!(!logs.contains(secret), "{secret} leaked into:\n{logs}");
    }
}
