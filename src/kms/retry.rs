// SPDX-License-Identifier: MPL-2.0
//! When and how long to wait before retrying a KMS call: exponential backoff with full jitter,
//! `Retry-After`, and which failures are worth another attempt.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// The retry policy of a KMS client.
///
/// Retried: network errors, HTTP 429 (waiting at least `Retry-After` when given), 409
/// `IncorrectState`, and 500, 502, 503, 504. Attempts are bounded by `max_attempts` and by the
/// call's deadline; the wait before retry `n` (1-based) is uniform in
/// `[0, min(max_delay, base_delay * 2^(n-1))]` ("full jitter").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Maximum attempts per call, the first included (at least 1).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Default first-retry ceiling.
    pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(200);
    /// Default largest ceiling.
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(10);

    /// A policy with `max_attempts` (clamped to at least 1) and the default delays.
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            base_delay: Self::DEFAULT_BASE_DELAY,
            max_delay: Self::DEFAULT_MAX_DELAY,
        }
    }

    /// The backoff ceiling before retry number `retry` (1 = the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait before retry number `retry`: full jitter below the ceiling, but never less than
    /// the server's `Retry-After`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(retry);
        let jittered = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            rand::thread_rng().gen_range(Duration::ZERO..=ceiling)
        };
        retry_after.map_or(jittered, |after| after.max(jittered))
    }
}

/// Whether an OCI error response is worth retrying (status and OCI error code).
pub fn is_retryable_status(status: u16, code: &str) -> bool {
    match status {
        409 => code == "IncorrectState",
        429 | 500 | 502 | 503 | 504 => true,
        _ => false,
    }
}

/// Parses a `Retry-After` header: delay-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_exponentially_and_cap() {
        let p = RetryPolicy::new(8);
        assert_eq!(p.ceiling(1), Duration::from_millis(200));
        assert_eq!(p.ceiling(2), Duration::from_millis(400));
        assert_eq!(p.ceiling(4), Duration::from_millis(1600));
        assert_eq!(p.ceiling(10), Duration::from_secs(10));
        assert_eq!(p.ceiling(200), Duration::from_secs(10));
        assert_eq!(RetryPolicy::new(0).max_attempts, 1);
    }

    #[test]
    fn delay_is_jittered_below_ceiling_and_honours_retry_after() {
        let p = RetryPolicy::new(5);
        let delays: Vec<Duration> = (0..200).map(|_| p.delay(3, None)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        assert!(delays.iter().any(|d| *d != delays[0]), "delays are jittered");
        assert!(p.delay(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s, ""), "{s}");
        }
        assert!(is_retryable_status(409, "IncorrectState"));
        for (s, c) in
            [(501, ""), (400, "InvalidParameter"), (401, ""), (404, ""), (409, "Conflict")]
        {
            assert!(!is_retryable_status(s, c), "{s} {c}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
