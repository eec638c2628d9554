#!/usr/bin/env bash
# Fetches scikit-learn's 8×8 handwritten digits (1797 images; UCI "Optical Recognition of
# Handwritten Digits", test part; CC BY 4.0) for `robustpatch linear-demo`: the file
# sklearn/datasets/data/digits.csv.gz inside the pinned scikit-learn wheel on PyPI, decompressed to
# ${ROBUSTPATCH_DATA:-$HOME/.cache/robustpatch/datasets}/digits.csv. SHA-256 of the wheel and of
# the CSV are pinned below. Silent when the CSV is already in place with the right SHA-256.
#
# Usage: Scripts/fetch-digits.sh
# Each line of digits.csv: 64 pixel values 0..16 (row by row), then the digit 0..9.
set -euo pipefail

# The wheel is platform-specific, so pip is told exactly which one to fetch (the same file on
# any host); every scikit-learn wheel of this version holds the same digits.csv.gz.
version="1.5.2"
wheel_name="scikit_learn-1.5.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
wheel_sha="f8b0ccd4a902836493e026c03256e8b206656f91fbcc4fde28c57a5b752561f1"
member="sklearn/datasets/data/digits.csv.gz"
csv_sha="6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"

dest="${ROBUSTPATCH_DATA:-$HOME/.cache/robustpatch/datasets}"
target="$dest/digits.csv"

die() { echo "fetch-digits: error: $*" >&2; exit 1; }

for arg in "$@"; do
    case "$arg" in
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fetch-digits: error: unknown argument '$arg' (it takes none)" >&2; exit 2 ;;
    esac
done

sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$target" ]]; then
    [[ "$(sha256 "$target")" == "$csv_sha" ]] && exit 0
    echo "fetch-digits: $target has the wrong SHA-256 (expected $csv_sha); deleting it and fetching again" >&2
    rm -f "$target"
fi

command -v python3 >/dev/null || die "python3 is needed to download scikit-learn's wheel (apt-get install python3 python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || die "pip is needed to download scikit-learn's wheel (apt-get install python3-pip)"
mkdir -p "$dest" || die "cannot create $dest (set ROBUSTPATCH_DATA to a writable folder)"
tmp="$(mktemp -d "$dest/.fetch-digits.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetch-digits: downloading scikit-learn==$version from PyPI (for its digits.csv.gz)"
python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
    -d "$tmp/wheel" "scikit-learn==$version" \
    || die "pip download of scikit-learn==$version failed (is PyPI reachable? proxy settings?)"
wheel="$tmp/wheel/$wheel_name"
[[ -f "$wheel" ]] || die "pip download did not produce $wheel_name"
got="$(sha256 "$wheel")"
[[ "$got" == "$wheel_sha" ]] || die "$wheel_name has SHA-256 $got, expected $wheel_sha; check the pins in $0"

# A wheel is a zip; python3's zipfile and gzip modules avoid depending on unzip and gunzip.
python3 - "$wheel" "$member" "$tmp/digits.csv" <<'PY' || die "could not extract and decompress $member from $wheel_name"
import gzip, shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as raw, gzip.GzipFile(fileobj=raw) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
got="$(sha256 "$tmp/digits.csv")"
[[ "$got" == "$csv_sha" ]] || die "$member decompressed to SHA-256 $got, expected $csv_sha"
# Same filesystem (tmp is inside dest), so mv is an atomic rename.
mv -f "$tmp/digits.csv" "$target"
echo "fetch-digits: installed $target (1797 digits, SHA-256 $csv_sha)"
