#!/usr/bin/env bash
# Engine benchmark next to PyTorch, in one run on this machine (not a test): lite0 forward and
# forward + backward-to-input at batch 1 and 16. Runs ours, PyTorch with glibc's default malloc
# and PyTorch at its best (big buffers kept out of mmap), then ours again, and prints the ratios.
# Needs Debian's python3-torch (Scripts/setup.sh --with-reference). Keep the machine idle.
# Usage: Scripts/bench.sh [--seconds S]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=8
[[ "${1:-}" == "--seconds" ]] && seconds="$2"
swift build -c release --product robustpatch-bench >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ours1="$(.build/release/robustpatch-bench --seconds "$seconds" | tee /dev/stderr | tail -n 1)"
torch="$(Scripts/bench_torch.sh --seconds "$seconds" | tee /dev/stderr | tail -n 1)"
ours2="$(.build/release/robustpatch-bench --seconds "$seconds" | tee /dev/stderr | tail -n 1)"
/usr/bin/python3 - "$ours1" "$ours2" "$torch" <<'PY'
import json, sys
o1, o2, t = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
ours = {(r["batch"], r["mode"]): max(r["samples_per_s"], s["samples_per_s"]) for r, s in zip(o1["results"], o2["results"])}
# % of the machine's fp32 peak (the benchmark's FMA-loop measurement, the higher of its two runs).
peak = max(o1.get("peak_gflops") or 0, o2.get("peak_gflops") or 0)
pct = {(r["batch"], r["mode"]): r["percent_of_peak"] / r["samples_per_s"] for r in o1["results"] if r.get("percent_of_peak")}
runs = {run["label"]: {(r["batch"], r["mode"]): r["samples_per_s"] for r in run["results"]} for run in t["runs"]}
print("\nfp32 peak: %.0f GFLOP/s; pointwise GEMM: %s" % (peak, o1.get("kernel", "?")))
print("%-6s %-18s %18s %18s %18s %10s %10s" % ("batch", "mode", "robustpatch", "torch default", "torch best", "vs default", "vs best"))
def cell(key, v):
    if key not in pct: return "%18.1f" % v
    return "%9.1f (%4.1f%%)" % (v, v * pct[key] * o1["peak_gflops"] / peak)
for (b, m), v in ours.items():
    d, best = runs["default"].get((b, m)), runs["no-mmap+no-trim"].get((b, m))
    print("%-6d %-18s %s %s %s %9.2fx %9.2fx" % (b, m, cell((b, m), v), cell((b, m), d), cell((b, m), best), v / d, v / best))
print("(samples/s, and in brackets % of the fp32 peak)")
PY
