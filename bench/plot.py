"""Draws bench/results/latest.png from latest.json: ours vs the official wrapper (and the OpenBao
plugin, when measured) per scenario.

Usage: python plot.py <latest.json> <latest.png>   (run by scripts/bench.sh)
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)

PANELS = [
    ("ops_per_s", "throughput (ops/s, higher is better)"),
    ("p50_us", "p50 latency (µs, lower is better)"),
    ("p99_us", "p99 latency (µs, lower is better)"),
    ("cpu_us_per_op", "client CPU per op (µs, lower is better; plugin: both processes)"),
]
COLOURS = {"ours": "#2a7ab0", "official": "#c8553d", "plugin": "#6a9f3a"}


def main(src: str, dst: str) -> None:
    with open(src, encoding="utf-8") as f:
        results = json.load(f)
    scenarios = results["scenarios"]
    names = [s["name"] for s in scenarios]
    impls = [i for i in COLOURS if all(s.get(i, {}).get("ops_per_s") for s in scenarios)]
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(13, 3.2 * len(PANELS)))
    width = 0.76 / len(impls)
    for ax, (field, title) in zip(axes, PANELS):
        for i, impl in enumerate(impls):
            xs = [n + (i - (len(impls) - 1) / 2) * width for n in range(len(names))]
            values = [s[impl][field] for s in scenarios]
            bars = ax.bar(xs, values, width, label=impl, color=COLOURS[impl])
            ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
        if field == "cpu_us_per_op":
            floor = results["floors"]["rsa2048_sign_us"]
            ax.axhline(floor, color="black", linestyle="--", linewidth=1,
                       label=f"one RSA-2048 signature ({floor:.0f} µs)")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("ocikms (Rust library + Go binding; plugin: the same in the OpenBao KMS plugin over gRPC)"
                 " vs Vault's Go ocikms wrapper, same emulator", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py <latest.json> <latest.png>")
    main(sys.argv[1], sys.argv[2])
