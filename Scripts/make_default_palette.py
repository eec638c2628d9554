#!/usr/bin/env python3
"""Writes Sources/Attack/Resources/default_palette.txt: the generic printable palette for the
non-printability score. 5 levels per channel -> 125 colours, mapped into a typical inkjet on plain
paper range (darkest ink ~0.08, paper white ~0.94) and 20% less saturated."""
import pathlib
lv = [0, 0.25, 0.5, 0.75, 1]
out = ["# RobustPatch default printable palette (RGB 0-255), generic, not measured on any printer.",
       "# Made by: 5 levels per channel (0, .25, .5, .75, 1) -> 125 colours, then mapped into a typical",
       "# inkjet/plain-paper range: darkest ink ~ 0.08, paper white ~ 0.94, and saturation reduced 20%",
       "# toward each colour's grey (plain paper cannot print screen-saturated primaries).",
       "# Replace it with a measured palette: robustpatch calibrate (issue 5) or --palette FILE."]
for r in lv:
    for g in lv:
        for b in lv:
            c = [0.08 + 0.86 * x for x in (r, g, b)]
            m = sum(c) / 3
            c = [m + 0.8 * (x - m) for x in c]
            out.append(" ".join(str(round(x * 255)) for x in c))
root = pathlib.Path(__file__).resolve().parent.parent
(root / "Sources/Attack/Resources/default_palette.txt").write_text("\n".join(out) + "\n")
