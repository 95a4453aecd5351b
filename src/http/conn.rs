// SPDX-License-Identifier: MPL-2.0
//! One connection to an origin: plain TCP or TLS, direct or through an HTTP proxy's `CONNECT`
//! tunnel. Every blocking step (name resolution, connect, handshake, reads, writes) waits at most
//! one [`SLICE`](super::interrupt::SLICE) at a time, so the call's deadline and cancellation
//! stop it promptly. Connections are made with TCP keepalive on, and each resolved address gets
//! a share of the time left (as Go's dialer does), so one blackholed address cannot use it all.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::error::{Stage, TransportError};
use super::interrupt::Interrupt;
use super::route::{Proxy, Route};
use super::wire::{encode_request, ByteSource, Reader};

/// An open connection.
pub struct Conn {
    stream: Stream,
    /// The read and write timeout currently set on the socket.
    timeout: Option<Duration>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn socket(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Conn {
    /// Connects to `origin` (through its proxy, if any) and completes the TLS handshake.
    pub fn open(
        origin: &Route,
        tls: &Arc<ClientConfig>,
        stop: &Interrupt,
    ) -> Result<Conn, TransportError> {
        let (host, port) = match &origin.proxy {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (origin.host.as_str(), origin.port),
        };
        let addrs = interleave_families(resolve(host, port, stop)?);
        let socket = connect_any(&addrs, stop)?;
        let mut conn = Conn { stream: Stream::Plain(socket), timeout: None };
        match (&origin.server_name, &origin.proxy) {
            (None, _) => Ok(conn),
            (Some(name), proxy) => {
                if let Some(proxy) = proxy {
                    conn.tunnel(origin, proxy, stop)?;
                }
                conn.into_tls(name.clone(), tls, stop)
            }
        }
    }

    /// Asks the proxy for a tunnel to the origin (`CONNECT host:port`).
    fn tunnel(
        &mut self,
        origin: &Route,
        proxy: &Proxy,
        stop: &Interrupt,
    ) -> Result<(), TransportError> {
        let authority = &origin.authority;
        let mut headers = vec![("host", authority.as_str())];
        if let Some(auth) = &proxy.authorization {
            headers.push(("proxy-authorization", auth.as_str()));
        }
        let request = encode_request("CONNECT", authority, &headers, b"")
            .map_err(|e| TransportError::failed(Stage::Proxy, io::Error::other(e)))?;
        self.write_all(&request, stop, Stage::Proxy)?;
        let mut reader = Reader::new(self, stop, Stage::Proxy);
        let head = reader.read_head()?;
        if !(200..300).contains(&head.status) || reader.has_leftover() {
            // A 4xx (407 credentials, 403 not allowed) will not change on a retry; a 5xx might.
            let kind = if (400..500).contains(&head.status) {
                io::ErrorKind::PermissionDenied
            } else {
                io::ErrorKind::ConnectionRefused
            };
            return Err(TransportError::failed(
                Stage::Proxy,
                io::Error::new(
                    kind,
                    format!(
                        "the proxy {} answered CONNECT {authority} with HTTP {} {}",
                        proxy.display, head.status, head.reason
                    ),
                ),
            ));
        }
        Ok(())
    }

    /// Wraps the connection in TLS and completes the handshake.
    fn into_tls(
        self,
        name: rustls::pki_types::ServerName<'static>,
        tls: &Arc<ClientConfig>,
        stop: &Interrupt,
    ) -> Result<Conn, TransportError> {
        let Conn { stream, timeout } = self;
        let socket = match stream {
            Stream::Plain(socket) => socket,
            already @ Stream::Tls(_) => return Ok(Conn { stream: already, timeout }),
        };
        let session = ClientConnection::new(Arc::clone(tls), name)
            .map_err(|e| TransportError::failed(Stage::Tls, io::Error::other(e)))?;
        let mut conn =
            Conn { stream: Stream::Tls(Box::new(StreamOwned::new(session, socket))), timeout };
        conn.interruptible(stop, Stage::Tls, |stream| match stream {
            Stream::Tls(s) => {
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                Ok(())
            }
            Stream::Plain(_) => Ok(()),
        })?;
        Ok(conn)
    }

    /// Reads some bytes; 0 means the connection closed.
    pub fn read(
        &mut self,
        buf: &mut [u8],
        stop: &Interrupt,
        stage: Stage,
    ) -> Result<usize, TransportError> {
        self.interruptible(stop, stage, |stream| match stream {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        })
    }

    /// Writes all of `data` and flushes it to the socket.
    pub fn write_all(
        &mut self,
        mut data: &[u8],
        stop: &Interrupt,
        stage: Stage,
    ) -> Result<(), TransportError> {
        while !data.is_empty() {
            let n = self.interruptible(stop, stage, |stream| match stream {
                Stream::Plain(s) => s.write(data),
                Stream::Tls(s) => s.write(data),
            })?;
            if n == 0 {
                let closed = io::Error::new(io::ErrorKind::WriteZero, "the connection closed");
                return Err(TransportError::failed(stage, closed));
            }
            data = &data[n..];
        }
        self.interruptible(stop, stage, |stream| match stream {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        })
    }

    /// Whether this idle connection can carry another request: the peer has not closed or reset
    /// it and has sent nothing unasked (a late answer, e.g. a 408, would be read as the next
    /// request's response). TLS records that carry no data (session tickets) are consumed.
    pub fn is_reusable(&mut self) -> bool {
        if !has_input(self.stream.socket()) {
            return match &mut self.stream {
                Stream::Plain(_) => true,
                Stream::Tls(s) => s.conn.process_new_packets().is_ok_and(|state| {
                    state.plaintext_bytes_to_read() == 0 && !state.peer_has_closed()
                }),
            };
        }
        match &mut self.stream {
            Stream::Plain(_) => false,
            Stream::Tls(s) => tls_has_only_handshake_records(s),
        }
    }

    /// The socket's file descriptor (to poll many idle connections at once).
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.stream.socket().as_raw_fd()
    }

    /// Runs `op` until it completes, waiting at most one slice at a time between checks of
    /// `stop`. The stream's state survives a timed-out attempt (rustls buffers partial records).
    fn interruptible<T>(
        &mut self,
        stop: &Interrupt,
        stage: Stage,
        mut op: impl FnMut(&mut Stream) -> io::Result<T>,
    ) -> Result<T, TransportError> {
        loop {
            let wait = stop.next_wait(stage)?;
            if self.timeout != Some(wait) {
                let socket = self.stream.socket();
                socket
                    .set_read_timeout(Some(wait))
                    .and_then(|()| socket.set_write_timeout(Some(wait)))
                    .map_err(|e| TransportError::failed(stage, e))?;
                self.timeout = Some(wait);
            }
            match op(&mut self.stream) {
                Ok(value) => return Ok(value),
                Err(e) if is_wait_over(&e) => continue,
                Err(e) => return Err(TransportError::failed(stage, e)),
            }
        }
    }
}

/// Whether `socket` has something to read (data, the peer's close, or an error) right now.
fn has_input(socket: &TcpStream) -> bool {
    let mut poll = libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: `poll` points to one valid, initialised pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready != 0
}

/// Reads what the TLS peer sent to an idle connection without blocking; true when it was only
/// handshake records (no application data, no close, no error).
fn tls_has_only_handshake_records(s: &mut StreamOwned<ClientConnection, TcpStream>) -> bool {
    if s.sock.set_nonblocking(true).is_err() {
        return false;
    }
    let clean = loop {
        match s.conn.read_tls(&mut s.sock) {
            Ok(0) => break false,
            Ok(_) => match s.conn.process_new_packets() {
                Ok(state) if state.plaintext_bytes_to_read() == 0 && !state.peer_has_closed() => {}
                _ => break false,
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
            Err(_) => break false,
        }
    };
    s.sock.set_nonblocking(false).is_ok() && clean
}

/// Orders addresses as RFC 8305 does: alternating between the address families, starting with
/// the resolver's first choice, so a broken family costs one address's share, not all.
fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first().copied() else {
        return addrs;
    };
    let (mut preferred, mut other): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.is_ipv6() == first.is_ipv6());
    let mut ordered = Vec::with_capacity(preferred.len() + other.len());
    preferred.reverse();
    other.reverse();
    loop {
        match (preferred.pop(), other.pop()) {
            (None, None) => return ordered,
            (a, b) => ordered.extend(a.into_iter().chain(b)),
        }
    }
}

