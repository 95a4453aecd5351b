// SPDX-License-Identifier: MPL-2.0
//! The crate's one error type: a stable [`ErrorCode`] (the C ABI's status numbers), a message that
//! says what failed and what to do, and — when OCI answered — the service's own details.
//!
//! Messages never carry plaintext, keys, tokens or passphrases.

use std::fmt;

/// Stable error codes. The numbers are the C ABI's status codes: never renumber, never reuse.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Success (only used across the C ABI).
    Ok = 0,
    /// A caller error at the API boundary: NULL pointer, bad length, invalid UTF-8 or JSON.
    InvalidArgument = 1,
    /// The seal configuration is invalid (the message names the key and the fix).
    Config = 2,
    /// Credentials could not be loaded: missing/unreadable key file, wrong passphrase,
    /// fingerprint mismatch, missing or unreadable token, metadata service unreachable.
    Credentials = 3,
    /// OCI rejected the request signature or token (HTTP 401 `NotAuthenticated`), or a token
    /// expired and could not be refreshed.
    NotAuthenticated = 4,
    /// HTTP 404 `NotAuthorizedOrNotFound`: the key does not exist or no IAM policy allows it.
    NotAuthorizedOrNotFound = 5,
    /// HTTP 409 `IncorrectState` and similar: e.g. the key is disabled or being deleted.
    IncorrectState = 6,
    /// HTTP 429 `TooManyRequests` after all retries.
    Throttled = 7,
    /// HTTP 5xx from OCI after all retries.
    ServiceUnavailable = 8,
    /// Any other error response from OCI (e.g. 400 `InvalidParameter`).
    ServiceError = 9,
    /// The endpoint could not be reached: DNS, connect, TLS (e.g. unknown CA), reset.
    Network = 10,
    /// The call's deadline passed.
    Timeout = 11,
    /// The caller cancelled the call.
    Cancelled = 12,
    /// The seal was used before a successful initialisation.
    NotInitialized = 13,
    /// Authenticated decryption failed: wrong AAD, tampered ciphertext, tag or IV, wrong key.
    DecryptFailed = 14,
    /// The blob is not a valid go-kms-wrapping `BlobInfo` (truncated, garbage, missing fields).
    MalformedBlob = 15,
    /// The blob names a wrapping mechanism this seal does not implement.
    UnsupportedMechanism = 16,
    /// A panic was caught at the C ABI boundary (a bug: please report it).
    Panic = 17,
    /// An unexpected internal failure (a bug, or a malformed response from the service).
    Internal = 18,
}

impl ErrorCode {
    /// The stable number of this code (the C ABI status).
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// A short, stable, human-readable name (`"not_authorized_or_not_found"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Ok => "ok",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Config => "config",
            ErrorCode::Credentials => "credentials",
            ErrorCode::NotAuthenticated => "not_authenticated",
            ErrorCode::NotAuthorizedOrNotFound => "not_authorized_or_not_found",
            ErrorCode::IncorrectState => "incorrect_state",
            ErrorCode::Throttled => "throttled",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::ServiceError => "service_error",
            ErrorCode::Network => "network",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::NotInitialized => "not_initialized",
            ErrorCode::DecryptFailed => "decrypt_failed",
            ErrorCode::MalformedBlob => "malformed_blob",
            ErrorCode::UnsupportedMechanism => "unsupported_mechanism",
            ErrorCode::Panic => "panic",
            ErrorCode::Internal => "internal",
        }
    }
}

/// What OCI said when it answered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDetails {
    /// HTTP status code.
    pub status: u16,
    /// OCI error code from the JSON body (`NotAuthorizedOrNotFound`, ...); empty if none.
    pub code: String,
    /// OCI error message from the JSON body.
    pub message: String,
    /// The `opc-request-id` response header (or the one we sent when the response had none).
    pub opc_request_id: String,
}

/// The error returned by every fallible operation of this crate.
#[derive(Debug, Clone)]
pub struct Error {
    code: ErrorCode,
    message: String,
    retryable: bool,
    service: Option<ServiceDetails>,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with a code and a message (which must contain no secret).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), retryable: false, service: None }
    }

    /// Marks the error as retryable (a later attempt may succeed).
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Attaches the details of an OCI error response.
    pub fn with_service(mut self, service: ServiceDetails) -> Self {
        self.service = Some(service);
        self
    }

    /// Prefixes the message with context (`"encrypt: "` + message).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message (without the service details, see [`Display`](fmt::Display) for all).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The OCI error response details, when the service answered.
    pub fn service(&self) -> Option<&ServiceDetails> {
        self.service.as_ref()
    }

    /// Shorthand for [`ErrorCode::Config`] errors.
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Config, message)
    }

    /// Shorthand for [`ErrorCode::Credentials`] errors.
    pub fn credentials(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Credentials, message)
    }

    /// Shorthand for [`ErrorCode::Internal`] errors.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.service {
            write!(f, " (HTTP {}", s.status)?;
            if !s.code.is_empty() {
                write!(f, " {}", s.code)?;
            }
            if !s.message.is_empty() {
                write!(f, ": {}", s.message)?;
            }
            write!(f, "; opc-request-id {})", s.opc_request_id)?;
        }
        if self.retryable {
            f.write_str(" [retryable]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// `err` and its sources, joined by `": "`, each cause once (the transport's own
/// messages hide the cause that says what went wrong).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_service_details_and_retryability() {
        let err = Error::new(ErrorCode::ServiceUnavailable, "encrypt with key ocid1.key.x failed")
            .retryable(true)
            .with_service(ServiceDetails {
                status: 503,
                code: "ServiceUnavailable".into(),
                message: "try later".into(),
                opc_request_id: "abc".into(),
            });
        assert_eq!(
            err.to_string(),
            "encrypt with key ocid1.key.x failed (HTTP 503 ServiceUnavailable: try later; \
             opc-request-id abc) [retryable]"
        );
        assert_eq!(err.code().as_i32(), 8);
    }
}
