#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Restart-to-unsealed time of the real OpenBao server with the `openbao-plugin-kms-ocikms` seal.

Uses the real-server suite's harness (tests/servers/harness.py, openbao_suite.py): the emulator and
one OpenBao node (raft storage, loopback listener) whose seal is the plugin with an API key from the
plugin stanza's env. The node is initialised with recovery keys, then restarted N times; each
restart is timed in two parts: stop (SIGTERM → exited) and start → unsealed (the server process
starts, starts the plugin, configures the seal and decrypts its stored keys). The server's health
is polled every 20 ms (the harness's default is 250 ms) so the figures are not rounded up to it.

  python3 tests/servers/openbao_restart_bench.py [--restarts N] [--json PATH]

Prints every restart and min/median/max. --json writes the samples, which
`ocikms-bench run -restart PATH` puts in BENCHMARKS.md (scripts/bench.sh does both). Timings are
reported, never asserted. Environment: as openbao_suite.py (BAO_BIN, OCIKMS_PLUGIN_BIN,
OCIKMS_EMULATOR_BIN). Exit status 0 when every restart unsealed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import Cleanup, check  # noqa: E402
from openbao_suite import BAO, PLUGIN, World  # noqa: E402
from steps import restart_stopped, seal_type  # noqa: E402

POLL_S = 0.02


def poll_finely() -> None:
    """Makes the harness's waits (API up, unsealed) poll every POLL_S seconds at most."""
    coarse = harness.wait_for

    def wait_for(what, probe, timeout=60.0, every=0.25):
        return coarse(what, probe, timeout, min(every, POLL_S))

    harness.wait_for = wait_for


def summary(name: str, samples: list[float]) -> str:
    return (f"{name}: min {min(samples):.2f} s, median {statistics.median(samples):.2f} s, "
            f"max {max(samples):.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=5, help="restarts to time (default 5)")
    parser.add_argument("--json", type=Path, help="write the samples here (for ocikms-bench run -restart)")
    args = parser.parse_args()
    for binary in (BAO, PLUGIN):
        if not binary.exists():
            print(f"missing {binary}: run scripts/install-openbao.sh and scripts/build-plugin.sh",
                  file=sys.stderr)
            return 2
    server = subprocess.run([str(BAO), "version"], capture_output=True, text=True).stdout.strip()
    print(server, flush=True)
    poll_finely()
    cleanup = Cleanup()
    stops: list[float] = []
    starts: list[float] = []
    try:
        world = World(cleanup)
        node = world.node("restart")
        node.start(world.api_key_seal())
        node.init_autoseal()
        node.wait_unsealed()
        check(seal_type(node) == "ocikms", "the node's seal is not ocikms")
        for i in range(1, args.restarts + 1):
            node.wait_active()  # settled (raft leader, stored keys written) before the stop
            started = time.monotonic()
            node.stop()
            stops.append(time.monotonic() - started)
            starts.append(restart_stopped(node, world.api_key_seal()))
            print(f"restart {i}: stop {stops[-1]:.2f} s, start → unsealed {starts[-1]:.2f} s", flush=True)
        check(seal_type(node) == "ocikms", "the node's seal changed across the restarts")
    except harness.StepFailed as error:
        print(f"openbao restart bench failed: {error}", file=sys.stderr)
        return 1
    finally:
        cleanup.close()
    print(summary("stop", stops))
    print(summary("start → unsealed", starts))
    print(summary("stop → unsealed", [a + b for a, b in zip(stops, starts)]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"server": server, "poll_s": POLL_S, "stop_s": stops,
                                         "start_to_unsealed_s": starts}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
