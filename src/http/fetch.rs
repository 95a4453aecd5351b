// SPDX-License-Identifier: MPL-2.0
//! [`HttpClient::fetch`]: one request to any `http`/`https` URL — the credential providers' calls
//! (instance metadata, federation, workload identity) — over the same connection pools, TLS
//! settings, proxy rules and deadline model as the KMS calls.

use std::io;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use url::Url;

use super::client::{HttpClient, USER_AGENT};
use super::error::{Stage, TransportError};
use super::interrupt::Interrupt;
use super::message::HttpResponse;
use super::origin::Origin;

impl HttpClient {
    /// Sends `method` to `url` with `headers` (`Host`, `User-Agent` and, unless given,
    /// `Content-Length` are added) and `body`, and reads the answer; gives up after `timeout`.
    pub async fn fetch(
        self: &Arc<Self>,
        method: &'static str,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let origin = self.fetch_origin(url)?;
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let length = body.len().to_string();
        let mut all = vec![("host", origin.host_header()), ("user-agent", USER_AGENT.as_str())];
        all.extend_from_slice(headers);
        let has_length =
            headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
        if !has_length && (method != "GET" || !body.is_empty()) {
            all.push(("content-length", &length));
        }
        let request = origin
            .request(method, &path_and_query, all, body)
            .map_err(|e| TransportError::failed(Stage::Send, io::Error::other(e.to_string())))?;
        let deadline = Instant::now().checked_add(timeout).unwrap_or_else(Instant::now);
        let stop = Interrupt::new(deadline, CancellationToken::new());
        self.send_async(&origin, request, stop).await
    }

    /// The pooled origin of `url`, created on first use.
    fn fetch_origin(&self, url: &Url) -> Result<Arc<Origin>, TransportError> {
        let key = url.origin().ascii_serialization();
        let mut origins = self.origins.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(origin) = origins.get(&key) {
            return Ok(Arc::clone(origin));
        }
        let origin = self.origin(url).map_err(|e| {
            TransportError::failed(
                Stage::Resolve,
                io::Error::new(io::ErrorKind::InvalidInput, e.to_string()),
            )
        })?;
        origins.insert(key, Arc::clone(&origin));
        Ok(origin)
    }
}
