#!/usr/bin/env bash
# Runs Scripts/bench_torch.py (PyTorch CPU baseline, EfficientNet-Lite0) under glibc's default
# malloc and under the malloc settings that keep big buffers out of mmap, and prints both.
# Not a test; the machine should be otherwise idle (the load average is printed with each run).
#
# Why: with default settings glibc serves every allocation >= 128 KiB (the threshold grows
# dynamically up to 32 MiB) with a fresh mmap and returns it with munmap on free, so each
# step's activation buffers are page-faulted in again. MALLOC_MMAP_THRESHOLD_=4294967296
# keeps them in the brk heap (glibc 2.36 accepts this value from the environment; check with
# mallinfo2), and MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ stop free() from giving the heap's
# top back to the kernel after every step.
#
# Usage: Scripts/bench_torch.sh [--all] [bench_torch.py options, e.g. --seconds 10]
#   --all   also run each malloc setting on its own, to see which part matters.
# On a busy machine (other builds running), PyTorch's OpenMP threads spin-wait for each other and
# timings swing by 10x or more; `OMP_WAIT_POLICY=PASSIVE Scripts/bench_torch.sh` makes them stable
# (but slower than on an idle machine). Compare numbers only between runs under the same load.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/usr/bin/python3}"   # Debian's python3-torch; not a pyenv/venv python

all=0
args=()
for a in "$@"; do
    if [[ "$a" == "--all" ]]; then all=1; else args+=("$a"); fi
done

big=4294967296   # 4 GiB
variants=(
    "default|"
    "no-mmap+no-trim|MALLOC_MMAP_THRESHOLD_=$big MALLOC_TRIM_THRESHOLD_=$big MALLOC_TOP_PAD_=268435456"
)
if [[ $all -eq 1 ]]; then
    variants+=(
        "mmap-threshold-only|MALLOC_MMAP_THRESHOLD_=$big"
        "mmap-max-0|MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=$big"
    )
fi

json_lines=()
for v in "${variants[@]}"; do
    label="${v%%|*}"
    settings="${v#*|}"
    echo "=== $label: ${settings:-glibc defaults}"
    # shellcheck disable=SC2086
    out="$(cd "$here" && env -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_TRIM_THRESHOLD_ -u MALLOC_TOP_PAD_ \
        -u MALLOC_MMAP_MAX_ -u GLIBC_TUNABLES BENCH_LABEL="$label" $settings \
        "$python" bench_torch.py "${args[@]}")"
    printf '%s\n' "$out" | sed '$d'
    json_lines+=("$(printf '%s\n' "$out" | tail -n 1)")
done

echo "=== summary (samples/s)"
printf '%s\n' "${json_lines[@]}" | "$python" -c '
import json, sys
runs = [json.loads(l) for l in sys.stdin if l.strip()]
keys = [(r["batch"], r["mode"]) for r in runs[0]["results"]]
print("mean over the timed run / at the median iteration time")
print("%-6s %-18s" % ("batch", "mode") + "".join("%24s" % run["label"] for run in runs))
for b, m in keys:
    row = "%-6d %-18s" % (b, m)
    for run in runs:
        r = [r for r in run["results"] if (r["batch"], r["mode"]) == (b, m)][0]
        row += "%24s" % ("%.2f / %.2f" % (r["samples_per_s"], r["samples_per_s_median"]))
    print(row)
print(json.dumps({"runs": runs}))
'
