// SPDX-License-Identifier: MPL-2.0
//! An [`Origin`]: its [`Route`] and its pool of idle keep-alive connections (liveness checked at
//! checkout, pruned at checkin), and the cache of the origins a client has used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::conn::Conn;
use super::message::HttpRequest;
use super::route::Route;
use crate::error::Result;

/// How long an idle connection is kept for reuse: below the 60 s idle timeout of OCI's load
/// balancers, so the client closes first.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// The most idle connections kept per origin.
const MAX_IDLE: usize = 64;
/// How often (at most) the idle connections of an origin are checked for ones the server closed.
const PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// One origin (scheme, host, port): how to reach it, and its idle connections.
pub struct Origin {
    pub(super) route: Route,
    idle: Mutex<IdlePool>,
}

/// The idle connections of an origin, newest last, with when each was checked in.
#[derive(Default)]
struct IdlePool {
    conns: Vec<(Conn, Instant)>,
    /// When connections the server closed were last dropped.
    pruned: Option<Instant>,
}

impl IdlePool {
    /// Drops the connections idle too long and, at most every [`PRUNE_INTERVAL`], those the
    /// server closed or sent something to (one `poll` for all), so that they do not linger in
    /// `CLOSE_WAIT`.
    fn prune(&mut self, now: Instant) {
        self.conns.retain(|(_, since)| now.saturating_duration_since(*since) < IDLE_TIMEOUT);
        if self.pruned.is_some_and(|at| now.saturating_duration_since(at) < PRUNE_INTERVAL) {
            return;
        }
        self.pruned = Some(now);
        let mut polls: Vec<libc::pollfd> = self
            .conns
            .iter()
            .map(|(conn, _)| libc::pollfd { fd: conn.fd(), events: libc::POLLIN, revents: 0 })
            .collect();
        let count = libc::nfds_t::try_from(polls.len()).unwrap_or(0);
        // SAFETY: `polls` holds `count` valid, initialised pollfds for the duration of the call.
        if count == 0 || unsafe { libc::poll(polls.as_mut_ptr(), count, 0) } <= 0 {
            return;
        }
        let mut readable = polls.iter().map(|p| p.revents != 0);
        self.conns.retain_mut(|(conn, _)| !readable.next().unwrap_or(false) || conn.is_reusable());
    }
}

impl Origin {
    /// The origin reached by `route`, with no connection yet.
    pub(super) fn new(route: Route) -> Origin {
        Origin { route, idle: Mutex::new(IdlePool::default()) }
    }

    /// The `Host` header value for requests to this origin.
    pub fn host_header(&self) -> &str {
        self.route.host_header()
    }

    /// Serialises a request to `path_and_query` on this origin (see [`Route::request`]).
    pub fn request<'a>(
        &'a self,
        method: &'static str,
        path_and_query: &str,
        headers: Vec<(&'a str, &'a str)>,
        body: &[u8],
    ) -> Result<HttpRequest> {
        self.route.request(method, path_and_query, headers, body)
    }

    /// How many idle connections are pooled (tests).
    #[cfg(test)]
    pub(super) fn idle_count(&self) -> usize {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).conns.len()
    }

    /// The newest idle connection that can still carry a request (the others are dropped).
    pub(super) fn checkout(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((mut conn, since)) = idle.conns.pop() {
            if since.elapsed() >= IDLE_TIMEOUT {
                // The newest is too old, so are all the others.
                idle.conns.clear();
                return None;
            }
            if conn.is_reusable() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn` for reuse.
    pub(super) fn checkin(&self, conn: Conn) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.prune(now);
        if idle.conns.len() >= MAX_IDLE {
            idle.conns.remove(0);
        }
        idle.conns.push((conn, now));
    }

    /// Drops every idle connection (after one went silent: those idle as long are suspect too).
    pub(super) fn drop_idle(&self) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).conns.clear();
    }
}

/// The origins a client has fetched from, by `scheme://host:port`, so their connections are
/// pooled across calls.
#[derive(Default)]
pub(super) struct Origins(pub(super) Mutex<HashMap<String, Arc<Origin>>>);
