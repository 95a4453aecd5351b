#!/usr/bin/env bash
# Side-by-side benchmarks of this project's Go binding vs Vault's official Go ocikms wrapper on one
# OCI KMS emulator (issue 7). Called by `make bench`; `--smoke` (run by `make test`) only checks
# that the harness works on a tiny workload and leaves bench/results and BENCHMARKS.md untouched.
#
#   scripts/bench.sh            full run (~4 min on 2 cores): bench/results/latest.{json,png}, BENCHMARKS.md
#   scripts/bench.sh --smoke    tiny workload (< 1 min once built), results in target/bench-smoke/
#   extra flags are passed to `ocikms-bench run` (e.g. --rounds 5 --duration 5s)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
CARGO="${CARGO:-cargo}"
GO="${GO:-go}"
release="$root/target/release"

smoke=false
args=()
for arg in "$@"; do
  if [ "$arg" = "--smoke" ]; then smoke=true; else args+=("$arg"); fi
done

# Release builds: the static library the Go binding links, the emulator, the aws-lc signature floor.
"$CARGO" build --release --locked -p ocikms -p oci-kms-emulator
"$CARGO" build --release --locked -p ocikms --example sign_floor
OCIKMS_ROOT="$root" . "$root/scripts/go-env.sh"
(cd bench && "$GO" build -o "$release/ocikms-bench" .)

run=("$release/ocikms-bench" run -emulator "$release/oci-kms-emulator" -sign-floor "$release/examples/sign_floor")
if $smoke; then
  out="$root/target/bench-smoke"
  "${run[@]}" -smoke -results "$out" ${args[@]+"${args[@]}"} >/dev/null
  test -s "$out/latest.json"
  echo "bench smoke: harness OK ($out/latest.json)"
  exit 0
fi

out="$root/bench/results"
"${run[@]}" -results "$out" -markdown "$root/BENCHMARKS.md" ${args[@]+"${args[@]}"}

# The chart: matplotlib from PyPI, in a virtualenv under target/ when the system Python lacks it.
python=python3
if ! "$python" -c 'import matplotlib' >/dev/null 2>&1; then
  venv="$root/target/bench-venv"
  if ! "$venv/bin/python" -c 'import matplotlib' >/dev/null 2>&1; then
    echo "bench: installing matplotlib from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q matplotlib
  fi
  python="$venv/bin/python"
fi
"$python" bench/plot.py "$out/latest.json" "$out/latest.png"
echo "bench: wrote $out/latest.json, $out/latest.png and BENCHMARKS.md"
