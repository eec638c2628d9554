#!/usr/bin/python3
"""Golden values for Image.resized(width:height:) from PIL's anti-aliased BILINEAR resize.

Each channel is resized as a 32-bit float ("F" mode) image, so PIL keeps double-precision
weights and no 8-bit rounding between passes: the values are the filter's exact output.
Input: a 13 x 11 RGB image with bytes v(x, y, c) = (37x + 59y + 101c + 7xy) mod 256, as v / 255.
Writes Tests/ImagingTests/Fixtures/resize_golden.json (run from the repo root with Debian's
/usr/bin/python3, PIL 9.4):
    /usr/bin/python3 Scripts/golden_resize.py
"""
import json
import os
import sys

import PIL
from PIL import Image

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/ImagingTests/Fixtures"
W, H, C = 13, 11, 3
SIZES = [(5, 4), (4, 11), (13, 3), (17, 14), (7, 19), (1, 1), (6, 6)]


def byte(x, y, c):
    return (37 * x + 59 * y + 101 * c + 7 * x * y) % 256


def main():
    planes = []
    for c in range(C):
        im = Image.new("F", (W, H))
        im.putdata([byte(x, y, c) / 255.0 for y in range(H) for x in range(W)])
        planes.append(im)
    cases = []
    for (w, h) in SIZES:
        out = [p.resize((w, h), Image.BILINEAR) for p in planes]
        data = [list(o.getdata()) for o in out]
        pixels = [float("%.9g" % data[c][i]) for i in range(w * h) for c in range(C)]  # (H, W, C)
        cases.append({"width": w, "height": h, "pixels": pixels})
    # Pillow's 8-bit path (what torchvision's transforms do to a PIL image): RGB mode.
    rgb = Image.new("RGB", (W, H))
    rgb.putdata([tuple(byte(x, y, c) for c in range(C)) for y in range(H) for x in range(W)])
    cases8 = []
    for (w, h) in SIZES + [(31, 26), (9, 11), (13, 5)]:
        out = rgb.resize((w, h), Image.BILINEAR)
        cases8.append({"width": w, "height": h, "bytes": [v for px in out.getdata() for v in px]})
    golden = {
        "generator": "Scripts/golden_resize.py",
        "cases_8bit": cases8,
        "pil": PIL.__version__,
        "filter": "BILINEAR, float mode, per channel",
        "width": W, "height": H, "channels": C,
        "bytes": [byte(x, y, c) for y in range(H) for x in range(W) for c in range(C)],
        "cases": cases,
    }
    path = os.path.join(OUT, "resize_golden.json")
    with open(path, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
