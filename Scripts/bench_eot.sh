#!/usr/bin/env bash
# EOT step benchmark next to PyTorch, in one run on this machine (not a test): batch-16 lite0
# steps of `robustpatch-bench --eot` and of the plain PyTorch loop Scripts/bench_eot_torch.py.
# Ours (digital preset) and PyTorch at its best (big buffers kept out of mmap; Scripts/bench_torch.sh
# explains) alternate for R rounds, and the medians are compared (a shared machine's speed drifts
# by 10-20 % from minute to minute); PyTorch with glibc's default malloc, and ours on the
# tabletop and photo presets, run once per round too. Needs Debian's python3-torch
# (Scripts/setup.sh --with-reference). Keep the machine idle.
# Usage: Scripts/bench_eot.sh [--seconds S] [--rounds R]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=12; rounds=3
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        *) echo "usage: Scripts/bench_eot.sh [--seconds S] [--rounds R]" >&2; exit 2 ;;
    esac
done
python="${PYTHON:-/usr/bin/python3}"
big=4294967296
swift build -c release --product robustpatch-bench >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $seconds s per run"
ours() { .build/release/robustpatch-bench --eot --batches 16 --seconds "$seconds" --preset "$1" | tail -n 1; }
torch() { env -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_TRIM_THRESHOLD_ -u MALLOC_TOP_PAD_ "$@" "$python" Scripts/bench_eot_torch.py --seconds "$seconds" | tail -n 1; }
lines=()
for r in $(seq "$rounds"); do
    lines+=("digital $(ours digital)")
    lines+=("torch-best $(torch MALLOC_MMAP_THRESHOLD_=$big MALLOC_TRIM_THRESHOLD_=$big MALLOC_TOP_PAD_=268435456)")
    lines+=("tabletop $(ours tabletop)")
    lines+=("torch-default $(torch)")
    lines+=("photo $(ours photo)")
    echo "round $r done" >&2
done
printf '%s\n' "${lines[@]}" | "$python" -c '
import json, statistics, sys
runs = {}
for line in sys.stdin:
    label, text = line.split(" ", 1)
    j = json.loads(text)
    runs.setdefault(label, []).append(j["results"][0]["seconds_per_step"] if "results" in j else j["seconds_per_step"])
med = {k: statistics.median(v) for k, v in runs.items()}
ours = med["digital"]
print("\nEOT step, lite0, batch 16: median s/step over the rounds (each run: %s)" % ", ".join("%s %s" % (k, " ".join("%.3f" % x for x in v)) for k, v in runs.items()))
print("%-34s %8s %10s" % ("", "s/step", "vs ours"))
for key, label in [("digital", "robustpatch, digital preset"), ("torch-default", "PyTorch loop, glibc malloc"), ("torch-best", "PyTorch loop at its best"),
                   ("tabletop", "robustpatch, tabletop preset"), ("photo", "robustpatch, photo preset")]:
    print("%-34s %8.3f %9.2fx" % (label, med[key], med[key] / ours))
print("(vs ours: the step time over our digital step; for PyTorch that is our speed-up)")
'
