// SPDX-License-Identifier: MPL-2.0
//! The emulator's request and reply types, independent of the HTTP server plumbing.

use std::net::SocketAddr;

use bytes::Bytes;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::errors::ApiError;
use crate::verify::SignedRequest;

/// A fully read request.
pub struct Request {
    /// Method, upper case.
    pub method: String,
    /// Path and query exactly as on the request line.
    pub target: String,
    /// Path only.
    pub path: String,
    /// Query string (without `?`), empty if none.
    pub query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Peer address.
    pub peer: SocketAddr,
}

/// A reply before the server adds `opc-request-id`.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Content type.
    pub content_type: &'static str,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(value: &impl Serialize) -> Self {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: serde_json::to_vec(value).unwrap_or_default(),
            content_type: "application/json",
        }
    }

    /// 200 with a text body.
    pub fn text(text: impl Into<String>) -> Self {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: text.into().into_bytes(),
            content_type: "text/plain",
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The reply for a service error.
    pub fn error(e: &ApiError) -> Self {
        let mut r = Reply {
            status: e.status,
            headers: Vec::new(),
            body: e.body(),
            content_type: "application/json",
        };
        if let Some(s) = e.retry_after {
            r.headers.push(("retry-after", s.to_string()));
        }
        r
    }
}

impl Request {
    /// The view of this request that the signature verifier needs.
    pub fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            target: &self.target,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Parses the JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::invalid(format!("request body is not valid: {e}")))
    }

    /// A header value as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter (no percent-decoding beyond `%3A`-style OCID-safe text).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%3Ab"), "a:b");
        assert_eq!(percent_decode("a%"), "a%");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
