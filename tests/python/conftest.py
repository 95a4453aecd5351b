# SPDX-License-Identifier: MPL-2.0
"""Fixtures for the ctypes tests: a fresh OCI KMS emulator and the shared library's path.

Environment: OCIKMS_EMULATOR_BIN (default target/release/oci-kms-emulator) and OCIKMS_LIB_DIR
(default target/release) override where the binaries are.
"""

import json
import os
import pathlib
import signal
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def library_path():
    lib_dir = pathlib.Path(os.environ.get("OCIKMS_LIB_DIR", ROOT / "target" / "release"))
    path = lib_dir / "libocikms.so"
    if not path.exists():
        pytest.fail(f"{path} not found: run 'cargo build --release -p ocikms'")
    return path


@pytest.fixture(scope="session")
def panic_library_path():
    """libocikms.so built with the `debug-panic` feature (it exports ocikms_debug_force_panic,
    which the release library does not): scripts/build-debug-panic.sh builds it into
    target/debug-panic, or OCIKMS_DEBUG_PANIC_LIB_DIR names a directory holding one."""
    lib_dir = os.environ.get("OCIKMS_DEBUG_PANIC_LIB_DIR")
    if not lib_dir:
        built = subprocess.run(
            [str(ROOT / "scripts" / "build-debug-panic.sh")], stdout=subprocess.PIPE, text=True, check=True
        )
        lib_dir = built.stdout.strip()
    return pathlib.Path(lib_dir) / "libocikms.so"


@pytest.fixture(scope="session")
def emulator():
    """Starts the emulator; yields the parsed endpoints.json; stops it afterwards."""
    binary = pathlib.Path(os.environ.get("OCIKMS_EMULATOR_BIN", ROOT / "target" / "release" / "oci-kms-emulator"))
    if not binary.exists():
        pytest.fail(f"{binary} not found: run 'cargo build --release -p oci-kms-emulator'")
    with tempfile.TemporaryDirectory(prefix="ocikms-emulator-") as state:
        proc = subprocess.Popen(
            [str(binary), "--state-dir", state, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"the emulator exited at start: {proc.stderr.read()}")
            yield json.loads(line)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def config_json(emulator):
    """The config_json for ocikms_seal_init against the emulator (API key, env ignored)."""
    return json.dumps(
        {
            "key_id": emulator["key_id"],
            "crypto_endpoint": emulator["crypto_endpoint"],
            "management_endpoint": emulator["management_endpoint"],
            "auth_type_api_key": True,
            "config_file": emulator["oci_config_file"],
            "disallow_env_vars": True,
        }
    )

