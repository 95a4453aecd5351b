#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Runs the OpenBao compatibility tests (tests/openbao-compat): OpenBao v2.5.0's real ocikms seal
# code (go-kms-wrapping/v2 v2.6.0 + wrappers/ocikms/v2 v2.2.0) and OpenBao 2.6's envelope code
# (go-kms-wrapping/v2 v2.8.0, module tests/openbao-compat/openbao26) against this project's Go
# binding, on the emulator.
# Needs target/release/libocikms.a and target/release/oci-kms-emulator
# (cargo build --release --workspace); OCIKMS_EMULATOR_BIN overrides the emulator path.
set -euo pipefail
cd "$(dirname "$0")/.."
OCIKMS_ROOT="$PWD" . scripts/go-env.sh
# OpenBao's go-kms-wrapping modules are not in the Go checksum database; go.sum pins their hashes.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/openbao/*"
export CGO_ENABLED=1
for dir in tests/openbao-compat tests/openbao-compat/openbao26; do
  echo "== $dir: go vet"
  (cd "$dir" && go vet ./...)
  echo "== $dir: go test"
  (cd "$dir" && go test -count=1 ./...)
done
