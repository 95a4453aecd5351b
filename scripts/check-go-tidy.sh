#!/usr/bin/env bash
# Fails when `go mod tidy` would change any Go module of the repository (go.mod or go.sum).
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
done < <(git ls-files '*go.mod')
[ $status -eq 0 ] && echo "check-go-tidy: every Go module is tidy"
exit $status
