//! Regression tests for the auth defects of the adversarial pass (issue 13): hostile
//! `expires_in` values, token types and control characters in token responses, and the
//! loopback page for a callback with the wrong `state`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, same policy as clippy.toml

mod common;

use std::time::Duration;

use common::*;
use mcpwire_auth::{Error, LoginMode, TokenStatus};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

/// Logs in at a scripted AS whose token endpoint answers `body`.
async fn login_with(
    body: Value,
) -> (
    Scripted,
    mcpwire_auth::OAuthClient,
    Result<TokenStatus, Error>,
) {
    let s = Scripted::discoverable().await;
    s.mount_token(ResponseTemplate::new(200).set_body_json(body))
        .await;
    let c = client();
    let r = c
        .login(&s.server_url(), None, LoginMode::Headless, |_| {})
        .await;
    (s, c, r)
}

/// The error of a login `r` that must have failed (`case` names the case).
fn refused(r: Result<TokenStatus, Error>, case: impl std::fmt::Display) -> Error {
    r.err().unwrap_or_else(|| panic!("{case} accepted"))
}

/// The token field an [`Error::InvalidTokenField`] names; `None` for any other error.
fn invalid_field(err: &Error) -> Option<&'static str> {
    match err {
        Error::InvalidTokenField { field, .. } => Some(field),
        _ => None,
    }
}

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Item 8: huge lifetimes saturate and are cut to one year; the token is neither "expired at
/// once" nor refreshed on every use.
#[tokio::test]
async fn issue13_item8_huge_expires_in_is_clamped_not_wrapped() {
    for huge in [json!(1e30), json!(18446744073709551615u64), json!("1e30")] {
        let (s, c, r) = login_with(json!({
            "access_token": "AT-1", "token_type": "Bearer", "expires_in": huge, "refresh_token": "RT-1"
        }))
        .await;
        let status = r.unwrap_or_else(|e| panic!("{huge}: {e}"));
        let left = status.expires_in.unwrap();
        assert!(
            left <= YEAR && left > YEAR - Duration::from_secs(60),
            "{huge}: {left:?}"
        );
        assert_eq!(
            token_text(&c, &s.server_url(), Duration::from_secs(300)).await,
            "AT-1",
            "{huge}"
        );
        assert_eq!(
            s.requests_to(&s.auth, "/token").await.len(),
            1,
            "{huge}: no refresh"
        );
    }
}

/// Item 8: negative, non-numeric and non-finite lifetimes are a typed error naming the
/// field; they never mean "never expires".
#[tokio::test]
async fn issue13_item8_invalid_expires_in_is_a_typed_error() {
    for bad in [
        json!(-5),
        json!("-1"),
        json!("soon"),
        json!(""),
        json!("NaN"),
        json!("inf"),
        json!(true),
    ] {
        let (_s, c, r) = login_with(json!({
            "access_token": "AT-1", "token_type": "Bearer", "expires_in": bad
        }))
        .await;
        let err = refused(r, &bad);
        assert_eq!(invalid_field(&err), Some("expires_in"), "{bad}: {err:?}");
        assert!(
            c.status().await.unwrap().is_empty(),
            "{bad}: nothing stored"
        );
    }
}

/// `token_type` is `Bearer` or `DPoP`, case-insensitive, stored in canonical spelling;
/// anything else (MAC, empty) is refused with the field named.
#[tokio::test]
async fn issue13_token_type_only_bearer_or_dpop() {
    for (tt, stored) in [("bearer", "Bearer"), ("BEARER", "Bearer"), ("dpop", "DPoP")] {
        let (_s, _c, r) = login_with(json!({"access_token": "AT", "token_type": tt})).await;
        assert_eq!(r.unwrap().token_type, stored, "{tt}");
    }
    for tt in ["MAC", "", "Bearer x", "N_A"] {
        let (_s, c, r) = login_with(json!({"access_token": "AT", "token_type": tt})).await;
        let err = refused(r, format!("{tt:?}"));
        assert_eq!(invalid_field(&err), Some("token_type"), "{tt:?}: {err:?}");
        assert!(c.status().await.unwrap().is_empty());
    }
}

/// CR, LF (and any other control character) in any token field is refused with the field
/// named, and the value is not quoted in the error.
#[tokio::test]
async fn issue13_crlf_in_token_fields_is_refused() {
    let hostile = "mcp\n\u{1b}[31mFAKE-LINE\u{1b}[0m\r\u{7}";
    for field in ["access_token", "refresh_token", "token_type", "scope"] {
        let mut body = json!({"access_token": "AT", "token_type": "Bearer", "refresh_token": "RT"});
        body[field] = match field {
            "token_type" => "Bearer\r\nX-Injected: 1".into(),
            _ => hostile.into(),
        };
        let (_s, c, r) = login_with(body).await;
        let err = refused(r, field);
        assert_eq!(invalid_field(&err), Some(field), "{field}: {err:?}");
        let text = err.to_string();
        assert!(
            !text.contains("FAKE") && !text.contains("Injected"),
            "{text}"
        );
        assert!(c.status().await.unwrap().is_empty());
    }
}

/// A loopback callback with the wrong `state` gets an error page (400), not "Authorization
/// received"; the genuine callback after it still completes the login and gets the success
/// page.
#[tokio::test]
async fn issue13_wrong_state_callback_gets_error_page() {
    let s = Scripted::standard().await;
    let c = client();
    let ((fs, forged), (gs, genuine)) =
        login_in_browser(&c, &s.server_url(), |http, loc| async move {
            let forged = http
                .get(loc.replace("state=", "state=x"))
                .send()
                .await
                .unwrap();
            let forged = (forged.status().as_u16(), forged.text().await.unwrap());
            let genuine = http.get(&loc).send().await.unwrap();
            let genuine = (genuine.status().as_u16(), genuine.text().await.unwrap());
            (forged, genuine)
        })
        .await;
    assert_eq!(fs, 400, "{forged}");
    assert!(!forged.contains("Authorization received"), "{forged}");
    assert!(forged.contains("wrong or missing state"), "{forged}");
    assert_eq!(gs, 200, "{genuine}");
    assert!(genuine.contains("Authorization received"), "{genuine}");
}
