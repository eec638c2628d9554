#!/usr/bin/python3
"""Makes the tiny PNG/JPEG fixtures in Tests/ImagingTests/Fixtures (run from the repo root).

PNGs are encoded by hand here (zlib + struct) so that every colour type, bit depth and Adam7
interlacing is covered, which PIL cannot write. Their samples follow formulas that
Tests/ImagingTests/PNGDecodingTests.swift recomputes:
    depth <= 8:  v(x, y, c) = (29x + 53y + 71c + 5xy) mod 2^depth
    depth == 16: v(x, y, c) = (5003x + 9001y + 3001c + 771xy) mod 65536
JPEGs are written by PIL (Debian's python3-pil 9.4, libjpeg-turbo 2.1.5); beside each `X.jpg` is
`X.pil.png`, PIL's own decode of it (EXIF orientation applied with ImageOps.exif_transpose),
which the Swift tests compare against.

Usage: /usr/bin/python3 Scripts/make_image_fixtures.py [output-dir]
"""
import os
import struct
import sys
import zlib

from PIL import Image, ImageOps

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/ImagingTests/Fixtures"
W, H = 9, 7  # odd sizes exercise bit packing and partial Adam7 passes

# ---------------------------------------------------------------- PNG, by hand


def sample(x, y, c, depth):
    if depth == 16:
        return (5003 * x + 9001 * y + 3001 * c + 771 * x * y) % 65536
    return (29 * x + 53 * y + 71 * c + 5 * x * y) % (1 << depth)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(values, depth):
    """Packs one row of samples (already flattened over channels) at the given bit depth."""
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    if depth == 8:
        return bytes(values)
    out, acc, bits = bytearray(), 0, 0
    for v in values:
        acc = (acc << depth) | v
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, color_type, depth, pixel, interlace=False, extra_chunks=(), width=W, height=H):
    """pixel(x, y) -> tuple of samples for that pixel. Filter type 0 (None) on every row."""
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for (x0, y0, dx, dy) in passes:
        xs = list(range(x0, width, dx))
        ys = list(range(y0, height, dy))
        if not xs or not ys:
            continue  # empty passes have no rows at all, not even filter bytes
        for y in ys:
            values = [v for x in xs for v in pixel(x, y)]
            raw += b"\x00" + pack_row(values, depth)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, body in extra_chunks:
        data += chunk(kind, body)
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def formula_pixel(channels, depth):
    return lambda x, y: tuple(sample(x, y, c, depth) for c in range(channels))


