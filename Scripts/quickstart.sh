#!/usr/bin/env bash
# The main job, end to end on a fresh machine: installs what it needs, fetches the model weights
# and the scene library, builds, classifies the bundled cat photo with all three models,
# generates a toaster patch with generate's defaults (lite0, the `physical` distribution: a square
# sticker on paper seen by a phone camera), evaluates it on the library's held-out photos with
# controls, renders a contact sheet and a heat map, and writes a print-ready A4 sheet of it;
# then a whole-image example of the cat (PGD, 8/255, toward guacamole) with its three-panel
# figure, and the sweep of its logits along the gradient's sign.
# Results: out/quickstart/ and Printouts/quickstart_toaster_a4_10cm.png. Re-running starts afresh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
Scripts/setup.sh
swift build -c release --product robustpatch
bin=.build/release/robustpatch
out=out/quickstart
rm -rf "$out"; mkdir -p "$out"

echo "== classify: the bundled cat photo, three models"
"$bin" classify Samples/cat.png --model lite0,lite1,lite2 --top 3

echo "== generate: a toaster patch for paper (the defaults), on the scene library's training photos"
"$bin" generate --target toaster --seed 1 --out "$out/patch"

echo "== evaluate: 1000 held-out samples, with noise / grey / shuffled control patches"
"$bin" evaluate --patch "$out/patch" --samples 1000 --seed 0

echo "== grid: the model's view over size × yaw, and a success heat map"
"$bin" grid --patch "$out/patch" --rows size:0.25..0.40:4 --cols yaw:-45..45:5 --heatmap --out "$out/grid.png"

echo "== print: a 10 cm patch on A4 at 300 dpi"
"$bin" print --patch "$out/patch" --size 10cm --paper a4 --out Printouts/quickstart_toaster_a4_10cm.png
echo "== perturb: the cat as guacamole, every byte within 8/255 (PGD), and the logits along sign(grad)"
"$bin" perturb --image Samples/cat.png --target guacamole --epsilon 8 --method pgd --out "$out/cat-pgd"
"$bin" sweep --image Samples/cat.png --target guacamole --out "$out/cat-sweep.png"
