#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Did a change make our seal cost more CPU per operation? Runs the benchmark worker of this tree
# and of another commit (`ours` only: the Go binding over the library) alternately on one
# emulator, round after round, and prints per scenario the median over rounds of
# (this tree's client CPU/op ÷ the base commit's): two measurements seconds apart, which the
# drift of a shared machine's speed disturbs far less than absolute figures or floor ratios.
# Called by `make bench-compare BASE=<commit>`.
#
#   scripts/bench-compare.sh <commit> [rounds]     default 6 rounds, 2 s per scenario
#
# The base must have `ocikms-bench worker -only` (commits from 14f805f, 2026-11-30, on). It is
# checked out in target/bench-compare/src (a git worktree, reused for later bases) and built
# there with its own target directory: the first run costs a full release build (~15 min on 2
# cores), a later base only what changed.
set -euo pipefail

base="${1:?usage: scripts/bench-compare.sh <commit> [rounds]}"
rounds="${2:-6}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-compare: rounds must be a positive number, not '$rounds'" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
CARGO="${CARGO:-cargo}"
GO="${GO:-go}"
work="$root/target/bench-compare"
src="$work/src"
scenarios=encrypt_32B_c1,decrypt_32B_c1,encrypt_32B_c32,decrypt_32B_c32,encrypt_64KiB_c1
export GONOSUMDB='github.com/openbao/*'

# build_bench <tree> <cargo packages...>: the library (and what else is named) and the benchmark
# binary of one source tree, relinked whenever the library changed (this tree's go-env.sh, which
# stamps the digest of <tree>'s library into the link flags).
build_bench() {
  local tree="$1"
  shift
  (cd "$tree" && "$CARGO" build --release --locked "$@")
  (OCIKMS_ROOT="$tree" . "$root/scripts/go-env.sh" && cd "$tree/bench" &&
    "$GO" build -o "$tree/target/release/ocikms-bench" .)
}

commit="$(git rev-parse --verify "$base^{commit}")"
if ! git show "$commit:bench/worker.go" 2>/dev/null | grep -q '"only"'; then
  echo "bench-compare: $base has no \`ocikms-bench worker -only\` (it came with 14f805f): pick a later base" >&2
  exit 2
fi
mkdir -p "$work"
if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null || true)" = "$src" ]; then
  git -C "$src" checkout --quiet --force --detach "$commit" # keeps its target/ for a rebuild
else
  rm -rf "$src"
  git worktree prune
  git worktree add --detach "$src" "$commit" >/dev/null
fi
echo "bench-compare: building the base $(git log -1 --format='%h %ad' --date=short "$commit")"
build_bench "$src" -p ocikms
echo "bench-compare: building this tree"
build_bench "$root" -p ocikms -p oci-kms-emulator

# One emulator (this tree's) for both: its first stdout line is the endpoints JSON.
state="$(mktemp -d)"
"$root/target/release/oci-kms-emulator" --state-dir "$state" --listen 127.0.0.1:0 >"$state/endpoints" 2>"$state/stderr" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null; wait "$emulator" 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 200); do [ -s "$state/endpoints" ] && break; sleep 0.1; done
if ! [ -s "$state/endpoints" ] || ! kill -0 "$emulator" 2>/dev/null; then
  echo "bench-compare: the emulator did not start: $(cat "$state/stderr")" >&2
  exit 1
fi
field() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$state/endpoints" "$1"; }
config="$(field oci_config_file)"
home="$state/home"
mkdir -p "$home/.oci" && ln -s "$config" "$home/.oci/config"

# run_worker <tree> <output>: one worker of `ours` over every op scenario.
run_worker() {
  HOME="$home" OCI_CONFIG_FILE="$config" "$1/target/release/ocikms-bench" worker -impl ours \
    -key-id "$(field key_id)" -crypto-endpoint "$(field crypto_endpoint)" \
    -management-endpoint "$(field management_endpoint)" -init-samples 1 -duration 2s \
    -only "$scenarios" >"$2"
}

for round in $(seq "$rounds"); do
  # Alternate which goes first, so a drift within a round favours neither.
  if [ $((round % 2)) = 1 ]; then order="base this"; else order="this base"; fi
  for which in $order; do
    tree="$root"; [ "$which" = base ] && tree="$src"
    run_worker "$tree" "$state/$which-$round.json"
  done
  echo "bench-compare: round $round/$rounds done"
done

python3 - "$state" "$rounds" "$(git log -1 --format=%h "$commit")" <<'PY'
import json, statistics, sys
state, rounds, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def cpu_per_op(path):
    report = json.load(open(path))
    return {m["name"]: m["cpu_us"] / len(m["latencies_us"])
            for m in report["measurements"] if m["name"] != "seal_init" and m["latencies_us"]}

runs = [(cpu_per_op(f"{state}/base-{r}.json"), cpu_per_op(f"{state}/this-{r}.json"))
        for r in range(1, rounds + 1)]
print(f"\nclient CPU/op, this tree vs {base} ({rounds} alternating rounds):")
print(f"{'scenario':18} {'base µs':>8} {'this µs':>8} {'this ÷ base':>12} {'(range)':>13}")
for name in runs[0][0]:
    ratios = [this[name] / b[name] for b, this in runs]
    print(f"{name:18} {statistics.median(b[name] for b, _ in runs):8.0f} "
          f"{statistics.median(t[name] for _, t in runs):8.0f} "
          f"{statistics.median(ratios):12.3f} {min(ratios):6.2f}–{max(ratios):.2f}")
PY
