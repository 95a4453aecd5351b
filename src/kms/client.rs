// SPDX-License-Identifier: MPL-2.0
//! The KMS client: signed, retried calls to the crypto and management endpoints.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::request_id::new_request_id;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;
use zeroize::Zeroizing;

use crate::auth::{CredentialProvider, Credentials};
use crate::config::SealConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::signing::{self, RequestParts};

use crate::http::{
    is_cleartext_to_network, tls_config, HttpClient, HttpRequest, Interrupt, Origin,
    TransportError, CLIENT_INFO, USER_AGENT,
};

use super::errors::{network_error, service_error, Operation};
use super::models::{
    DecryptRequest, DecryptedData, EncryptRequest, EncryptedData, GenerateKeyRequest,
    GeneratedKeyData, Key, KeyShape, KeyVersion,
};
use super::retry::{parse_retry_after, RetryPolicy};

const API_VERSION: &str = "20180608";

/// The longest a call may last: a longer timeout (up to `Duration::MAX`) is shortened to this, so
/// the deadline `now + timeout` can always be computed. Far beyond any timeout that means
/// something (the seal config caps `request_timeout` at 24 hours).
const MAX_CALL_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The deadline and cancellation of one logical call (all its attempts and waits).
#[derive(Debug, Clone)]
pub struct CallContext {
    deadline: Instant,
    timeout: Duration,
    cancel: CancellationToken,
}

impl CallContext {
    /// A call that must finish within `timeout` (at most 100 years) and stops early
    /// when `cancel` fires.
    pub fn new(timeout: Duration, cancel: Option<CancellationToken>) -> Self {
        let timeout = timeout.min(MAX_CALL_TIMEOUT);
        let now = Instant::now();
        CallContext {
            // Cannot fail with the cap above; `now` (an immediate timeout) is never expected.
            deadline: now.checked_add(timeout).unwrap_or(now),
            timeout,
            cancel: cancel.unwrap_or_default(),
        }
    }

    /// How long until the deadline (zero once it has passed).
    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs `fut` unless the deadline passes or the call is cancelled first.
    async fn bounded<T>(
        &self,
        what: &(dyn Fn() -> String + Sync),
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(self.cancelled(what)),
            res = tokio::time::timeout_at(self.deadline, fut) => {
                res.map_err(|_| self.timed_out(what))
            }
        }
    }

    /// The deadline and cancellation as the transport checks them.
    fn interrupt(&self) -> Interrupt {
        Interrupt::new(self.deadline.into_std(), self.cancel.clone())
    }

    fn cancelled(&self, what: &(dyn Fn() -> String + Sync)) -> Error {
        Error::new(ErrorCode::Cancelled, format!("{} was cancelled by the caller", what()))
    }

    fn timed_out(&self, what: &(dyn Fn() -> String + Sync)) -> Error {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "{} did not complete within the call deadline of {:?}: raise request_timeout, \
                 or check connectivity to the endpoint",
                what(),
                self.timeout
            ),
        )
    }
}

/// A data key from `generateDataEncryptionKey`.
pub struct GeneratedKey {
    /// The key wrapped by OCI (base64 ciphertext).
    pub ciphertext: String,
    /// The plaintext key bytes, when requested.
    pub plaintext: Option<Zeroizing<Vec<u8>>>,
}

/// An OCI KMS endpoint: its base URL, and its origin (host, route, pooled connections).
struct Endpoint {
    base: Url,
    origin: Arc<Origin>,
    /// Scheme, host and port, for messages.
    display: String,
}

