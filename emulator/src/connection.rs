// SPDX-License-Identifier: MPL-2.0
//! Connection-level faults. [`FaultyIo`] wraps a served connection's stream (plain or TLS): it
//! records when the connection was last used, for the plan's `close_idle_ms` ([`closed_when_idle`]),
//! and writes the late unsolicited answer of a `late_answer` fault. [`ConnState`] is what the
//! request handler and the idle watcher share with it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Sleep;

use crate::app::AppRef;

/// What one connection's handler, idle watcher and stream share.
pub struct ConnState {
    opened: Instant,
    /// Milliseconds from `opened` to the last byte read or written, or the end of a request.
    last_used_ms: AtomicU64,
    /// Requests being handled.
    busy: AtomicUsize,
    /// A late answer scheduled by the handler: when, after the answer, and for which route.
    late: Mutex<Option<(Duration, &'static str)>>,
}

impl Default for ConnState {
    fn default() -> Self {
        ConnState {
            opened: Instant::now(),
            last_used_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            late: Mutex::new(None),
        }
    }
}

/// Marks a request in progress: the connection is not idle until it is dropped.
pub struct Busy<'a>(&'a ConnState);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Release);
    }
}

impl ConnState {
    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_used_ms.store(ms, Ordering::Release);
    }

    /// Marks a request in progress until the guard drops.
    pub fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self)
    }

    /// How long the connection has been idle; `None` while a request is in progress.
    fn idle_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_used_ms.load(Ordering::Acquire));
        Some(self.opened.elapsed().saturating_sub(last))
    }

    /// Sends `408 Request Timeout` on this connection `after` the current answer, unless the
    /// client sends another request first (a peer that times out only idle connections).
    pub fn schedule_late_answer(&self, after: Duration, route: &'static str) {
        *self.late.lock().unwrap_or_else(|p| p.into_inner()) = Some((after, route));
    }

    fn take_late_answer(&self) -> Option<(Duration, &'static str)> {
        self.late.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Resolves once the connection has been idle for the plan's `close_idle_ms` (never while that
/// is unset); the caller then drops the connection, which closes it without sending anything.
pub async fn closed_when_idle(mut limit: watch::Receiver<Option<Duration>>, state: &ConnState) {
    loop {
        let wait = match *limit.borrow_and_update() {
            None => None,
            Some(limit) => match state.idle_for() {
                Some(idle) if idle >= limit => return,
                Some(idle) => Some(limit - idle),
                None => Some(limit),
            },
        };
        let changed = async {
            if limit.changed().await.is_err() {
                // The plan is gone with the server: nothing will close this connection.
                std::future::pending::<()>().await;
            }
        };
        match wait {
            None => changed.await,
            Some(wait) => tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = changed => {}
            },
        }
    }
}

/// A late answer on its way out: due at `timer`, then written from `bytes[sent..]`.
struct LateAnswer {
    timer: Pin<Box<Sleep>>,
    bytes: Vec<u8>,
    sent: usize,
    route: &'static str,
}

impl LateAnswer {
    fn new(after: Duration, route: &'static str) -> Self {
        let body = serde_json::json!({
            "code": "RequestTimeout",
            "message": "late unsolicited answer injected by the emulator (late_answer fault)"
        })
        .to_string();
        let head = format!(
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        LateAnswer {
            timer: Box::pin(tokio::time::sleep(after)),
            bytes: [head.into_bytes(), body.into_bytes()].concat(),
            sent: 0,
            route,
        }
    }
}

/// A connection's stream with the connection-level faults (see the module docs).
pub struct FaultyIo<I> {
    inner: I,
    state: Arc<ConnState>,
    app: AppRef,
    late: Option<LateAnswer>,
    /// A late answer was sent: reads report end of stream, so the server closes the connection.
    ended: bool,
}

impl<I> FaultyIo<I> {
    /// Wraps `inner`, sharing `state` with the connection's handler and idle watcher.
    pub fn new(inner: I, state: Arc<ConnState>, app: AppRef) -> Self {
        FaultyIo { inner, state, app, late: None, ended: false }
    }
}

impl<I: AsyncWrite + Unpin> FaultyIo<I> {
    /// Writes the late answer once it is due; `Ready` when it has been sent.
    fn poll_late_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(late) = self.late.as_mut() else { return Poll::Pending };
        if late.sent == 0 {
            ready!(late.timer.as_mut().poll(cx));
        }
        while late.sent < late.bytes.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &late.bytes[late.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            late.sent += n;
        }
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        self.app.counters.record(late.route, "late_answer");
        if self.app.log_requests {
            eprintln!("late unsolicited 408 after a {} answer (fault injected)", late.route);
        }
        self.late = None;
        self.ended = true;
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncRead for FaultyIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(Ok(()));
        }
        if let Some((after, route)) = this.state.take_late_answer() {
            this.late = Some(LateAnswer::new(after, route));
        }
        if this.poll_late_answer(cx)?.is_ready() {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.state.touch();
            // The client spoke first: a peer times out idle connections only.
            if this.late.as_ref().is_some_and(|l| l.sent == 0) {
                this.late = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for FaultyIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, data))?;
        if n > 0 {
            this.state.touch();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closes_after_the_idle_limit_and_follows_plan_changes() {
        let (tx, rx) = watch::channel(None);
        let state = ConnState::default();
        let watcher = closed_when_idle(rx, &state);
        tokio::pin!(watcher);
        let unset = tokio::time::timeout(Duration::from_millis(300), watcher.as_mut()).await;
        assert!(unset.is_err(), "no close_idle_ms: the connection is kept");
        let busy = state.busy();
        tx.send_replace(Some(Duration::from_millis(200)));
        let held = tokio::time::timeout(Duration::from_millis(600), watcher.as_mut()).await;
        assert!(held.is_err(), "a connection with a request in progress is not closed");
        drop(busy);
        let ended = Instant::now();
        tokio::time::timeout(Duration::from_secs(30), watcher).await.expect("closed when idle");
        let idle = ended.elapsed();
        assert!(idle >= Duration::from_millis(190), "closed after {idle:?} idle, limit 200 ms");
    }
}
