// SPDX-License-Identifier: MPL-2.0
//! [`Interrupt`]: the deadlines and cancellation token that bound every blocking wait of one
//! HTTP exchange, checked between short waits so that none can be missed by more than [`SLICE`].

use std::io;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::error::{Stage, TransportError};

/// The longest a single blocking socket wait lasts before the deadline and the cancellation
/// token are checked again: the latency of a cancellation.
pub const SLICE: Duration = Duration::from_millis(50);

/// When an exchange must give up: at the call's `deadline`, as soon as `cancel` fires, or —
/// as a failure of this attempt only, which the caller may retry — at the attempt's own
/// deadline.
#[derive(Debug, Clone)]
pub struct Interrupt {
    deadline: Instant,
    cancel: CancellationToken,
    /// A nearer deadline for this attempt (or this step of it), which ends it as a failure.
    attempt: Option<Bound>,
}

/// A deadline nearer than the call's, and what it is, for the message when it passes.
#[derive(Debug, Clone, Copy)]
struct Bound {
    end: Instant,
    limit: Duration,
    what: &'static str,
}

impl Interrupt {
    /// Stops at `deadline` or when `cancel` is cancelled.
    pub fn new(deadline: Instant, cancel: CancellationToken) -> Interrupt {
        Interrupt { deadline, cancel, attempt: None }
    }

    /// The same interrupt for one attempt that may last at most `limit` from now; a limit
    /// beyond the call's deadline changes nothing.
    pub fn for_attempt(&self, limit: Duration) -> Interrupt {
        self.bounded(limit, "the attempt timeout")
    }

    /// The same interrupt, also ending `limit` from now (when that is sooner than every
    /// deadline it already has) as a failure described as "no answer within `what` of `limit`".
    pub fn bounded(&self, limit: Duration, what: &'static str) -> Interrupt {
        let current = self.attempt.map_or(self.deadline, |b| b.end.min(self.deadline));
        let nearer = Instant::now().checked_add(limit).filter(|end| *end < current);
        let attempt = nearer.map(|end| Bound { end, limit, what }).or(self.attempt);
        Interrupt { attempt, ..self.clone() }
    }

    /// How long the next blocking wait during `stage` may last: [`SLICE`], or less when a
    /// deadline is nearer; an error once the call is cancelled or out of time, or the attempt
    /// is (a [`TransportError::Failed`] with [`io::ErrorKind::TimedOut`] at `stage`).
    pub fn next_wait(&self, stage: Stage) -> Result<Duration, TransportError> {
        if self.cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        let now = Instant::now();
        let left = self.deadline.saturating_duration_since(now);
        if left.is_zero() {
            return Err(TransportError::DeadlineExceeded);
        }
        let left = match self.attempt {
            Some(Bound { end, limit, what }) => {
                let attempt_left = end.saturating_duration_since(now);
                if attempt_left.is_zero() {
                    let silent = io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no answer within {what} of {limit:?}"),
                    );
                    return Err(TransportError::failed(stage, silent));
                }
                attempt_left.min(left)
            }
            None => left,
        };
        Ok(left.min(SLICE))
    }

    /// The time left before the attempt (or the call, when sooner) must end.
    pub fn time_left(&self) -> Duration {
        let end = self.attempt.map_or(self.deadline, |b| b.end.min(self.deadline));
        end.saturating_duration_since(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_sliced_and_stop_on_deadline_or_cancel() {
        let token = CancellationToken::new();
        let far = Interrupt::new(Instant::now() + Duration::from_secs(60), token.clone());
        assert_eq!(far.next_wait(Stage::Receive).unwrap(), SLICE);
        let near = Interrupt::new(Instant::now() + Duration::from_millis(10), token.clone());
        assert!(near.next_wait(Stage::Receive).unwrap() <= Duration::from_millis(10));
        let past = Interrupt::new(Instant::now(), token.clone());
        assert!(matches!(past.next_wait(Stage::Receive), Err(TransportError::DeadlineExceeded)));
        token.cancel();
        assert!(matches!(far.next_wait(Stage::Receive), Err(TransportError::Cancelled)));
    }

    #[test]
    fn an_attempt_ends_before_the_call_and_says_where() {
        let call =
            Interrupt::new(Instant::now() + Duration::from_secs(60), CancellationToken::new());
        let attempt = call.for_attempt(Duration::ZERO);
        match attempt.next_wait(Stage::Receive) {
            Err(TransportError::Failed { stage: Stage::Receive, source }) => {
                assert_eq!(source.kind(), io::ErrorKind::TimedOut);
                assert!(source.to_string().contains("attempt timeout of 0ns"), "{source}");
            }
            other => panic!("expected an attempt timeout, got {other:?}"),
        }
        assert!(call.next_wait(Stage::Receive).is_ok(), "the call itself still has time");
        let short = call.for_attempt(Duration::from_millis(20));
        assert!(short.next_wait(Stage::Send).unwrap() <= Duration::from_millis(20));
        assert!(short.time_left() <= Duration::from_millis(20));
        let longer = short.bounded(Duration::from_secs(30), "a longer bound");
        assert!(longer.time_left() <= Duration::from_millis(20), "a bound never extends");
    }

    #[test]
    fn an_attempt_limit_beyond_the_call_deadline_is_the_call_deadline() {
        let call = Interrupt::new(Instant::now(), CancellationToken::new());
        let attempt = call.for_attempt(Duration::from_secs(3600));
        assert!(matches!(attempt.next_wait(Stage::Send), Err(TransportError::DeadlineExceeded)));
        let huge =
            Interrupt::new(Instant::now() + Duration::from_secs(1), CancellationToken::new())
                .for_attempt(Duration::MAX);
        assert!(huge.time_left() <= Duration::from_secs(1), "Duration::MAX must not overflow");
    }
}
