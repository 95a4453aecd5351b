# Sourced by the C test runner: starts the OCI KMS emulator on a free loopback port in a fresh
# state directory and stops it on exit.
#   start_emulator   sets EMULATOR_STATE (state dir) and EMULATOR_PID; endpoints in $EMULATOR_STATE/endpoints.json
#   stop_emulator    stops it and removes the state dir
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
    if [ -s "$EMULATOR_STATE/endpoints.json" ] && jq -e .crypto_endpoint "$EMULATOR_STATE/endpoints.json" >/dev/null 2>&1; then
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

# The config_json for ocikms_seal_init: the emulator's key and endpoints, API-key auth from its
# OCI config file, environment variables ignored.
emulator_config_json() {
  jq -c '{key_id, crypto_endpoint, management_endpoint, auth_type_api_key: true,
          config_file: .oci_config_file, disallow_env_vars: true}' "$EMULATOR_STATE/endpoints.json"
}
