#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora, Tests/FuzzCorpus/<target>/: small valid (and a few refused)
inputs of every format robustpatch reads. Images and checkpoints are copies of the test fixtures
(Scripts/make_image_fixtures.py, make_checkpoint_fixtures.py); the ONNX models are encoded here
by hand (protobuf wire format, no onnx package); the JSON and OBJ seeds are written here.
Each seed is a few KB at most. Crashers found later go to <target>/regressions/ (not written here).

Usage: python3 Scripts/make_fuzz_corpus.py   (from the repository root; standard library only)
"""
import json
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "FuzzCorpus")


def put(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def copy(target, fixture_dir, names):
    for n in names:
        with open(os.path.join(ROOT, "Tests", fixture_dir, "Fixtures", n), "rb") as f:
            put(target, n, f.read())


# MARK: - Images and checkpoints: the test fixtures

copy("png", "ImagingTests", ["png_gray1.png", "png_gray16.png", "png_gray8.png", "png_graya16.png", "png_graya8.png",
                             "png_huge_dims.png", "png_pal4_trns.png", "png_rgb16.png", "png_rgb8.png",
                             "png_rgb8_interlaced.png", "png_rgb8_trns.png"])
copy("jpeg", "ImagingTests", ["jpeg_baseline.jpg", "jpeg_cmyk.jpg", "jpeg_gray.jpg", "jpeg_orient6.jpg",
                              "jpeg_orient5.jpg", "jpeg_progressive.jpg"])
copy("pth-legacy", "CheckpointsTests", ["tiny_legacy.pth", "crafted_ok_legacy.pth", "crafted_view_legacy.pth",
                                        "evil_os_system_legacy.pth", "bad_short_storage_legacy.pth"])
copy("pth-zip", "CheckpointsTests", ["tiny_zip.pth", "wrapped_zip.pth", "evil_builtins_eval_zip.pth",
                                     "bad_short_storage_zip.pth"])
copy("safetensors", "CheckpointsTests", ["tiny.safetensors"])


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)] -> a safetensors file."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


put("safetensors", "dtypes.safetensors", safetensors([
    ("f32", "F32", [2, 2], struct.pack("<4f", 1, -2, 3.5, 0)),
    ("f16", "F16", [3], struct.pack("<3e", 1, -0.5, 65504)),
    ("bf16", "BF16", [2], bytes([0x80, 0x3F, 0x00, 0xC0])),
    ("f64", "F64", [1], struct.pack("<d", 2.25)),
    ("i64", "I64", [2], struct.pack("<2q", -1, 7)),
    ("i32", "I32", [], struct.pack("<i", 5)),
    ("u8", "U8", [3], bytes([0, 1, 255])),
    ("b", "BOOL", [2], bytes([0, 1])),
    ("empty", "F32", [0, 4], b""),
], metadata={"format": "pt"}))


# MARK: - ONNX: protobuf wire format by hand (field numbers from onnx.proto)

def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    return varint(num << 3 | wire) + payload


def vint(num, v):
    return field(num, 0, varint(v))


def msg(num, body):
    return field(num, 2, varint(len(body)) + body)


def text(num, s):
    return msg(num, s.encode())


FLOAT, INT64 = 1, 7


def tensor(name, dims, floats=None, int64s=None, raw=True):
    body = b"".join(vint(1, d) for d in dims)
    body += vint(2, FLOAT if floats is not None else INT64)
    body += text(8, name)
    if floats is not None:
        packed = struct.pack("<%df" % len(floats), *floats)
        body += msg(9, packed) if raw else msg(4, packed)
    else:
        packed = struct.pack("<%dq" % len(int64s), *int64s)
        body += msg(9, packed) if raw else msg(7, b"".join(varint(v) for v in int64s))
    return body


def attr_int(name, v):
    return text(1, name) + vint(3, v) + vint(20, 2)


def attr_ints(name, vs):
    return text(1, name) + msg(8, b"".join(varint(v) for v in vs)) + vint(20, 7)


def attr_float(name, v):
    return text(1, name) + field(2, 5, struct.pack("<f", v)) + vint(20, 1)


def attr_tensor(name, t):
    return text(1, name) + msg(5, t) + vint(20, 4)


def node(op, inputs, outputs, name, attrs=()):
    body = b"".join(text(1, i) for i in inputs) + b"".join(text(2, o) for o in outputs)
    body += text(3, name) + text(4, op) + b"".join(msg(5, a) for a in attrs)
    return body


def value_info(name, dims=None):
    body = text(1, name)
    if dims is not None:
        shape = b"".join(msg(1, vint(1, d) if isinstance(d, int) else text(2, d)) for d in dims)
        body += msg(2, msg(1, vint(1, FLOAT) + msg(2, shape)))
    return body


def model(nodes, initializers, inputs, outputs, opset=17):
    graph = b"".join(msg(1, n) for n in nodes) + text(2, "fuzz") + b"".join(msg(5, t) for t in initializers)
    graph += b"".join(msg(11, i) for i in inputs) + b"".join(msg(12, o) for o in outputs)
    return vint(1, 8) + text(2, "make_fuzz_corpus") + msg(7, graph) + msg(8, vint(2, opset))


def weights(n, scale=0.1):
    return [((i * 7) % 11 - 5) * scale for i in range(n)]


# image (1, 3, 8, 8) -> Conv 3->4 3x3 pad 1 -> Relu -> GlobalAveragePool -> Flatten -> Gemm 4->3
put("onnx", "tiny_conv.onnx", model(
    [node("Conv", ["image", "w", "b"], ["c"], "conv", [attr_ints("pads", [1, 1, 1, 1]), attr_ints("kernel_shape", [3, 3])]),
     node("Relu", ["c"], ["r"], "relu"),
     node("GlobalAveragePool", ["r"], ["g"], "gap"),
     node("Flatten", ["g"], ["f"], "flatten"),
     node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], "fc", [attr_int("transB", 1)])],
    [tensor("w", [4, 3, 3, 3], weights(108)), tensor("b", [4], weights(4)),
     tensor("fc.w", [3, 4], weights(12), raw=False), tensor("fc.b", [3], weights(3), raw=False)],
    [value_info("image", [1, 3, 8, 8])], [value_info("logits")]))

# More operators: depthwise Conv (group 4), BatchNormalization, Clip, MaxPool, Pad, HardSwish,
# Add, Mul by a Constant, AveragePool, Reshape through Shape/Gather/Unsqueeze/Concat, MatMul, Softmax.
put("onnx", "ops.onnx", model(
    [node("Conv", ["image", "w", "b"], ["c"], "stem", [attr_ints("pads", [1, 1, 1, 1]), attr_ints("strides", [1, 1])]),
     node("BatchNormalization", ["c", "bn.s", "bn.b", "bn.m", "bn.v"], ["bn"], "bn", [attr_float("epsilon", 1e-3)]),
     node("Clip", ["bn", "lo", "hi"], ["clip"], "relu6"),
     node("Conv", ["clip", "dw"], ["dwo"], "dw", [attr_int("group", 4), attr_ints("pads", [1, 1, 1, 1])]),
     node("HardSwish", ["dwo"], ["hs"], "hswish"),
     node("Add", ["hs", "clip"], ["res"], "residual"),
     node("Constant", [], ["half"], "half", [attr_tensor("value", tensor("halfv", [], [0.5]))]),
     node("Mul", ["res", "half"], ["m"], "scale"),
     node("Pad", ["m", "pads"], ["p"], "pad"),
     node("MaxPool", ["p"], ["mp"], "maxpool", [attr_ints("kernel_shape", [2, 2]), attr_ints("strides", [2, 2])]),
     node("AveragePool", ["mp"], ["ap"], "avgpool", [attr_ints("kernel_shape", [2, 2]), attr_ints("strides", [1, 1])]),
     node("GlobalAveragePool", ["ap"], ["g"], "gap"),
     node("Shape", ["g"], ["shape"], "shape"),
     node("Gather", ["shape", "zero"], ["n"], "gather", [attr_int("axis", 0)]),
     node("Unsqueeze", ["n", "axes"], ["n1"], "unsqueeze"),
     node("Concat", ["n1", "minus1"], ["newshape"], "concat", [attr_int("axis", 0)]),
     node("Reshape", ["g", "newshape"], ["flat"], "reshape"),
     node("MatMul", ["flat", "fc.w"], ["mm"], "matmul"),
     node("Sub", ["mm", "fc.b"], ["logits0"], "bias"),
     node("Softmax", ["logits0"], ["logits"], "softmax", [attr_int("axis", 1)])],
    [tensor("w", [4, 3, 3, 3], weights(108)), tensor("b", [4], weights(4)),
     tensor("bn.s", [4], [1, 0.5, 2, 1]), tensor("bn.b", [4], weights(4)), tensor("bn.m", [4], weights(4, 0.01)),
     tensor("bn.v", [4], [1, 2, 0.5, 1]), tensor("lo", [], [0]), tensor("hi", [], [6]),
     tensor("dw", [4, 1, 3, 3], weights(36)), tensor("pads", [8], int64s=[0, 0, 1, 1, 0, 0, 1, 1]),
     tensor("zero", [], int64s=[0]), tensor("axes", [1], int64s=[0]), tensor("minus1", [1], int64s=[-1]),
     tensor("fc.w", [4, 3], weights(12)), tensor("fc.b", [3], weights(3))],
    [value_info("image", [1, 3, 8, 8])], [value_info("logits")], opset=13))

# An open batch and size, and an external-data weight (always refused here: no such folder).
put("onnx", "dynamic_external.onnx", model(
    [node("GlobalAveragePool", ["image"], ["g"], "gap"), node("Flatten", ["g"], ["f"], "flatten"),
     node("Gemm", ["f", "fc.w"], ["logits"], "fc", [attr_int("transB", 1)])],
    [vint(1, 2) + vint(1, 3) + vint(2, FLOAT) + text(8, "fc.w")
     + msg(13, text(1, "location") + text(2, "weights.bin")) + msg(13, text(1, "length") + text(2, "24")) + vint(14, 1)],
    [value_info("image", ["N", 3, "H", "W"])], [value_info("logits")]))


# MARK: - JSON

def compact(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def r(lo, hi):
    return {"min": lo, "max": hi}


with open(os.path.join(ROOT, "Samples", "distributions", "check-print.json")) as f:
    put("distribution-json", "check-print.json", f.read())
put("distribution-json", "anywhere.json", compact({
    "size": r(0.2, 0.3), "yaw": r(-30, 30), "pitch": r(-20, 20), "roll": r(-10, 10), "fieldOfViewDegrees": 50,
    "placement": {"anywhere": {"fullyInside": True}}, "motionBlurLength": r(0, 4),
    "resampleScale": r(0.5, 1), "brightness": r(0.9, 1.1)}))
put("distribution-json", "distance.json", compact({"distance": r(300, 600), "printerGain": r(0.9, 1), "gamma": r(0.9, 1.1),
                                                   "noiseSigma": r(0, "inf")}))
put("distribution-json", "object.json", compact({
    "object": {"azimuth": r(-180, 180), "elevation": r(-10, 30), "height": r(0.4, 0.7), "lightAzimuth": r(-60, 60),
               "lightElevation": r(20, 60), "ambient": r(0.3, 0.5), "x": r(0.3, 0.7), "y": r(0.4, 0.6)},
    "blurSigma": r(0, 1), "noiseSigma": r(0, 0.02)}))
put("distribution-json", "image.json", compact({
    "rotation": r(-10, 10), "zoom": r(0.9, 1.1), "shift": r(-0.05, 0.05), "perspective": r(0, 0.05),
    "brightness": r(0.9, 1.1), "contrast": r(0.9, 1.1), "colorCast": r(0, 0.05), "blurSigma": r(0, 1),
    "noiseSigma": r(0, 0.02), "jpegQuality": r(60, 95), "background": r(0, 1)}))

# The run.json of a test fixture run (EvaluationTests), and an untargeted mesh run.
with open(os.path.join(ROOT, "Tests", "EvaluationTests", "Fixtures", "toaster_run", "run.json")) as f:
    toaster = json.load(f)
put("run-json", "toaster_run.json", compact(toaster))
mesh_run = dict(toaster)
mesh_run.update({"target": None, "format_version": 1, "steps_done": 10, "early_stopped": False, "elapsed_seconds": 1.5,
                 "threads": 2, "texture": {"width": 96, "height": 64},
                 "scenes": {"train": ["a.jpg"], "validation": ["b.jpg"]},
                 "final_validation": {"success": 0.5, "samples": 10, "mean_target_probability": 0.4, "metric": "targeted top-1"},
                 "validations": [{"step": 5, "success": 0.3, "samples": 10}],
                 "mesh": {"description": "cylinder 66x115 mm", "sha256": None, "triangles": 128, "textured_area_mm2": 23841.0}})
mesh_run["config"] = dict(toaster.get("config", {}))
mesh_run["config"]["mesh"] = {"cylinder": {"diameter": 66, "height": 115}}
mesh_run["config"]["distribution"] = {"object": {"azimuth": r(-180, 180)}}
put("run-json", "mesh_untargeted.json", compact(mesh_run))

put("calibration-json", "calibration.json", compact({
    "format": "robustpatch-color-calibration", "version": 1,
    "matrix": [0.9, 0.02, 0.01, 0.01, 0.88, 0.02, 0.0, 0.03, 0.85], "bias": [0.04, 0.05, 0.06],
    "residualRMS": 3.2, "residualMax": 9.5, "channelGain": [0.9, 0.88, 0.86], "channelBias": [0.05, 0.05, 0.06],
    "channelResidualRMS": 4.1,
    "palette": [[0.05, 0.05, 0.06], [0.5, 0.48, 0.47], [0.93, 0.92, 0.9], [0.8, 0.1, 0.1]],
    "printed": [[0, 0, 0], [128, 128, 128], [255, 255, 255], [255, 0, 0]], "patchSpread": [1.5, 2.0, 1.2, 2.5],
    "markers": [{"name": "top-left", "x": 10.5, "y": 12, "source": "detected"},
                {"name": "top-right", "x": 610, "y": 12, "source": "given"}],
    "provenance": {"tool": "robustpatch 0.1", "date": "2025-01-01", "photo": "photo.jpg", "photoWidth": 640,
                   "photoHeight": 480, "chart": "built-in default (a4, 300 dpi, 8x8)", "method": "affine"}}))

# The sample chart cut down to its top-left 3 x 3 patches (a 3 x 3 grid is valid).
with open(os.path.join(ROOT, "Samples", "calibration", "synthetic-chart.json")) as f:
    chart = json.load(f)
chart["patches"] = [p for p in chart["patches"] if p["row"] < 3 and p["column"] < 3]
chart["rows"] = chart["columns"] = 3
put("chart-json", "chart3x3.json", compact(chart))


# MARK: - OBJ

put("obj", "quad.obj", """# a textured square, 100 mm
mtllib quad.mtl
o quad
v 0 0 0
v 100 0 0
v 100 100 0
v 0 100 0
vt 0 0
vt 1 0
vt 1 1
vt 0 1
vn 0 0 1
usemtl label
s off
f 1/1/1 2/2/1 3/3/1 4/4/1
""")
cube = ["# a cube, its net on the texture", "g cube"]
for x in (0, 50):
    for y in (0, 50):
        for z in (0, 50):
            cube.append("v %d %d %d" % (x, y, z))
for u in (0, 0.25, 0.5, 0.75, 1):
    for v in (0, 0.5, 1):
        cube.append("vt %g %g" % (u, v))
faces = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
for k, f in enumerate(faces):
    t = [1 + 3 * (k % 4), 4 + 3 * (k % 4), 5 + 3 * (k % 4), 2 + 3 * (k % 4)]
    cube.append("f " + " ".join("%d/%d" % (p, q) for p, q in zip(f, t)))
cube.append("f -1/-1 -2/-2 -3/-3")
put("obj", "cube.obj", "\r\n".join(cube) + "\r\n")

print("wrote", sum(len(fs) for _, _, fs in os.walk(OUT)), "seeds under", os.path.relpath(OUT, ROOT))
