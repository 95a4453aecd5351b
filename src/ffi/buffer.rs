// SPDX-License-Identifier: MPL-2.0
//! `ocikms_buffer`: bytes handed to the caller, zeroed and freed by `ocikms_buffer_free`; and
//! library-allocated strings freed by `ocikms_string_free`.

use std::ffi::{c_char, CString};
use std::ptr;

use zeroize::Zeroize;

use super::guard::infallible;

/// Bytes returned by the library (a BlobInfo, a plaintext). The caller owns them and must release
/// them with `ocikms_buffer_free`, which zeroes them first. `data` is never NULL in a buffer the
/// library filled (an empty result has `len == 0` and a non-NULL `data`).
#[repr(C)]
pub struct ocikms_buffer {
    /// The bytes.
    pub data: *mut u8,
    /// Number of bytes at `data`.
    pub len: usize,
}

impl ocikms_buffer {
    /// Moves `bytes` into a caller-owned buffer (allocation size == `len`, so free can rebuild it).
    pub(crate) fn from_boxed(bytes: Box<[u8]>) -> Self {
        let len = bytes.len();
        let data = Box::into_raw(bytes).cast::<u8>();
        ocikms_buffer { data, len }
    }

    /// Copies `bytes` into a caller-owned buffer (the source stays with its owner, e.g. to be
    /// zeroed on drop).
    pub(crate) fn copy_of(bytes: &[u8]) -> Self {
        Self::from_boxed(Box::from(bytes))
    }
}

/// Zeroes and frees the bytes of a buffer filled by the library, then sets `data` to NULL and
/// `len` to 0 (so a second call is a no-op). NULL `buf` or NULL `data` is a no-op.
#[no_mangle]
pub extern "C" fn ocikms_buffer_free(buf: *mut ocikms_buffer) {
    infallible("ocikms_buffer_free", (), || {
        // SAFETY: the caller passes NULL or a buffer the library filled.
        let Some(buf) = (unsafe { buf.as_mut() }) else { return };
        if buf.data.is_null() {
            return;
        }
        // SAFETY: `data`/`len` come from `from_boxed`: a `Box<[u8]>` of exactly `len` bytes.
        let mut bytes = unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(buf.data, buf.len)) };
        // Zeroize the `[u8]`, not the `Box<[u8]>`: zeroize's `Box<[Z]>` impl writes byte by byte
        // (volatile), the slice impl is one memset behind an optimization barrier.
        let slice: &mut [u8] = &mut bytes;
        slice.zeroize();
        drop(bytes);
        buf.data = ptr::null_mut();
        buf.len = 0;
    })
}

/// Moves a string to the caller (freed with `ocikms_string_free`).
pub(crate) fn string_to_caller(text: &str) -> *mut c_char {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default().into_raw()
}

/// Frees a string returned by the library (`ocikms_key_version`, `ocikms_metadata_json`).
/// NULL is a no-op. Never pass it `ocikms_version()` or error accessor strings.
#[no_mangle]
pub extern "C" fn ocikms_string_free(text: *mut c_char) {
    infallible("ocikms_string_free", (), || {
        if !text.is_null() {
            // SAFETY: non-NULL strings passed here come from `CString::into_raw` above.
            drop(unsafe { CString::from_raw(text) });
        }
    })
}
