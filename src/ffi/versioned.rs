// SPDX-License-Identifier: MPL-2.0
//! Structs the caller passes by pointer that grow by appending fields, versioned by their leading
//! `struct_size` (the caller's `sizeof`). The rules are those of Linux's `copy_struct_from_user`:
//!
//! - a size below the first version's struct is an error;
//! - a size up to this library's struct (a caller built against this or an older header): the
//!   fields it covers are read, the others are zero — their defaults;
//! - a larger size (a caller built against a newer header): accepted when every byte this library
//!   does not know is zero (the caller left the newer fields at their defaults), else an error,
//!   since ignoring a field the caller set would silently change what the call does;
//! - a size above [`MAX_STRUCT_SIZE`] is an error (not a plausible struct: garbage or no size).

use std::mem::{size_of, MaybeUninit};
use std::ptr;

use crate::error::{Error, ErrorCode, Result};

use super::args;

/// The largest `struct_size` accepted (Linux uses a page likewise).
pub(crate) const MAX_STRUCT_SIZE: usize = 4096;

/// A `#[repr(C)]` struct whose first field is `struct_size: usize`, read with [`read`].
///
/// # Safety
///
/// Implementors are `#[repr(C)]`, start with a `usize` field holding the caller's size, and the
/// all-zero bit pattern is a valid value of every field, meaning its default.
pub(crate) unsafe trait Versioned: Sized {
    /// The struct's C name, for messages.
    const NAME: &'static str;
    /// `sizeof` of the first version of the struct: the smallest size accepted.
    const V1_SIZE: usize;
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// Copies the caller's struct at `ptr` (named `name` in errors) following the module's rules.
pub(crate) fn read<T: Versioned>(ptr: *const T, name: &str) -> Result<T> {
    let declared = *args::reference(ptr.cast::<usize>(), name)?;
    check_size::<T>(declared, name)?;
    let caller = args::bytes(ptr.cast::<u8>(), declared, name)?;
    let known = declared.min(size_of::<T>());
    if let Some(offset) = caller[known..].iter().position(|&b| b != 0) {
        return Err(invalid(format!(
            "{name} sets a field this library does not know (byte {} of its {declared}; this \
             library's {} has {} bytes): the caller was built against a newer ocikms.h, so link a \
             library at least as new or leave the newer fields zero",
            known + offset,
            T::NAME,
            size_of::<T>()
        )));
    }
    let mut value = MaybeUninit::<T>::zeroed();
    // SAFETY: `caller` holds `declared >= known` readable bytes; `value` has `size_of::<T>() >=
    // known` bytes; all-zero bytes then any bytes in the fields are a valid `T` (trait contract).
    unsafe {
        ptr::copy_nonoverlapping(caller.as_ptr(), value.as_mut_ptr().cast::<u8>(), known);
        Ok(value.assume_init())
    }
}

/// Checks `struct_size` against the first version and [`MAX_STRUCT_SIZE`].
fn check_size<T: Versioned>(declared: usize, name: &str) -> Result<()> {
    if declared < T::V1_SIZE {
        return Err(invalid(format!(
            "{name}.struct_size is {declared}, smaller than the first version of {} ({} bytes): \
             initialise it with {}_INIT",
            T::NAME,
            T::V1_SIZE,
            T::NAME.to_uppercase()
        )));
    }
    if declared > MAX_STRUCT_SIZE {
        return Err(invalid(format!(
            "{name}.struct_size is {declared}, more than any {} can be ({MAX_STRUCT_SIZE} bytes): \
             initialise it with {}_INIT",
            T::NAME,
            T::NAME.to_uppercase()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 2 of a struct that had `struct_size` and `a` in version 1.
    #[repr(C)]
    #[derive(Debug)]
    struct TwoFields {
        struct_size: usize,
        a: u64,
        b: u64,
    }

    // SAFETY: repr(C), `usize` first, integers only.
    unsafe impl Versioned for TwoFields {
        const NAME: &'static str = "two_fields";
        const V1_SIZE: usize = 16;
    }

    /// `words` as the caller's memory: a struct of `words[0]` bytes, then whatever follows.
    fn read_words(words: &[u64]) -> Result<TwoFields> {
        read(words.as_ptr().cast::<TwoFields>(), "opts")
    }

    #[test]
    fn an_older_caller_gets_defaults_for_the_fields_it_does_not_have() {
        // Version 1 (16 bytes) followed by unrelated non-zero memory: never read.
        let v1 = read_words(&[16, 7, 0xdead_beef]).unwrap();
        assert_eq!((v1.struct_size, v1.a, v1.b), (16, 7, 0));
        let v2 = read_words(&[24, 7, 9]).unwrap();
        assert_eq!((v2.a, v2.b), (7, 9));
    }

    #[test]
    fn a_newer_caller_is_accepted_only_with_its_newer_fields_zero() {
        let newer = read_words(&[40, 7, 9, 0, 0, 0xdead]).unwrap();
        assert_eq!((newer.a, newer.b), (7, 9));
        let err = read_words(&[40, 7, 9, 0, 5]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.message().contains("byte 32 of its 40"), "{err}");
    }

    #[test]
    fn sizes_below_the_first_version_or_implausibly_large_are_refused() {
        for size in [0, 8, 15, 4097, u64::MAX] {
            let err = read_words(&[size, 7, 9]).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidArgument, "{size}");
            assert!(err.message().contains("opts.struct_size"), "{err}");
        }
        assert!(read_words(&[15, 7]).unwrap_err().message().contains("TWO_FIELDS_INIT"));
    }
}
