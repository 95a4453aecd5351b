// SPDX-License-Identifier: MPL-2.0
//! OCI-shaped service errors: an HTTP status plus the JSON `{"code","message"}` body.

/// A service error as OCI reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// OCI error code, e.g. `NotAuthenticated`.
    pub code: &'static str,
    /// Human-readable message naming what failed.
    pub message: String,
    /// Seconds for a `Retry-After` header (429 only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
    /// 400 `InvalidParameter`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameter", message)
    }
    /// 400 `MissingParameter`.
    pub fn missing(message: impl Into<String>) -> Self {
        Self::new(400, "MissingParameter", message)
    }
    /// 401 `NotAuthenticated`.
    pub fn not_authenticated(message: impl Into<String>) -> Self {
        Self::new(401, "NotAuthenticated", message)
    }
    /// 404 `NotAuthorizedOrNotFound` (also what a missing IAM policy looks like).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NotAuthorizedOrNotFound", message)
    }
    /// 404 `NotFound` for unknown paths.
    pub fn no_route(message: impl Into<String>) -> Self {
        Self::new(404, "NotFound", message)
    }
    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }
    /// 409 `IncorrectState` (e.g. a disabled key).
    pub fn incorrect_state(message: impl Into<String>) -> Self {
        Self::new(409, "IncorrectState", message)
    }
    /// 413 `RequestEntityTooLarge`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "RequestEntityTooLarge", message)
    }
    /// 429 `TooManyRequests` with a `Retry-After` in seconds.
    pub fn too_many(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError { retry_after: Some(retry_after), ..Self::new(429, "TooManyRequests", message) }
    }
    /// 500 `InternalServerError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalServerError", message)
    }
    /// An injected error with an arbitrary status; the code follows OCI's naming for it.
    pub fn injected(status: u16, retry_after: Option<u64>) -> Self {
        let code = match status {
            400 => "InvalidParameter",
            401 => "NotAuthenticated",
            404 => "NotAuthorizedOrNotFound",
            409 => "IncorrectState",
            429 => "TooManyRequests",
            501 => "NotImplemented",
            502 => "BadGateway",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            _ => "InternalServerError",
        };
        ApiError {
            retry_after,
            ..Self::new(status, code, format!("fault injected by the emulator (HTTP {status})"))
        }
    }

    /// The JSON body OCI sends with an error.
    pub fn body(&self) -> Vec<u8> {
        serde_json::json!({"code": self.code, "message": self.message}).to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_and_message() {
        let e = ApiError::incorrect_state("key k is DISABLED");
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["code"], "IncorrectState");
        assert_eq!(v["message"], "key k is DISABLED");
        assert_eq!(e.status, 409);
        assert_eq!(ApiError::injected(503, None).code, "ServiceUnavailable");
    }
}
