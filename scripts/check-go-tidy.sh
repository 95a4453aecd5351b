#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Fails when `go mod tidy` would change a Go module of the repository (go.mod or go.sum).
#   scripts/check-go-tidy.sh            every module but vault-build/ (make test)
#   scripts/check-go-tidy.sh DIR...     these modules (make test-vault: vault-build vault-build/stock,
#                                       whose tidy needs Vault's whole dependency graph and the
#                                       patched sdk that scripts/build-vault.sh sdk prepares)
set -euo pipefail
cd "$(dirname "$0")/.."
export GONOSUMDB='github.com/openbao/*' GOFLAGS=-mod=mod
status=0
while read -r mod; do
  dir=$(dirname "$mod")
  if ! out=$(cd "$dir" && go mod tidy -diff 2>&1); then
    echo "go mod tidy is not clean in $dir:" >&2
    echo "$out" >&2
    status=1
  fi
done < <(if [ $# -gt 0 ]; then printf '%s/go.mod\n' "$@"; else git ls-files '*go.mod' | grep -v '^vault-build/'; fi)
[ $status -eq 0 ] && echo "check-go-tidy: every Go module is tidy"
exit $status
