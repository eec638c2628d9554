#!/usr/bin/env python3
"""Independent check of a `robustpatch print` sheet, with PIL (not RobustPatch's own PNG code).

Usage: Scripts/check_print.py SHEET.png [--size 10cm] [--paper a4] [--dpi 300]

Reads the PNG's pHYs resolution (PIL's info['dpi']) and pixel size, and asserts:
  * the DPI matches --dpi (or the sidecar's) within 0.013 (pHYs holds whole pixels per metre);
  * for a4/letter/a3, the sheet is the paper's size: |pixels - mm / 25.4 * dpi| <= 1;
  * each patch, measured as the extent of non-white pixels around the boxes the sidecar
    (SHEET.json) names, is the requested width within 0.5 % (the issue's criterion);
  * the bare patch PNG (SHEET_patch.png) has the patch's pixel width and the same DPI.
The requested size is parsed here from --size or the sidecar's "requested_size" text.
Prints one line per check and exits 1 if any fails. Needs Pillow (Debian: python3-pil).
"""
import argparse
import json
import os
import re
import sys

from PIL import Image

PAPER_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4), "a3": (297.0, 420.0)}
UNIT_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "inch": 25.4, "inches": 25.4}


def parse_size(text):
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-z]+)\s*", text.lower())
    if not match or match.group(2) not in UNIT_MM:
        raise SystemExit(f"check_print: cannot parse size {text!r}")
    return float(match.group(1)) * UNIT_MM[match.group(2)]


def nonwhite_extent(image, box, pad):
    """Bounding box (x0, y0, x1, y1), exclusive end, of pixels with any channel below 250 inside
    `box` grown by `pad` pixels (pad is smaller than the gap before the crop marks)."""
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    left, top = max(0, x - pad), max(0, y - pad)
    region = image.crop((left, top, min(image.width, x + w + pad), min(image.height, y + h + pad)))
    mask = region.convert("RGB").point(lambda v: 255 if v < 250 else 0).convert("L")
    bbox = mask.getbbox()
    if bbox is None:
        return None
    return (bbox[0] + left, bbox[1] + top, bbox[2] + left, bbox[3] + top)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sheet")
    parser.add_argument("--size", help="requested patch width, e.g. 10cm (default: the sidecar's)")
    parser.add_argument("--paper", help="a4, letter, a3 or fit (default: the sidecar's)")
    parser.add_argument("--dpi", type=float, help="expected DPI (default: the sidecar's)")
    args = parser.parse_args()

    sidecar_path = os.path.splitext(args.sheet)[0] + ".json"
    with open(sidecar_path) as f:
        sidecar = json.load(f)
    failures = []

    def check(ok, message):
        print(("ok    " if ok else "FAIL  ") + message)
        if not ok:
            failures.append(message)

    sheet = Image.open(args.sheet)
    sheet.load()
    dpi_pair = sheet.info.get("dpi")
    check(dpi_pair is not None, f"{args.sheet}: has a resolution (pHYs): {dpi_pair}")
    if dpi_pair is None:
        return 1
    dpi = float(dpi_pair[0])
    expected_dpi = args.dpi if args.dpi is not None else float(sidecar["dpi"])
    # pHYs stores whole pixels per metre, so a DPI reads back within 0.5 px/m = 0.0127 dpi.
    check(abs(dpi - expected_dpi) <= 0.013 and abs(float(dpi_pair[1]) - dpi) < 1e-9,
          f"DPI {dpi:.4f} x {float(dpi_pair[1]):.4f}, expected {expected_dpi:g}")

    paper = args.paper or sidecar["paper"]
    width_mm, height_mm = sheet.width / dpi * 25.4, sheet.height / dpi * 25.4
    if paper in PAPER_MM:
        pw, ph = PAPER_MM[paper]
        check(abs(sheet.width - pw / 25.4 * dpi) <= 1 and abs(sheet.height - ph / 25.4 * dpi) <= 1,
              f"sheet {sheet.width} x {sheet.height} px = {width_mm:.2f} x {height_mm:.2f} mm, paper {paper} {pw} x {ph} mm")
    else:
        check(True, f"sheet {sheet.width} x {sheet.height} px = {width_mm:.2f} x {height_mm:.2f} mm (paper {paper})")

    requested_mm = parse_size(args.size or sidecar["requested_size"])
    pad = max(1, int(round(1.0 / 25.4 * dpi)))  # 1 mm; crop marks start 2 mm outside the box
    for i, box in enumerate(sidecar["patch_boxes"]):
        extent = nonwhite_extent(sheet, box, pad)
        check(extent is not None, f"copy {i + 1}: has ink")
        if extent is None:
            continue
        measured_px = extent[2] - extent[0]
        measured_mm = measured_px / dpi * 25.4
        error = abs(measured_mm - requested_mm) / requested_mm
        check(error <= 0.005, f"copy {i + 1}: measured width {measured_px} px = {measured_mm:.2f} mm, "
              f"requested {requested_mm:g} mm, error {error * 100:.3f} %")
        check(abs(extent[0] - box["x"]) <= 2 and abs(extent[1] - box["y"]) <= 2 + box["height"] // 2,
              f"copy {i + 1}: ink starts at ({extent[0]}, {extent[1]}), sidecar box at ({box['x']}, {box['y']})")

    patch_path = os.path.join(os.path.dirname(args.sheet), sidecar["patch_file"])
    patch = Image.open(patch_path)
    patch_dpi = float(patch.info.get("dpi", (0, 0))[0])
    patch_mm = patch.width / patch_dpi * 25.4 if patch_dpi else 0
    check(patch.mode == "RGBA" and abs(patch_dpi - dpi) < 1e-6
          and abs(patch_mm - requested_mm) / requested_mm <= 0.005,
          f"{patch_path}: {patch.mode} {patch.width} x {patch.height} px at {patch_dpi:.4f} dpi = {patch_mm:.2f} mm wide")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
