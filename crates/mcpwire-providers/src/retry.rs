//! When to try again: the vendor's `retry-after`, exponential backoff with jitter, and the
//! overall deadline every attempt and turn shares.

use std::time::Duration;

use mcpwire_schema::event::Vendor;
use tokio::time::Instant;

use crate::config::RetryPolicy;
use crate::error::{Error, ErrorKind};

/// `retry-after-ms`, then `retry-after` (seconds).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX));
    }
    number("retry-after").map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
}

/// The delay before retry number `attempt + 1`: the vendor's `retry-after` when it gave one
/// (the caller checks it against the cap and the deadline first), else exponential backoff
/// with up to 25% jitter.
pub(crate) fn backoff(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(delay) = retry_after {
        return delay;
    }
    let base = policy
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(policy.max_backoff);
    let jitter = 1.0 - 0.25 * rand::random::<f64>();
    base.mul_f64(jitter)
}

/// The overall deadline of a call ([`Timeouts::total`](crate::Timeouts::total)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    total: Duration,
}

impl Deadline {
    /// `total` from now.
    pub(crate) fn after(total: Duration) -> Self {
        let now = Instant::now();
        Deadline {
            at: now
                .checked_add(total)
                .unwrap_or(now + Duration::from_secs(86400 * 365)),
            total,
        }
    }

    /// When it passes.
    pub(crate) fn at(&self) -> Instant {
        self.at
    }

    /// What is left.
    pub(crate) fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The error once it has passed.
    pub(crate) fn error(&self, vendor: Vendor) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "the overall deadline of {:?} passed (Timeouts::total, `mcpwire run --timeout`)",
                self.total
            ),
        )
        .vendor(vendor)
    }
}

/// Whether to wait `retry_after` and try again: `Err` with the reason when the vendor asks for
/// more than the cap or than is left before the deadline.
pub(crate) fn check_retry_after(
    policy: &RetryPolicy,
    deadline: &Deadline,
    retry_after: Duration,
) -> Result<(), String> {
    if retry_after > policy.max_retry_after {
        return Err(format!(
            "the vendor asked to retry after {retry_after:?}, more than the {:?} honoured (RetryPolicy::max_retry_after)",
            policy.max_retry_after
        ));
    }
    if retry_after >= deadline.remaining() {
        return Err(format!(
            "the vendor asked to retry after {retry_after:?}, past the overall deadline ({:?} left)",
            deadline.remaining()
        ));
    }
    Ok(())
}
