#!/usr/bin/env bash
# The main job, end to end on a fresh machine: installs what it needs, fetches the model weights,
# builds, classifies the bundled cat photo with all three models, generates a toaster patch on the
# bundled scenes (lite0, digital preset, circle ≈10% of the image) and reports its held-out success.
# Everything lands in out/quickstart/. Re-running it starts a fresh patch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
Scripts/setup.sh
swift build -c release --product robustpatch
bin=.build/release/robustpatch
out=out/quickstart
rm -rf "$out"; mkdir -p "$out"

echo "== classify: the bundled cat photo, three models"
"$bin" classify Samples/cat.png --model lite0,lite1,lite2 --top 3

echo "== generate: a toaster patch on Samples/scenes (held-out scenes in Samples/scenes/val)"
"$bin" generate --target toaster --model lite0 --shape circle --preset digital \
    --scenes Samples/scenes --steps 1000 --seed 1 --out "$out/patch"
