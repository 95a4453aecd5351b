// SPDX-License-Identifier: MPL-2.0
//! A serialised request, a response, and reading a response from a byte source.

use zeroize::Zeroizing;

use super::error::{Stage, TransportError};
use super::interrupt::Interrupt;
use super::wire::{ByteSource, Framing, Headers, Reader, Scrubbed};

/// A serialised request.
pub struct HttpRequest {
    pub(super) method: &'static str,
    /// Request line, headers and body (zeroed when dropped: the body may carry a plaintext).
    pub(super) message: Scrubbed,
}

/// A response.
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    headers: Headers,
    /// The body (zeroed when dropped: it may carry a plaintext or a data key).
    pub body: Zeroizing<Vec<u8>>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
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
