#!/usr/bin/python3
"""Builds RobustPatch's scene library (real photographs for EOT training and held-out evaluation)
from the Debian packages pinned in Scripts/scenes.tsv. It is not a downloader: Scripts/fetch-scenes.sh
fetches and verifies the packages, then runs `build`, then moves the result into place.

This file is the curation: which files of each package are photographs, their categories and
licences, and the fixed rules for decoding, resizing, de-duplication and the train/validation split.
Run it with Debian's python3-pil (PIL 9.4.0 on Debian 12); another PIL may store different bytes.

Usage:
  scenes_build.py build --table Scripts/scenes.tsv --downloads DIR --out DIR
  scenes_build.py sheet LIBRARY --out PNG [--split val|train] [--columns N]
"""
import argparse
import concurrent.futures
import fnmatch
import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import tarfile
import zlib

from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageOps, features

# --- Fixed rules (changing any of these changes every stored byte; update the pinned manifest) ---
SHORT_SIDE = 320            # stored photos: shorter side 320 px (never upscaled)
MIN_SHORT_SIDE = 224        # originals with a shorter side below this are dropped
JPEG_QUALITY = 95           # baseline JPEG, 4:2:0 chroma, no metadata, sRGB implied
VAL_FRACTION = 0.25         # share of each (source, category) stratum held out for validation
DHASH_NEAR_BITS = 6         # difference hashes within this many bits are one near-duplicate group
MIN_COLOURS = 1000          # fewer distinct 6-bit colours than this: flat graphics, not a photo
MAX_FLAT = 0.85             # more than this share of flat pixels: a blank frame, not a scene
CATEGORIES = ("animals", "buildings", "closeups", "objects", "people", "scenes")
MANIFEST_COLUMNS = ("file", "split", "category", "source", "package", "version", "original",
                    "licence", "author", "credit", "sha256", "width", "height")

# --- Curation, per source (the keys are the `name` column of Scripts/scenes.tsv) ---
# `rules`: (glob over the path inside the package, category); the first match wins, None excludes.
# In gcompris-qt-data the photos sit inside Qt resource files: "<path of the .rcc>:<path inside>".
# `exclude`: explicit per-file exclusions found by looking at contact sheets, with the reason.
GC = "usr/share/gcompris-qt/rcc/"
GA = "/gcompris/src/activities/"
GCOMPRIS_DETAIL_PHOTOS = ("Chenonceau", "EgeskovSlotSpejling", "EilanDonanCastle", "FanoeWindmill",
                          "GizahPyramids", "Louvre_2007_02_24_c", "NDP", "Nagoya", "Neuschwanstein",
                          "OperaSidney", "TajMahal", "TourEiffel", "TowerBridgeLondon")
