// SPDX-License-Identifier: MPL-2.0
//! [`Interrupt`]: the deadline and cancellation token that bound every blocking wait of one
//! HTTP exchange, checked between short waits so that neither can be missed by more than
//! [`SLICE`].

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::TransportError;

/// The longest a single blocking socket wait lasts before the deadline and the cancellation
/// token are checked again: the latency of a cancellation.
pub const SLICE: Duration = Duration::from_millis(50);

/// When an exchange must give up: at `deadline`, or as soon as `cancel` fires.
#[derive(Debug, Clone)]
pub struct Interrupt {
    deadline: Instant,
    cancel: CancellationToken,
}

impl Interrupt {
    /// Stops at `deadline` or when `cancel` is cancelled.
    pub fn new(deadline: Instant, cancel: CancellationToken) -> Interrupt {
        Interrupt { deadline, cancel }
    }

    /// How long the next blocking wait may last: [`SLICE`], or less when the deadline is
    /// nearer; an error once the call is cancelled or out of time.
    pub fn next_wait(&self) -> Result<Duration, TransportError> {
        if self.cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TransportError::DeadlineExceeded);
        }
        Ok(left.min(SLICE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_sliced_and_stop_on_deadline_or_cancel() {
        let token = CancellationToken::new();
        let far = Interrupt::new(Instant::now() + Duration::from_secs(60), token.clone());
        assert_eq!(far.next_wait().unwrap(), SLICE);
        let near = Interrupt::new(Instant::now() + Duration::from_millis(10), token.clone());
        assert!(near.next_wait().unwrap() <= Duration::from_millis(10));
        let past = Interrupt::new(Instant::now(), token.clone());
        assert!(matches!(past.next_wait(), Err(TransportError::DeadlineExceeded)));
        token.cancel();
        assert!(matches!(far.next_wait(), Err(TransportError::Cancelled)));
    }
}
