// SPDX-License-Identifier: MPL-2.0
//! Entry points for the fuzz targets and their corpus replay (`fuzz/`, `tests/reliability_fuzz_corpus.rs`):
//! the client's parsing of OCI responses, reachable without a server. Not a stable API.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::auth::PrincipalType;
use crate::error::Error;

use super::errors::{service_error, NamedPrincipal, Operation};
use super::models::{DecryptedData, EncryptedData, GeneratedKeyData, Key, KeyVersion};
use crate::http::{read_response, ByteSource, Interrupt, Stage, TransportError, MAX_BODY};

/// Maps an error response (`status`, response `opc-request-id`, body) exactly as the client does.
pub fn error_response(status: u16, request_id: Option<&str>, body: &[u8]) -> Error {
    let op = Operation {
        name: "encrypt",
        key_id: "ocid1.key.oc1..fuzz",
        endpoint: "https://fuzz-crypto.kms.us-ashburn-1.oraclecloud.com",
        verb: "use",
        provider: &NamedPrincipal("user ocid1.user.oc1..fuzz", PrincipalType::User),
    };
    service_error(&op, status, request_id, "sent-request-id", body)
}

/// Parses `body` as each success response the client reads; returns how many types accepted it.
pub fn success_body(body: &[u8]) -> usize {
    [
        serde_json::from_slice::<EncryptedData>(body).is_ok(),
        serde_json::from_slice::<DecryptedData>(body).is_ok(),
        serde_json::from_slice::<GeneratedKeyData>(body).is_ok(),
        serde_json::from_slice::<Key>(body).is_ok(),
        serde_json::from_slice::<KeyVersion>(body).is_ok(),
        serde_json::from_slice::<Vec<KeyVersion>>(body).is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

/// What the transport made of a response: status, body, whether the connection stays open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSummary {
    /// The final status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the connection could carry another request.
    pub keep_alive: bool,
}

/// The largest body [`http_response`] may ever return.
pub const MAX_RESPONSE_BODY: usize = MAX_BODY;

/// Reads `data[1..]` as the KMS transport reads a response from the network, delivered in reads of
/// at most `1 + data[0] % 64` bytes (all at once when `data[0]` is 0 or 1), to a GET request (a
/// HEAD request when `data[0]` is odd). Returns the transport's error text when it refuses them.
pub fn http_response(data: &[u8]) -> std::result::Result<ResponseSummary, String> {
    let (first, bytes) = data.split_first().map_or((0, data), |(f, rest)| (*f, rest));
    let step = if first < 2 { usize::MAX } else { 1 + usize::from(first % 64) };
    let method = if first % 2 == 1 { "HEAD" } else { "GET" };
    let mut source = Chunks { data: bytes, step };
    let stop = Interrupt::new(Instant::now() + Duration::from_secs(3600), CancellationToken::new());
    match read_response(&mut source, method, &stop) {
        Ok((resp, keep_alive)) => {
            Ok(ResponseSummary { status: resp.status, body: resp.body.to_vec(), keep_alive })
        }
        Err((error, _)) => Err(error.to_string()),
    }
}

/// Bytes handed out `step` at a time.
struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
}

impl ByteSource for Chunks<'_> {
    fn read_some(
        &mut self,
        buf: &mut [u8],
        _stop: &Interrupt,
        _stage: Stage,
    ) -> std::result::Result<usize, TransportError> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_read_the_same_in_any_split() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n\
                        6\r\n world\r\n0\r\nTrailer: t\r\n\r\n";
        for first in [0u8, 2, 8, 62] {
            let data = [&[first][..], chunked].concat();
            let read = http_response(&data).unwrap();
            let body = b"hello world".to_vec();
            assert_eq!(read, ResponseSummary { status: 200, body, keep_alive: true });
        }
        let head = [&[1u8][..], b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"].concat();
        assert_eq!(http_response(&head).unwrap().body, b"");
        let closed = [&[0u8][..], b"HTTP/1.0 200 OK\r\n\r\nrest"].concat();
        let read = http_response(&closed).unwrap();
        assert_eq!((&read.body[..], read.keep_alive), (&b"rest"[..], false));
        let refused =
            http_response(b"\x00HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx").unwrap_err();
        assert!(refused.starts_with("reading the response: "), "{refused}");
        let below_100 = http_response(b"\x00HTTP/1.1 099 Odd\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
        assert!(below_100.unwrap_err().contains("status code 099"));
    }
}
