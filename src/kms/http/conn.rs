// SPDX-License-Identifier: MPL-2.0
//! One connection to an origin: plain TCP or TLS, direct or through an HTTP proxy's `CONNECT`
//! tunnel. Every blocking step (name resolution, connect, handshake, reads, writes) waits at most
//! one [`SLICE`](super::interrupt::SLICE) at a time, so the call's deadline and cancellation
//! stop it promptly.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::interrupt::Interrupt;
use super::wire::{encode_request, ByteSource, Reader};
use super::{Origin, Proxy, Stage, TransportError};

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
        origin: &Origin,
        tls: &Arc<ClientConfig>,
        stop: &Interrupt,
    ) -> Result<Conn, TransportError> {
        let (host, port) = match &origin.proxy {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (origin.host.as_str(), origin.port),
        };
        let addrs = resolve(host, port, stop)?;
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
        origin: &Origin,
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

    /// Runs `op` until it completes, waiting at most one slice at a time between checks of
    /// `stop`. The stream's state survives a timed-out attempt (rustls buffers partial records).
    fn interruptible<T>(
        &mut self,
        stop: &Interrupt,
        stage: Stage,
        mut op: impl FnMut(&mut Stream) -> io::Result<T>,
    ) -> Result<T, TransportError> {
        loop {
            let wait = stop.next_wait()?;
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
        match rx.recv_timeout(stop.next_wait()?) {
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

/// Connects to the first of `addrs` that accepts.
fn connect_any(addrs: &[SocketAddr], stop: &Interrupt) -> Result<TcpStream, TransportError> {
    let mut last = None;
    for addr in addrs {
        match connect(*addr, stop) {
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
    use std::os::fd::AsRawFd;

    let fail = |e| TransportError::failed(Stage::Connect, e);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .map_err(fail)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
            let wait = stop.next_wait()?;
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
    socket.set_nonblocking(false).and_then(|()| socket.set_tcp_nodelay(true)).map_err(fail)?;
    Ok(socket.into())
}
