// SPDX-License-Identifier: MPL-2.0
//! HTTP/1.1 on the wire: encoding a request, and reading a response head and body (by
//! `Content-Length`, chunked, or up to the close) from a [`ByteSource`]. Every buffer that may hold a
//! response body (a plaintext, a data key) is zeroed when dropped, including the ones left behind
//! when a buffer grows.

use std::io;
use std::ops::{Deref, DerefMut};

use zeroize::{Zeroize, Zeroizing};

use super::error::{Stage, TransportError};
use super::interrupt::Interrupt;

/// The largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The largest response body accepted (KMS answers are a few KiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most headers a response head may have.
const MAX_HEADERS: usize = 64;
/// The read buffer's starting size: one read holds a whole KMS response.
const READ_CHUNK: usize = 4 * 1024;
/// The most interim (1xx) responses skipped before the final one.
const MAX_INTERIM_RESPONSES: usize = 16;
/// The largest trailer section of a chunked body (hyper's limit), final empty line included.
const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// The most chunk-extension bytes in one chunked body (hyper's limit).
const MAX_CHUNK_EXTENSIONS: usize = 16 * 1024;
/// The most body space allocated ahead of the bytes that fill it: a `Content-Length` or chunk
/// size is only the server's word.
const MAX_BODY_PREALLOC: usize = 64 * 1024;

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
    /// Whether the connection must close after this response: the server says so (HTTP/1.0
    /// without keep-alive, `Connection: close`), it switches protocols (101), or the response
    /// is framed both by `Transfer-Encoding` and `Content-Length` (a smuggling sign).
    pub close: bool,
    /// Whether the response is HTTP/1.0 (which cannot carry `Transfer-Encoding`).
    pub http10: bool,
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
        self.all(name).next()
    }

    /// Every value of header `name` (lower case), in order.
    pub fn all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl DoubleEndedIterator<Item = &'a str> + use<'a, 'n> {
        self.spans
            .iter()
            .filter(move |(start, name_end, _)| &self.text[*start..*name_end] == name)
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
    /// The framing of the response to a `method` request with `head` (RFC 9112 section 6.3, with
    /// hyper's choices: a 101 has no body; several `Transfer-Encoding` lines are one list).
    pub fn of(method: &str, head: &Head) -> Result<Framing, TransportError> {
        if method == "HEAD" || matches!(head.status, 101 | 204 | 304) {
            return Ok(Framing::Empty);
        }
        if let Some(encodings) = head.headers.all("transfer-encoding").next_back() {
            if head.http10 {
                return Err(protocol("an HTTP/1.0 response with Transfer-Encoding".to_owned()));
            }
            let last = encodings.rsplit(',').next().unwrap_or_default().trim();
            return Ok(if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            });
        }
        match content_length(&head.headers)? {
            Some(len) if len <= MAX_BODY => Ok(Framing::Length(len)),
            Some(len) => Err(protocol(format!(
                "the response body ({len} bytes) is larger than the {MAX_BODY}-byte limit"
            ))),
            None => Ok(Framing::UntilClose),
        }
    }
}

