//! Reading a request body: refused above the size limit (by `content-length` before reading,
//! or as it arrives), and when the client pauses longer than the header timeout between two
//! pieces (a slow body holds a connection as a slow head does).

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use futures_util::StreamExt as _;

use crate::error::{GatewayError, Kind};

/// Reads the whole body, at most `limit` bytes, each piece within `pause`.
pub(crate) async fn read(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    pause: Duration,
) -> Result<Bytes, GatewayError> {
    let too_large = || {
        GatewayError::new(
            Kind::TooLarge,
            format!("request body is larger than the gateway's limit of {limit} bytes"),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large());
    }
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    loop {
        let next = tokio::time::timeout(pause, stream.next())
            .await
            .map_err(|_| {
                GatewayError::new(
                    Kind::Invalid,
                    format!(
                        "the request body stopped arriving for {} s",
                        pause.as_secs()
                    ),
                )
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk
            .map_err(|e| GatewayError::new(Kind::Invalid, format!("reading the body: {e}")))?;
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}
