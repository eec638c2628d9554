#!/usr/bin/env bash
# EOT step benchmark next to PyTorch, in one run on this machine (not a test): batch-16 lite0
# steps of `robustpatch-bench --eot` (digital preset, then tabletop and photo) and of the plain
# PyTorch loop Scripts/bench_eot_torch.py under glibc's default malloc and at its best (big
# buffers kept out of mmap, Scripts/bench_torch.sh explains), then ours again; prints s/step and
# the ratios. Needs Debian's python3-torch (Scripts/setup.sh --with-reference). Keep the machine idle.
# Usage: Scripts/bench_eot.sh [--seconds S]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=15
[[ "${1:-}" == "--seconds" ]] && seconds="$2"
python="${PYTHON:-/usr/bin/python3}"
big=4294967296
swift build -c release --product robustpatch-bench >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ours() { .build/release/robustpatch-bench --eot --batches 16 --seconds "$seconds" --preset "$1" | tail -n 1; }
o1="$(ours digital)"
t1="$(env -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_TRIM_THRESHOLD_ -u MALLOC_TOP_PAD_ "$python" Scripts/bench_eot_torch.py --seconds "$seconds" | tail -n 1)"
t2="$(env MALLOC_MMAP_THRESHOLD_=$big MALLOC_TRIM_THRESHOLD_=$big MALLOC_TOP_PAD_=268435456 "$python" Scripts/bench_eot_torch.py --seconds "$seconds" | tail -n 1)"
o2="$(ours digital)"
tt="$(ours tabletop)"
ph="$(ours photo)"
"$python" - "$o1" "$o2" "$t1" "$t2" "$tt" "$ph" <<'PY'
import json, sys
o1, o2, t1, t2, tt, ph = (json.loads(a) for a in sys.argv[1:])
s = lambda j: j["results"][0]["seconds_per_step"] if "results" in j else j["seconds_per_step"]
ours = (s(o1) + s(o2)) / 2
print("\nEOT step, lite0, batch 16 (s/step; ours: the mean of a run before and one after PyTorch's: %.3f, %.3f)" % (s(o1), s(o2)))
print("%-34s %8s %10s" % ("", "s/step", "vs ours"))
print("%-34s %8.3f %10s" % ("robustpatch, digital preset", ours, "1.00x"))
print("%-34s %8.3f %9.2fx" % ("PyTorch loop, glibc malloc", s(t1), s(t1) / ours))
print("%-34s %8.3f %9.2fx" % ("PyTorch loop at its best", s(t2), s(t2) / ours))
print("%-34s %8.3f %9.2fx" % ("robustpatch, tabletop preset", s(tt), s(tt) / ours))
print("%-34s %8.3f %9.2fx" % ("robustpatch, photo preset", s(ph), s(ph) / ours))
print("(vs ours: how many times our digital step; for presets, the step's cost relative to digital)")
PY
