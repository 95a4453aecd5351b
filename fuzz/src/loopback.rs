// SPDX-License-Identifier: MPL-2.0
//! Loopback HTTP/1.1 servers for the fuzz targets: each accepted connection runs a handler on its
//! own thread, which reads requests (head, and the body its `Content-Length` announces) and
//! writes whatever bytes it likes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How long a connection waits for the client before its thread gives up.
const PEER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request accepted (a KMS request is a few KiB).
const MAX_REQUEST: usize = 1 << 20;

/// A request as the server saw it.
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target.
    pub path: String,
    /// The body.
    pub body: Vec<u8>,
}

/// The server's side of one connection.
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    /// The next request; `None` once the client closed the connection, went quiet for
    /// [`PEER_TIMEOUT`] or sent something that is not a request.
    pub fn request(&mut self) -> Option<Request> {
        loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Request::new(&mut slots);
            if let httparse::Status::Complete(head_len) = parsed.parse(&self.buf).ok()? {
                let body_len: usize = parsed
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                    .unwrap_or(0);
                let (method, path) = (parsed.method?.to_owned(), parsed.path?.to_owned());
                while self.buf.len() < head_len + body_len {
                    self.fill()?;
                }
                let body = self.buf[head_len..head_len + body_len].to_vec();
                self.buf.drain(..head_len + body_len);
                return Some(Request { method, path, body });
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> Option<()> {
        let mut chunk = [0; 4096];
        match self.stream.read(&mut chunk) {
            Ok(n) if n > 0 && self.buf.len() + n <= MAX_REQUEST => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(())
            }
            _ => None,
        }
    }

    /// Writes `bytes` in pieces of at most `piece` bytes; false once the client is gone.
    pub fn write(&mut self, bytes: &[u8], piece: usize) -> bool {
        bytes.chunks(piece.max(1)).all(|part| self.stream.write_all(part).is_ok())
    }
}

/// Starts a server on `ip` (port chosen by the system) whose connections run `handler` until
/// it returns (then the connection closes). The server lives as long as the process.
pub fn serve(ip: &str, handler: impl Fn(&mut Connection) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
    let addr = listener.local_addr().expect("the loopback port");
    let handler = Arc::new(handler);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = Arc::clone(&handler);
            thread::spawn(move || {
                if stream.set_read_timeout(Some(PEER_TIMEOUT)).is_ok()
                    && stream.set_nodelay(true).is_ok()
                {
                    handler(&mut Connection { stream, buf: Vec::new() });
                }
            });
        }
    });
    addr
}
