// SPDX-License-Identifier: MPL-2.0
//! The panic boundary: every `extern "C"` body runs through [`status_call`] or [`infallible`], so
//! a panic never unwinds into the host (which would be undefined behaviour) nor aborts it.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorCode, Result};

use super::error::{ocikms_error, set_out_error};

/// Runs a fallible FFI body: `Ok` → `0`; `Err` → its code, with the error written to `out_err`;
/// a panic → [`ErrorCode::Panic`] with an error naming `function`.
pub(crate) fn status_call<F>(
    function: &'static str,
    out_err: *mut *mut ocikms_error,
    body: F,
) -> i32
where
    F: FnOnce() -> Result<()>,
{
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(panic_error(function, payload)));
    match outcome {
        Ok(()) => ErrorCode::Ok.as_i32(),
        Err(err) => {
            let code = err.code().as_i32();
            // Writing the error allocates; a panic there (never expected) must not escape either.
            let _ = catch_unwind(AssertUnwindSafe(|| set_out_error(out_err, err)));
            code
        }
    }
}

/// Runs an infallible FFI body (accessors, `*_free`): a panic yields `fallback` instead.
pub(crate) fn infallible<T, F>(function: &'static str, fallback: T, body: F) -> T
where
    F: FnOnce() -> T,
{
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let err = panic_error(function, payload);
        let _ = catch_unwind(|| tracing::error!("{err}"));
        fallback
    })
}

/// The error reported for a caught panic.
fn panic_error(function: &str, payload: Box<dyn Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    Error::new(
        ErrorCode::Panic,
        format!("internal panic caught in {function}: {what}; this is a bug in ocikms, please report it"),
    )
}

/// Panics on purpose inside the panic boundary, to let tests prove that a panic becomes
/// `OCIKMS_STATUS_PANIC` (with an error object) instead of crashing the host. Always returns
/// `OCIKMS_STATUS_PANIC`. Safe to call; has no other effect.
///
/// Not part of the release ABI: compiled only into the crate's unit tests and into libraries
/// built with the `debug-panic` feature (`scripts/build-debug-panic.sh`, for the C and Python
/// tests), and never declared in `ocikms.h` (`cbindgen.toml` excludes it).
#[cfg(any(test, feature = "debug-panic"))]
#[no_mangle]
pub extern "C" fn ocikms_debug_force_panic(out_err: *mut *mut ocikms_error) -> i32 {
    status_call("ocikms_debug_force_panic", out_err, || {
        panic!("ocikms_debug_force_panic called (deliberate test panic)")
    })
}
