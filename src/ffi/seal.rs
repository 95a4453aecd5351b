// SPDX-License-Identifier: MPL-2.0
//! `ocikms_seal`: the seal handle and its operations (init, encrypt, decrypt, rewrap, key
//! version, metadata, free).

use std::ffi::c_char;
use std::sync::Arc;

use crate::blob::StoredValue;
use crate::blocking::BlockingSeal;
use crate::error::{Error, ErrorCode};

use super::args;
use super::buffer::{ocikms_buffer, string_to_caller};
use super::call_opts::{ocikms_call_opts, read_call_opts};
use super::config_json::seal_config;
use super::error::ocikms_error;
use super::guard::{infallible, status_call};

/// An initialised seal. Opaque and thread-safe: any number of threads may call the functions
/// taking a `const ocikms_seal *` at the same time. Free with `ocikms_seal_free` once no call uses
/// it any more.
pub struct ocikms_seal {
    inner: Arc<BlockingSeal>,
}

/// Creates a seal from `config_json`, a JSON object of config values (strings, booleans or
/// numbers): `key_id`, `crypto_endpoint`, `management_endpoint`, `auth_type_api_key`,
/// `auth_type`, `config_file`, `config_profile`, `ca_cert`, `request_timeout`, `max_retries`,
/// and `disallow_env_vars` (true: ignore the `OCIKMS_WRAPPER_*` / `VAULT_OCIKMS_*` environment).
/// Validates the key with an empty-plaintext encrypt, as Vault's Go seal does.
/// On success `*out_seal` receives the handle.
#[no_mangle]
pub extern "C" fn ocikms_seal_init(
    config_json: *const c_char,
    out_seal: *mut *mut ocikms_seal,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    ocikms_seal_init_opts(config_json, std::ptr::null(), out_seal, out_err)
}

/// `ocikms_seal_init` with call options: `timeout_ms` and `cancel` bound the validation call.
#[no_mangle]
pub extern "C" fn ocikms_seal_init_opts(
    config_json: *const c_char,
    opts: *const ocikms_call_opts,
    out_seal: *mut *mut ocikms_seal,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    status_call("ocikms_seal_init", out_err, || {
        let config_json = args::utf8(config_json, "config_json")?;
        let opts = read_call_opts(opts)?;
        let out_seal = args::out_param(out_seal, "out_seal")?;
        let config = seal_config(config_json)?;
        let seal = BlockingSeal::new(config, &opts)?;
        tracing::debug!(key_version = %seal.key_id(), "ocikms_seal_init: seal ready");
        out_seal.write(Box::into_raw(Box::new(ocikms_seal { inner: Arc::new(seal) })));
        Ok(())
    })
}

/// Frees a seal. NULL is a no-op. No call may be using the seal.
#[no_mangle]
pub extern "C" fn ocikms_seal_free(seal: *mut ocikms_seal) {
    infallible("ocikms_seal_free", (), || {
        if !seal.is_null() {
            // SAFETY: non-NULL seals come from `Box::into_raw` in `ocikms_seal_init_opts`.
            drop(unsafe { Box::from_raw(seal) });
        }
    })
}

/// Encrypts `plaintext_len` bytes (0 allowed; `plaintext` may then be NULL) into the go-kms-wrapping
/// `BlobInfo` protobuf bytes Vault stores. `opts` may be NULL. On success `*out_blob` receives
/// the bytes (free with `ocikms_buffer_free`).
#[no_mangle]
pub extern "C" fn ocikms_encrypt(
    seal: *const ocikms_seal,
    plaintext: *const u8,
    plaintext_len: usize,
    opts: *const ocikms_call_opts,
    out_blob: *mut ocikms_buffer,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    status_call("ocikms_encrypt", out_err, || {
        let seal = args::reference(seal, "seal")?;
        let plaintext = args::bytes(plaintext, plaintext_len, "plaintext")?;
        let opts = read_call_opts(opts)?;
        let out_blob = args::out_param(out_blob, "out_blob")?;
        let blob = seal.inner.encrypt(plaintext, &opts)?;
        out_blob.write(ocikms_buffer::from_boxed(blob.encode_bytes().into_boxed_slice()));
        Ok(())
    })
}

