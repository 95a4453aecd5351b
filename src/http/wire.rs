// SPDX-License-Identifier: MPL-2.0
//! HTTP/1.1 on the wire: encoding a request, and reading a response head and body (by
//! `Content-Length`, chunked, or up to the close) from a [`ByteSource`]. Every buffer that may hold a
//! response body (a plaintext, a data key) is zeroed when dropped, including the ones left behind
//! when a buffer grows.

use std::io;
use std::ops::{Deref, DerefMut};

use zeroize::{Zeroize, Zeroizing};

use super::conn::Conn;
use super::interrupt::Interrupt;
use super::{Stage, TransportError};

/// The largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The largest response body accepted (KMS answers are a few KiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most headers a response head may have.
const MAX_HEADERS: usize = 64;
/// The read buffer's starting size: one read holds a whole KMS response.
const READ_CHUNK: usize = 4 * 1024;

/// Bytes zeroed with one bulk write when dropped (`Zeroizing<Vec<u8>>` zeroes byte by byte,
/// which costs microseconds per KiB-sized buffer on every request).
pub struct Scrubbed(Vec<u8>);

impl Scrubbed {
    /// Takes `bytes` over.
    pub fn new(bytes: Vec<u8>) -> Scrubbed {
        Scrubbed(bytes)
    }
}

impl Deref for Scrubbed {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Scrubbed {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl std::fmt::Debug for Scrubbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubbed({} bytes)", self.0.len())
    }
}

impl Drop for Scrubbed {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

/// Serialises a request: request line, headers, blank line, body. Refuses header values with
/// control characters (they would split the header).
pub fn encode_request(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Scrubbed, String> {
    for (name, value) in headers {
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(format!("header {name} has a value HTTP cannot carry"));
        }
    }
    let head_len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    let mut out = Vec::with_capacity(method.len() + target.len() + 13 + head_len + 2 + body.len());
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok(Scrubbed::new(out))
}

/// A response's status line and headers.
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The headers.
    pub headers: Headers,
    /// Whether the server closes the connection after this response.
    pub close: bool,
}

impl Head {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// Response headers in one string (two allocations per response, not two per header).
#[derive(Debug, Default)]
pub struct Headers {
    /// Lower-cased names and values, back to back.
    text: String,
    /// Where each header's name and value are in `text`, in order.
    spans: Vec<(usize, usize, usize)>,
}

impl Headers {
    /// Copies httparse's headers (names lower-cased, values decoded as UTF-8 lossily).
    fn of(parsed: &[httparse::Header<'_>]) -> Headers {
        let size = parsed.iter().map(|h| h.name.len() + h.value.len()).sum();
        let mut headers = Headers { text: String::with_capacity(size), spans: Vec::new() };
        headers.spans.reserve_exact(parsed.len());
        for h in parsed {
            let start = headers.text.len();
            headers.text.extend(h.name.chars().map(|c| c.to_ascii_lowercase()));
            let name_end = headers.text.len();
            headers.text.push_str(&String::from_utf8_lossy(h.value));
            headers.spans.push((start, name_end, headers.text.len()));
        }
        headers
    }

    /// The first value of header `name` (lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.spans
            .iter()
            .find(|(start, name_end, _)| &self.text[*start..*name_end] == name)
            .map(|(_, name_end, end)| &self.text[*name_end..*end])
    }
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

impl Framing {
    /// The framing of the response to a `method` request with `head`.
    pub fn of(method: &str, head: &Head) -> Result<Framing, TransportError> {
        if method == "HEAD" || head.status == 204 || head.status == 304 {
            return Ok(Framing::Empty);
        }
        if let Some(encoding) = head.header("transfer-encoding") {
            let last = encoding.rsplit(',').next().unwrap_or_default().trim();
            return Ok(if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            });
        }
        match head.header("content-length") {
            Some(value) => match digits(value.trim(), 10) {
                Ok(len) if len <= MAX_BODY => Ok(Framing::Length(len)),
                Ok(len) => Err(protocol(format!(
                    "the response body ({len} bytes) is larger than the {MAX_BODY}-byte limit"
                ))),
                Err(()) => Err(protocol(format!("invalid Content-Length {value:?}"))),
            },
            None => Ok(Framing::UntilClose),
        }
    }
}

/// A non-empty run of digits in `radix` (no sign, no spaces: RFC 9112's `1*DIGIT` and
/// `1*HEXDIG`), as a number.
fn digits(text: &str, radix: u32) -> Result<usize, ()> {
    if text.is_empty() || !text.chars().all(|c| c.is_digit(radix)) {
        return Err(());
    }
    usize::from_str_radix(text, radix).map_err(|_| ())
}

/// A malformed-response error.
fn protocol(message: String) -> TransportError {
    TransportError::failed(Stage::Receive, io::Error::new(io::ErrorKind::InvalidData, message))
}

/// Where a [`Reader`] gets its bytes: a connection, or a byte string (the fuzz target).
pub trait ByteSource {
    /// Reads some bytes into `buf`; 0 means the peer closed. Waits are bounded by `stop`;
    /// failures are reported as happening during `stage`.
    fn read_some(
        &mut self,
        buf: &mut [u8],
        stop: &Interrupt,
        stage: Stage,
    ) -> Result<usize, TransportError>;
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

/// Reads one response from a connection through a buffer.
pub struct Reader<'c> {
    conn: &'c mut dyn ByteSource,
    stop: &'c Interrupt,
    stage: Stage,
    buf: Scrubbed,
    start: usize,
    end: usize,
    received_any: bool,
}

impl<'c> Reader<'c> {
    /// A reader of `conn`; failures are reported as happening during `stage`.
    pub fn new(conn: &'c mut dyn ByteSource, stop: &'c Interrupt, stage: Stage) -> Reader<'c> {
        let buf = Scrubbed::new(vec![0; READ_CHUNK]);
        Reader { conn, stop, stage, buf, start: 0, end: 0, received_any: false }
    }

