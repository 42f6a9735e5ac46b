//! The public API as a user sees it: every public error type can cross threads and be boxed
//! into `dyn Error + Send + Sync + 'static`, and OAuth error codes are typed.

mod common;

use mcpwire_auth::{Error, OAuthErrorCode, challenge::ParseError};

const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

// Compile-time: a new public error type that is not `Send + Sync + 'static` fails the build.
const _: () = {
    assert_error::<Error>();
    assert_error::<ParseError>();
};

#[test]
fn errors_box_into_send_sync_dyn_error() {
    let e: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(Error::StateMismatch);
    assert_eq!(e.to_string(), "authorization callback state mismatch");
}

#[test]
fn oauth_error_codes_are_typed() {
    let c = mcpwire_auth::BearerChallenge::from_header(r#"Bearer error="insufficient_scope""#)
        .unwrap_or_default();
    assert_eq!(c.error, Some(OAuthErrorCode::InsufficientScope));
    assert_eq!(
        OAuthErrorCode::parse("invalid_client"),
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(
        OAuthErrorCode::parse("vendor_specific"),
        OAuthErrorCode::Other("vendor_specific".into())
    );
}

/// The cause of an error is reachable through `source()` and not repeated in the message.
#[tokio::test]
async fn error_cause_is_a_source_not_repeated_in_the_message() {
    use std::error::Error as _;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let err = mcpwire_auth::loopback::CallbackListener::bind(port)
        .await
        .err()
        .unwrap_or_else(|| panic!("bound a taken port"));
    let source = err.source().map(ToString::to_string).unwrap_or_default();
    assert!(!source.is_empty(), "{err:?}");
    assert!(!err.to_string().contains(&source), "{err}");
}

/// The tests' own S256 (PKCE and DPoP `ath` checks) against RFC 7636 appendix B.
#[test]
fn test_s256_matches_rfc7636_appendix_b() {
    assert_eq!(
        common::s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

/// A caller can tell "log in again" from a network failure without matching every variant.
#[test]
fn needs_login_separates_login_from_transport_failures() {
    assert!(Error::RefreshRejected.needs_login());
    assert!(
        Error::NotLoggedIn {
            server: "https://mcp.example.com/mcp".into()
        }
        .needs_login()
    );
    assert!(!Error::StateMismatch.needs_login());
    assert!(
        !Error::HttpStatus {
            context: "token request",
            status: 503
        }
        .needs_login()
    );
}