/// The shortest share of the connect time an address gets (unless less is left), as Go's dialer.
const MIN_ADDRESS_SHARE: Duration = Duration::from_secs(2);

impl ByteSource for Conn {
    fn read_some(
        &mut self,
        buf: &mut [u8],
        stop: &Interrupt,
        stage: Stage,
    ) -> Result<usize, TransportError> {
        self.read(buf, stop, stage)
    }
}

/// A socket wait that ended without data: try again after checking the deadline.
fn is_wait_over(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Resolves `host` on a helper thread, so that a hanging resolver cannot outlast the deadline.
fn resolve(host: &str, port: u16, stop: &Interrupt) -> Result<Vec<SocketAddr>, TransportError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("ocikms-resolve".to_owned())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Iterator::collect));
        })
        .map_err(|e| TransportError::failed(Stage::Resolve, e))?;
    let addrs: Vec<SocketAddr> = loop {
        match rx.recv_timeout(stop.next_wait(Stage::Resolve)?) {
            Ok(result) => break result.map_err(|e| TransportError::failed(Stage::Resolve, e))?,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let lost = io::Error::other("the resolver thread ended without an answer");
                return Err(TransportError::failed(Stage::Resolve, lost));
            }
        }
    };
    if addrs.is_empty() {
        let none = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
        return Err(TransportError::failed(Stage::Resolve, none));
    }
    Ok(addrs)
}

