// SPDX-License-Identifier: MPL-2.0
//! `ocikms_error`: the caller-owned error object, built from a crate [`Error`] and handed to the
//! caller through `out_err`. Its C accessors are in `error_api`.

use std::ffi::CString;

use crate::error::{Error, ErrorCode};

/// An error returned through an `ocikms_error **out_err` parameter. Opaque; owned by the caller,
/// who frees it with `ocikms_error_free`. Its strings live as long as the object.
pub struct ocikms_error {
    pub(super) code: ErrorCode,
    pub(super) message: CString,
    pub(super) oci_code: CString,
    pub(super) opc_request_id: CString,
    pub(super) http_status: i32,
    pub(super) retryable: bool,
}

impl ocikms_error {
    /// Converts a crate error; NUL bytes (never expected) are replaced so nothing is lost.
    fn from_error(err: &Error) -> Self {
        let service = err.service();
        ocikms_error {
            code: err.code(),
            message: c_string(&err.to_string()),
            oci_code: c_string(service.map(|s| s.code.as_str()).unwrap_or("")),
            opc_request_id: c_string(service.map(|s| s.opc_request_id.as_str()).unwrap_or("")),
            http_status: service.map(|s| i32::from(s.status)).unwrap_or(0),
            retryable: err.is_retryable(),
        }
    }
}

/// A C string of `text`, NUL bytes (never expected) replaced.
pub(super) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Writes `err` to `*out_err` when `out_err` is not NULL.
pub(crate) fn set_out_error(out_err: *mut *mut ocikms_error, err: Error) {
    if out_err.is_null() {
        return;
    }
    let boxed = Box::into_raw(Box::new(ocikms_error::from_error(&err)));
    // SAFETY: the caller promised `out_err` is NULL or a writable `ocikms_error *` slot.
    unsafe { out_err.write(boxed) };
}
