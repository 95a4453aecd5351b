// SPDX-License-Identifier: MPL-2.0
//! `ocikms_call_opts` (per-call options, versioned by their size) and `ocikms_cancel_token`.

use std::mem::{offset_of, size_of};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::seal::CallOptions;

use super::args;
use super::guard::infallible;
use super::versioned::{self, Versioned};

/// Per-call options. Initialise with `OCIKMS_CALL_OPTS_INIT` (or zero the whole struct and set
/// `struct_size` to `sizeof(ocikms_call_opts)`). The struct grows by appending fields, and
/// `struct_size` says which ones the caller has: a library reads only the fields the caller's
/// size covers and takes the defaults (zero) for the rest, so a program built against an older
/// header keeps working with a newer library; a newer program works with an older library as
/// long as it leaves the fields that library does not know zero. A `struct_size` smaller than
/// the first version (all the fields below) is `OCIKMS_STATUS_INVALID_ARGUMENT`.
#[repr(C)]
pub struct ocikms_call_opts {
    /// `sizeof(ocikms_call_opts)` as compiled by the caller.
    pub struct_size: usize,
    /// Additional authenticated data for the envelope (go-kms-wrapping `WithAad`); NULL (or
    /// `aad_len` 0) for none. Copied during the call. Not allowed with `without_envelope`.
    pub aad: *const u8,
    /// Length of `aad` in bytes.
    pub aad_len: usize,
    /// 1: encrypt with OCI directly (mechanism 1, go-kms-wrapping `WithoutEnvelope`) instead of
    /// an AES-256-GCM envelope; 0 (default): the envelope. Any other value is
    /// `OCIKMS_STATUS_INVALID_ARGUMENT`. Ignored by decrypt (the blob names its mechanism).
    pub without_envelope: u8,
    /// Overall deadline of the call in milliseconds, retries included; 0 = the seal's default.
    pub timeout_ms: u64,
    /// A cancellation token (from `ocikms_cancel_token_new`); NULL for none. Cancelling it from
    /// another thread makes the in-flight call return `OCIKMS_STATUS_CANCELLED` promptly.
    pub cancel: *const ocikms_cancel_token,
}

// SAFETY: repr(C), `struct_size: usize` first; zero is a valid default of every field (NULL
// pointers, 0 lengths, `without_envelope` 0, `timeout_ms` 0).
unsafe impl Versioned for ocikms_call_opts {
    const NAME: &'static str = "ocikms_call_opts";
    /// Version 1: every field up to and including `cancel`.
    const V1_SIZE: usize =
        offset_of!(ocikms_call_opts, cancel) + size_of::<*const ocikms_cancel_token>();
}

/// A cancellation token: create it, pass it in `ocikms_call_opts.cancel`, cancel it from any
/// thread, free it when no call uses it any more (freeing during a call is also safe: the call
/// holds its own reference). Thread-safe.
pub struct ocikms_cancel_token {
    token: CancellationToken,
}

/// Converts the caller's options (NULL = defaults) into [`CallOptions`], copying everything.
pub(crate) fn read_call_opts(opts: *const ocikms_call_opts) -> Result<CallOptions> {
    if opts.is_null() {
        return Ok(CallOptions::default());
    }
    let opts = versioned::read(opts, "opts")?;
    let aad = args::bytes(opts.aad, opts.aad_len, "opts.aad")?;
    let cancel = if opts.cancel.is_null() {
        None
    } else {
        Some(args::reference(opts.cancel, "opts.cancel")?.token.clone())
    };
    Ok(CallOptions {
        // An empty AAD authenticates exactly like none (AES-GCM), so it is passed as none.
        aad: (!aad.is_empty()).then(|| aad.to_vec()),
        without_envelope: args::flag(opts.without_envelope, "opts.without_envelope")?,
        timeout: (opts.timeout_ms > 0).then(|| Duration::from_millis(opts.timeout_ms)),
        cancel,
    })
}

/// Creates a cancellation token. Returns NULL only if the library failed internally.
#[no_mangle]
pub extern "C" fn ocikms_cancel_token_new() -> *mut ocikms_cancel_token {
    infallible("ocikms_cancel_token_new", std::ptr::null_mut(), || {
        Box::into_raw(Box::new(ocikms_cancel_token { token: CancellationToken::new() }))
    })
}

/// Cancels every call that uses (or will use) this token. Idempotent, thread-safe; NULL is a no-op.
#[no_mangle]
pub extern "C" fn ocikms_cancel_token_cancel(token: *const ocikms_cancel_token) {
    infallible("ocikms_cancel_token_cancel", (), || {
        if let Ok(token) = args::reference(token, "token") {
            token.token.cancel();
        }
    })
}

/// Whether the token has been cancelled (false for NULL).
#[no_mangle]
pub extern "C" fn ocikms_cancel_token_is_cancelled(token: *const ocikms_cancel_token) -> bool {
    infallible("ocikms_cancel_token_is_cancelled", false, || {
        args::reference(token, "token").is_ok_and(|t| t.token.is_cancelled())
    })
}

/// Frees a token. NULL is a no-op.
#[no_mangle]
pub extern "C" fn ocikms_cancel_token_free(token: *mut ocikms_cancel_token) {
    infallible("ocikms_cancel_token_free", (), || {
        if !token.is_null() {
            // SAFETY: non-NULL tokens come from `Box::into_raw` in `ocikms_cancel_token_new`.
            drop(unsafe { Box::from_raw(token) });
        }
    })
}
