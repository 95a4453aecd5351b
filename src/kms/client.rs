//! The KMS client: signed, retried calls to the crypto and management endpoints.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::auth::{CredentialProvider, Credentials};
use crate::config::SealConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::signing::{self, RequestParts};

use super::errors::{network_error, service_error, Operation};
use super::models::{
    DecryptRequest, DecryptedData, EncryptRequest, EncryptedData, GenerateKeyRequest,
    GeneratedKeyData, Key, KeyShape, KeyVersion,
};
use super::retry::{parse_retry_after, RetryPolicy};
use super::transport::http_client;

/// The `User-Agent` sent on every request.
pub(crate) static USER_AGENT: LazyLock<String> = LazyLock::new(|| {
    format!("{CLIENT_INFO} ({}/{})", std::env::consts::OS, std::env::consts::ARCH)
});

/// The `opc-client-info` header value.
const CLIENT_INFO: &str = concat!("Oracle-ocikms-rust/", env!("CARGO_PKG_VERSION"));

const API_VERSION: &str = "20180608";

/// The deadline and cancellation of one logical call (all its attempts and waits).
#[derive(Debug, Clone)]
pub struct CallContext {
    deadline: Instant,
    timeout: Duration,
    cancel: CancellationToken,
}

impl CallContext {
    /// A call that must finish within `timeout` and stops early when `cancel` fires.
    pub fn new(timeout: Duration, cancel: Option<CancellationToken>) -> Self {
        CallContext {
            deadline: Instant::now() + timeout,
            timeout,
            cancel: cancel.unwrap_or_default(),
        }
    }

    /// Runs `fut` unless the deadline passes or the call is cancelled first.
    async fn bounded<T>(
        &self,
        what: &(dyn Fn() -> String + Sync),
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(Error::new(
                ErrorCode::Cancelled,
                format!("{} was cancelled by the caller", what()),
            )),
            res = tokio::time::timeout_at(self.deadline, fut) => res.map_err(|_| Error::new(
                ErrorCode::Timeout,
                format!(
                    "{} did not complete within the call deadline of {:?}: raise \
                     request_timeout, or check connectivity to the endpoint",
                    what(),
                    self.timeout
                ),
            )),
        }
    }
}

/// A data key from `generateDataEncryptionKey`.
pub struct GeneratedKey {
    /// The key wrapped by OCI (base64 ciphertext).
    pub ciphertext: String,
    /// The plaintext key bytes, when requested.
    pub plaintext: Option<Zeroizing<Vec<u8>>>,
}

/// An OCI KMS endpoint: its base URL and the `host` header value signed for it.
#[derive(Debug, Clone)]
struct Endpoint {
    base: Url,
}

impl Endpoint {
    fn parse(config_key: &str, value: &str) -> Result<Endpoint> {
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
        Ok(Endpoint { base })
    }

    /// `base` + `/20180608/` + path segments (each percent-encoded).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(API_VERSION).extend(segments);
        }
        url
    }

    fn display(&self) -> String {
        self.base.origin().ascii_serialization()
    }
}

/// The `host` header for `url`: host, plus `:port` when not the scheme's default.
fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// 32 lower-case hex characters, fresh per attempt.
fn new_request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect()
}

/// One HTTP request to send (possibly several times).
struct Request {
    method: Method,
    url: Url,
    body: Option<Zeroizing<Vec<u8>>>,
    /// `opc-retry-token`, the same on every attempt, for calls that create something.
    retry_token: Option<String>,
}

impl Request {
    fn get(url: Url) -> Request {
        Request { method: Method::GET, url, body: None, retry_token: None }
    }

    fn post(url: Url, body: Zeroizing<Vec<u8>>) -> Request {
        Request { method: Method::POST, url, body: Some(body), retry_token: None }
    }