CURATION = {
    "gcompris": {
        # Photos from the activities that show real photographs. Left out on purpose: `lang`
        # (cartoon word pictures), `paintings`, `babyshapes` (cut-outs), `solar_system` and
        # `gravity` (planet renders), `louis-braille` (drawings), the Van Gogh paintings of `details`.
        "licence": "gcompris-readme",
        "rules": [
            (GC + "erase.rcc:" + GA + "erase/resource/*.webp", "animals"),
            (GC + "explore_farm_animals.rcc:" + GA + "explore_farm_animals/resource/animals/*.webp", "animals"),
            (GC + "explore_world_animals.rcc:" + GA + "explore_world_animals/resource/animals/*.webp", "animals"),
            (GC + "explore_monuments.rcc:" + GA + "explore_monuments/resource/*/*.webp", "buildings"),
            (GC + "explore_world_music.rcc:" + GA + "explore_world_music/resource/music/middleeast.webp", "objects"),
            (GC + "explore_world_music.rcc:" + GA + "explore_world_music/resource/music/*.webp", "people"),
            (GC + "categorization.rcc:" + GA + "categorization/resource/images/fishes/*.webp", "animals"),
            (GC + "categorization.rcc:" + GA + "categorization/resource/images/monuments/*.webp", "buildings"),
            (GC + "categorization.rcc:" + GA + "categorization/resource/images/renewable/*.webp", "scenes"),
            (GC + "categorization.rcc:" + GA + "categorization/resource/images/tools/*.webp", "objects"),
            (GC + "categorization.rcc:" + GA + "categorization/resource/images/others/*.webp", "objects"),
            (GC + "clickgame.rcc:" + GA + "clickgame/resource/sea?.webp", "scenes"),
        ] + [(GC + "details.rcc:" + GA + "details/resource/image/%s_background.webp" % n, "buildings")
             for n in GCOMPRIS_DETAIL_PHOTOS],
        "exclude": {},
        # Several activities show the same landmark in different photos: file names (lower case,
        # without "_background") that name one subject. Photos of one subject stay on one side.
        "same_subject": {"greatwallofchina": "greatwall", "qutubminar": "kutubminar",
                         "chateaudechenonceau": "chenonceau", "greatpyramidofgiza": "gizahpyramids",
                         "greatpyramid": "gizahpyramids", "toureiffel": "eiffeltower",
                         "operasidney": "operahouse", "neuschwansteincastle": "neuschwanstein"},
    },
    "endless-sky": {
        # 720×360 landscape, city and space-station photographs (images/land).
        "licence": "dep5", "copyright_root": "usr/share/games/endless-sky/",
        "rules": [("usr/share/games/endless-sky/images/land/*.jpg", "scenes")],
        "exclude": {
            "usr/share/games/endless-sky/images/land/nasa8.jpg": "Jupiter's cloud tops, not a scene",
            "usr/share/games/endless-sky/images/land/nasa9.jpg": "Jupiter's cloud tops, not a scene",
        },
    },
    "scratch": {
        # Stage backgrounds; about a third are drawings (all GIFs, and the JPEGs listed below).
        "licence": "dep5", "copyright_root": "usr/share/scratch/",
        "rules": [("usr/share/scratch/Media/Backgrounds/*/*.jpg", "scenes")],
        "exclude": {
            "usr/share/scratch/Media/Backgrounds/Indoors/room1.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Indoors/room2.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Indoors/room3.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Indoors/party-room.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Indoors/spotlight-stage.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Outdoors/school2.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Outdoors/brick-wall1.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Nature/woods-and-bench.jpg": "drawing",
            "usr/share/scratch/Media/Backgrounds/Outdoors/graffiti.jpg": "composite (a photo over a pasted floor texture)",
        },
    },
    "tuxpaint": {
        # Tux Paint's photo templates (the `starters` are line art).
        "licence": "dep5", "copyright_root": "usr/share/tuxpaint/",
        "rules": [("usr/share/tuxpaint/templates/%s.jpg" % n, c) for n, c in (
            ("burnt_bark", "closeups"), ("cliff", "scenes"), ("corn_maze", "scenes"),
            ("jellyfish", "animals"), ("lighthouse", "buildings"), ("mossy_bark", "closeups"),
            ("mossy_log", "closeups"), ("mudstone", "closeups"), ("ocean_splash", "closeups"),
            ("ocean_waves", "scenes"), ("redwoods_above", "scenes"), ("rocks", "closeups"),
            ("sheep", "animals"), ("spiders_web", "closeups"), ("sun_behind_clouds", "scenes"),
            ("sun_behind_leaves", "closeups"), ("trees_above", "scenes"),
            ("trees_at_dusk", "scenes"), ("wool_mill_machine", "objects"))],
        "exclude": {},
    },
    "palapeli": {
        # The five jigsaw photos; each .desktop file beside a photo names its author and licence.
        "licence": "palapeli-desktop",
        "rules": [("usr/share/palapeli/collection/%s.jpg" % n, c) for n, c in (
            ("castle-maintenon", "buildings"), ("cincinnati-bridge", "buildings"),
            ("citrus-fruits", "objects"), ("european-honey-bee", "animals"),
            ("panther-chameleon-female", "animals"))],
        "exclude": {},
    },
    "lomiri-16.04": {
        "licence": "dep5", "copyright_root": "usr/share/backgrounds/", "copyright_prefix": "16.04/",
        "rules": [("usr/share/backgrounds/%s.jpg" % n, c) for n, c in (
            ("aitzgorri_by_Aitzol_Berasategi", "scenes"), ("Bridge_by_Sander_Klootwijk", "scenes"),
            ("Dragonfly_by_Bolly", "closeups"), ("friends_by_Aitzol_Berasategi", "animals"),
            ("life_by_Aitzol_Berasategi", "scenes"), ("Picture_0B_by_freespace", "objects"),
            ("Picture_1A_by_freespace", "objects"), ("picosdeeuropa_by_Aitzol_Berasategi", "scenes"),
            ("seeding_by_Clements_Engelhardt", "closeups"), ("sunset_by_Aitzol_Berasategi", "scenes"),
            ("Wine_by_Jakkub_Mede", "scenes"),
            # Not photographs (or not plainly so): an abstract gradient, a rendered clock, a
            # pattern, a composite of a bird between lamps.
            ("umang_by_Abhishek_Mudgal", None), ("greentock_by_Peter_Nerlich", None),
            ("analogpattern_by_Peter_Nerlich", None), ("free_by_Peter_Nerlich", None))],
        "exclude": {},
    },
    "mate": {
        "licence": "dep5", "copyright_root": "usr/share/backgrounds/mate/",
        "rules": [("usr/share/backgrounds/mate/nature/%s.jpg" % n, c) for n, c in (
            ("Aqua", "closeups"), ("Blinds", "closeups"), ("Dune", "scenes"),
            ("FreshFlower", "closeups"), ("Garden", "closeups"), ("GreenMeadow", "closeups"),
            ("LadyBird", "closeups"), ("RainDrops", "closeups"), ("Storm", "scenes"),
            ("TwoWings", "closeups"), ("Wood", "closeups"), ("YellowFlower", "closeups"))],
        "exclude": {},
    },
}


