// SPDX-License-Identifier: MPL-2.0
//! [`CallContext`]: the deadline and cancellation of one logical KMS call, and the errors when
//! either ends it.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorCode, Result};
use crate::http::Interrupt;

/// The longest a call may last: a longer timeout (up to `Duration::MAX`) is shortened to this, so
/// the deadline `now + timeout` can always be computed. Far beyond any timeout that means
/// something (the seal config caps `request_timeout` at 24 hours).
const MAX_CALL_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The deadline and cancellation of one logical call (all its attempts and waits).
#[derive(Debug, Clone)]
pub struct CallContext {
    deadline: Instant,
    timeout: Duration,
    cancel: CancellationToken,
}

impl CallContext {
    /// A call that must finish within `timeout` (at most 100 years) and stops early
    /// when `cancel` fires.
    pub fn new(timeout: Duration, cancel: Option<CancellationToken>) -> Self {
        let timeout = timeout.min(MAX_CALL_TIMEOUT);
        let now = Instant::now();
        CallContext {
            // Cannot fail with the cap above; `now` (an immediate timeout) is never expected.
            deadline: now.checked_add(timeout).unwrap_or(now),
            timeout,
            cancel: cancel.unwrap_or_default(),
        }
    }

    /// How long until the deadline (zero once it has passed).
    pub(super) fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs `fut` unless the deadline passes or the call is cancelled first.
    pub(super) async fn bounded<T>(
        &self,
        what: &(dyn Fn() -> String + Sync),
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(self.cancelled(what)),
            res = tokio::time::timeout_at(self.deadline, fut) => {
                res.map_err(|_| self.timed_out(what))
            }
        }
    }

    /// The deadline and cancellation as the transport checks them.
    pub(super) fn interrupt(&self) -> Interrupt {
        Interrupt::new(self.deadline.into_std(), self.cancel.clone())
    }

    pub(super) fn cancelled(&self, what: &(dyn Fn() -> String + Sync)) -> Error {
        Error::new(ErrorCode::Cancelled, format!("{} was cancelled by the caller", what()))
    }

    pub(super) fn timed_out(&self, what: &(dyn Fn() -> String + Sync)) -> Error {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "{} did not complete within the call deadline of {:?}: raise request_timeout, \
                 or check connectivity to the endpoint",
                what(),
                self.timeout
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_too_large_for_the_clock_is_capped_not_a_panic() {
        let ctx = CallContext::new(Duration::MAX, None);
        assert_eq!(ctx.timeout, MAX_CALL_TIMEOUT);
        assert!(ctx.time_left() > MAX_CALL_TIMEOUT - Duration::from_secs(60));
        let ctx = CallContext::new(Duration::from_secs(1), None);
        assert!(ctx.time_left() <= Duration::from_secs(1));
    }
}
