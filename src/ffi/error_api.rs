// SPDX-License-Identifier: MPL-2.0
//! The C functions that read and free an [`ocikms_error`], and `ocikms_status_name`.

use std::ffi::{c_char, CStr, CString};

use crate::error::ErrorCode;

use super::error::{c_string, ocikms_error};
use super::guard::infallible;

/// Borrows the error behind a caller pointer; NULL gives `None`.
fn borrow<'a>(err: *const ocikms_error) -> Option<&'a ocikms_error> {
    // SAFETY: the caller passes NULL or a live error from this library.
    unsafe { err.as_ref() }
}

static EMPTY: &CStr = c"";

/// The error's status code (an `OCIKMS_STATUS_*` value); `OCIKMS_STATUS_INVALID_ARGUMENT` for NULL.
#[no_mangle]
pub extern "C" fn ocikms_error_code(err: *const ocikms_error) -> i32 {
    infallible("ocikms_error_code", ErrorCode::InvalidArgument.as_i32(), || {
        borrow(err).map_or(ErrorCode::InvalidArgument, |e| e.code).as_i32()
    })
}

/// The full message: what failed, with what, and what to do; with the OCI status, code and
/// `opc-request-id` when the service answered. Never NULL ("" for a NULL error); valid until
/// the error is freed.
#[no_mangle]
pub extern "C" fn ocikms_error_message(err: *const ocikms_error) -> *const c_char {
    infallible("ocikms_error_message", EMPTY.as_ptr(), || {
        borrow(err).map_or(EMPTY.as_ptr(), |e| e.message.as_ptr())
    })
}

/// The OCI error code from the service's response (e.g. "NotAuthorizedOrNotFound"); "" when the
/// service did not answer. Never NULL; valid until the error is freed.
#[no_mangle]
pub extern "C" fn ocikms_error_oci_code(err: *const ocikms_error) -> *const c_char {
    infallible("ocikms_error_oci_code", EMPTY.as_ptr(), || {
        borrow(err).map_or(EMPTY.as_ptr(), |e| e.oci_code.as_ptr())
    })
}

/// The `opc-request-id` of the failed OCI request (quote it to Oracle support); "" when no request
/// was answered. Never NULL; valid until the error is freed.
#[no_mangle]
pub extern "C" fn ocikms_error_opc_request_id(err: *const ocikms_error) -> *const c_char {
    infallible("ocikms_error_opc_request_id", EMPTY.as_ptr(), || {
        borrow(err).map_or(EMPTY.as_ptr(), |e| e.opc_request_id.as_ptr())
    })
}

/// The HTTP status of the service's error response; 0 when the service did not answer.
#[no_mangle]
pub extern "C" fn ocikms_error_http_status(err: *const ocikms_error) -> i32 {
    infallible("ocikms_error_http_status", 0, || borrow(err).map_or(0, |e| e.http_status))
}

/// Whether retrying the same call later may succeed (throttling, 5xx, network, timeout).
#[no_mangle]
pub extern "C" fn ocikms_error_retryable(err: *const ocikms_error) -> bool {
    infallible("ocikms_error_retryable", false, || borrow(err).is_some_and(|e| e.retryable))
}

/// Frees an error. NULL is a no-op.
#[no_mangle]
pub extern "C" fn ocikms_error_free(err: *mut ocikms_error) {
    infallible("ocikms_error_free", (), || {
        if !err.is_null() {
            // SAFETY: non-NULL errors come from `Box::into_raw` in `set_out_error`.
            drop(unsafe { Box::from_raw(err) });
        }
    })
}

/// Every status code, for number → name look-ups.
const ALL_CODES: [ErrorCode; 19] = [
    ErrorCode::Ok,
    ErrorCode::InvalidArgument,
    ErrorCode::Config,
    ErrorCode::Credentials,
    ErrorCode::NotAuthenticated,
    ErrorCode::NotAuthorizedOrNotFound,
    ErrorCode::IncorrectState,
    ErrorCode::Throttled,
    ErrorCode::ServiceUnavailable,
    ErrorCode::ServiceError,
    ErrorCode::Network,
    ErrorCode::Timeout,
    ErrorCode::Cancelled,
    ErrorCode::NotInitialized,
    ErrorCode::DecryptFailed,
    ErrorCode::MalformedBlob,
    ErrorCode::UnsupportedMechanism,
    ErrorCode::Panic,
    ErrorCode::Internal,
];

/// The stable name of a status code ("ok", "invalid_argument", "not_authorized_or_not_found", ...);
/// "unknown" for a number that is not a status code. A static string: never free it.
#[no_mangle]
pub extern "C" fn ocikms_status_name(status: i32) -> *const c_char {
    static NAMES: std::sync::OnceLock<Vec<(i32, CString)>> = std::sync::OnceLock::new();
    infallible("ocikms_status_name", c"unknown".as_ptr(), || {
        let names = NAMES
            .get_or_init(|| ALL_CODES.iter().map(|c| (c.as_i32(), c_string(c.name()))).collect());
        names
            .iter()
            .find(|(number, _)| *number == status)
            .map_or(c"unknown".as_ptr(), |(_, name)| name.as_ptr())
    })
}
