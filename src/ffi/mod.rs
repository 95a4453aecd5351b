// SPDX-License-Identifier: MPL-2.0
//! The C ABI (`include/ocikms.h`, generated from this module by cbindgen in `build.rs`).
//!
//! Conventions shared by every function (also written at the top of the header):
//! - fallible calls return an `int32_t` status: `0` on success, else an [`ErrorCode`] number;
//! - on failure a caller-owned `ocikms_error` is written to `*out_err` (when `out_err` is not NULL);
//! - other out-parameters are written only on success; inputs are copied, never retained;
//! - NULL pointers and bad lengths are `OCIKMS_STATUS_INVALID_ARGUMENT`, never undefined behaviour;
//! - every body runs inside a panic boundary: a panic becomes `OCIKMS_STATUS_PANIC`.
//!
//! [`ErrorCode`]: crate::error::ErrorCode

// C naming (ocikms_seal, ocikms_error, ...) is the contract of the header.
#![allow(non_camel_case_types)]

mod args;
mod buffer;
mod call_opts;
mod config_json;
mod error;
mod error_api;
mod guard;
mod log;
mod seal;
mod version;
mod versioned;

#[cfg(test)]
mod tests;
