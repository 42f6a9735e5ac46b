//! Caller authentication: the gateway key (`Authorization: Bearer` from OpenAI SDKs,
//! `x-api-key` from Anthropic SDKs) is hashed and compared, in constant time, with every
//! configured hash. Ambiguous credentials are refused rather than guessed: two
//! `Authorization` or `x-api-key` headers, or both headers naming different keys.

use axum::http::{HeaderMap, header};
use sha2::Digest as _;

use crate::config::Config;
use crate::error::{GatewayError, Kind, Shape};

fn ambiguous(message: &str, header: &str) -> GatewayError {
    GatewayError::new(Kind::Invalid, message).with_param(header.to_owned())
}

/// The index of the caller's tenant in `config.tenants`.
pub(crate) fn authenticate(
    config: &Config,
    headers: &HeaderMap,
    shape: Shape,
) -> Result<usize, GatewayError> {
    let mut authorization = headers.get_all(header::AUTHORIZATION).iter();
    let bearer = authorization.next();
    if authorization.next().is_some() {
        return Err(ambiguous(
            "two Authorization headers: send the gateway key once",
            "authorization",
        ));
    }
    let mut api_keys = headers.get_all("x-api-key").iter();
    let api_key = api_keys.next();
    if api_keys.next().is_some() {
        return Err(ambiguous(
            "two x-api-key headers: send the gateway key once",
            "x-api-key",
        ));
    }
    let bearer = bearer.and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let api_key = api_key.and_then(|v| v.to_str().ok()).map(str::trim);
    if let (Some(b), Some(k)) = (bearer, api_key)
        && b != k
    {
        return Err(ambiguous(
            "Authorization and x-api-key name different keys: send one gateway key",
            "x-api-key",
        ));
    }
    let unknown = || GatewayError::new(Kind::Unauthenticated, "missing or unknown gateway key");
    let key = match shape {
        Shape::OpenAi => bearer,
        Shape::Anthropic => api_key.or(bearer),
    }
    .ok_or_else(unknown)?;
    let hash: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let mut found = None;
    for (i, t) in config.tenants.iter().enumerate() {
        for h in &t.key_hashes {
            let diff = h
                .iter()
                .zip(hash.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if diff == 0 {
                found = Some(i);
            }
        }
    }
    found.ok_or_else(unknown)
}

/// Whether `headers` carry a bearer token whose SHA-256 is one of `hashes` (`/metrics`).
pub(crate) fn bearer_matches(headers: &HeaderMap, hashes: &[[u8; 32]]) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .and_then(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer").then(|| t.trim()))
    else {
        return false;
    };
    let hash: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
    hashes.iter().fold(false, |found, h| {
        let diff = h
            .iter()
            .zip(hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        found | (diff == 0)
    })
}
