#!/usr/bin/env bash
# Builds the scene library: ~570 real photographs (train/ and val/, shorter side 320 px, JPEG) and
# manifest.tsv, from the Debian packages pinned in Scripts/scenes.tsv, into
# ${ROBUSTPATCH_SCENES:-$HOME/.cache/robustpatch/scenes}. The curation and the image rules live in
# Scripts/scenes_build.py; what the library holds is described in Samples/SCENES.md.
# Silent when the library is in place and every photo matches its SHA-256 in the manifest.
#
# Usage: Scripts/fetch-scenes.sh [--rebuild]
#   --rebuild  build again even if the library verifies (downloads are reused)
# Environment: ROBUSTPATCH_SCENES (where), PYTHON (default /usr/bin/python3, with Debian's python3-pil).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
table="$here/scenes.tsv"
builder="$here/scenes_build.py"
dest="${ROBUSTPATCH_SCENES:-$HOME/.cache/robustpatch/scenes}"
python="${PYTHON:-/usr/bin/python3}"   # Debian's, with python3-pil; not a pyenv/venv python

die() { echo "fetch-scenes: error: $*" >&2; exit 1; }

rebuild=0
for arg in "$@"; do
    case "$arg" in
        --rebuild) rebuild=1 ;;
        -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fetch-scenes: error: unknown option '$arg' (known: --rebuild)" >&2; exit 2 ;;
    esac
done

[[ -r "$table" ]] || die "cannot read $table (it pins the source packages and their SHA-256)"
[[ -r "$builder" ]] || die "cannot read $builder (it curates the photos and builds the library)"

# Temporary folders (all inside $dest) to remove on any exit, Ctrl-C included.
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# Source rows of the table: name package version sha256 bytes (comments, header and `manifest` skipped).
sources() { awk -F'\t' '!/^#/ && NF && $1 != "name" && $1 != "manifest"' "$table"; }

# The file name `apt-get download` gives a package (an epoch's ':' is written %3a).
deb_name() { printf '%s_%s_all.deb' "$1" "${2//:/%3a}"; }

# What a build depends on: the pinned packages and the curation (not the pinned manifest hash,
# which only checks a build). A library built from other inputs is rebuilt.
inputs_sha="$( (sources; cat "$builder") | sha256sum | cut -d' ' -f1)"

# Prints nothing when the library in $dest is complete and verifies; else why not.
library_problem() {
    local manifest="$dest/manifest.tsv" stamp="$dest/.stamp"
    [[ -f "$manifest" ]] || { echo "absent"; return; }
    [[ -f "$stamp" ]] || { echo "has no build stamp"; return; }
    local stamped_inputs stamped_manifest
    stamped_inputs="$(awk '$1 == "inputs" { print $2 }' "$stamp")"
    stamped_manifest="$(awk '$1 == "manifest" { print $2 }' "$stamp")"
    [[ "$stamped_inputs" == "$inputs_sha" ]] || { echo "was built from other pins or curation rules"; return; }
    [[ "$(sha256 "$manifest")" == "$stamped_manifest" ]] || { echo "has a manifest.tsv that is not the one it built"; return; }
    local bad
    bad="$(awk -F'\t' 'NR > 1 { print $11 "  " $1 }' "$manifest" \
        | (cd "$dest" && sha256sum --quiet --strict -c - 2>/dev/null) | grep -c ': FAILED' || true)"
    [[ "$bad" == "0" ]] || { echo "has $bad missing or corrupt photos"; return; }
}

mkdir -p "$dest" 2>/dev/null || die "cannot create $dest (set ROBUSTPATCH_SCENES to a writable folder)"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dest/.lock"
    flock -n 9 || die "another fetch-scenes is working in $dest"
fi

if [[ $rebuild -eq 0 ]]; then
    problem="$(library_problem)"
    [[ -n "$problem" ]] || exit 0
    [[ "$problem" == "absent" ]] || echo "fetch-scenes: the library in $dest $problem; rebuilding it" >&2
fi

# --- Tools ---
command -v "$python" >/dev/null 2>&1 || die "no $python: the photos are decoded and resized with Debian's python3 and python3-pil (apt-get install python3-pil; Scripts/setup.sh installs it)"
"$python" -c 'import PIL' 2>/dev/null \
    || die "$python has no PIL: apt-get install python3-pil (Scripts/setup.sh installs it)"
"$python" -c 'from PIL import features; raise SystemExit(0 if features.check("webp") else 1)' 2>/dev/null \
    || die "$python's PIL cannot decode WebP (GCompris' photos are WebP): use Debian's python3-pil"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: the sources are Debian packages (Debian/Ubuntu only)"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found: it reads the downloaded packages"