def die(message):
    print("fetch-scenes: error: " + message, file=sys.stderr)
    sys.exit(1)


# --- Reading packages ---

def read_table(path):
    """Rows of Scripts/scenes.tsv as dicts (comments and the header skipped)."""
    rows, header = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            rows.append(dict(zip(header, cells)))
    return rows


def deb_name(package, version):
    return "%s_%s_all.deb" % (package, version.replace(":", "%3a"))


def deb_members(deb_path, wanted):
    """{path: bytes} for the members of a .deb's data archive for which wanted(path) is true.
    Paths are given without the leading "./". dpkg-deb handles every compression Debian uses."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb_path], stdout=subprocess.PIPE)
    found = {}
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            path = member.name[2:] if member.name.startswith("./") else member.name
            if member.isfile() and wanted(path):
                found[path] = tar.extractfile(member).read()
    proc.stdout.close()
    if proc.wait() != 0:
        die("dpkg-deb could not read %s" % deb_path)
    return found


def rcc_files(blob):
    """[(path, bytes)] of the files in a Qt binary resource (.rcc) file: header "qres", version,
    then offsets of the tree, data and names. zlib-compressed entries are inflated; zstd ones
    (flag 4) are skipped (GCompris stores its WebP photos uncompressed)."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node_size = 14 if version == 1 else 22

    def name_at(offset):
        (length,) = struct.unpack(">H", blob[names + offset:names + offset + 2])
        return blob[names + offset + 6:names + offset + 6 + 2 * length].decode("utf-16-be")

    out = []

    def walk(index, prefix):
        base = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", blob[base:base + 6])
        path = prefix + "/" + name_at(name_offset) if index else ""
        if flags & 2:  # directory
            count, first = struct.unpack(">II", blob[base + 6:base + 14])
            for child in range(count):
                walk(first + child, path)
            return
        (data_offset,) = struct.unpack(">I", blob[base + 10:base + 14])
        (size,) = struct.unpack(">I", blob[data + data_offset:data + data_offset + 4])
        payload = blob[data + data_offset + 4:data + data_offset + 4 + size]
        if flags & 4:
            return
        if flags & 1:
            payload = zlib.decompress(payload[4:])
        out.append((path, payload))

    walk(0, "")
    return out


# --- Licences ---

def normalise_licence(text):
    t = " ".join(text.split()).strip().rstrip(".")
    low = t.lower()
    if low in ("public domain", "public-domain"):
        return "public-domain"
    if low in ("cc0", "cc0-1.0", "cc0 1.0"):
        return "CC0-1.0"
    if low in ("fdl", "gnu-fdl", "gfdl"):
        return "GFDL"
    m = re.fullmatch(r"gplv?-?(\d)(\+| or later)?", low)
    if m:
        return "GPL-%s%s" % (m.group(1), "+" if m.group(2) else "")
    m = re.fullmatch(r"cc[- ]by(-sa)?[- ](\d\.\d)", low)
    if m:
        return "CC-BY%s-%s" % ("-SA" if m.group(1) else "", m.group(2))
    return t


