# SPDX-License-Identifier: MPL-2.0
"""The shared library through ctypes (dlopen), against the emulator."""

import ctypes
import json
import pathlib
import re

import pytest

from ocikms_ctypes import OK, Buffer, CallOpts, Library, OcikmsError, Seal

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lib(library_path):
    return Library(library_path)


@pytest.fixture()
def seal(lib, config_json):
    with Seal(lib, config_json) as s:
        yield s


def test_version_matches_cargo_toml(lib):
    cargo = (ROOT / "Cargo.toml").read_text()
    version = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', cargo, re.M | re.S).group(1)
    assert lib.version() == version


@pytest.mark.parametrize("without_envelope", [False, True])
@pytest.mark.parametrize("aad", [None, b"vault/core/keyring"])
@pytest.mark.parametrize("plaintext", [b"", b"root key", bytes(range(256)) * 16])
def test_round_trip(seal, plaintext, aad, without_envelope):
    if without_envelope and aad is not None:
        # AAD binds the envelope only: mechanism 1 refuses it rather than ignore it silently.
        with pytest.raises(OcikmsError) as info:
            seal.encrypt(plaintext, aad=aad, without_envelope=True)
        assert info.value.name == "invalid_argument"
        return
    blob = seal.encrypt(plaintext, aad=aad, without_envelope=without_envelope)
    assert plaintext not in blob or not plaintext
    assert seal.decrypt(blob, aad=aad) == plaintext


def test_wrong_aad_is_decrypt_failed(seal):
    blob = seal.encrypt(b"secret", aad=b"a")
    with pytest.raises(OcikmsError) as info:
        seal.decrypt(blob, aad=b"b")
    assert info.value.name == "decrypt_failed"
    assert b"secret".decode() not in info.value.message


def test_garbage_blob_is_malformed(seal):
    with pytest.raises(OcikmsError) as info:
        seal.decrypt(b"\xff\x00garbage")
    assert info.value.name == "malformed_blob"


def test_metadata_and_key_version(seal, emulator):
    metadata = json.loads(seal.metadata_json())
    assert metadata["key_id"] == emulator["key_id"]
    assert metadata["crypto_endpoint"] == emulator["crypto_endpoint"]
    assert metadata["principal_type"] == "user"
    assert set(metadata) >= {"key_id", "crypto_endpoint", "management_endpoint", "principal_type"}
    assert seal.key_version().startswith("ocid1.")


def test_unknown_key_reports_oci_details(lib, emulator):
    config = {
        "key_id": "ocid1.key.oc1..doesnotexist",
        "crypto_endpoint": emulator["crypto_endpoint"],
        "management_endpoint": emulator["management_endpoint"],
        "auth_type_api_key": True,
        "config_file": emulator["oci_config_file"],
        "disallow_env_vars": True,
    }
    with pytest.raises(OcikmsError) as info:
        Seal(lib, json.dumps(config))
    err = info.value
    assert err.name == "not_authorized_or_not_found"
    assert err.http_status == 404
    assert err.oci_code == "NotAuthorizedOrNotFound"
    assert err.opc_request_id


def test_invalid_config_json(lib):
    with pytest.raises(OcikmsError) as info:
        Seal(lib, "{not json")
    assert info.value.name == "invalid_argument"


def test_forced_panic_is_an_error_not_a_crash(panic_library_path, library_path):
    panic_lib = Library(panic_library_path)
    force_panic = panic_lib.lib.ocikms_debug_force_panic
    force_panic.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    force_panic.restype = ctypes.c_int32
    err = ctypes.c_void_p()
    status = force_panic(ctypes.byref(err))
    with pytest.raises(OcikmsError) as info:
        panic_lib.check(status, err)
    assert info.value.name == "panic"
    assert "panic" in info.value.message
    assert panic_lib.version()
    # Not part of the release library's ABI.
    assert not hasattr(ctypes.CDLL(str(library_path)), "ocikms_debug_force_panic")


def encrypt_status(seal, opts):
    """(status, message) of an encrypt with `opts`, any ctypes struct laid out as the caller's."""
    out, err = Buffer(), ctypes.c_void_p()
    opts_ptr = ctypes.cast(ctypes.pointer(opts), ctypes.POINTER(CallOpts))
    status = seal.lib.ocikms_encrypt(seal.handle, b"x", 1, opts_ptr, ctypes.byref(out), ctypes.byref(err))
    try:
        seal.library.check(status, err)
        return status, ""
    except OcikmsError as e:
        return status, e.message
    finally:
        seal.lib.ocikms_buffer_free(ctypes.byref(out))


class CallOptsFuture(ctypes.Structure):
    """ocikms_call_opts as a future header could declare it: one more field appended."""

    _fields_ = CallOpts._fields_ + [("added", ctypes.c_uint64)]


class CallOptsBeforeV1(ctypes.Structure):
    """ocikms_call_opts without its last field: smaller than the first version."""

    _fields_ = CallOpts._fields_[:-1]


def test_call_opts_sizes_older_and_newer_than_the_library(seal):
    future = CallOptsFuture(struct_size=ctypes.sizeof(CallOptsFuture))
    assert encrypt_status(seal, future) == (OK, "")
    future.added = 7
    status, message = encrypt_status(seal, future)
    assert status == 1 and "newer ocikms.h" in message
    status, message = encrypt_status(seal, CallOptsBeforeV1(struct_size=ctypes.sizeof(CallOptsBeforeV1)))
    assert status == 1 and "first version" in message


def test_boolean_field_other_than_0_or_1_is_invalid_argument(seal):
    status, message = encrypt_status(seal, CallOpts(struct_size=ctypes.sizeof(CallOpts), without_envelope=2))
    assert status == 1 and "without_envelope" in message


def test_huge_timeout_is_capped_not_a_panic(seal):
    assert seal.decrypt(seal.encrypt(b"x", timeout_ms=2**64 - 1), timeout_ms=2**64 - 1) == b"x"


def test_log_callback_receives_lines_without_secrets(lib, config_json):
    lines = []
    lib.set_log_callback(lambda level, message: lines.append((level, message)), level=5)
    try:
        with Seal(lib, config_json) as seal:
            seal.decrypt(seal.encrypt(b"do-not-log-this-plaintext"))
    finally:
        lib.set_log_callback(None)
    assert lines, "no log line received"
    assert all(1 <= level <= 5 for level, _ in lines)
    assert not any("do-not-log-this-plaintext" in message for _, message in lines)
    count = len(lines)
    with Seal(lib, config_json):
        pass
    assert len(lines) == count, "a removed callback was called"
