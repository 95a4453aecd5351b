// SPDX-License-Identifier: MPL-2.0
//! Request assembly: the endpoints (base URL, origin), a request's method, path and body, and
//! the signed HTTP message of one attempt with the headers OCI's SDKs send.

use std::time::SystemTime;

use std::sync::Arc;

use url::Url;
use zeroize::Zeroizing;

use crate::auth::Credentials;
use crate::error::{Error, Result};
use crate::http::{check_cleartext, HttpClient, HttpRequest, Origin, CLIENT_INFO, USER_AGENT};
use crate::request_id::new_request_id;
use crate::signing::{self, RequestParts};

const API_VERSION: &str = "20180608";

/// An OCI KMS endpoint: its base URL, and its origin (host, route, pooled connections).
pub(super) struct Endpoint {
    base: Url,
    pub(super) origin: Arc<Origin>,
    /// Scheme, host and port, for messages.
    pub(super) display: String,
}

impl Endpoint {
    /// The endpoint of config value `value` (named `config_key` in errors). Plain `http://` to
    /// anything but a loopback address needs `allow_plaintext_http`: a typo must not send data
    /// keys and plaintexts across a network unencrypted.
    pub(super) fn new(
        http: &HttpClient,
        config_key: &str,
        value: &str,
        allow_plaintext_http: bool,
    ) -> Result<Endpoint> {
        let base = Endpoint::parse(config_key, value)?;
        let display = base.origin().ascii_serialization();
        check_cleartext(&base, config_key, "data keys and plaintexts", allow_plaintext_http)?;
        Ok(Endpoint { origin: http.origin(&base)?, base, display })
    }

    /// Validates an endpoint URL.
    fn parse(config_key: &str, value: &str) -> Result<Url> {
        let base = Url::parse(value.trim_end_matches('/')).map_err(|e| {
            Error::config(format!(
                "{config_key} {value:?} is not a valid URL ({e}): use \
                 https://<vault>-crypto.kms.<region>.oraclecloud.com (or the matching management URL)"
            ))
        })?;
        if !matches!(base.scheme(), "https" | "http") || base.host_str().is_none() {
            return Err(Error::config(format!(
                "{config_key} {value:?} must be an https:// URL with a host"
            )));
        }
        Ok(base)
    }

    /// The path (and query) of `base` + `/20180608/` + path segments (each percent-encoded).
    fn path(&self, segments: &[&str]) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(API_VERSION).extend(segments);
        }
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }
}

/// One HTTP request to send (possibly several times).
pub(super) struct Request<'e> {
    method: &'static str,
    pub(super) endpoint: &'e Endpoint,
    path: String,
    body: Option<Zeroizing<Vec<u8>>>,
    /// `opc-retry-token`, the same on every attempt, for calls that create something.
    retry_token: Option<String>,
}

impl<'e> Request<'e> {
    pub(super) fn get(endpoint: &'e Endpoint, segments: &[&str]) -> Request<'e> {
        let path = endpoint.path(segments);
        Request { method: "GET", endpoint, path, body: None, retry_token: None }
    }

    pub(super) fn post(
        endpoint: &'e Endpoint,
        segments: &[&str],
        body: Zeroizing<Vec<u8>>,
    ) -> Request<'e> {
        let path = endpoint.path(segments);
        Request { method: "POST", endpoint, path, body: Some(body), retry_token: None }
    }

    /// A POST without a body that OCI must not apply twice when an attempt is retried.
    pub(super) fn post_once(endpoint: &'e Endpoint, segments: &[&str]) -> Request<'e> {
        let retry_token = Some(new_request_id());
        Request { retry_token, ..Request::post(endpoint, segments, Zeroizing::new(Vec::new())) }
    }
}

impl Request<'_> {
    /// The request with the SDK's default headers and the signature headers for one attempt.
    pub(super) fn message(&self, creds: &Credentials, request_id: &str) -> Result<HttpRequest> {
        let req = self;
        let origin = &req.endpoint.origin;
        let host = origin.host_header();
        let content_type = req.body.as_ref().map(|_| "application/json");
        let body = req.body.as_deref().map(Vec::as_slice);
        let date = signing::http_date(SystemTime::now());
        let parts = RequestParts {
            method: req.method,
            path_and_query: &req.path,
            host,
            date: &date,
            content_type,
            body,
        };
        let signed = signing::sign(
            &parts,
            signing::default_signed_headers(req.method),
            &creds.key_id,
            creds.key.as_ref(),
        )?;
        let mut headers = vec![
            ("host", host),
            ("user-agent", USER_AGENT.as_str()),
            ("accept", "*/*"),
            ("opc-request-id", request_id),
            ("opc-client-info", CLIENT_INFO),
        ];
        if let Some(ct) = content_type {
            headers.push(("content-type", ct));
        }
        if let Some(token) = &req.retry_token {
            headers.push(("opc-retry-token", token));
        }
        headers.extend(signed.to_pairs());
        origin.request(req.method, &req.path, headers, body.unwrap_or_default())
    }
}

/// The JSON of a request body (it holds the base64 plaintext or ciphertext), in a buffer sized
/// exactly up front: a growing buffer would leave copies of its earlier contents in freed memory.
pub(super) fn json_body<T: serde::Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>> {
    let failed =
        |e: serde_json::Error| Error::internal(format!("serialising a KMS request failed: {e}"));
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, value).map_err(failed)?;
    let mut body = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *body, value).map_err(failed)?;
    debug_assert_eq!(body.capacity(), counter.0, "the request body reallocated");
    Ok(body)
}

/// A writer that only counts the bytes written to it.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::http::tls_config;
    use crate::kms::models::EncryptRequest;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;

    #[test]
    fn request_bodies_are_sized_exactly_so_no_copy_of_the_plaintext_is_left_behind() {
        for size in [0, 1, 31, 4096] {
            let encoded = B64.encode(vec![7u8; size]);
            let body =
                json_body(&EncryptRequest { key_id: "ocid1.key.oc1..k", plaintext: &encoded })
                    .unwrap();
            assert_eq!(body.len(), body.capacity(), "{size}-byte plaintext");
        }
    }

    #[test]
    fn urls_and_hosts() {
        let http = HttpClient::new(tls_config(None).unwrap());
        let endpoint = |url| Endpoint::new(&http, "crypto_endpoint", url, false).unwrap();
        let e = endpoint("https://v-crypto.kms.r.oraclecloud.com/");
        let path = e.path(&["keys", "ocid1.key.oc1..a/b", "keyVersions"]);
        assert_eq!(path, "/20180608/keys/ocid1.key.oc1..a%2Fb/keyVersions");
        assert_eq!(e.origin.host_header(), "v-crypto.kms.r.oraclecloud.com");
        let local = endpoint("http://127.0.0.1:7000");
        assert_eq!(local.origin.host_header(), "127.0.0.1:7000");
        assert_eq!(local.path(&["encrypt"]), "/20180608/encrypt");
        assert_eq!(endpoint("https://h:443").origin.host_header(), "h");
        assert_eq!(endpoint("https://h/prefix/").path(&["encrypt"]), "/prefix/20180608/encrypt");
        assert_eq!(
            Endpoint::parse("crypto_endpoint", "ftp://x").unwrap_err().code(),
            ErrorCode::Config
        );
        assert!(Endpoint::parse("crypto_endpoint", "no url")
            .unwrap_err()
            .message()
            .contains("crypto_endpoint"));
    }
}