/// The `Content-Length` of `headers`: every line and every comma-separated value in them must
/// be the same number (RFC 9110 section 8.6); `None` when there is none.
fn content_length(headers: &Headers) -> Result<Option<usize>, TransportError> {
    let mut length = None;
    for line in headers.all("content-length") {
        for value in line.split(',') {
            let len = digits(value.trim(), 10)
                .map_err(|()| protocol(format!("invalid Content-Length {line:?}")))?;
            if length.is_some_and(|first| first != len) {
                return Err(protocol(format!(
                    "conflicting Content-Length values ({} and {len})",
                    length.unwrap_or_default()
                )));
            }
            length = Some(len);
        }
    }
    Ok(length)
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

    /// Reads a response head, skipping interim (1xx) responses (at most
    /// [`MAX_INTERIM_RESPONSES`]).
    pub fn read_head(&mut self) -> Result<Head, TransportError> {
        let mut interim = 0;
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
                        interim += 1;
                        if interim > MAX_INTERIM_RESPONSES {
                            let many =
                                format!("more than {MAX_INTERIM_RESPONSES} interim responses");
                            return Err(self.malformed(many));
                        }
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

    /// Appends exactly `len` bytes to `body`, allocating as they arrive (at most
    /// [`MAX_BODY_PREALLOC`] ahead of them): `len` is only what the server announced.
    fn read_exact_into(
        &mut self,
        body: &mut Zeroizing<Vec<u8>>,
        len: usize,
    ) -> Result<(), TransportError> {
        // `len` is a chunk size the server chose (up to `usize::MAX`): the sum must not wrap.
        if body.len().saturating_add(len) > MAX_BODY {
            return Err(self.malformed(format!("a body larger than {MAX_BODY} bytes")));
        }
        let end = body.len() + len;
        let buffered = (self.end - self.start).min(len);
        reserve_zeroizing(body, buffered);
        body.extend_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        while body.len() < end {
            let at = body.len();
            let step = (end - at).min(MAX_BODY_PREALLOC);
            reserve_zeroizing(body, step);
            body.resize(at + step, 0);
            let read = self.conn.read_some(&mut body[at..], self.stop, self.stage);
            body.truncate(at + *read.as_ref().unwrap_or(&0));
            if read? == 0 {
                return Err(self.closed_early("response body"));
            }
        }
        Ok(())
    }

    /// The bytes up to the next CR, which must be followed by LF (consumed, not returned). Used
    /// for chunk framing, where hyper requires CR LF line ends.
    fn read_crlf_line(&mut self) -> Result<Vec<u8>, TransportError> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(cr) = pending.iter().position(|&b| b == b'\r') {
                if let Some(&after) = pending.get(cr + 1) {
                    if after != b'\n' {
                        return Err(self.malformed("a chunk line not ended by CR LF".to_owned()));
                    }
                    let line = pending[..cr].to_vec();
                    self.start += cr + 2;
                    return Ok(line);
                }
            }
            if pending.len() >= MAX_HEAD {
                return Err(self.malformed("a chunk line that never ends".to_owned()));
            }
            if self.fill()? == 0 {
                return Err(self.closed_early("chunked body"));
            }
        }
    }

    fn read_chunks(&mut self, body: &mut Zeroizing<Vec<u8>>) -> Result<(), TransportError> {
        let mut extension_bytes = 0;
        loop {
            let line = self.read_crlf_line()?;
            let (size, extension) = chunk_size_line(&line)
                .ok_or_else(|| self.malformed("an invalid chunk size line".to_owned()))?;
            extension_bytes += extension;
            if extension_bytes >= MAX_CHUNK_EXTENSIONS {
                let what = format!("more than {MAX_CHUNK_EXTENSIONS} bytes of chunk extensions");
                return Err(self.malformed(what));
            }
            if size == 0 {
                return self.read_trailers();
            }
            self.read_exact_into(body, size)?;
            if !self.read_crlf_line()?.is_empty() {
                return Err(self.malformed("a chunk longer than its size".to_owned()));
            }
        }
    }

    /// Reads the trailer section after the last chunk, bounded as hyper bounds it (count and
    /// bytes); its lines must be valid header fields. Their values are not used.
    fn read_trailers(&mut self) -> Result<(), TransportError> {
        let mut section = Vec::new();
        let mut count = 0;
        loop {
            let line = self.read_crlf_line()?;
            if line.is_empty() {
                break;
            }
            count += 1;
            section.extend_from_slice(&line);
            section.extend_from_slice(b"\r\n");
            if count > MAX_HEADERS || section.len() + 2 >= MAX_TRAILER_BYTES {
                let what = format!(
                    "trailers over the limit ({MAX_HEADERS} fields, {MAX_TRAILER_BYTES} bytes)"
                );
                return Err(self.malformed(what));
            }
        }
        if count == 0 {
            return Ok(());
        }
        section.extend_from_slice(b"\r\n");
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::parse_headers(&section, &mut slots[..count]) {
            Ok(httparse::Status::Complete(_)) => Ok(()),
            Ok(httparse::Status::Partial) | Err(_) => {
                Err(self.malformed("a malformed trailer field".to_owned()))
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
            // Only a clean close ends the body: a TLS peer that closes without close_notify
            // makes rustls report `UnexpectedEof`, an error here (the body may be truncated).
            if self.fill()? == 0 {
                return Ok(());
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

/// A chunk size line (without its CR LF) as hyper reads it: hex digits, optional spaces or
/// tabs, then optionally `;` and extensions (anything but CR and LF). Returns the size and the
/// extensions' length.
fn chunk_size_line(line: &[u8]) -> Option<(usize, usize)> {
    let digits_end = line.iter().position(|b| !b.is_ascii_hexdigit()).unwrap_or(line.len());
    let size = digits(std::str::from_utf8(&line[..digits_end]).ok()?, 16).ok()?;
    let rest = &line[digits_end..];
    let spaces = rest.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(rest.len());
    match &rest[spaces..] {
        [] => Some((size, 0)),
        [b';', extension @ ..] if !extension.contains(&b'\n') => Some((size, extension.len())),
        _ => None,
    }
}

fn to_head(parsed: &httparse::Response<'_, '_>) -> Head {
    let headers = Headers::of(parsed.headers);
    let has_token = |token: &str| {
        headers
            .all("connection")
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let http10 = parsed.version == Some(0);
    let status = parsed.code.unwrap_or_default();
    let framed_twice =
        headers.get("transfer-encoding").is_some() && headers.get("content-length").is_some();
    Head {
        status,
        reason: parsed.reason.unwrap_or_default().to_owned(),
        close: has_token("close")
            || (http10 && !has_token("keep-alive"))
            || status == 101
            || framed_twice,
        http10,
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
        let headers = Headers::of(&parsed);
        Head { status, reason: String::new(), headers, close: false, http10: false }
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

    /// Reads handed out one scripted step at a time: bytes (as much as fits), or an error.
    struct Script(std::collections::VecDeque<io::Result<Vec<u8>>>);

    impl Script {
        fn new(steps: Vec<io::Result<Vec<u8>>>) -> Script {
            Script(steps.into())
        }
    }

    impl ByteSource for Script {
        fn read_some(
            &mut self,
            buf: &mut [u8],
            _stop: &Interrupt,
            stage: Stage,
        ) -> Result<usize, TransportError> {
            match self.0.pop_front() {
                None => Ok(0),
                Some(Err(e)) => Err(TransportError::failed(stage, e)),
                Some(Ok(mut bytes)) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    if n < bytes.len() {
                        self.0.push_front(Ok(bytes.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }

    fn far() -> Interrupt {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3600);
        Interrupt::new(deadline, tokio_util::sync::CancellationToken::new())
    }

    /// Reads one response to `method` from `bytes` (all at once, then the connection closes):
    /// its head, body, and whether bytes were left over.
    fn read(method: &str, bytes: &[u8]) -> Result<(Head, Vec<u8>, bool), TransportError> {
        let mut source = Script::new(vec![Ok(bytes.to_vec())]);
        let stop = far();
        let mut reader = Reader::new(&mut source, &stop, Stage::Receive);
        let head = reader.read_head()?;
        let body = reader.read_body(Framing::of(method, &head)?)?;
        let leftover = reader.has_leftover();
        Ok((head, body.to_vec(), leftover))
    }

    fn refusal(method: &str, bytes: &[u8]) -> String {
        match read(method, bytes) {
            Err(e) => e.to_string(),
            Ok((head, body, _)) => {
                panic!("accepted: {} with {} body bytes", head.status, body.len())
            }
        }
    }

    #[test]
    fn conflicting_content_lengths_are_refused_equal_ones_accepted() {
        let cl = |values: &str| format!("HTTP/1.1 200 OK\r\n{values}\r\n\r\nhelloworld");
        let err = refusal("GET", cl("Content-Length: 5\r\nContent-Length: 7").as_bytes());
        assert!(err.contains("Content-Length"), "{err}");
        assert!(read("GET", cl("Content-Length: 5, 6").as_bytes()).is_err());
        for same in ["Content-Length: 5\r\nContent-Length: 5", "Content-Length: 5 , 5"] {
            let (_, body, _) = read("GET", cl(same).as_bytes()).unwrap();
            assert_eq!(body, b"hello", "{same}");
        }
    }

    #[test]
    fn transfer_encoding_and_content_length_together_close_the_connection() {
        let both = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
                     5\r\nhello\r\n0\r\n\r\n";
        let (head, body, _) = read("GET", both).unwrap();
        assert_eq!(body, b"hello");
        assert!(head.close, "a response framed both ways must not be kept alive");
        let (head, _, _) = read("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert!(!head.close);
    }

    #[test]
    fn interim_responses_are_bounded() {
        let mut many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM_RESPONSES);
        many.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_eq!(read("GET", &many).unwrap().1, b"ok");
        let more = [&b"HTTP/1.1 103 Early Hints\r\n\r\n"[..], &many].concat();
        let err = refusal("GET", &more);
        assert!(err.contains("interim"), "{err}");
    }

    #[test]
    fn trailers_are_bounded_in_count_and_size() {
        let chunked = |trailers: &str| {
            format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n{trailers}\r\n")
        };
        let lines = |n: usize| (0..n).map(|i| format!("t{i}: v\r\n")).collect::<String>();
        assert_eq!(read("GET", chunked(&lines(MAX_HEADERS)).as_bytes()).unwrap().1, b"ok");
        let err = refusal("GET", chunked(&lines(MAX_HEADERS + 1)).as_bytes());
        assert!(err.contains("trailer"), "{err}");
        let long = format!("t: {}\r\n", "v".repeat(MAX_TRAILER_BYTES));
        let err = refusal("GET", chunked(&long).as_bytes());
        assert!(err.contains("trailer"), "{err}");
        let err = refusal("GET", chunked("no colon here\r\n").as_bytes());
        assert!(err.contains("trailer"), "{err}");
    }

    #[test]
    fn a_content_length_is_not_allocated_before_the_body_arrives() {
        let mut source = Script::new(vec![Ok(vec![7; 10])]);
        let stop = far();
        let mut reader = Reader::new(&mut source, &stop, Stage::Receive);
        let mut body = Zeroizing::new(Vec::new());
        assert!(reader.read_exact_into(&mut body, MAX_BODY).is_err());
        assert_eq!((body.len(), body.first()), (10, Some(&7)));
        assert!(body.capacity() <= 2 * MAX_BODY_PREALLOC, "capacity {}", body.capacity());
    }

    #[test]
    fn a_tls_close_without_close_notify_does_not_complete_a_body() {
        let eof =
            || io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed without close_notify");
        let head = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        let mut source = Script::new(vec![Ok(head), Ok(b"partial".to_vec()), Err(eof())]);
        let stop = far();
        let mut reader = Reader::new(&mut source, &stop, Stage::Receive);
        let head = reader.read_head().unwrap();
        assert_eq!(Framing::of("GET", &head).unwrap(), Framing::UntilClose);
        let err = reader.read_body(Framing::UntilClose).unwrap_err();
        assert!(err.to_string().contains("close_notify"), "{err}");
        // A clean close (0 bytes read: TCP FIN, or TLS with close_notify) does end it.
        let (_, body, _) = read("GET", b"HTTP/1.1 200 OK\r\n\r\nall of it").unwrap();
        assert_eq!(body, b"all of it");
    }

    #[test]
    fn chunk_framing_is_as_strict_as_hyper() {
        let chunked =
            |body: &str| format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
        for good in ["5 \t;a=b;c\r\nhello\r\n0\r\n\r\n", "005\r\nhello\r\n0;x\r\nT: 1\r\n\r\n"] {
            assert_eq!(read("GET", chunked(good).as_bytes()).unwrap().1, b"hello", "{good:?}");
        }
        for bad in [
            "5\nhello\r\n0\r\n\r\n",
            " 5\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello\n0\r\n\r\n",
            "5\r\nhelloX\r\n0\r\n\r\n",
            "5;a\nb\r\nhello\r\n0\r\n\r\n",
            "5 5\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello\r\n0\r\n\n",
        ] {
            assert!(read("GET", chunked(bad).as_bytes()).is_err(), "{bad:?}");
        }
        let ext = format!("2;{}\r\nok\r\n", "e".repeat(MAX_CHUNK_EXTENSIONS / 2));
        let err = refusal("GET", chunked(&format!("{ext}{ext}0\r\n\r\n")).as_bytes());
        assert!(err.contains("extension"), "{err}");
    }

    #[test]
    fn every_instance_of_a_repeated_header_counts() {
        let te =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n";
        let (head, _, _) = read("HEAD", te).unwrap();
        assert_eq!(Framing::of("GET", &head).unwrap(), Framing::UntilClose);
        let close = b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\
                      Content-Length: 0\r\n\r\n";
        assert!(read("GET", close).unwrap().0.close);
    }

    #[test]
    fn http_1_0_chunked_and_101_follow_hyper() {
        let old = b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        assert!(refusal("GET", old).contains("Transfer-Encoding"));
        let (head, body, leftover) =
            read("GET", b"HTTP/1.1 101 Switching Protocols\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
        assert_eq!((head.status, body.len(), leftover, head.close), (101, 0, true, true));
    }
}
