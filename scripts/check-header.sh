#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Fails when the committed C header include/ocikms.h is stale: build.rs regenerates it from
# src/ffi on every build, so after a build the working copy must equal the committed one.
#   scripts/check-header.sh          (builds the library first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p ocikms --quiet
if ! git ls-files --error-unmatch include/ocikms.h >/dev/null 2>&1; then
  echo "check-header: include/ocikms.h is not committed: git add it" >&2
  exit 1
fi
if ! git diff --quiet -- include/ocikms.h; then
  git --no-pager diff --stat -- include/ocikms.h >&2
  echo "check-header: include/ocikms.h is stale: the build regenerated it from src/ffi; commit the new header" >&2
  exit 1
fi
echo "check-header: include/ocikms.h is up to date"
