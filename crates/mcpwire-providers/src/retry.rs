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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn backoff_doubles_with_at_most_a_quarter_of_jitter_and_stops_at_the_cap() {
        let p = policy();
        for attempt in 0..6 {
            let expected = p
                .initial_backoff
                .saturating_mul(1 << attempt)
                .min(p.max_backoff);
            let d = backoff(&p, attempt, None);
            assert!(
                d <= expected && d >= expected.mul_f64(0.75),
                "{attempt}: {d:?}"
            );
        }
        assert_eq!(
            backoff(&p, 0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn retry_after_headers_in_ms_and_seconds_never_overflow() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "1e300".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::MAX));
        h.insert("retry-after", "-1".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_runs_on_tokio_time_and_bounds_retry_after() {
        let p = policy();
        let deadline = Deadline::after(Duration::from_secs(30));
        assert!(check_retry_after(&p, &deadline, Duration::from_secs(20)).is_ok());
        // Beyond the cap, whatever the deadline.
        let why = check_retry_after(&p, &deadline, Duration::from_secs(3600)).unwrap_err();
        assert!(
            why.contains("3600s") && why.contains("max_retry_after"),
            "{why}"
        );
        tokio::time::sleep(Duration::from_secs(15)).await;
        assert_eq!(deadline.remaining(), Duration::from_secs(15));
        // Within the cap, but past what is left.
        let why = check_retry_after(&p, &deadline, Duration::from_secs(20)).unwrap_err();
        assert!(why.contains("deadline"), "{why}");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(deadline.remaining().is_zero());
        let err = deadline.error(Vendor::OpenAi);
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("overall deadline of 30s"), "{err}");
    }
}
