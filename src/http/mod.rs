// SPDX-License-Identifier: MPL-2.0
//! The library's one HTTP/1.1 client, for every outbound call (KMS, instance metadata,
//! federation, workload identity): blocking I/O on the calling thread, with keep-alive
//! connections pooled per origin, one TLS configuration ([`tls::tls_config`]), one proxy rule and
//! one deadline model ([`Interrupt`]).
//!
//! A blocking caller (the C ABI, Go through cgo) gets its request written and its answer read
//! on its own thread — no hand-off to an async runtime's worker and back, which cost more CPU than
//! everything but the request signature. Async callers run the same exchange on tokio's blocking
//! pool. Deadlines and cancellation are checked between socket waits of at most
//! [`interrupt::SLICE`]. Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`
//! (as curl and reqwest read them; `http://` proxies, tunnelled with `CONNECT` for https).

mod conn;
mod fetch;
mod interrupt;
#[cfg(test)]
mod tests;
pub mod tls;
mod wire;

use std::fmt;
use std::io;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper_util::client::proxy::matcher::Matcher;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use url::Url;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

use conn::Conn;
pub use interrupt::Interrupt;
pub use tls::tls_config;
use wire::{encode_request, Framing, Reader};
pub(crate) use wire::{ByteSource, MAX_BODY};

/// The `opc-client-info` header value of KMS calls: this project's name and version. OCI's own
/// SDKs send `Oracle-<Language>SDK/<version>`; this client is not one of Oracle's, so it does not
/// say so.
pub const CLIENT_INFO: &str = concat!("ocikms/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` sent on every request.
pub static USER_AGENT: LazyLock<String> = LazyLock::new(|| {
    format!("{CLIENT_INFO} ({}/{})", std::env::consts::OS, std::env::consts::ARCH)
});

/// How long an idle connection is kept for reuse: below the 60 s idle timeout of OCI's load
/// balancers, so the client closes first.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// The most idle connections kept per origin.
const MAX_IDLE: usize = 64;
/// How often (at most) the idle connections of an origin are checked for ones the server closed.
const PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// Where an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Looking up the host name.
    Resolve,
    /// Opening the TCP connection.
    Connect,
    /// Opening the tunnel through the HTTP proxy.
    Proxy,
    /// The TLS handshake.
    Tls,
    /// Writing the request.
    Send,
    /// Reading the response.
    Receive,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Resolve => "resolving the host name",
            Stage::Connect => "connecting",
            Stage::Proxy => "opening the proxy tunnel",
            Stage::Tls => "the TLS handshake",
            Stage::Send => "sending the request",
            Stage::Receive => "reading the response",
        })
    }
}

/// Why an exchange did not produce a response.
#[derive(Debug)]
pub enum TransportError {
    /// The call's cancellation token fired.
    Cancelled,
    /// The call's deadline passed.
    DeadlineExceeded,
    /// The network or the server failed during `stage`.
    Failed {
        /// What was being done.
        stage: Stage,
        /// The underlying error (a TLS error is an `io::Error` wrapping a `rustls::Error`).
        source: io::Error,
    },
}

impl TransportError {
    /// A failure during `stage`.
    pub fn failed(stage: Stage, source: io::Error) -> TransportError {
        TransportError::Failed { stage, source }
    }

