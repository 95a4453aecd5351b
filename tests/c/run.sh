#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds and runs the C ABI tests (tests/c/test_ocikms.c) against a fresh emulator.
#
#   tests/c/run.sh            all modes below, in order
#   tests/c/run.sh asan       static library, AddressSanitizer + LeakSanitizer, 8 threads x 1000 round
#                             trips; then in-flight cancellation and timeout against a slowed emulator
#   tests/c/run.sh transport  (ASan) connection faults: a pooled connection gone silent, pooled
#                             connections the emulator closed when idle, a late unsolicited 408
#   tests/c/run.sh valgrind   static library under valgrind memcheck (leaks and errors fatal), 2 x 20
#   tests/c/run.sh shared     shared library linked through pkg-config (ocikms.pc), 2 x 50
#   tests/c/run.sh panic      the panic boundary (test_panic.c) against a library built with the
#                             `debug-panic` feature in target/debug-panic (scripts/build-debug-panic.sh);
#                             and that neither ocikms.h nor target/release has ocikms_debug_force_panic
#
# Needs: target/release/libocikms.{a,so} and target/release/oci-kms-emulator (cargo build --release
# --workspace), a C compiler, python3, pkg-config, valgrind. OCIKMS_LIB_DIR overrides target/release.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB_DIR=${OCIKMS_LIB_DIR:-$ROOT/target/release}
BUILD=$ROOT/tests/c/build
CC=${CC:-cc}
CFLAGS=(-std=c11 -g -O1 -Wall -Wextra -Werror -pthread -I "$ROOT/include")
# The static library by full path plus the system libraries it needs (ocikms-static.pc).
STATIC_LIBS=$(pkg-config --with-path="$LIB_DIR" --libs ocikms-static)
mkdir -p "$BUILD"

# shellcheck source=tests/c/emulator.sh
source "$ROOT/tests/c/emulator.sh"
start_test_emulator

# Builds $BUILD/test_ocikms_asan once per run.
build_asan() {
  if [ -z "${ASAN_BUILT:-}" ]; then
    "$CC" "${CFLAGS[@]}" -fsanitize=address -fno-omit-frame-pointer "$ROOT/tests/c/test_ocikms.c" \
      $STATIC_LIBS -o "$BUILD/test_ocikms_asan"
    ASAN_BUILT=1
  fi
}

run_asan() {
  echo "== C tests: static library, ASan + LSan"
  build_asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
    OCIKMS_TEST_THREADS=${OCIKMS_TEST_THREADS:-8} OCIKMS_TEST_ITERATIONS=${OCIKMS_TEST_ITERATIONS:-1000} \
    "$BUILD/test_ocikms_asan"
  echo "== C tests: in-flight cancellation and timeout (the emulator holds two encrypts for 3 s)"
  emulator_admin PUT /faults \
    '{"rules":[{"route":"encrypt","sequence":[{"kind":"none"},{"kind":"delay","ms":3000},{"kind":"delay","ms":3000}]}]}'
  ASAN_OPTIONS=detect_leaks=1:exitcode=86 "$BUILD/test_ocikms_asan" inflight
  emulator_admin DELETE /faults
  echo "== C tests: a Retry-After no clock can add (the emulator answers the second encrypt 429)"
  emulator_admin PUT /faults \
    '{"rules":[{"route":"encrypt","sequence":[{"kind":"none"},{"kind":"status","status":429,"retry_after":9999999999999999999}]}]}'
  ASAN_OPTIONS=detect_leaks=1:exitcode=86 "$BUILD/test_ocikms_asan" retry-after
  emulator_admin DELETE /faults
}

# Each mode of test_ocikms runs against the fault plan set just before it (the seal's init
# validation is the first encrypt of each sequence).
run_transport() {
  build_asan
  local endpoint
  endpoint=$(emulator_field crypto_endpoint)
  export OCIKMS_TEST_EMULATOR_PORT=${endpoint##*:}
  echo "== C tests: a pooled connection gone silent (the emulator never answers the third encrypt)"
  emulator_admin PUT /faults \
    '{"rules":[{"route":"encrypt","sequence":[{"kind":"none"},{"kind":"none"},{"kind":"blackhole"}]}]}'
  ASAN_OPTIONS=detect_leaks=1:exitcode=86 "$BUILD/test_ocikms_asan" half-open
  echo "== C tests: pooled connections the emulator closed after 1 s idle (init + 8 encrypts held 300 ms)"
  emulator_admin PUT /faults \
    '{"close_idle_ms":1000,"rules":[{"route":"encrypt","probability":1.0,"fault":{"kind":"delay","ms":300},"times":9}]}'
  ASAN_OPTIONS=detect_leaks=1:exitcode=86 "$BUILD/test_ocikms_asan" close-idle
  echo "== C tests: a late 408 on a pooled connection (100 ms after the second encrypt's answer)"
  emulator_admin PUT /faults \
    '{"rules":[{"route":"encrypt","sequence":[{"kind":"none"},{"kind":"late_answer","ms":100}]}]}'
  ASAN_OPTIONS=detect_leaks=1:exitcode=86 "$BUILD/test_ocikms_asan" late-answer
  emulator_admin DELETE /faults
}

run_valgrind() {
  echo "== C tests: static library under valgrind"
  "$CC" "${CFLAGS[@]}" "$ROOT/tests/c/test_ocikms.c" $STATIC_LIBS -o "$BUILD/test_ocikms"
  OCIKMS_TEST_THREADS=2 OCIKMS_TEST_ITERATIONS=20 \
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$BUILD/test_ocikms"
}

run_shared() {
  echo "== C tests: shared library via pkg-config"
  # shellcheck disable=SC2046
  "$CC" "${CFLAGS[@]}" "$ROOT/tests/c/test_ocikms.c" $(pkg-config --with-path="$LIB_DIR" --cflags --libs ocikms) \
    -Wl,-rpath,"$LIB_DIR" -o "$BUILD/test_ocikms_shared"
  OCIKMS_TEST_THREADS=2 OCIKMS_TEST_ITERATIONS=50 "$BUILD/test_ocikms_shared"
}

run_panic() {
  echo "== C tests: panic boundary (library built with the debug-panic feature)"
  if grep -q ocikms_debug_force_panic "$ROOT/include/ocikms.h"; then
    echo "include/ocikms.h declares ocikms_debug_force_panic: it must stay out of the release ABI" >&2
    return 1
  fi
  if nm -D --defined-only "$LIB_DIR/libocikms.so" | grep -qw ocikms_debug_force_panic; then
    echo "$LIB_DIR/libocikms.so exports ocikms_debug_force_panic: built with the debug-panic feature?" >&2
    return 1
  fi
  local panic_dir
  panic_dir=$("$ROOT/scripts/build-debug-panic.sh")
  "$CC" "${CFLAGS[@]}" "$ROOT/tests/c/test_panic.c" -L"$panic_dir" -locikms -Wl,-rpath,"$panic_dir" \
    -o "$BUILD/test_panic"
  RUST_BACKTRACE=0 "$BUILD/test_panic"   # the deliberate panics print one line each
}

case "${1:-all}" in
  asan) run_asan ;;
  transport) run_transport ;;
  valgrind) run_valgrind ;;
  shared) run_shared ;;
  panic) run_panic ;;
  all) run_asan; run_transport; run_valgrind; run_shared; run_panic ;;
  *) echo "usage: $0 [asan|transport|valgrind|shared|panic|all]" >&2; exit 2 ;;
esac
