#!/usr/bin/env bash
# ONNX classifiers on the engine next to PyTorch, in one run (not a test): torchvision's
# ResNet-18 (seeded weights, 1000 classes) exported by Scripts/make_onnx_fixtures.py --full,
# forward and forward + backward-to-input at batch 16, ours then PyTorch at its best (big
# buffers kept out of mmap, as Scripts/bench_torch.sh does) then ours again.
# Needs Debian's python3-torch (Scripts/setup.sh --with-reference). Keep the machine idle.
# Usage: Scripts/bench_onnx.sh [--seconds S] [--batches 1,16]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=5; batches=16
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --batches) batches="$2"; shift 2 ;;
        *) echo "usage: Scripts/bench_onnx.sh [--seconds S] [--batches 1,16]" >&2; exit 2 ;;
    esac
done
dir="${ROBUSTPATCH_ONNX_BENCH:-$HOME/.cache/robustpatch/onnx-bench}"
if [[ ! -f "$dir/resnet18.onnx" ]]; then
    echo "exporting resnet18.onnx into $dir (once)"
    /usr/bin/python3 Scripts/make_onnx_fixtures.py --full "$dir" --full-only >/dev/null
fi
swift build -c release --product robustpatch-bench >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ours1="$(.build/release/robustpatch-bench --onnx "$dir/resnet18.onnx" --batches "$batches" --seconds "$seconds" | tail -n 1)"
big=4294967296
torch="$(env MALLOC_MMAP_THRESHOLD_=$big MALLOC_TRIM_THRESHOLD_=$big MALLOC_TOP_PAD_=268435456 \
    /usr/bin/python3 Scripts/bench_onnx_torch.py --batches "$batches" --seconds "$seconds" --label best 2>/dev/null | tail -n 1)"
ours2="$(.build/release/robustpatch-bench --onnx "$dir/resnet18.onnx" --batches "$batches" --seconds "$seconds" | tail -n 1)"
/usr/bin/python3 - "$ours1" "$ours2" "$torch" <<'PY'
import json, sys
o1, o2, t = (json.loads(a) for a in sys.argv[1:4])
ours = {(r["batch"], r["mode"]): max(r["samples_per_s"], s["samples_per_s"]) for r, s in zip(o1["results"], o2["results"])}
best = {(r["batch"], r["mode"]): r["samples_per_s"] for r in t["results"]}
print("ResNet-18 (ONNX, 224 x 224), samples/s; ours: the better of two runs around PyTorch's")
print("%-6s %-18s %12s %12s %9s" % ("batch", "mode", "robustpatch", "torch best", "ratio"))
for (b, m), v in ours.items():
    print("%-6d %-18s %12.1f %12.1f %8.2fx" % (b, m, v, best[(b, m)], v / best[(b, m)]))
PY
