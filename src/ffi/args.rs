// SPDX-License-Identifier: MPL-2.0
//! Checked conversions of raw C arguments: NULL, misalignment, bad lengths and invalid UTF-8
//! become `InvalidArgument` errors naming the parameter, never undefined behaviour.

use std::ffi::{c_char, CStr};

use crate::error::{Error, ErrorCode, Result};

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// Rejects NULL and misaligned pointers to `T`.
fn check_pointer<T>(ptr: *const T, name: &str) -> Result<()> {
    if ptr.is_null() {
        return Err(invalid(format!("argument `{name}` is NULL; pass a valid pointer")));
    }
    if !ptr.is_aligned() {
        return Err(invalid(format!("argument `{name}` is not a properly aligned pointer")));
    }
    Ok(())
}

/// Borrows a handle or struct passed by pointer.
pub(crate) fn reference<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    check_pointer(ptr, name)?;
    // SAFETY: non-NULL and aligned; the caller promised it points to a live `T`.
    Ok(unsafe { &*ptr })
}

/// Checks an out-parameter before any work is done, so a NULL one fails fast.
pub(crate) fn out_param<T>(ptr: *mut T, name: &str) -> Result<OutParam<T>> {
    check_pointer(ptr.cast_const(), name)?;
    Ok(OutParam(ptr))
}

/// A checked (non-NULL, aligned) out-parameter, written once on success.
pub(crate) struct OutParam<T>(*mut T);

impl<T> OutParam<T> {
    /// Writes the value (without reading or dropping what the caller's slot held).
    pub(crate) fn write(self, value: T) {
        // SAFETY: checked non-NULL and aligned in `out_param`; the caller owns the slot.
        unsafe { self.0.write(value) }
    }
}

/// Borrows `len` bytes at `ptr`. `len == 0` is the empty slice whatever `ptr` is; NULL with a
/// non-zero length and lengths above `isize::MAX` are errors.
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid(format!("argument `{name}` is NULL but its length is {len}")));
    }
    if len > isize::MAX as usize || (ptr as usize).checked_add(len).is_none() {
        return Err(invalid(format!("argument `{name}` has an impossible length {len}")));
    }
    // SAFETY: non-NULL, length checked above; the caller promised `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a NUL-terminated UTF-8 string.
pub(crate) fn utf8<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    check_pointer(ptr, name)?;
    // SAFETY: non-NULL; the caller promised a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|err| {
        invalid(format!(
            "argument `{name}` is not valid UTF-8 (byte {}): pass UTF-8 text",
            err.valid_up_to()
        ))
    })
}

/// Reads a C boolean passed as `uint8_t`: 0 is false, 1 is true, anything else is an error
/// (a C `bool` read as a Rust `bool` with another value would be undefined behaviour).
pub(crate) fn flag(value: u8, name: &str) -> Result<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(invalid(format!(
            "`{name}` is {other}: a boolean field takes 0 (false) or 1 (true)"
        ))),
    }
}