    /// A POST without a body that OCI must not apply twice when an attempt is retried.
    fn post_once(url: Url) -> Request {
        let retry_token = Some(new_request_id());
        Request { retry_token, ..Request::post(url, Zeroizing::new(Vec::new())) }
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
    http: reqwest::Client,
    provider: Arc<dyn CredentialProvider>,
    crypto: Endpoint,
    management: Option<Endpoint>,
    retry: RetryPolicy,
}

impl KmsClient {
    /// A client for the endpoints of `config`, signing with `provider`'s credentials.
    pub fn new(config: &SealConfig, provider: Arc<dyn CredentialProvider>) -> Result<KmsClient> {
        let crypto = Endpoint::parse("crypto_endpoint", &config.crypto_endpoint)?;
        let management = config
            .management_endpoint
            .as_deref()
            .map(|m| Endpoint::parse("management_endpoint", m))
            .transpose()?;
        Ok(KmsClient {
            http: http_client(config.ca_cert.as_deref())?,
            provider,
            crypto,
            management,
            retry: RetryPolicy::new(config.max_attempts),
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
        let url = self.crypto.url(&["encrypt"]);
        let resp = self.execute(ctx, &op, Request::post(url, body)).await?;
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
        let url = self.crypto.url(&["decrypt"]);
        let resp = self.execute(ctx, &op, Request::post(url, body)).await?;
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
        let url = self.crypto.url(&["generateDataEncryptionKey"]);
        let resp = self.execute(ctx, &op, Request::post(url, body)).await?;
        let data: GeneratedKeyData = parse(&op, &resp)?;
        let plaintext =
            data.plaintext.map(|p| decode_secret(&op, &resp, Zeroizing::new(p))).transpose()?;
        Ok(GeneratedKey { ciphertext: data.ciphertext, plaintext })
    }

    /// `GET /20180608/keys/{keyId}` on the management endpoint.
    pub async fn get_key(&self, ctx: &CallContext, key_id: &str) -> Result<Key> {
        let endpoint = self.management_endpoint("get key", key_id)?;
        let op = self.operation("get key", key_id, endpoint, "read");
        let url = endpoint.url(&["keys", key_id]);
        let resp = self.execute(ctx, &op, Request::get(url)).await?;
        parse(&op, &resp)
    }

    /// `POST /20180608/keys/{keyId}/keyVersions`: rotates the key (a new current version).
    pub async fn create_key_version(&self, ctx: &CallContext, key_id: &str) -> Result<KeyVersion> {
        let endpoint = self.management_endpoint("create key version", key_id)?;
        let op = self.operation("create key version", key_id, endpoint, "manage");
        let url = endpoint.url(&["keys", key_id, "keyVersions"]);
        let resp = self.execute(ctx, &op, Request::post_once(url)).await?;
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
        let url = endpoint.url(&["keys", key_id, "keyVersions", key_version_id]);
        let resp = self.execute(ctx, &op, Request::get(url)).await?;
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
        let url = endpoint.url(&["keys", key_id, "keyVersions"]);
        let resp = self.execute(ctx, &op, Request::get(url)).await?;
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
        let url = endpoint.url(&["keys", key_id, "actions", action]);
        let resp = self.execute(ctx, &op, Request::post_once(url)).await?;
        parse(&op, &resp)
    }

    fn management_endpoint(&self, name: &str, key_id: &str) -> Result<&Endpoint> {
        self.management.as_ref().ok_or_else(|| {
            Error::config(format!(
                "OCI KMS {name} with key {key_id} needs the management endpoint, which is not \
                 configured and could not be derived from crypto_endpoint {}: set \
                 management_endpoint to https://<vault>-management.kms.<region>.oraclecloud.com",
                self.crypto.display()
            ))
        })
    }

    fn operation(
        &self,
        name: &'static str,
        key_id: &str,
        endpoint: &Endpoint,
        verb: &'static str,
    ) -> Operation {
        Operation {
            name,
            key_id: key_id.to_owned(),
            endpoint: endpoint.display(),
            verb,
            principal: self.provider.describe(),
            principal_type: self.provider.principal_type(),
        }
    }

    /// Sends `req` until it succeeds, fails for good, runs out of attempts or time, or is
    /// cancelled.
    async fn execute(&self, ctx: &CallContext, op: &Operation, req: Request) -> Result<Response> {
        let what = || format!("OCI KMS {} with key {}", op.name, op.key_id);
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let mut previous: Option<Error> = None;
        loop {
            attempt += 1;
            let creds = ctx.bounded(&what, self.provider.credentials()).await??;
            let failure = match ctx.bounded(&what, self.attempt(op, &req, &creds)).await {
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
            let delay = self.retry.delay(attempt, failure.retry_after);
            if Instant::now() + delay >= ctx.deadline {
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

    /// One signed attempt.
    async fn attempt(
        &self,
        op: &Operation,
        req: &Request,
        creds: &Credentials,
    ) -> std::result::Result<Response, Failure> {
        let request_id = new_request_id();
        let fail = |error| Failure { error, retry_after: None };
        let headers = self.headers(req, creds, &request_id).map_err(fail)?;
        let mut builder = self.http.request(req.method.clone(), req.url.clone()).headers(headers);
        if let Some(body) = &req.body {
            builder = builder.body(body.to_vec());
        }
        let resp = builder.send().await.map_err(|e| fail(network_error(op, &e)))?;
        let status = resp.status().as_u16();
        let response_id = header_str(resp.headers(), "opc-request-id");
        let retry_after = header_str(resp.headers(), "retry-after")
            .and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let body = resp.bytes().await.map_err(|e| fail(network_error(op, &e)))?;
        // Takes the buffer over (no copy when reqwest holds the only reference) so that the
        // response, which may carry a plaintext or a DEK, is zeroed when dropped.
        let body = Zeroizing::new(Vec::from(body));
        if (200..300).contains(&status) {
            return Ok(Response { body, request_id: response_id.unwrap_or(request_id) });
        }
        let error = service_error(op, status, response_id.as_deref(), &request_id, &body);
        Err(Failure { error, retry_after })
    }

    /// The SDK's default headers plus the signature headers for one attempt.
    fn headers(&self, req: &Request, creds: &Credentials, request_id: &str) -> Result<HeaderMap> {
        let host = host_header(&req.url);
        let path_and_query = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        let content_type = req.body.as_ref().map(|_| "application/json");
        let date = signing::http_date(SystemTime::now());
        let parts = RequestParts {
            method: req.method.as_str(),
            path_and_query: &path_and_query,
            host: &host,
            date: &date,
            content_type,
            body: req.body.as_deref().map(Vec::as_slice),
        };
        let signed = signing::sign(
            &parts,
            signing::default_signed_headers(req.method.as_str()),
            &creds.key_id,
            creds.key.as_ref(),
        )?;
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| -> Result<()> {
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::internal(format!("header {name} has a value HTTP cannot carry"))
            })?;
            headers.insert(HeaderName::from_static(name), value);
            Ok(())
        };
        put("accept", "*/*")?;
        put("host", &host)?;
        put("opc-request-id", request_id)?;
        put("opc-client-info", CLIENT_INFO)?;
        if let Some(ct) = content_type {
            put("content-type", ct)?;
        }
        if let Some(token) = &req.retry_token {
            put("opc-retry-token", token)?;
        }
        for (name, value) in signed.to_pairs() {
            put(name, value)?;
        }
        Ok(headers)
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

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn json_body<T: serde::Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>> {
    serde_json::to_vec(value)
        .map(Zeroizing::new)
        .map_err(|e| Error::internal(format!("serialising a KMS request failed: {e}")))
}

/// Parses a JSON response body; the error never quotes the body (it may hold key material).
fn parse<T: DeserializeOwned>(op: &Operation, resp: &Response) -> Result<T> {
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
    op: &Operation,
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
    fn urls_hosts_and_request_ids() {
        let e =
            Endpoint::parse("crypto_endpoint", "https://v-crypto.kms.r.oraclecloud.com/").unwrap();
        let url = e.url(&["keys", "ocid1.key.oc1..a/b", "keyVersions"]);
        assert_eq!(url.path(), "/20180608/keys/ocid1.key.oc1..a%2Fb/keyVersions");
        assert_eq!(host_header(&url), "v-crypto.kms.r.oraclecloud.com");
        let local = Endpoint::parse("crypto_endpoint", "http://127.0.0.1:7000").unwrap();
        assert_eq!(host_header(&local.url(&["encrypt"])), "127.0.0.1:7000");
        assert_eq!(local.url(&["encrypt"]).as_str(), "http://127.0.0.1:7000/20180608/encrypt");
        let explicit = Endpoint::parse("crypto_endpoint", "https://h:443").unwrap();
        assert_eq!(host_header(&explicit.url(&["encrypt"])), "h");
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(id, new_request_id());
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