/// Decrypts a stored value: `BlobInfo` protobuf bytes (from this library or Vault's Go seal) or
/// Vault's `multiwrapvalue:1` form (the OCI KMS slots are tried, the current key version's
/// first). `opts` may be NULL (`aad` must match the encrypt's). On success `*out_plaintext`
/// receives the plaintext (free with `ocikms_buffer_free`, which zeroes it).
#[no_mangle]
pub extern "C" fn ocikms_decrypt(
    seal: *const ocikms_seal,
    blob: *const u8,
    blob_len: usize,
    opts: *const ocikms_call_opts,
    out_plaintext: *mut ocikms_buffer,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    status_call("ocikms_decrypt", out_err, || {
        let seal = args::reference(seal, "seal")?;
        let blob = args::bytes(blob, blob_len, "blob")?;
        let opts = read_call_opts(opts)?;
        let out_plaintext = args::out_param(out_plaintext, "out_plaintext")?;
        let plaintext = seal.inner.decrypt_stored(blob, &opts)?;
        out_plaintext.write(ocikms_buffer::copy_of(&plaintext));
        Ok(())
    })
}

/// Re-encrypts a stored value under the key's current version when it was written under an older
/// one (after an OCI key rotation). On success `*out_blob` receives the value to store — the new
/// `BlobInfo` bytes, or a copy of the input when it is already current (`multiwrapvalue:1` input
/// is refused: Vault's seal HA rewraps each slot itself) — and, when
/// `out_rewrapped` is not NULL, `*out_rewrapped` tells which. `opts` may be NULL (`aad` applies to
/// both the decrypt and the new encrypt).
#[no_mangle]
pub extern "C" fn ocikms_rewrap(
    seal: *const ocikms_seal,
    blob: *const u8,
    blob_len: usize,
    opts: *const ocikms_call_opts,
    out_blob: *mut ocikms_buffer,
    out_rewrapped: *mut bool,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    status_call("ocikms_rewrap", out_err, || {
        let seal = args::reference(seal, "seal")?;
        let input = args::bytes(blob, blob_len, "blob")?;
        let opts = read_call_opts(opts)?;
        let out_blob = args::out_param(out_blob, "out_blob")?;
        let out_rewrapped =
            (!out_rewrapped.is_null()).then(|| args::out_param(out_rewrapped, "out_rewrapped"));
        let out_rewrapped = out_rewrapped.transpose()?;
        let StoredValue::Single(stored) = StoredValue::decode(input)? else {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "ocikms_rewrap takes BlobInfo bytes; a multiwrapvalue:1 value is rewrapped by \
                 Vault's seal HA, slot by slot",
            ));
        };
        let rewrapped = seal.inner.rewrap(&stored, &opts)?;
        let changed = rewrapped.is_some();
        let bytes = rewrapped.map_or_else(|| input.to_vec(), |b| b.encode_bytes());
        out_blob.write(ocikms_buffer::from_boxed(bytes.into_boxed_slice()));
        if let Some(out) = out_rewrapped {
            out.write(changed);
        }
        Ok(())
    })
}

/// The current key *version* OCID (go-kms-wrapping `KeyId()`), as last seen from OCI: a
/// new string the caller frees with `ocikms_string_free`.
#[no_mangle]
pub extern "C" fn ocikms_key_version(
    seal: *const ocikms_seal,
    out_key_version: *mut *mut c_char,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    status_call("ocikms_key_version", out_err, || {
        let seal = args::reference(seal, "seal")?;
        let out = args::out_param(out_key_version, "out_key_version")?;
        out.write(string_to_caller(&seal.inner.key_id()));
        Ok(())
    })
}

/// The seal's metadata as a JSON object (Vault's keys: `key_id`, `crypto_endpoint`,
/// `management_endpoint`, `principal_type`): a new string the caller frees with
/// `ocikms_string_free`.
#[no_mangle]
pub extern "C" fn ocikms_metadata_json(
    seal: *const ocikms_seal,
    out_json: *mut *mut c_char,
    out_err: *mut *mut ocikms_error,
) -> i32 {
    status_call("ocikms_metadata_json", out_err, || {
        let seal = args::reference(seal, "seal")?;
        let out = args::out_param(out_json, "out_json")?;
        let json = serde_json::to_string(&seal.inner.metadata())
            .map_err(|err| Error::internal(format!("cannot serialise the seal metadata: {err}")))?;
        out.write(string_to_caller(&json));
        Ok(())
    })
}
