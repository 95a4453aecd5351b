// SPDX-License-Identifier: MPL-2.0
//! HTTP/1.1 serving (plain or TLS) on hyper: reads each request, applies injected faults,
//! dispatches, counts, and writes the reply with `opc-request-id`. Connection resets use
//! `SO_LINGER=0`; truncated bodies announce the full length and then abort; a blackholed request
//! waits until the client goes away or the server stops. The connection-level faults (idle
//! close, late answer) are in [`crate::connection`].

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::app::AppRef;
use crate::connection::{closed_when_idle, ConnState, FaultyIo};
use crate::encoding::{hex, random_bytes};
use crate::errors::ApiError;
use crate::faults::Fault;
use crate::http::{Reply, Request};
use crate::router::{self, Route};

const MAX_BODY: usize = 1 << 20;

/// Why a connection was dropped instead of answered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// A body that yields its first half, waits briefly (so the headers and the half are flushed),
/// then fails — the client sees a short read after a valid status line.
struct Truncated {
    half: Option<Bytes>,
    pause: Pin<Box<tokio::time::Sleep>>,
    failed: bool,
}

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        if let Some(d) = self.half.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if self.failed {
            return Poll::Ready(None);
        }
        match self.pause.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.failed = true;
                Poll::Ready(Some(Err(Dropped)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

type Body = Either<Full<Bytes>, Truncated>;

/// What a request handler knows about its connection.
struct ConnInfo {
    peer: SocketAddr,
    fd: RawFd,
    state: Arc<ConnState>,
    /// Becomes true when the server stops (ends blackholed requests).
    stopping: watch::Receiver<bool>,
}

/// Serves `listener` until `shutdown` resolves, then lets open connections finish (5 s at most).
pub async fn serve(
    app: AppRef,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let (stopping, stopping_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let info = ConnInfo {
                    peer,
                    fd: stream.as_raw_fd(),
                    state: Arc::default(),
                    stopping: stopping_rx.clone(),
                };
                let app = app.clone();
                let watcher = graceful.watcher();
                match tls.clone() {
                    None => { tokio::spawn(connection(app, stream, info, watcher)); }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            if let Ok(s) = acceptor.accept(stream).await {
                                connection(app, s, info, watcher).await;
                            }
                        });
                    }
                }
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    stopping.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn connection<I>(app: AppRef, io: I, info: ConnInfo, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::clone(&info.state);
    let close_idle = app.faults.watch_close_idle();
    let io = TokioIo::new(FaultyIo::new(io, Arc::clone(&state), app.clone()));
    let info = Arc::new(info);
    let svc = service_fn(move |req| handle(app.clone(), Arc::clone(&info), req));
    let conn = http1::Builder::new().keep_alive(true).serve_connection(io, svc);
    // Errors here are client disconnects and injected resets: nothing to report. Dropping the
    // connection when it has been idle too long closes it without a word, as a load balancer does.
    tokio::select! {
        _ = watcher.watch(conn) => {}
        () = closed_when_idle(close_idle, &state) => {}
    }
}

/// Makes the kernel send RST on close (SO_LINGER 0).
fn arm_reset(fd: RawFd) {
    // SAFETY: `fd` is the socket of the connection whose request is being handled; hyper owns
    // the stream and keeps it open until this service call returns, so the fd is valid here.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let _ = socket2::SockRef::from(&borrowed).set_linger(Some(Duration::ZERO));
}

async fn handle(
    app: AppRef,
    conn: Arc<ConnInfo>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, Dropped> {
    let _busy = conn.state.busy();
    let request_id = match req.headers().get("opc-request-id").and_then(|v| v.to_str().ok()) {
        Some(client) if !client.is_empty() => {
            format!("{client}/{}", hex(&random_bytes(16)).to_uppercase())
        }
        _ => hex(&random_bytes(16)).to_uppercase(),
    };
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let target =
        parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let route = router::classify(&method, &path);
    let name = route.as_ref().map(Route::name).unwrap_or("unknown");
    let counted = !matches!(route, Ok(Route::Admin(_)));

    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = ApiError::too_large(format!(
                "request body exceeds {MAX_BODY} bytes or could not be read"
            ));
            return Ok(finish(&app, name, counted, Reply::error(&e), &request_id, false));
        }
    };

    let mut truncate = false;
    let mut late_answer = None;
    if counted {
        match app.faults.decide(name) {
            Some(Fault::Status { status, retry_after }) => {
                let injected = ApiError::injected(status, retry_after);
                let reply = Reply::error(&injected);
                if app.log_requests {
                    log(&method, &path, &request_id, &Err(injected));
                }
                return Ok(finish(&app, name, counted, reply, &request_id, false));
            }
            Some(Fault::Reset) => {
                if app.log_requests {
                    eprintln!(
                        "{method} {path} -> connection reset (fault injected) [{request_id}]"
                    );
                }
                app.counters.record(name, "reset");
                arm_reset(conn.fd);
                return Err(Dropped);
            }
            Some(Fault::Blackhole) => {
                if app.log_requests {
                    eprintln!("{method} {path} -> never answered (fault injected) [{request_id}]");
                }
                app.counters.record(name, "blackhole");
                // hyper drops this future when the client closes the connection.
                let _ = conn.stopping.clone().wait_for(|stopping| *stopping).await;
                return Err(Dropped);
            }
            Some(Fault::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
            Some(Fault::Truncate) => truncate = true,
            Some(Fault::LateAnswer { ms }) => late_answer = Some(Duration::from_millis(ms)),
            Some(Fault::None) | None => {}
        }
    }

    let reply = match route {
        Ok(route) => {
            let request = Request {
                method,
                target,
                path,
                query,
                headers: parts.headers,
                body,
                peer: conn.peer,
            };
            // Handlers are short CPU work (one RSA verify, one AES-GCM): run them inline.
            let result = router::dispatch(&app, &request, &route);
            if app.log_requests {
                log(&request.method, &request.path, &request_id, &result);
            }
            result.unwrap_or_else(|e| Reply::error(&e))
        }
        Err(e) => Reply::error(&e),
    };
    if let Some(after) = late_answer {
        conn.state.schedule_late_answer(after, name);
    }
    Ok(finish(&app, name, counted, reply, &request_id, truncate))
}

/// One stderr line per request (paths hold OCIDs only; messages never carry secrets).
fn log(method: &str, path: &str, request_id: &str, result: &Result<Reply, ApiError>) {
    match result {
        Ok(r) => eprintln!("{method} {path} -> {} [{request_id}]", r.status),
        Err(e) => {
            eprintln!("{method} {path} -> {} {}: {} [{request_id}]", e.status, e.code, e.message)
        }
    }
}

fn finish(
    app: &AppRef,
    name: &str,
    counted: bool,
    reply: Reply,
    request_id: &str,
    truncate: bool,
) -> hyper::Response<Body> {
    if counted {
        app.counters.record(
            name,
            &if truncate { "truncated".to_string() } else { reply.status.to_string() },
        );
    }
    let full_len = reply.body.len();
    let body: Body = if truncate {
        let all = Bytes::from(reply.body);
        let pause = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
        Either::Right(Truncated { half: Some(all.slice(..full_len / 2)), pause, failed: false })
    } else {
        Either::Left(Full::new(Bytes::from(reply.body)))
    };
    let mut b = hyper::Response::builder()
        .status(reply.status)
        .header("content-type", reply.content_type)
        .header("content-length", full_len)
        .header("opc-request-id", request_id);
    for (k, v) in reply.headers {
        b = b.header(k, v);
    }
    b.body(body).unwrap_or_else(|_| hyper::Response::new(Either::Left(Full::new(Bytes::new()))))
}

/// Builds a rustls acceptor (HTTP/1.1 ALPN) from DER certificate chain and PKCS#8 key.
pub fn tls_acceptor(chain: &[Vec<u8>], key_pkcs8: &[u8]) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let certs: Vec<CertificateDer<'static>> =
        chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8.to_vec()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate rejected: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}