    /// Whether any byte arrived (a reused connection that closes before any byte was stale).
    pub fn received_any(&self) -> bool {
        self.received_any
    }

    /// Whether bytes beyond the response were received (the connection is then out of step).
    pub fn has_leftover(&self) -> bool {
        self.end > self.start
    }

    /// Reads more bytes into the buffer (growing it when full); returns how many (0 = the
    /// connection closed).
    fn fill(&mut self) -> Result<usize, TransportError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let mut bigger = Scrubbed::new(vec![0; self.buf.len() * 2]);
            bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
            self.buf = bigger;
        }
        let n = self.conn.read_some(&mut self.buf[self.end..], self.stop, self.stage)?;
        self.end += n;
        self.received_any |= n > 0;
        Ok(n)
    }

    fn closed_early(&self, what: &str) -> TransportError {
        TransportError::failed(
            self.stage,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the connection closed before the end of the {what}"),
            ),
        )
    }

    /// Reads a response head, skipping interim (1xx) responses.
    pub fn read_head(&mut self) -> Result<Head, TransportError> {
        loop {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut slots);
            match parsed.parse(&self.buf[self.start..self.end]) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = to_head(&parsed);
                    self.start += len;
                    if head.status < 100 {
                        let status = head.status;
                        return Err(self.malformed(format!("status code {status:03}")));
                    }
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue;
                    }
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) => {
                    if self.end - self.start >= MAX_HEAD {
                        return Err(self.malformed(format!("a head larger than {MAX_HEAD} bytes")));
                    }
                    if self.fill()? == 0 {
                        return Err(self.closed_early("response head"));
                    }
                }
                Err(e) => return Err(self.malformed(format!("a malformed head ({e})"))),
            }
        }
    }

    fn malformed(&self, what: String) -> TransportError {
        TransportError::failed(
            self.stage,
            io::Error::new(io::ErrorKind::InvalidData, format!("the server sent {what}")),
        )
    }

    /// Reads a body delimited by `framing`.
    pub fn read_body(&mut self, framing: Framing) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let mut body = Zeroizing::new(Vec::new());
        match framing {
            Framing::Empty => {}
            Framing::Length(len) => self.read_exact_into(&mut body, len)?,
            Framing::Chunked => self.read_chunks(&mut body)?,
            Framing::UntilClose => self.read_to_close(&mut body)?,
        }
        Ok(body)
    }

    /// Appends exactly `len` bytes to `body`.
    fn read_exact_into(
        &mut self,
        body: &mut Zeroizing<Vec<u8>>,
        len: usize,
    ) -> Result<(), TransportError> {
        // `len` is a chunk size the server chose (up to `usize::MAX`): the sum must not wrap.
        if body.len().saturating_add(len) > MAX_BODY {
            return Err(self.malformed(format!("a body larger than {MAX_BODY} bytes")));
        }
        let mut at = body.len();
        reserve_zeroizing(body, len);
        body.resize(at + len, 0);
        let buffered = (self.end - self.start).min(len);
        body[at..at + buffered].copy_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        at += buffered;
        while at < body.len() {
            let n = self.conn.read_some(&mut body[at..], self.stop, self.stage)?;
            if n == 0 {
                return Err(self.closed_early("response body"));
            }
            at += n;
        }
        Ok(())
    }

    /// One line (without its CR LF), for chunk sizes and trailers.
    fn read_line(&mut self) -> Result<Vec<u8>, TransportError> {
        loop {
            if let Some(pos) = self.buf[self.start..self.end].iter().position(|&b| b == b'\n') {
                let line = &self.buf[self.start..self.start + pos];
                let line = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
                self.start += pos + 1;
                return Ok(line);
            }
            if self.end - self.start >= MAX_HEAD {
                return Err(self.malformed("a chunk line that never ends".to_owned()));
            }
            if self.fill()? == 0 {
                return Err(self.closed_early("chunked body"));
            }
        }
    }

    fn read_chunks(&mut self, body: &mut Zeroizing<Vec<u8>>) -> Result<(), TransportError> {
        loop {
            let line = self.read_line()?;
            let size = std::str::from_utf8(&line)
                .ok()
                .map(|l| l.split(';').next().unwrap_or_default().trim())
                .and_then(|hex| digits(hex, 16).ok())
                .ok_or_else(|| self.malformed("an invalid chunk size".to_owned()))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(());
            }
            self.read_exact_into(body, size)?;
            if !self.read_line()?.is_empty() {
                return Err(self.malformed("a chunk longer than its size".to_owned()));
            }
        }
    }

    fn read_to_close(&mut self, body: &mut Zeroizing<Vec<u8>>) -> Result<(), TransportError> {
        loop {
            let buffered = self.end - self.start;
            if body.len() + buffered > MAX_BODY {
                return Err(self.malformed(format!("a body larger than {MAX_BODY} bytes")));
            }
            reserve_zeroizing(body, buffered);
            body.extend_from_slice(&self.buf[self.start..self.end]);
            self.start = self.end;
            match self.fill() {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                // A TLS peer that closes without close_notify ends a close-delimited body too.
                Err(TransportError::Failed { source, .. })
                    if source.kind() == io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(())
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Makes room for `extra` more bytes without leaving an unzeroed copy behind: when the vector
/// must grow, its contents move to a new allocation and the old one is zeroed.
fn reserve_zeroizing(vec: &mut Zeroizing<Vec<u8>>, extra: usize) {
    let needed = vec.len() + extra;
    if needed <= vec.capacity() {
        return;
    }
    let mut bigger = Vec::with_capacity(needed.max(vec.capacity() * 2));
    bigger.extend_from_slice(vec);
    *vec = Zeroizing::new(bigger);
}

fn to_head(parsed: &httparse::Response<'_, '_>) -> Head {
    let headers = Headers::of(parsed.headers);
    let connection = headers.get("connection");
    let has_token = |token: &str| {
        connection.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let http10 = parsed.version == Some(0);
    Head {
        status: parsed.code.unwrap_or_default(),
        reason: parsed.reason.unwrap_or_default().to_owned(),
        close: has_token("close") || (http10 && !has_token("keep-alive")),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_requests_and_refuses_split_headers() {
        let msg = encode_request("POST", "/a", &[("host", "h"), ("x", "1")], b"{}").unwrap();
        assert_eq!(&msg[..], b"POST /a HTTP/1.1\r\nhost: h\r\nx: 1\r\n\r\n{}");
        let err = encode_request("GET", "/", &[("authorization", "a\r\nevil: 1")], b"");
        assert!(err.unwrap_err().contains("authorization"));
    }

    fn head(status: u16, headers: &[(&str, &str)]) -> Head {
        let parsed: Vec<httparse::Header<'_>> = headers
            .iter()
            .map(|(name, value)| httparse::Header { name, value: value.as_bytes() })
            .collect();
        Head { status, reason: String::new(), headers: Headers::of(&parsed), close: false }
    }

    #[test]
    fn headers_are_found_by_lower_case_name() {
        let parsed = [
            httparse::Header { name: "Content-Length", value: b"12" },
            httparse::Header { name: "OPC-Request-Id", value: b"abc" },
            httparse::Header { name: "opc-request-id", value: b"second" },
        ];
        let headers = Headers::of(&parsed);
        assert_eq!(headers.get("content-length"), Some("12"));
        assert_eq!(headers.get("opc-request-id"), Some("abc"));
        assert_eq!(headers.get("retry-after"), None);
        assert_eq!(Headers::default().get("x"), None);
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let of = |method, h: &Head| Framing::of(method, h).unwrap();
        assert_eq!(of("GET", &head(200, &[("content-length", "12")])), Framing::Length(12));
        assert_eq!(of("HEAD", &head(200, &[("content-length", "12")])), Framing::Empty);
        assert_eq!(of("GET", &head(204, &[])), Framing::Empty);
        let chunked = head(200, &[("transfer-encoding", "gzip, chunked"), ("content-length", "3")]);
        assert_eq!(of("GET", &chunked), Framing::Chunked);
        assert_eq!(of("GET", &head(200, &[("transfer-encoding", "gzip")])), Framing::UntilClose);
        assert_eq!(of("GET", &head(200, &[])), Framing::UntilClose);
        assert!(Framing::of("GET", &head(200, &[("content-length", "x")])).is_err());
        assert!(Framing::of("GET", &head(200, &[("content-length", "+5")])).is_err());
        assert!(Framing::of("GET", &head(200, &[("content-length", "")])).is_err());
        assert_eq!(digits("1aF", 16), Ok(0x1af));
        assert_eq!(digits("+1", 16), Err(()));
        let huge = (MAX_BODY + 1).to_string();
        assert!(Framing::of("GET", &head(200, &[("content-length", &huge)])).is_err());
    }

    #[test]
    fn growing_keeps_contents() {
        let mut v = Zeroizing::new(b"abc".to_vec());
        reserve_zeroizing(&mut v, 100);
        assert!(v.capacity() >= 103);
        assert_eq!(&v[..], b"abc");
    }
}