/// Connects to the first of `addrs` that accepts, giving each an equal share of the time left
/// (at least [`MIN_ADDRESS_SHARE`]).
fn connect_any(addrs: &[SocketAddr], stop: &Interrupt) -> Result<TcpStream, TransportError> {
    let mut last = None;
    for (i, addr) in addrs.iter().enumerate() {
        let left = stop.time_left();
        let untried = u32::try_from(addrs.len() - i).unwrap_or(u32::MAX);
        let share = (left / untried).max(MIN_ADDRESS_SHARE.min(left));
        let share_stop = stop.bounded(share, "this address's share of the connect time");
        match connect(*addr, &share_stop) {
            Ok(socket) => return Ok(socket),
            Err(TransportError::Failed { source, .. }) => {
                last = Some(io::Error::new(source.kind(), format!("{addr}: {source}")));
            }
            Err(stopped) => return Err(stopped),
        }
    }
    let none = || io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    Err(TransportError::failed(Stage::Connect, last.unwrap_or_else(none)))
}

/// A non-blocking connect, polled one slice at a time.
fn connect(addr: SocketAddr, stop: &Interrupt) -> Result<TcpStream, TransportError> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};

    let fail = |e| TransportError::failed(Stage::Connect, e);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .map_err(fail)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
            let wait = stop.next_wait(Stage::Connect)?;
            let mut poll =
                libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
            let millis = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: `poll` points to one valid, initialised pollfd for the duration of the call.
            let ready = unsafe { libc::poll(&mut poll, 1, millis) };
            if ready > 0 {
                match socket.take_error().map_err(fail)? {
                    Some(e) => return Err(fail(e)),
                    None => break,
                }
            }
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(fail(e));
                }
            }
        },
        Err(e) => return Err(fail(e)),
    }
    socket
        .set_nonblocking(false)
        .and_then(|()| socket.set_tcp_nodelay(true))
        .and_then(|()| socket.set_tcp_keepalive(&keepalive()))
        .map_err(fail)?;
    Ok(socket.into())
}

/// TCP keepalive as Go's dialer sets it (probes after 15 s idle, every 15 s): a peer that
/// vanished is noticed on an idle pooled connection too.
fn keepalive() -> socket2::TcpKeepalive {
    let period = Duration::from_secs(15);
    socket2::TcpKeepalive::new().with_time(period).with_interval(period)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
    use std::time::Instant;

    use tokio_util::sync::CancellationToken;

    use super::*;

    /// An address whose connects hang (the listener's accept queue is full and never drained),
    /// with what keeps it so.
    fn blackholed_address() -> (SocketAddr, socket2::Socket, TcpStream) {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into()).unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        let filler = TcpStream::connect(addr).unwrap();
        (addr, listener, filler)
    }

    #[test]
    fn a_blackholed_address_gets_only_its_share_of_the_connect_time() {
        let (black, _listener, _filler) = blackholed_address();
        let good = TcpListener::bind("127.0.0.1:0").unwrap();
        let good_addr = good.local_addr().unwrap();
        let stop =
            Interrupt::new(Instant::now() + Duration::from_secs(6), CancellationToken::new());
        let started = Instant::now();
        let socket = connect_any(&[black, good_addr], &stop)
            .expect("the second address must be tried before the deadline");
        assert_eq!(socket.peer_addr().unwrap(), good_addr);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "{took:?}: the first address took more than half");
    }

    #[test]
    fn an_address_that_used_its_share_says_so() {
        let (black, _listener, _filler) = blackholed_address();
        let stop =
            Interrupt::new(Instant::now() + Duration::from_secs(30), CancellationToken::new())
                .for_attempt(Duration::from_millis(300));
        match connect_any(&[black], &stop) {
            Err(TransportError::Failed { stage: Stage::Connect, source }) => {
                assert_eq!(source.kind(), io::ErrorKind::TimedOut, "{source}");
                assert!(source.to_string().contains(&black.to_string()), "{source}");
            }
            other => panic!("expected a connect timeout, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn connections_have_tcp_keepalive() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stop =
            Interrupt::new(Instant::now() + Duration::from_secs(5), CancellationToken::new());
        let socket = connect(listener.local_addr().unwrap(), &stop).unwrap();
        let socket = socket2::SockRef::from(&socket);
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), Duration::from_secs(15));
    }

    #[test]
    fn address_families_alternate_from_the_first_choice() {
        let v6 = |n| SocketAddr::from((Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n), 443));
        let v4 = |n| SocketAddr::from((Ipv4Addr::new(10, 0, 0, n as u8), 443));
        let ordered = interleave_families(vec![v6(1), v6(2), v6(3), v4(1), v4(2)]);
        assert_eq!(ordered, vec![v6(1), v4(1), v6(2), v4(2), v6(3)]);
        assert_eq!(interleave_families(vec![v4(1), v4(2)]), vec![v4(1), v4(2)]);
        assert!(interleave_families(Vec::new()).is_empty());
    }
}