impl Endpoint {
    /// The endpoint of config value `value` (named `config_key` in errors). Plain `http://` to
    /// anything but a loopback address needs `allow_plaintext_http`: a typo must not send data
    /// keys and plaintexts across a network unencrypted.
    fn new(
        http: &HttpClient,
        config_key: &str,
        value: &str,
        allow_plaintext_http: bool,
    ) -> Result<Endpoint> {
        let base = Endpoint::parse(config_key, value)?;
        let display = base.origin().ascii_serialization();
        if is_cleartext_to_network(&base) {
            if !allow_plaintext_http {
                return Err(Error::config(format!(
                    "{config_key} {display} is plain http:// to a host that is not a loopback \
                     address: data keys and plaintexts would cross the network unencrypted. Use \
                     https://, or set allow_plaintext_http = true if the clear text is intended \
                     (e.g. a TLS-terminating sidecar on a private link)"
                )));
            }
            let endpoint = display.as_str();
            tracing::warn!(
                endpoint,
                "{config_key} is plain http:// to a non-loopback host (allow_plaintext_http = \
                 true): data keys and plaintexts cross the network UNENCRYPTED"
            );
        }
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
struct Request<'e> {
    method: &'static str,
    endpoint: &'e Endpoint,
    path: String,
    body: Option<Zeroizing<Vec<u8>>>,
    /// `opc-retry-token`, the same on every attempt, for calls that create something.
    retry_token: Option<String>,
}

impl<'e> Request<'e> {
    fn get(endpoint: &'e Endpoint, segments: &[&str]) -> Request<'e> {
        let path = endpoint.path(segments);
        Request { method: "GET", endpoint, path, body: None, retry_token: None }
    }

    fn post(endpoint: &'e Endpoint, segments: &[&str], body: Zeroizing<Vec<u8>>) -> Request<'e> {
        let path = endpoint.path(segments);
        Request { method: "POST", endpoint, path, body: Some(body), retry_token: None }
    }

    /// A POST without a body that OCI must not apply twice when an attempt is retried.
    fn post_once(endpoint: &'e Endpoint, segments: &[&str]) -> Request<'e> {
        let retry_token = Some(new_request_id());
        Request { retry_token, ..Request::post(endpoint, segments, Zeroizing::new(Vec::new())) }
    }
}

/// A successful response body, and the request id that produced it.
struct Response {
    body: Zeroizing<Vec<u8>>,
    request_id: String,
}

/// A failed attempt: the error and the server's `Retry-After`, if any.
struct Failure {
    error: Error,
    retry_after: Option<Duration>,
}

/// A client for one vault's crypto and management endpoints. Reuses its connections; cheap to
/// share behind an `Arc`.
pub struct KmsClient {
    http: Arc<HttpClient>,
    provider: Arc<dyn CredentialProvider>,
    crypto: Endpoint,
    management: Option<Endpoint>,
    retry: RetryPolicy,
    /// How long one attempt may wait for its answer (`attempt_timeout`).
    attempt_timeout: Duration,
}

impl KmsClient {
    /// A client for the endpoints of `config`, signing with `provider`'s credentials.
    pub fn new(config: &SealConfig, provider: Arc<dyn CredentialProvider>) -> Result<KmsClient> {
        let http = HttpClient::new(tls_config(config.ca_cert.as_deref())?);
        let allow = config.allow_plaintext_http;
        let crypto = Endpoint::new(&http, "crypto_endpoint", &config.crypto_endpoint, allow)?;
        let management = config
            .management_endpoint
            .as_deref()
            .map(|m| Endpoint::new(&http, "management_endpoint", m, allow))
            .transpose()?;
        Ok(KmsClient {
            http: Arc::new(http),
            provider,
            crypto,
            management,
            retry: RetryPolicy::new(config.max_attempts),
            attempt_timeout: config.attempt_timeout,
        })
    }

    /// Replaces the retry policy (e.g. shorter delays in tests).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> KmsClient {
        self.retry = retry;
        self
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The credential provider requests are signed with.
    pub fn provider(&self) -> &Arc<dyn CredentialProvider> {
        &self.provider
    }

    /// `POST /20180608/encrypt`: encrypts `plaintext` (at most 4 KiB) with the key's current
    /// version.
    pub async fn encrypt(
        &self,
        ctx: &CallContext,
        key_id: &str,
        plaintext: &[u8],
    ) -> Result<EncryptedData> {
        let encoded = Zeroizing::new(B64.encode(plaintext));
        let body = json_body(&EncryptRequest { key_id, plaintext: &encoded })?;
        let op = self.operation("encrypt", key_id, &self.crypto, "use");
        let req = Request::post(&self.crypto, &["encrypt"], body);
        let resp = self.execute(ctx, &op, req).await?;
        parse(&op, &resp)
    }

    /// `POST /20180608/decrypt`: decrypts an OCI ciphertext; returns the plaintext bytes.
    pub async fn decrypt(
        &self,
        ctx: &CallContext,
        key_id: &str,
        ciphertext: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let body = json_body(&DecryptRequest { ciphertext, key_id })?;
        let op = self.operation("decrypt", key_id, &self.crypto, "use");
        let req = Request::post(&self.crypto, &["decrypt"], body);
        let resp = self.execute(ctx, &op, req).await?;
        let data: DecryptedData = parse(&op, &resp)?;
        decode_secret(&op, &resp, Zeroizing::new(data.plaintext))
    }

    /// `POST /20180608/generateDataEncryptionKey`: a fresh AES key of `length` bytes, wrapped
    /// (and in plaintext when `include_plaintext`).
    pub async fn generate_data_encryption_key(
        &self,
        ctx: &CallContext,
        key_id: &str,
        length: u32,
        include_plaintext: bool,
    ) -> Result<GeneratedKey> {
        let body = json_body(&GenerateKeyRequest {
            include_plaintext_key: include_plaintext,
            key_id,
            key_shape: KeyShape { algorithm: "AES".to_owned(), length },
        })?;
        let op = self.operation("generate data encryption key", key_id, &self.crypto, "use");
        let req = Request::post(&self.crypto, &["generateDataEncryptionKey"], body);
        let resp = self.execute(ctx, &op, req).await?;
        let data: GeneratedKeyData = parse(&op, &resp)?;
        let plaintext =
            data.plaintext.map(|p| decode_secret(&op, &resp, Zeroizing::new(p))).transpose()?;
        Ok(GeneratedKey { ciphertext: data.ciphertext, plaintext })
    }

    /// `GET /20180608/keys/{keyId}` on the management endpoint.
    pub async fn get_key(&self, ctx: &CallContext, key_id: &str) -> Result<Key> {
        let endpoint = self.management_endpoint("get key", key_id)?;
        let op = self.operation("get key", key_id, endpoint, "read");
        let req = Request::get(endpoint, &["keys", key_id]);
        let resp = self.execute(ctx, &op, req).await?;
        parse(&op, &resp)
    }

    /// `POST /20180608/keys/{keyId}/keyVersions`: rotates the key (a new current version).
    pub async fn create_key_version(&self, ctx: &CallContext, key_id: &str) -> Result<KeyVersion> {
        let endpoint = self.management_endpoint("create key version", key_id)?;
        let op = self.operation("create key version", key_id, endpoint, "manage");
        let req = Request::post_once(endpoint, &["keys", key_id, "keyVersions"]);
        let resp = self.execute(ctx, &op, req).await?;
        parse(&op, &resp)
    }

    /// `GET /20180608/keys/{keyId}/keyVersions/{keyVersionId}`.
    pub async fn get_key_version(
        &self,
        ctx: &CallContext,
        key_id: &str,
        key_version_id: &str,
    ) -> Result<KeyVersion> {
        let endpoint = self.management_endpoint("get key version", key_id)?;
        let op = self.operation("get key version", key_id, endpoint, "read");
        let req = Request::get(endpoint, &["keys", key_id, "keyVersions", key_version_id]);
        let resp = self.execute(ctx, &op, req).await?;
        parse(&op, &resp)
    }

    /// `GET /20180608/keys/{keyId}/keyVersions`: the key's versions (the first page OCI returns).
    pub async fn list_key_versions(
        &self,
        ctx: &CallContext,
        key_id: &str,
    ) -> Result<Vec<KeyVersion>> {
        let endpoint = self.management_endpoint("list key versions", key_id)?;
        let op = self.operation("list key versions", key_id, endpoint, "read");
        let req = Request::get(endpoint, &["keys", key_id, "keyVersions"]);
        let resp = self.execute(ctx, &op, req).await?;
        parse(&op, &resp)
    }

    /// `POST /20180608/keys/{keyId}/actions/disable`: disables the key (it then answers 409).
    pub async fn disable_key(&self, ctx: &CallContext, key_id: &str) -> Result<Key> {
        self.key_action(ctx, key_id, "disable key", "disable").await
    }

    /// `POST /20180608/keys/{keyId}/actions/enable`: enables a disabled key.
    pub async fn enable_key(&self, ctx: &CallContext, key_id: &str) -> Result<Key> {
        self.key_action(ctx, key_id, "enable key", "enable").await
    }

    async fn key_action(
        &self,
        ctx: &CallContext,
        key_id: &str,
        name: &'static str,
        action: &str,
    ) -> Result<Key> {
        let endpoint = self.management_endpoint(name, key_id)?;
        let op = self.operation(name, key_id, endpoint, "manage");
        let req = Request::post_once(endpoint, &["keys", key_id, "actions", action]);
        let resp = self.execute(ctx, &op, req).await?;
        parse(&op, &resp)
    }

    fn management_endpoint(&self, name: &str, key_id: &str) -> Result<&Endpoint> {
        self.management.as_ref().ok_or_else(|| {
            Error::config(format!(
                "OCI KMS {name} with key {key_id} needs the management endpoint, which is not \
                 configured and could not be derived from crypto_endpoint {}: set \
                 management_endpoint to https://<vault>-management.kms.<region>.oraclecloud.com",
                self.crypto.display
            ))
        })
    }

    fn operation<'a>(
        &'a self,
        name: &'static str,
        key_id: &'a str,
        endpoint: &'a Endpoint,
        verb: &'static str,
    ) -> Operation<'a> {
        Operation {
            name,
            key_id,
            endpoint: &endpoint.display,
            verb,
            provider: self.provider.as_ref(),
        }
    }

    /// Sends `req` until it succeeds, fails for good, runs out of attempts or time, or is
    /// cancelled.
    async fn execute(
        &self,
        ctx: &CallContext,
        op: &Operation<'_>,
        req: Request<'_>,
    ) -> Result<Response> {
        let what = || format!("OCI KMS {} with key {}", op.name, op.key_id);
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let mut previous: Option<Error> = None;
        loop {
            attempt += 1;
            let creds = ctx.bounded(&what, self.provider.credentials()).await??;
            let sent = self.attempt(ctx, &what, op, &req, &creds);
            let failure = match ctx.bounded(&what, sent).await.and_then(|outcome| outcome) {
                Ok(Ok(resp)) => return Ok(resp),
                Ok(Err(failure)) => failure,
                Err(stopped) => return Err(after_previous(stopped, previous.as_ref())),
            };
            let error = failure.error;
            if error.code() == ErrorCode::NotAuthenticated && !refreshed {
                refreshed = true;
                let refresh = self.provider.refresh_after_unauthorized(&creds);
                if ctx.bounded(&what, refresh).await? {
                    attempt -= 1;
                    continue;
                }
            }
            if !error.is_retryable() || attempt >= self.retry.max_attempts {
                return Err(with_attempts(error, attempt));
            }
            // A wait (the server's Retry-After included, however large) that would reach the
            // deadline ends the call now: compared with the time left, never added to a clock.
            let delay = self.retry.delay(attempt, failure.retry_after);
            if delay >= ctx.time_left() {
                let error = with_attempts(error, attempt);
                return Err(error.context("no time left before the call deadline to retry"));
            }
            tracing::debug!(
                operation = op.name,
                key = %op.key_id,
                attempt,
                max_attempts = self.retry.max_attempts,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "retrying OCI KMS call"
            );
            if let Err(stopped) = ctx.bounded(&what, tokio::time::sleep(delay)).await {
                return Err(after_previous(stopped, Some(&error)));
            }
            previous = Some(error);
        }
    }

    /// One signed attempt; `Err` when the call was cancelled or ran out of time during it.
    async fn attempt(
        &self,
        ctx: &CallContext,
        what: &(dyn Fn() -> String + Sync),
        op: &Operation<'_>,
        req: &Request<'_>,
        creds: &Credentials,
    ) -> Result<std::result::Result<Response, Failure>> {
        let request_id = new_request_id();
        let message = match self.message(req, creds, &request_id) {
            Ok(message) => message,
            Err(error) => return Ok(Err(Failure { error, retry_after: None })),
        };
        let origin = &req.endpoint.origin;
        let stop = ctx.interrupt().for_attempt(self.attempt_timeout);
        let resp = match self.http.send_async(origin, message, stop).await {
            Ok(resp) => resp,
            Err(TransportError::Cancelled) => return Err(ctx.cancelled(what)),
            Err(TransportError::DeadlineExceeded) => return Err(ctx.timed_out(what)),
            Err(failed) => {
                return Ok(Err(Failure { error: network_error(op, &failed), retry_after: None }))
            }
        };
        let response_id = resp.header("opc-request-id").map(str::to_owned);
        let retry_after =
            resp.header("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()));
        if (200..300).contains(&resp.status) {
            let request_id = response_id.unwrap_or(request_id);
            return Ok(Ok(Response { body: resp.body, request_id }));
        }
        let error = service_error(op, resp.status, response_id.as_deref(), &request_id, &resp.body);
        Ok(Err(Failure { error, retry_after }))
    }

    /// The request with the SDK's default headers and the signature headers for one attempt.
    fn message(
        &self,
        req: &Request<'_>,
        creds: &Credentials,
        request_id: &str,
    ) -> Result<HttpRequest> {
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

/// A timeout or cancellation that interrupted a retry sequence, with the failure before it.
fn after_previous(stopped: Error, previous: Option<&Error>) -> Error {
    match previous {
        Some(prev) => Error::new(
            stopped.code(),
            format!("{}; the attempt before failed: {prev}", stopped.message()),
        ),
        None => stopped,
    }
}

fn with_attempts(error: Error, attempts: u32) -> Error {
    if attempts > 1 {
        error.context(format!("gave up after {attempts} attempts"))
    } else {
        error
    }
}

/// The JSON of a request body (it holds the base64 plaintext or ciphertext), in a buffer sized
/// exactly up front: a growing buffer would leave copies of its earlier contents in freed memory.
fn json_body<T: serde::Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>> {
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

/// Parses a JSON response body; the error never quotes the body (it may hold key material).
fn parse<T: DeserializeOwned>(op: &Operation<'_>, resp: &Response) -> Result<T> {
    serde_json::from_slice(&resp.body).map_err(|e| {
        Error::internal(format!(
            "OCI KMS {} with key {} returned a malformed response ({:?} error at line {} column \
             {}; opc-request-id {})",
            op.name,
            op.key_id,
            e.classify(),
            e.line(),
            e.column(),
            resp.request_id
        ))
    })
}

fn decode_secret(
    op: &Operation<'_>,
    resp: &Response,
    encoded: Zeroizing<String>,
) -> Result<Zeroizing<Vec<u8>>> {
    B64.decode(encoded.as_bytes()).map(Zeroizing::new).map_err(|_| {
        Error::internal(format!(
            "OCI KMS {} with key {} returned a plaintext that is not base64 (opc-request-id {})",
            op.name, op.key_id, resp.request_id
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_client_names_itself_not_oracle() {
        for value in [CLIENT_INFO, USER_AGENT.as_str()] {
            assert!(value.starts_with(concat!("ocikms/", env!("CARGO_PKG_VERSION"))), "{value}");
            assert!(!value.to_ascii_lowercase().contains("oracle"), "{value}");
        }
    }

    #[test]
    fn a_timeout_too_large_for_the_clock_is_capped_not_a_panic() {
        let ctx = CallContext::new(Duration::MAX, None);
        assert_eq!(ctx.timeout, MAX_CALL_TIMEOUT);
        assert!(ctx.time_left() > MAX_CALL_TIMEOUT - Duration::from_secs(60));
        let ctx = CallContext::new(Duration::from_secs(1), None);
        assert!(ctx.time_left() <= Duration::from_secs(1));
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
