#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Runs the Go binding's tests and the interop tests with the official Go ocikms wrapper, each with
# the race detector and with GOEXPERIMENT=cgocheck2, plus the shared-library build tag.
# Needs target/release/libocikms.{a,so} and target/release/oci-kms-emulator
# (cargo build --release --workspace); OCIKMS_EMULATOR_BIN overrides the emulator path.
set -euo pipefail
cd "$(dirname "$0")/.."
OCIKMS_ROOT="$PWD" . scripts/go-env.sh
cd go-bindings
for dir in . interop; do
  echo "== go-bindings/$dir: go vet"
  (cd "$dir" && go vet ./...)
  echo "== go-bindings/$dir: -race"
  (cd "$dir" && go test -count=1 -race ./...)
  echo "== go-bindings/$dir: GOEXPERIMENT=cgocheck2"
  (cd "$dir" && GOEXPERIMENT=cgocheck2 go test -count=1 ./...)
done
echo "== go-bindings: -tags ocikms_shared"
go test -count=1 -tags ocikms_shared ./...
echo "== demo"
(cd interop && go run ./cmd/ocikms-demo)