def make_pngs():
    # colour types: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    write_png("png_gray1.png", 0, 1, formula_pixel(1, 1))
    write_png("png_gray8.png", 0, 8, formula_pixel(1, 8))
    write_png("png_gray16.png", 0, 16, formula_pixel(1, 16))
    write_png("png_graya8.png", 4, 8, formula_pixel(2, 8))
    write_png("png_graya16.png", 4, 16, formula_pixel(2, 16))
    write_png("png_rgb8.png", 2, 8, formula_pixel(3, 8))
    write_png("png_rgb16.png", 2, 16, formula_pixel(3, 16))
    write_png("png_rgba8.png", 6, 8, formula_pixel(4, 8))
    write_png("png_rgba16.png", 6, 16, formula_pixel(4, 16))
    write_png("png_rgb8_interlaced.png", 2, 8, formula_pixel(3, 8), interlace=True)
    write_png("png_rgba16_interlaced.png", 6, 16, formula_pixel(4, 16), interlace=True)

    # 4-bit palette; entry i = (16i, 255 - 16i, 77i mod 256); tRNS gives entries 0..4 alpha 50i.
    palette = b"".join(bytes((16 * i, 255 - 16 * i, (77 * i) % 256)) for i in range(16))
    trns = bytes(50 * i for i in range(5))
    write_png("png_pal4_trns.png", 3, 4, formula_pixel(1, 4),
              extra_chunks=[(b"PLTE", palette), (b"tRNS", trns)])

    # RGB with a tRNS colour key equal to pixel (0, 0): matching pixels become transparent.
    key = formula_pixel(3, 8)(0, 0)
    write_png("png_rgb8_trns.png", 2, 8, formula_pixel(3, 8),
              extra_chunks=[(b"tRNS", struct.pack(">HHH", *key))])

    # Absurd size: a valid IHDR saying 40000 x 8; the decoder must refuse before allocating.
    ihdr = struct.pack(">IIBBBBB", 40000, 8, 8, 2, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    with open(os.path.join(OUT, "png_huge_dims.png"), "wb") as f:
        f.write(data)

    # Cross-check the 8-bit hand-made files against PIL.
    for name, channels in [("png_rgb8.png", 3), ("png_rgba8.png", 4), ("png_rgb8_interlaced.png", 3)]:
        im = Image.open(os.path.join(OUT, name))
        for y in range(H):
            for x in range(W):
                got = im.getpixel((x, y))
                assert tuple(got) == formula_pixel(channels, 8)(x, y), (name, x, y, got)


# ---------------------------------------------------------------- JPEG, by PIL


def save_reference(jpeg_name):
    """PIL's decode of a JPEG (orientation applied), as a lossless PNG beside it."""
    path = os.path.join(OUT, jpeg_name)
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    im.save(path[: -len(".jpg")] + ".pil.png")
    return im


def gradient(width, height):
    im = Image.new("RGB", (width, height))
    im.putdata([(8 * x % 256, (10 * y) % 256, (4 * (x + y)) % 256)
                for y in range(height) for x in range(width)])
    return im


# Upright picture for orientation tests: 3 x 2 blocks of 16 px (MCU-aligned, so colours stay flat).
BLOCKS = [[(255, 0, 0), (0, 255, 0), (0, 0, 255)],
          [(255, 255, 0), (255, 0, 255), (0, 255, 255)]]


def upright():
    im = Image.new("RGB", (48, 32))
    for by, row in enumerate(BLOCKS):
        for bx, colour in enumerate(row):
            im.paste(colour, (16 * bx, 16 * by, 16 * bx + 16, 16 * by + 16))
    return im


# What to do to the upright picture so that exif_transpose(stored, orientation) gives it back.
INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,    # display rotates 90 deg clockwise, so store it rotated CCW
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def big_endian_exif(orientation):
    """'Exif\\0\\0' + a Motorola-order (MM) TIFF with one IFD0 entry: Orientation."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + tiff


def make_jpegs():
    g = gradient(32, 24)
    g.save(os.path.join(OUT, "jpeg_baseline.jpg"), quality=90, dpi=(200, 200))
    save_reference("jpeg_baseline.jpg")
    g.save(os.path.join(OUT, "jpeg_progressive.jpg"), quality=90, progressive=True)
    save_reference("jpeg_progressive.jpg")
    g.convert("L").save(os.path.join(OUT, "jpeg_gray.jpg"), quality=90)
    save_reference("jpeg_gray.jpg")

    # CMYK with K = 0 in flat 16 px blocks (PIL writes Adobe-inverted CMYK).
    cmyk = Image.new("CMYK", (32, 32))
    for i, colour in enumerate([(0, 255, 255, 0), (255, 0, 255, 0), (255, 255, 0, 0), (0, 0, 0, 0)]):
        bx, by = i % 2, i // 2
        cmyk.paste(colour, (16 * bx, 16 * by, 16 * bx + 16, 16 * by + 16))
    cmyk.save(os.path.join(OUT, "jpeg_cmyk.jpg"), quality=95)
    save_reference("jpeg_cmyk.jpg")

    up = upright()
    for o in range(1, 9):
        stored = up if INVERSE[o] is None else up.transpose(INVERSE[o])
        exif = Image.Exif()
        exif[0x0112] = o
        name = f"jpeg_orient{o}.jpg"
        stored.save(os.path.join(OUT, name), quality=95, exif=exif.tobytes())
        ref = save_reference(name)
        assert ref.size == (48, 32), (name, ref.size)
    stored = up.transpose(INVERSE[6])
    stored.save(os.path.join(OUT, "jpeg_orient6_mm.jpg"), quality=95, exif=big_endian_exif(6))
    assert save_reference("jpeg_orient6_mm.jpg").size == (48, 32)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_pngs()
    make_jpegs()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote fixtures to {OUT} ({total} bytes in all)")