def licence_is_free(licence):
    # Defensive: a non-commercial or no-derivatives licence would not belong in a Debian main package.
    return not re.search(r"(^|-)(NC|ND)(-|$)", licence.upper())


def dep5_paragraphs(text):
    """Paragraphs of a machine-readable debian/copyright file as {field: value} dicts."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in block.split("\n"):
            m = re.match(r"^([A-Za-z][A-Za-z-]*):\s?(.*)$", line)
            if m and not line.startswith((" ", "\t")):
                key = m.group(1).lower()
                fields[key] = m.group(2)
            elif key is not None:
                fields[key] += "\n" + line.strip()
        if fields:
            paragraphs.append(fields)
    return paragraphs


def dep5_glob(pattern):
    # In debian/copyright, `*` matches any string including "/" and `?` one character; nothing else is special.
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


class Dep5:
    def __init__(self, text):
        self.stanzas = []
        for p in dep5_paragraphs(text):
            if "files" in p and "license" in p:
                patterns = [dep5_glob(g) for g in p["files"].split()]
                first, _, body = p["license"].partition("\n")
                licence = normalise_licence(first)
                author = " ".join(p.get("copyright", "").split())
                # Where the stanza says where the photos came from, that is the credit.
                credit = " ".join(p.get("comment", "").split())
                if not credit and len(body) < 300:
                    credit = " ".join(body.split())
                self.stanzas.append((patterns, licence, author, credit))

    def lookup(self, path):
        """(licence, author, credit) of the last stanza whose Files match path (the DEP-5 rule)."""
        hit = None
        for patterns, licence, author, credit in self.stanzas:
            if any(p.match(path) for p in patterns):
                hit = (licence, author, credit)
        return hit


def gcompris_readme(text):
    """{file name or glob: (licence, author, credit)} from one of GCompris' resource READMEs.
    Paragraphs of Copyright/License/Source/Comment fields; file names follow `Files:`, sometimes
    on the same line, sometimes with the `Files:` line left out."""
    entries = {}
    for block in re.split(r"\n\s*\n", text):
        fields, files, key = {}, [], None
        for line in block.split("\n"):
            m = re.match(r"^([A-Za-z][A-Za-z-]*):\s*(.*)$", line)
            if m:
                key = m.group(1).lower()
                if key == "files":
                    files += m.group(2).split()
                else:
                    fields[key] = m.group(2).strip()
            elif re.match(r"^\s*\S+\.(webp|svg|svgz|png|jpe?g|ogg|wav|qml|js)\s*$", line) or "*" in line:
                files += line.split()
            elif key is not None and line.strip():
                fields[key] = (fields.get(key, "") + " " + line.strip()).strip()
        if files and "license" in fields:
            credit = fields.get("source") or fields.get("comment") or ""
            for f in files:
                entries[f] = (normalise_licence(fields["license"]), fields.get("copyright", ""), credit)
    return entries


# --- Gathering candidates ---

def match_rules(rules, path):
    for pattern, category in rules:
        if fnmatch.fnmatchcase(path, pattern):
            return True, category
    return False, None


def gather(source, row, downloads):
    """[(original path, category, licence, author, credit, image bytes)] for one source, in path order,
    and a list of (original path, reason) for candidates left out before decoding."""
    cur = CURATION[source]
    deb = os.path.join(downloads, deb_name(row["package"], row["version"]))
    copyright_path = "usr/share/doc/%s/copyright" % row["package"]
    rules, excluded = cur["rules"], []
    if cur["licence"] == "gcompris-readme":
        rcc_names = sorted({p.split(":", 1)[0] for p, _ in rules})
        blobs = deb_members(deb, lambda p: p in rcc_names or p == copyright_path)
        found = {k: v for k, v in blobs.items() if k == copyright_path}
        for rcc in rcc_names:
            if rcc not in blobs:
                die("%s has no %s (a different package version?)" % (deb, rcc))
            for inner, payload in rcc_files(blobs[rcc]):
                found[rcc + ":" + inner] = payload
    else:
        want_desktop = cur["licence"] == "palapeli-desktop"
        found = deb_members(deb, lambda p: p == copyright_path or match_rules(rules, p)[0]
                            or (want_desktop and p.endswith(".desktop")))
    if copyright_path not in found:
        die("%s has no %s" % (deb, copyright_path))
    dep5 = Dep5(found[copyright_path].decode("utf-8", "replace"))
    readmes = {}
    if cur["licence"] == "gcompris-readme":
        for path, payload in found.items():
            if path.endswith("/README"):
                readmes[path.rsplit("/", 1)[0]] = gcompris_readme(payload.decode("utf-8", "replace"))

    out = []
    for path in sorted(found):
        matched, category = match_rules(rules, path)
        if not matched or path == copyright_path:
            continue
        if category is None:
            excluded.append((path, "not a photograph (curation rule)"))
            continue
        if path in cur["exclude"]:
            excluded.append((path, cur["exclude"][path]))
            continue
        if cur["licence"] == "gcompris-readme":
            licence = None
            directory = path.rsplit("/", 1)[0]
            while licence is None and "/" in directory:
                entries = readmes.get(directory, {})
                rel = path[len(directory) + 1:]
                for pattern in sorted(entries):
                    if fnmatch.fnmatchcase(rel, pattern):
                        licence = entries[pattern]
                directory = directory.rsplit("/", 1)[0]
        elif cur["licence"] == "palapeli-desktop":
            desktop = found.get(path[:-len(".jpg")] + ".desktop", b"").decode("utf-8", "replace")
            info = dict(re.findall(r"^X-KDE-PluginInfo-(\w+)=(.*)$", desktop, re.M))
            licence = (normalise_licence(info["License"]), info.get("Author", ""),
                       info.get("Website", "")) if "License" in info else None
        else:
            rel = cur.get("copyright_prefix", "") + path[len(cur["copyright_root"]):]
            licence = dep5.lookup(rel)
        if licence is None:
            excluded.append((path, "no licence found for it"))
            continue
        if not licence_is_free(licence[0]):
            excluded.append((path, "licence %s is not free" % licence[0]))
            continue
        out.append((path, category) + licence + (found[path],))
    return out, excluded


# --- Per-photo processing (runs in worker processes) ---

RELATIVE_COLORIMETRIC = getattr(getattr(ImageCms, "Intent", None), "RELATIVE_COLORIMETRIC", 1)
SRGB = ImageCms.createProfile("sRGB")


def to_srgb(im):
    """8-bit RGB in sRGB: an embedded ICC profile is applied (relative colorimetric, by lcms2);
    pixels without one, or with a profile lcms2 refuses, are taken as sRGB."""
    icc = im.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if im.mode not in ("RGB", "L", "CMYK"):
                im = im.convert("RGB")
            return ImageCms.profileToProfile(im, source, SRGB, renderingIntent=RELATIVE_COLORIMETRIC,
                                             outputMode="RGB")
        except ImageCms.PyCMSError:
            pass
    return im.convert("RGB")


def flatness_and_colours(im):
    """Share of pixels whose grey value differs by at most 1 from their right and lower
    neighbours, and the number of distinct colours at 6 bits a channel."""
    grey = im.convert("L")
    w, h = grey.size
    dx = ImageChops.difference(grey.crop((1, 0, w, h - 1)), grey.crop((0, 0, w - 1, h - 1)))
    dy = ImageChops.difference(grey.crop((0, 1, w - 1, h)), grey.crop((0, 0, w - 1, h - 1)))
    hist = ImageChops.lighter(dx, dy).histogram()
    flat = (hist[0] + hist[1]) / float((w - 1) * (h - 1))
    colours = len(im.point(lambda v: v & 0xFC).getcolors(1 << 18))  # 2^18 = every 6-bit colour
    return flat, colours


def dhash(im):
    """64-bit difference hash: 9×8 greyscale (box filter), bit set where a pixel is brighter than
    its right neighbour."""
    small = im.convert("L").resize((9, 8), Image.BOX)
    px = list(small.getdata())
    bits = 0
    for y in range(8):
        for x in range(8):
            bits = (bits << 1) | (1 if px[y * 9 + x] > px[y * 9 + x + 1] else 0)
    return bits


def process(payload):
    """Decoded, checked, resized and JPEG-encoded photo: a dict with `jpeg`, `width`, `height`,
    `dhash`, `pixels` (SHA-256 of the stored RGB pixels), or with `dropped` (the reason)."""
    try:
        im = Image.open(io.BytesIO(payload))
        im.load()
    except Exception as e:  # a file that does not decode is left out, with the reason
        return {"dropped": "does not decode (%s)" % e}
    if im.mode == "P":
        return {"dropped": "palette image (GIF-like graphics)"}
    im = ImageOps.exif_transpose(im)
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        if im.getchannel("A").getextrema()[0] < 255:
            return {"dropped": "has transparent pixels (a cut-out)"}
        im = im.convert("RGB" if im.mode.startswith("RGB") else "L")
    if min(im.size) < MIN_SHORT_SIDE:
        return {"dropped": "shorter side %d px < %d" % (min(im.size), MIN_SHORT_SIDE)}
    im = to_srgb(im)
    w, h = im.size
    if min(w, h) > SHORT_SIDE:
        if w <= h:
            size = (SHORT_SIDE, max(1, int(round(h * SHORT_SIDE / float(w)))))
        else:
            size = (max(1, int(round(w * SHORT_SIDE / float(h)))), SHORT_SIDE)
        im = im.resize(size, Image.LANCZOS)
    flat, colours = flatness_and_colours(im)
    if colours < MIN_COLOURS:
        return {"dropped": "only %d distinct colours (flat graphics, or monochrome)" % colours}
    if flat > MAX_FLAT:
        return {"dropped": "%.0f%% flat pixels (blank)" % (100 * flat)}
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY, subsampling=2, optimize=False, progressive=False)
    return {"jpeg": buf.getvalue(), "width": im.size[0], "height": im.size[1], "dhash": dhash(im),
            "pixels": hashlib.sha256(im.tobytes()).hexdigest(), "flat": flat, "colours": colours}


# --- Split ---

class Groups:
    """Union-find over indices."""
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def subject(photo):
    """The landmark a photo shows, for sources that name it in the file name; else None."""
    aliases = CURATION[photo["source"]].get("same_subject")
    if aliases is None:
        return None
    stem = photo["original"].rsplit("/", 1)[-1].rsplit(".", 1)[0].lower().replace("_background", "")
    return photo["source"], aliases.get(stem, stem)


def split(photos):
    """Sets photo["split"] to "train" or "val". Near-duplicates (difference hashes within
    DHASH_NEAR_BITS bits, transitively) and photos of one subject (see `subject`) form a group
    that goes to one side as a whole. Within each
    (source, category) stratum, groups are taken in the order of the SHA-256 of their members'
    original paths, and go to validation while that keeps the stratum's validation count at most
    round(VAL_FRACTION × its size)."""
    n = len(photos)
    groups = Groups(n)
    for i in range(n):
        for j in range(i + 1, n):
            if bin(photos[i]["dhash"] ^ photos[j]["dhash"]).count("1") <= DHASH_NEAR_BITS:
                groups.union(i, j)
    first_of_subject = {}
    for i, p in enumerate(photos):
        key = subject(p)
        if key is not None:
            groups.union(first_of_subject.setdefault(key, i), i)
    members = {}
    for i in range(n):
        members.setdefault(groups.find(i), []).append(i)
    strata = {}
    for root, idx in members.items():
        first = photos[idx[0]]  # photos are in (source, path) order: a group's first member names its stratum
        strata.setdefault((first["source"], first["category"]), []).append(idx)
    for i, p in enumerate(photos):
        p["group"] = groups.find(i)
    for key in sorted(strata):
        group_list = strata[key]
        size = sum(len(g) for g in group_list)
        target = int(VAL_FRACTION * size + 0.5)
        order = sorted(group_list, key=lambda g: hashlib.sha256(
            "\n".join(photos[i]["original"] for i in g).encode()).hexdigest())
        in_val = 0
        for g in order:
            side = "val" if in_val + len(g) <= target else "train"
            if side == "val":
                in_val += len(g)
            for i in g:
                photos[i]["split"] = side


# --- Build ---

def clean(text):
    return " ".join(str(text).split())


def build(args):
    if not features.check("webp"):
        die("this PIL cannot decode WebP (GCompris stores its photos as WebP); use Debian's python3-pil")
    table = read_table(args.table)
    rows = {r["name"]: r for r in table if r["name"] != "manifest"}
    if set(rows) != set(CURATION):
        die("Scripts/scenes.tsv names %s but scenes_build.py curates %s"
            % (sorted(rows), sorted(CURATION)))
    candidates, report = [], []
    for source in sorted(rows, key=lambda s: list(CURATION).index(s)):
        row = rows[source]
        items, excluded = gather(source, row, args.downloads)
        for path, reason in excluded:
            report.append((source, path, reason))
        for path, category, licence, author, credit, payload in items:
            candidates.append({"source": source, "package": row["package"], "version": row["version"],
                               "original": path, "category": category, "licence": licence,
                               "author": author, "credit": credit, "payload": payload})
    for c in candidates:
        if c["category"] not in CATEGORIES:
            die("unknown category %r for %s" % (c["category"], c["original"]))

    workers = max(1, min(os.cpu_count() or 1, 8))
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(process, [c.pop("payload") for c in candidates], chunksize=4))

    photos, seen_pixels = [], {}
    for c, r in zip(candidates, results):
        if "dropped" in r:
            report.append((c["source"], c["original"], r["dropped"]))
            continue
        if r["pixels"] in seen_pixels:
            report.append((c["source"], c["original"], "exact duplicate of " + seen_pixels[r["pixels"]]))
            continue
        seen_pixels[r["pixels"]] = c["original"]
        c.update(r)
        photos.append(c)
    split(photos)

    # Names: <split>/<source>-<category>-NNNN.jpg, numbered in path order within (source, category).
    counters = {}
    for p in photos:
        key = (p["source"], p["category"])
        counters[key] = counters.get(key, 0) + 1
        p["file"] = "%s/%s-%s-%04d.jpg" % (p["split"], p["source"], p["category"], counters[key])
    os.makedirs(os.path.join(args.out, "train"))
    os.makedirs(os.path.join(args.out, "val"))
    for p in photos:
        with open(os.path.join(args.out, p["file"]), "wb") as f:
            f.write(p["jpeg"])
        p["sha256"] = hashlib.sha256(p["jpeg"]).hexdigest()
    lines = ["\t".join(MANIFEST_COLUMNS)]
    for p in sorted(photos, key=lambda p: p["file"]):
        lines.append("\t".join(clean(p[k]) for k in MANIFEST_COLUMNS))
    with open(os.path.join(args.out, "manifest.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    # What was left out, and why; and which photos were kept together on one side of the split.
    with open(os.path.join(args.out, "excluded.tsv"), "w", encoding="utf-8") as f:
        f.write("source\toriginal\treason\n")
        for source, path, reason in report:
            f.write("%s\t%s\t%s\n" % (source, path, clean(reason)))
    groups = {}
    for p in photos:
        groups.setdefault(p["group"], []).append(p["file"])
    with open(os.path.join(args.out, "groups.tsv"), "w", encoding="utf-8") as f:
        f.write("group\tfile\n")
        for number, members in enumerate(sorted(g for g in groups.values() if len(g) > 1), 1):
            for member in members:
                f.write("%d\t%s\n" % (number, member))


# --- Contact sheet (for looking at what a library holds) ---

def sheet(args):
    rows = []
    with open(os.path.join(args.library, "manifest.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            if args.split in (None, r["split"]):
                rows.append(r)
    tile, cols = 160, args.columns
    lines = (len(rows) + cols - 1) // cols
    out = Image.new("RGB", (cols * tile, lines * (tile + 12)), "white")
    draw = ImageDraw.Draw(out)
    for i, r in enumerate(rows):
        im = Image.open(os.path.join(args.library, r["file"]))
        im.thumbnail((tile - 4, tile - 4))
        x, y = (i % cols) * tile, (i // cols) * (tile + 12)
        out.paste(im, (x + 2, y + 2))
        draw.text((x + 2, y + tile - 1), os.path.basename(r["file"])[:-4][-26:], fill="black")
    out.save(args.out)
    print("%s: %d photos" % (args.out, len(rows)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a library from verified downloads into an empty folder")
    b.add_argument("--table", required=True)
    b.add_argument("--downloads", required=True)
    b.add_argument("--out", required=True)
    s = sub.add_parser("sheet", help="draw a contact sheet of a library")
    s.add_argument("library")
    s.add_argument("--out", required=True)
    s.add_argument("--split", choices=("train", "val"))
    s.add_argument("--columns", type=int, default=12)
    args = parser.parse_args()
    try:
        build(args) if args.command == "build" else sheet(args)
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: fetch-scenes.sh removes the half-built folder


if __name__ == "__main__":
    main()
