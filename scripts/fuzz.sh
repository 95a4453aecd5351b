#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Fuzzing for ocikms (targets in fuzz/, shared bodies in fuzz/src/lib.rs).
#
#   scripts/fuzz.sh replay               replay every committed corpus file on stable (make test)
#   scripts/fuzz.sh run [SECONDS] [T..]  fuzz each target (default: all) for SECONDS (default 600),
#                                        one at a time, at nice 19; new inputs go to fuzz/corpus
#   scripts/fuzz.sh minimize [T..]       shrink the corpora in place (cargo fuzz cmin)
#   scripts/fuzz.sh go [SECONDS]         go test -fuzz on the Go binding's Decrypt (default 600)
#
# cargo fuzz needs nightly flags: with only a stable toolchain RUSTC_BOOTSTRAP=1 enables them.
# FUZZ_SANITIZER (default none: no ASan runtime needed; use address when available).
# Logs: fuzz/logs/<target>.log (not committed). Needs cargo-fuzz (cargo install cargo-fuzz).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ALL_TARGETS=(blob_decode config_parse http_response key_parse kms_client oci_response seal_init signature_header)
SANITIZER=${FUZZ_SANITIZER:-none}

cargo_fuzz() {
  (cd "$ROOT/fuzz" && RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz "$@")
}

mode=${1:-replay}
shift || true
case "$mode" in
  replay)
    cd "$ROOT"
    cargo test --release --locked -p ocikms --test reliability_fuzz_corpus
    ;;
  run)
    seconds=${1:-600}
    shift || true
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
    mkdir -p "$ROOT/fuzz/logs"
    cargo_fuzz build --sanitizer "$SANITIZER" --release
    for t in "${targets[@]}"; do
      echo "== fuzzing $t for ${seconds}s (log fuzz/logs/$t.log)"
      cargo_fuzz run --sanitizer "$SANITIZER" --release "$t" "$ROOT/fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        >"$ROOT/fuzz/logs/$t.log" 2>&1 || { echo "$t: FAILED (see fuzz/logs/$t.log)"; exit 1; }
      grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs)' "$ROOT/fuzz/logs/$t.log" | tail -2
      echo "$t: corpus $(ls "$ROOT/fuzz/corpus/$t" | wc -l) files, $(du -sk "$ROOT/fuzz/corpus/$t" | cut -f1) KiB"
    done
    ;;
  minimize)
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
    for t in "${targets[@]}"; do
      cargo_fuzz cmin --sanitizer "$SANITIZER" --release "$t" "$ROOT/fuzz/corpus/$t"
    done
    ;;
  go)
    seconds=${1:-600}
    cd "$ROOT/go-bindings"
    nice -n 19 go test -run '^$' -fuzz '^FuzzDecryptBlobInfo$' -fuzztime "${seconds}s" .
    ;;
  *)
    echo "usage: $0 replay | run [SECONDS] [TARGET...] | minimize [TARGET...] | go [SECONDS]" >&2
    exit 2
    ;;
esac
