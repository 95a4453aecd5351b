// SPDX-License-Identifier: MPL-2.0
//! `ocikms_version()`: the library version, matching the header's `OCIKMS_VERSION_STRING`.

use std::ffi::c_char;

use super::guard::infallible;

/// The version with its NUL terminator, from Cargo.toml.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version ("MAJOR.MINOR.PATCH"), a static string: never free it. Compare with
/// `OCIKMS_VERSION_STRING` to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn ocikms_version() -> *const c_char {
    infallible("ocikms_version", VERSION.as_ptr().cast(), || VERSION.as_ptr().cast())
}
