#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds libocikms.so with the `debug-panic` feature — which adds `ocikms_debug_force_panic`, a
# deliberate panic behind the C ABI's panic boundary — for the panic-boundary tests of tests/c
# (run.sh panic) and tests/python, and prints the directory holding it (target/debug-panic).
#
# A separate target directory would compile every dependency a second time (~10 min on 2 cores),
# so the feature build reuses target/release's dependencies: the library is built there with the
# feature, copied out, and target/release's own library is rebuilt without it before the script
# returns (on failure too), so target/release never keeps the symbol. Skipped when the copy is
# newer than the library's sources.
#   scripts/build-debug-panic.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir="$PWD/target/debug-panic"
out="$out_dir/libocikms.so"

if [ -f "$out" ] && [ -z "$(find src build.rs Cargo.toml Cargo.lock -newer "$out" -print -quit)" ]; then
  echo "$out_dir"
  exit 0
fi

restore() { cargo build --release --locked -p ocikms --lib --quiet >&2; }
trap restore EXIT
cargo rustc --release --locked -p ocikms --lib --crate-type cdylib --features debug-panic --quiet >&2
mkdir -p "$out_dir"
cp target/release/libocikms.so "$out.tmp"
mv "$out.tmp" "$out"
# The SONAME build.rs gives the library (libocikms.so.<major>), which programs linked to it load.
soname=$(readelf -d "$out" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
ln -sfn libocikms.so "$out_dir/$soname"
echo "$out_dir"
