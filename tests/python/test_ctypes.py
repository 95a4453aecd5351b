"""The shared library through ctypes (dlopen), against the emulator."""

import ctypes
import json
import pathlib
import re

import pytest

from ocikms_ctypes import Library, OcikmsError, Seal

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


def test_forced_panic_is_an_error_not_a_crash(lib):
    err = ctypes.c_void_p()
    status = lib.lib.ocikms_debug_force_panic(ctypes.byref(err))
    with pytest.raises(OcikmsError) as info:
        lib.check(status, err)
    assert info.value.name == "panic"
    assert lib.version()


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