    /// Whether the attempt got no answer in time (its own bound, not the call's deadline).
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Failed { source, .. } if source.kind() == io::ErrorKind::TimedOut)
    }

    /// Whether the server closed or reset the connection (what a stale pooled one does).
    fn is_closed_connection(&self) -> bool {
        matches!(self, TransportError::Failed { source, .. } if matches!(
            source.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::WriteZero
        ))
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Cancelled => f.write_str("cancelled"),
            TransportError::DeadlineExceeded => f.write_str("deadline exceeded"),
            TransportError::Failed { stage, source } => write!(f, "{stage}: {source}"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Failed { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Whether `url` is plain `http://` to a host that is not a loopback address (`localhost`,
/// `127.0.0.0/8`, `::1`): such a request crosses a network unencrypted.
pub fn is_cleartext_to_network(url: &Url) -> bool {
    if url.scheme() != "http" {
        return false;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
        None => true,
    }
}

/// An HTTP proxy to go through.
struct Proxy {
    host: String,
    port: u16,
    /// `Proxy-Authorization` value, when the proxy URL has credentials.
    authorization: Option<Zeroizing<String>>,
    /// `host:port`, without credentials, for messages.
    display: String,
}

/// One origin (scheme, host, port): how to reach it, and its idle connections.
pub struct Origin {
    /// Host name or IP address (without IPv6 brackets), to resolve and connect to.
    host: String,
    port: u16,
    /// `host[:port]` as sent in `Host` (the port only when not the scheme's default).
    host_header: String,
    /// `host:port`, the `CONNECT` target.
    authority: String,
    /// The name the TLS certificate must match; `None` for plain http.
    server_name: Option<ServerName<'static>>,
    proxy: Option<Proxy>,
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
    /// The `Host` header value for requests to this origin.
    pub fn host_header(&self) -> &str {
        &self.host_header
    }

    /// Serialises a request to `path_and_query` on this origin (the absolute URL as the target
    /// when it goes through a proxy in the clear).
    pub fn request<'a>(
        &'a self,
        method: &'static str,
        path_and_query: &str,
        mut headers: Vec<(&'a str, &'a str)>,
        body: &[u8],
    ) -> Result<HttpRequest> {
        let absolute;
        let target = match (&self.proxy, &self.server_name) {
            (Some(proxy), None) => {
                absolute = format!("http://{}{path_and_query}", self.host_header);
                if let Some(auth) = &proxy.authorization {
                    headers.push(("proxy-authorization", auth.as_str()));
                }
                absolute.as_str()
            }
            _ => path_and_query,
        };
        let message = encode_request(method, target, &headers, body).map_err(Error::internal)?;
        Ok(HttpRequest { method, message })
    }

    /// The newest idle connection that can still carry a request (the others are dropped).
    fn checkout(&self) -> Option<Conn> {
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
    fn checkin(&self, conn: Conn) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.prune(now);
        if idle.conns.len() >= MAX_IDLE {
            idle.conns.remove(0);
        }
        idle.conns.push((conn, now));
    }

    /// Drops every idle connection (after one went silent: those idle as long are suspect too).
    fn drop_idle(&self) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).conns.clear();
    }
}

/// A serialised request.
pub struct HttpRequest {
    method: &'static str,
    /// Request line, headers and body (zeroed when dropped: the body may carry a plaintext).
    message: wire::Scrubbed,
}

/// A response.
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    headers: wire::Headers,
    /// The body (zeroed when dropped: it may carry a plaintext or a data key).
    pub body: Zeroizing<Vec<u8>>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// An HTTP client: TLS settings, the proxy rules, and the origins [`HttpClient::fetch`] used.
pub struct HttpClient {
    tls: Arc<ClientConfig>,
    proxies: Matcher,
    origins: fetch::Origins,
}

impl HttpClient {
    /// A client verifying servers with `tls`, with the proxies of the environment.
    pub fn new(tls: Arc<ClientConfig>) -> HttpClient {
        HttpClient::with_proxies(tls, Matcher::from_env())
    }

    /// A client verifying servers with `tls` and following the proxy rules of `proxies` instead
    /// of the environment's.
    pub(crate) fn with_proxies(tls: Arc<ClientConfig>, proxies: Matcher) -> HttpClient {
        HttpClient { tls, proxies, origins: fetch::Origins::default() }
    }

    /// The origin of `url` (an http or https URL with a host), routed through the proxy the
    /// environment names for it.
    pub fn origin(&self, url: &Url) -> Result<Arc<Origin>> {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(Error::config(format!("{url} has no host"))),
        };
        let tls = url.scheme() == "https";
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        let host_str = url.host_str().unwrap_or_default();
        let host_header = match url.port() {
            Some(port) => format!("{host_str}:{port}"),
            None => host_str.to_owned(),
        };
        let server_name = if tls {
            let name = ServerName::try_from(host.clone())
                .map_err(|e| Error::config(format!("{url}: not a valid TLS server name: {e}")))?;
            Some(name)
        } else {
            None
        };
        Ok(Arc::new(Origin {
            proxy: self.proxy_for(url, host_str, port)?,
            authority: format!("{host_str}:{port}"),
            host,
            port,
            host_header,
            server_name,
            idle: Mutex::new(IdlePool::default()),
        }))
    }

    fn proxy_for(&self, url: &Url, host: &str, port: u16) -> Result<Option<Proxy>> {
        let uri: http::Uri = format!("{}://{host}:{port}/", url.scheme())
            .parse()
            .map_err(|e| Error::config(format!("{url}: {e}")))?;
        let Some(intercept) = self.proxies.intercept(&uri) else {
            return Ok(None);
        };
        let proxy = intercept.uri();
        let (proxy_host, proxy_port) =
            (proxy.host().unwrap_or_default(), proxy.port_u16().unwrap_or(80));
        let display = format!("{proxy_host}:{proxy_port}");
        if proxy.scheme_str() != Some("http") {
            return Err(Error::config(format!(
                "the proxy {}://{display} set in the environment for {url} is not supported: use \
                 an http:// proxy URL (https is tunnelled through it with CONNECT), or exclude \
                 the host with NO_PROXY",
                proxy.scheme_str().unwrap_or_default()
            )));
        }
        let authorization = intercept
            .basic_auth()
            .and_then(|v| v.to_str().ok())
            .map(|v| Zeroizing::new(v.to_owned()));
        Ok(Some(Proxy {
            host: proxy_host.trim_matches(['[', ']']).to_owned(),
            port: proxy_port,
            authorization,
            display,
        }))
    }

    /// Sends `req` to `origin` and reads the answer, on this thread. A pooled connection that
    /// turns out to be closed by the server (before answering) is replaced once by a new one; one
    /// that stays silent past the attempt's bound (see [`Interrupt::for_attempt`]) fails the
    /// attempt and empties the origin's pool, so that a retry opens a new connection.
    pub fn send(
        &self,
        origin: &Origin,
        req: &HttpRequest,
        stop: &Interrupt,
    ) -> std::result::Result<HttpResponse, TransportError> {
        let mut pooled = origin.checkout();
        loop {
            let reused = pooled.is_some();
            let mut conn = match pooled.take() {
                Some(conn) => conn,
                None => Conn::open(origin, &self.tls, stop)?,
            };
            match exchange(&mut conn, req, stop) {
                Ok((resp, keep_alive)) => {
                    if keep_alive {
                        origin.checkin(conn);
                    }
                    return Ok(resp);
                }
                Err((error, received_any))
                    if reused && !received_any && error.is_closed_connection() =>
                {
                    continue
                }
                Err((error, _)) => {
                    if reused && error.is_timeout() {
                        origin.drop_idle();
                    }
                    return Err(error);
                }
            }
        }
    }

    /// [`HttpClient::send`] for async code: on the calling thread when it is a blocking caller's
    /// ([`crate::blocking`]), else on tokio's blocking pool.
    pub async fn send_async(
        self: &Arc<Self>,
        origin: &Arc<Origin>,
        req: HttpRequest,
        stop: Interrupt,
    ) -> std::result::Result<HttpResponse, TransportError> {
        if crate::blocking::is_blocking_caller() {
            return self.send(origin, &req, &stop);
        }
        let (client, origin) = (Arc::clone(self), Arc::clone(origin));
        tokio::task::spawn_blocking(move || client.send(&origin, &req, &stop)).await.unwrap_or_else(
            |e| Err(TransportError::failed(Stage::Send, io::Error::other(e.to_string()))),
        )
    }
}

/// One request and response on `conn`; on failure, also whether any response byte arrived.
fn exchange(
    conn: &mut Conn,
    req: &HttpRequest,
    stop: &Interrupt,
) -> std::result::Result<(HttpResponse, bool), (TransportError, bool)> {
    conn.write_all(&req.message, stop, Stage::Send).map_err(|e| (e, false))?;
    read_response(conn, req.method, stop)
}

/// Reads the response to a `method` request from `source`, and whether the connection can carry
/// another request; on failure, also whether any byte arrived. (The fuzz target drives this with
/// arbitrary bytes: `kms::fuzzing::http_response`.)
pub(crate) fn read_response(
    source: &mut dyn ByteSource,
    method: &str,
    stop: &Interrupt,
) -> std::result::Result<(HttpResponse, bool), (TransportError, bool)> {
    let mut reader = Reader::new(source, stop, Stage::Receive);
    let result = reader.read_head().and_then(|head| {
        let framing = Framing::of(method, &head)?;
        let body = reader.read_body(framing)?;
        let keep_alive = !head.close && framing != Framing::UntilClose && !reader.has_leftover();
        Ok((HttpResponse { status: head.status, headers: head.headers, body }, keep_alive))
    });
    result.map_err(|e| (e, reader.received_any()))
}