# --- Downloads (verified; a rerun after an interruption resumes here) ---
downloads="$dest/.downloads"
mkdir -p "$downloads"
apt_opts=(-q=2)
if [[ $(id -u) -eq 0 ]]; then
    apt_opts+=(-o APT::Sandbox::User=root)   # else apt warns that _apt cannot write here
fi

fetch_deb() {
    local package="$1" version="$2" want="$3" bytes="$4" file
    file="$downloads/$(deb_name "$package" "$version")"
    if [[ -f "$file" ]]; then
        [[ "$(sha256 "$file")" == "$want" ]] && return 0
        echo "fetch-scenes: $file has the wrong SHA-256; deleting it and downloading it again" >&2
        rm -f "$file"
    fi
    apt-cache madison "$package" 2>/dev/null | awk -F'|' -v v="$version" '{ gsub(/ /, "", $2) } $2 == v { found = 1 } END { exit !found }' \
        || die "apt knows no $package=$version: run 'apt-get update' first; if it still fails, Debian no longer serves that version (pin another in Scripts/scenes.tsv)"
    local tmp got
    tmp="$(mktemp -d "$downloads/.partial.XXXXXX")"
    cleanup+=("$tmp")
    echo "fetch-scenes: downloading $package $version ($(((bytes + 500000) / 1000000)) MB)"
    if ! (cd "$tmp" && apt-get download "${apt_opts[@]}" "$package=$version") >/dev/null 2>"$tmp/.err"; then
        die "apt-get download $package=$version failed (are Debian's package servers reachable?): $(grep -m1 '^E:' "$tmp/.err" || head -n1 "$tmp/.err")"
    fi
    got="$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)"
    [[ -n "$got" ]] || die "apt-get download $package=$version produced no .deb"
    local sha
    sha="$(sha256 "$got")"
    if [[ "$sha" != "$want" ]]; then
        rm -f "$got"
        die "$(basename "$got") has SHA-256 $sha, expected $want (Scripts/scenes.tsv); deleted it"
    fi
    mv -f "$got" "$file"
}

count=0
while IFS=$'\t' read -r _ package version sha bytes; do
    fetch_deb "$package" "$version" "$sha" "$bytes"
    count=$((count + 1))
done < <(sources)

# --- Build into a folder beside the library, then move it into place ---
echo "fetch-scenes: building the library from $count packages (about half a minute on two cores)"
build="$(mktemp -d "$dest/.build.XXXXXX")"
cleanup+=("$build")
"$python" "$builder" build --table "$table" --downloads "$downloads" --out "$build/lib" \
    || die "building the library failed (see the message above)"
manifest_sha="$(sha256 "$build/lib/manifest.tsv")"
printf 'inputs %s\nmanifest %s\n' "$inputs_sha" "$manifest_sha" >"$build/lib/.stamp"

# manifest.tsv is moved in last: until it is there, the folder is no library (and a rerun rebuilds it).
rm -f "$dest/manifest.tsv" "$dest/.stamp"
mkdir "$build/old"
for item in train val excluded.tsv groups.tsv; do
    if [[ -e "$dest/$item" ]]; then mv "$dest/$item" "$build/old/"; fi
done
mv "$build/lib/train" "$build/lib/val" "$build/lib/excluded.tsv" "$build/lib/groups.tsv" "$build/lib/.stamp" "$dest/"
mv "$build/lib/manifest.tsv" "$dest/manifest.tsv"

# A build with another PIL/libjpeg stores other bytes (same photos): say so, but keep it.
pinned="$(awk -F'\t' '$1 == "manifest" { print $4 "\t" $3 }' "$table")"
if [[ -n "$pinned" && "${pinned%%$'\t'*}" != "$manifest_sha" ]]; then
    pil="$("$python" -c 'import PIL; print(PIL.__version__)')"
    echo "fetch-scenes: warning: manifest.tsv has SHA-256 $manifest_sha, not the pinned ${pinned%%$'\t'*} (built with python3-pil ${pinned#*$'\t'}; this is PIL $pil): expected when PIL, libjpeg or the curation differ; the library is kept" >&2
fi

awk -F'\t' -v dir="$dest" 'NR > 1 { n++; split_[$2]++; cat[$3]++ }
    END {
        m = 0; for (c in cat) keys[++m] = c
        for (i = 2; i <= m; i++) for (j = i; j > 1 && keys[j - 1] > keys[j]; j--) { t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t }
        s = ""; for (i = 1; i <= m; i++) s = s (i > 1 ? ", " : "") keys[i] " " cat[keys[i]]
        printf "fetch-scenes: %d photos (%d train / %d validation; categories %s) in %s\n", n, split_["train"], split_["val"], s, dir
    }' "$dest/manifest.tsv"
