// SPDX-License-Identifier: MPL-2.0
//! The KMS client: signed, retried calls to the crypto and management endpoints.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::auth::{CredentialProvider, Credentials};
use crate::config::SealConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{tls_config, HttpClient, TransportError};
use crate::request_id::new_request_id;

use super::call::CallContext;
use super::errors::{network_error, service_error, Operation};
use super::models::{
    DecryptRequest, DecryptedData, EncryptRequest, EncryptedData, GenerateKeyRequest,
    GeneratedKeyData, Key, KeyShape, KeyVersion,
};
use super::request::{json_body, Endpoint, Request};
use super::retry::{parse_retry_after, RetryPolicy};

/// A data key from `generateDataEncryptionKey`.
pub struct GeneratedKey {
    /// The key wrapped by OCI (base64 ciphertext).
    pub ciphertext: String,
    /// The plaintext key bytes, when requested.
    pub plaintext: Option<Zeroizing<Vec<u8>>>,
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
        let message = match req.message(creds, &request_id) {
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
