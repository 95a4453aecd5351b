// SPDX-License-Identifier: MPL-2.0
//! What a token source needs to fetch a session token: the answer of a token service read into
//! JSON or a clear error, and fresh RSA session keys generated ahead of need.

use std::sync::Mutex;
use std::time::Duration;

use crate::error::error_chain;
use crate::error::{Error, ErrorCode, Result, ServiceDetails};
use crate::http::{HttpResponse, TransportError};

/// Time allowed for one token request (federation, proxymux), as the OCI SDKs allow.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The JSON answer to a token request (`sent`: its response, or why there is none); `what`
/// names the service in errors (e.g. "the instance principal federation service") and `hint`
/// says what to check when it refuses.
///
/// 401/403/404 answers are [`ErrorCode::NotAuthenticated`] (the principal was refused), 429 and
/// 5xx answers and network failures are retryable. Error messages never quote a successful body.
pub fn read_token_response(
    sent: std::result::Result<HttpResponse, TransportError>,
    what: &str,
    url: &str,
    hint: &str,
) -> Result<serde_json::Value> {
    let response = sent.map_err(|err| {
        Error::new(
            ErrorCode::Network,
            format!("could not reach {what} at {url}: {}", error_chain(&err)),
        )
        .retryable(true)
    })?;
    let status = response.status;
    let request_id = response.header("opc-request-id").unwrap_or_default().to_string();
    if (200..300).contains(&status) {
        return serde_json::from_slice(&response.body).map_err(|_| {
            Error::internal(format!(
                "{what} at {url} answered HTTP {status} with a body that is not JSON"
            ))
        });
    }
    let body = String::from_utf8_lossy(&response.body);
    let details: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let field =
        |name: &str| details.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let (code, retryable) = match status {
        401 | 403 | 404 => (ErrorCode::NotAuthenticated, false),
        429 => (ErrorCode::Throttled, true),
        500..=599 => (ErrorCode::ServiceUnavailable, true),
        _ => (ErrorCode::ServiceError, false),
    };
    let message = match field("message") {
        m if m.is_empty() && details.is_null() => {
            body.chars().take(200).collect::<String>().trim().to_string()
        }
        m => m,
    };
    Err(Error::new(code, format!("{what} at {url} refused the request: {hint}"))
        .retryable(retryable)
        .with_service(ServiceDetails {
            status,
            code: field("code"),
            message,
            opc_request_id: request_id,
        }))
}

/// Fresh RSA-2048 session keys, one per token, generated ahead of need: the background refresh
/// prepares the next key right after a token arrives, so the refresh window before expiry is
/// spent on the token request only (key generation takes 50–500 ms).
#[derive(Default)]
pub struct SessionKeys {
    next: Mutex<Option<aws_lc_rs::rsa::KeyPair>>,
}

impl SessionKeys {
    /// A key never handed out before: the prepared one, or a new one.
    pub async fn take(&self) -> Result<aws_lc_rs::rsa::KeyPair> {
        let prepared = self.next.lock().unwrap_or_else(|p| p.into_inner()).take();
        match prepared {
            Some(key) => Ok(key),
            None => generate_session_key().await,
        }
    }

    /// Generates the next key unless one is waiting.
    pub async fn prepare(&self) -> Result<()> {
        if self.next.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
            return Ok(());
        }
        let key = generate_session_key().await?;
        self.next.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(key);
        Ok(())
    }
}

/// Generates an RSA-2048 key off the async worker threads.
async fn generate_session_key() -> Result<aws_lc_rs::rsa::KeyPair> {
    let generate = || aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048);
    tokio::task::spawn_blocking(generate)
        .await
        .map_err(|_| Error::internal("the session key generation task failed"))?
        .map_err(|_| Error::internal("generating an RSA-2048 session key failed"))
}
