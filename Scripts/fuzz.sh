#!/usr/bin/env bash
# Fuzzes the readers of untrusted bytes (Sources/FuzzTargets) with libFuzzer under AddressSanitizer
# and LeakSanitizer, one target after another, and prints a table of executions, speed and
# findings. Exits 1 on any crash, leak, hang (an input over 5 s), out-of-memory or undocumented
# error; each finding's input is saved under the output folder (crashers/<target>/), to be replayed
# with `robustpatch-fuzz TARGET FILE` and committed to Tests/FuzzCorpus/<target>/regressions/.
#
#   Scripts/fuzz.sh [--seconds N] [--runs N] [--out DIR] [--no-build] [TARGET ...]
#
# --seconds N: time per target (default 60); --runs N: executions per target (whichever ends first
# when both are given); no TARGET: all of them. The sanitizer build has its own scratch path,
# .build-fuzz, so it never disturbs the ordinary .build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="" runs="" out=".build-fuzz/findings" build=1 targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ -z "$seconds" && -z "$runs" ]] && seconds=60

scratch=.build-fuzz
if [[ $build == 1 ]]; then
    start=$(date +%s)
    # swiftc's -sanitize=fuzzer links libFuzzer but does not instrument Swift code for coverage by
    # itself: without -sanitize-coverage only the C shims would guide the fuzzer.
    nice -n 10 swift build -c release --product robustpatch-fuzz --scratch-path "$scratch" \
        --sanitize fuzzer --sanitize address -Xswiftc -DLIBFUZZER \
        -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table 2>&1 | grep -v "Cannot export local symbol '__asan_extra_spill_area'" || true
    echo "fuzz.sh: sanitizer build took $(( $(date +%s) - start )) s"
fi
bin="$scratch/release/robustpatch-fuzz"
[[ -x "$bin" ]] || { echo "fuzz.sh: $bin was not built" >&2; exit 2; }

all=$(ls Tests/FuzzCorpus)
[[ ${#targets[@]} -eq 0 ]] && read -r -a targets <<< "$(echo $all)"
for t in "${targets[@]}"; do
    [[ -d "Tests/FuzzCorpus/$t" ]] || { echo "fuzz.sh: no target '$t'; the targets are: $(echo $all)" >&2; exit 2; }
done

mkdir -p "$out"
table="$out/summary.tsv"
printf "target\texecutions\texec/s\tcrashes\tleaks\thangs\tooms\tseconds\n" > "$table"
failed=0
for t in "${targets[@]}"; do
    work="$out/corpus/$t" crashers="$out/crashers/$t" log="$out/$t.log"
    mkdir -p "$work" "$crashers"
    flags=(-timeout=5 -rss_limit_mb=4096 -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$crashers/")
    [[ -n "$seconds" ]] && flags+=(-max_total_time="$seconds")
    [[ -n "$runs" ]] && flags+=(-runs="$runs")
    dict="Scripts/fuzz-dicts/$t.dict"
    [[ -f "$dict" ]] && flags+=(-dict="$dict")
    # New inputs go to the first folder ($work); the committed seeds and regressions are only read.
    set +e
    LSAN_OPTIONS="suppressions=$PWD/Scripts/fuzz-lsan.supp:print_suppressions=0" \
    ROBUSTPATCH_FUZZ_TARGET="$t" nice -n 10 "$bin" "${flags[@]}" "$work" "Tests/FuzzCorpus/$t" > "$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || true)
    leaks=$(grep -c 'ERROR: LeakSanitizer' "$log" || true)
    hangs=$(grep -c 'ERROR: libFuzzer: timeout' "$log" || true)
    ooms=$(grep -c 'ERROR: libFuzzer: out-of-memory\|ERROR: libFuzzer: malloc' "$log" || true)
    crashes=0
    if [[ $rc -ne 0 && $leaks -eq 0 && $hangs -eq 0 && $ooms -eq 0 ]]; then crashes=1; fi
    if [[ $rc -ne 0 ]]; then
        failed=1
        echo "fuzz.sh: $t: finding (exit $rc); input(s) in $crashers, log $log:" >&2
        grep -m1 -A30 'ERROR:\|Fatal error\|==ERROR\|SUMMARY' "$log" | head -40 >&2 || tail -40 "$log" >&2
    fi
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$t" "${execs:-?}" "${speed:-?}" "$crashes" "$leaks" "$hangs" "$ooms" "${secs:-?}" >> "$table"
done
column -t -s $'\t' "$table" 2>/dev/null || cat "$table"
[[ $failed == 0 ]] && echo "fuzz.sh: no findings" || echo "fuzz.sh: FINDINGS: see $out" >&2
exit $failed
