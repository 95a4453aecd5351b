#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds tests/c/soak.c against the static library and runs it against a fresh emulator.
#   tests/c/soak.sh               10,000 round trips (make test)
#   OCIKMS_SOAK_ROUNDS=1000000 tests/c/soak.sh    the issue's million (by hand; ~15-30 min on 2 cores)
# OCIKMS_SOAK_THREADS, OCIKMS_SOAK_MAX_GROWTH_KB: see soak.c.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB_DIR=${OCIKMS_LIB_DIR:-$ROOT/target/release}
BUILD=$ROOT/tests/c/build
mkdir -p "$BUILD"
# shellcheck source=tests/c/emulator.sh
source "$ROOT/tests/c/emulator.sh"
start_test_emulator
"${CC:-cc}" -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -I "$ROOT/include" "$ROOT/tests/c/soak.c" \
  $(pkg-config --with-path="$LIB_DIR" --libs ocikms-static) -o "$BUILD/soak"
"$BUILD/soak"
