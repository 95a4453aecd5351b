# SPDX-License-Identifier: MPL-2.0
# Sourced by the C test runner: starts the OCI KMS emulator on a free loopback port in a fresh
# state directory and stops it on exit.
#   start_emulator   sets EMULATOR_STATE (state dir) and EMULATOR_PID; endpoints in $EMULATOR_STATE/endpoints.json
#   stop_emulator    stops it and removes the state dir
#   start_test_emulator  start_emulator, stop_emulator on exit, and OCIKMS_TEST_CONFIG_JSON exported
# OCIKMS_EMULATOR_BIN overrides the binary (default target/release/oci-kms-emulator).

start_emulator() {
  local root bin
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  bin=${OCIKMS_EMULATOR_BIN:-$root/target/release/oci-kms-emulator}
  if [ ! -x "$bin" ]; then
    echo "emulator binary $bin not found: run 'cargo build --release -p oci-kms-emulator'" >&2
    return 1
  fi
  EMULATOR_STATE=$(mktemp -d "${TMPDIR:-/tmp}/ocikms-emulator.XXXXXX")
  "$bin" --state-dir "$EMULATOR_STATE" --listen 127.0.0.1:0 >"$EMULATOR_STATE/stdout.log" 2>"$EMULATOR_STATE/stderr.log" &
  EMULATOR_PID=$!
  for _ in $(seq 1 200); do
    if [ -s "$EMULATOR_STATE/endpoints.json" ] && emulator_field crypto_endpoint >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "the emulator exited at start:" >&2
      cat "$EMULATOR_STATE/stderr.log" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "the emulator did not write endpoints.json within 10 s" >&2
  return 1
}

stop_emulator() {
  if [ -n "${EMULATOR_PID:-}" ] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
    kill -TERM "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  if [ -n "${EMULATOR_STATE:-}" ] && [ -d "$EMULATOR_STATE" ]; then
    rm -rf "$EMULATOR_STATE"
  fi
}

# Starts the emulator for a C test program: stopped when the script exits, and its seal config
# exported as OCIKMS_TEST_CONFIG_JSON.
start_test_emulator() {
  start_emulator
  trap stop_emulator EXIT
  OCIKMS_TEST_CONFIG_JSON=$(emulator_config_json)
  export OCIKMS_TEST_CONFIG_JSON
}

# One field of endpoints.json.
emulator_field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$EMULATOR_STATE/endpoints.json" "$1"
}

# The config_json for ocikms_seal_init: the emulator's key and endpoints, API-key auth from its
# OCI config file, environment variables ignored.
emulator_config_json() {
  python3 - "$EMULATOR_STATE/endpoints.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
print(json.dumps({"key_id": e["key_id"], "crypto_endpoint": e["crypto_endpoint"],
                  "management_endpoint": e["management_endpoint"], "auth_type_api_key": True,
                  "config_file": e["oci_config_file"], "disallow_env_vars": True}))
PY
}

# Sends an admin request: emulator_admin METHOD PATH [JSON-BODY].
emulator_admin() {
  python3 - "$(emulator_field admin_url)$2" "$1" "${3:-}" <<'PY'
import sys, urllib.request
url, method, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
PY
}
