#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Tests the OpenBao KMS plugin (openbao-plugin/) as OpenBao's KMS catalog drives it: go vet, then
# the suite against $OCIKMS_PLUGIN_BIN when set (e.g. the static build of scripts/build-plugin.sh)
# or a plugin built by the test, then the suite again with the test and a plugin built with the
# race detector (any race the plugin reports fails the test).
# Needs target/release/libocikms.a and target/release/oci-kms-emulator
# (cargo build --release -p ocikms -p oci-kms-emulator); OCIKMS_EMULATOR_BIN overrides the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
OCIKMS_ROOT="$PWD" . scripts/go-env.sh
# OpenBao's go-kms-wrapping modules are not in the Go checksum database; go.sum pins their hashes.
export GONOSUMDB='github.com/openbao/*' CGO_ENABLED=1
cd openbao-plugin
echo "== openbao-plugin: go vet"
go vet ./...
echo "== openbao-plugin: tests (plugin: ${OCIKMS_PLUGIN_BIN:-built by the test})"
go test -count=1 ./...
echo "== openbao-plugin: tests with -race, plugin built with -race"
env -u OCIKMS_PLUGIN_BIN OCIKMS_PLUGIN_RACE=1 go test -count=1 -race ./...
