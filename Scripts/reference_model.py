#!/usr/bin/python3
"""EfficientNet-Lite0/1/2 in plain PyTorch, loading the `efficientnet-lite{N}.pth` state dicts.

This is the *reference* the Swift code is checked against (golden values, benchmarks); it is
not used at run time. Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-pil).

Architecture (checked against the weights; see `--check` below):
  - key names follow lukemelas/EfficientNet-PyTorch (`_conv_stem`, `_bn0`, `_blocks.{i}.*`,
    `_conv_head`, `_bn1`, `_fc`); the block list, kernel sizes, expansion ratios and channel
    counts are read from the tensors' shapes, so one class serves lite0, lite1 and lite2;
  - TensorFlow "SAME" padding: total = max((ceil(in/s) - 1)*s + k - in, 0), before = total // 2,
    after = total - before (the extra pixel goes bottom/right);
  - BatchNorm (inference) with eps = 1e-3; ReLU6 after stem, expand, depthwise and head;
    no activation after the projection; residual when stride 1 and in == out channels;
    no squeeze-excite; global average pool; fully connected 1280 -> 1000;
  - stages are the runs of blocks whose first block changes the channel count; the stage
    strides are [1, 2, 2, 2, 1, 2, 1] (stride applies to a stage's first block only);
  - input: RGB in [0, 1], NCHW, normalised inside the model as (255*x - 127) / 128.

Usage:
  /usr/bin/python3 Scripts/reference_model.py              # classify Samples/cat.png with all 3;
                                                           # exits 1 unless top-1 is a cat (281-285)
  /usr/bin/python3 Scripts/reference_model.py --compare    # also try padding/normalisation variants
  /usr/bin/python3 Scripts/reference_model.py --bn-stats   # which input normalisation matches the
                                                           # stem BatchNorm's running statistics
"""

import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

STAGE_STRIDES = [1, 2, 2, 2, 1, 2, 1]
BN_EPS = 1e-3


def read_models_tsv(path=os.path.join(HERE, "models.tsv")):
    """Returns {name: row-dict} from Scripts/models.tsv (header line names the columns)."""
    rows = {}
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    header = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t")))
        rows[row["name"]] = row
    return rows


def models_dir():
    return os.environ.get("ROBUSTPATCH_MODELS") or os.path.join(
        os.path.expanduser("~"), ".cache", "robustpatch", "models")


def weights_path(name):
    """Path of the cached weights of `name` (models.tsv's file column; fetched by
    Scripts/fetch-models.sh)."""
    path = os.path.join(models_dir(), read_models_tsv()[name]["file"])
    if not os.path.exists(path):
        sys.exit("error: %s not found; run Scripts/fetch-models.sh %s (or set ROBUSTPATCH_MODELS)"
                 % (path, name))
    return path


def input_size(name):
    return int(read_models_tsv()[name]["input_size"])


def same_pad(x, k, s):
    """TF 'SAME' padding for an NCHW tensor: extra pixel at the bottom/right."""
    h, w = x.shape[2], x.shape[3]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class EfficientNetLite(torch.nn.Module):
    """Inference-only EfficientNet-Lite built from a lukemelas-style state dict.

    padding: "same" (TF, asymmetric; the correct one) or "symmetric" (k//2 on every side).
    normalisation: "tf" ((255x-127)/128, the correct one), "imagenet" (mean/std), "none".
    """

    def __init__(self, state_dict, padding="same", normalisation="tf"):
        super().__init__()
        self.padding = padding
        self.normalisation = normalisation
        # Weights are plain tensors (not nn.Parameters), so they never require grad: the
        # backward pass of interest is to the input only.
        sd = {k: v.float() for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
        self.sd = sd
        n_blocks = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("_blocks."))
        blocks = []
        stage = -1
        prev_out = sd["_conv_stem.weight"].shape[0]
        for i in range(n_blocks):
            p = "_blocks.%d." % i
            dw = sd[p + "_depthwise_conv.weight"]          # (C_exp, 1, k, k)
            proj = sd[p + "_project_conv.weight"]          # (C_out, C_exp, 1, 1)
            has_expand = (p + "_expand_conv.weight") in sd
            c_in = sd[p + "_expand_conv.weight"].shape[1] if has_expand else dw.shape[0]
            c_out = proj.shape[0]
            assert c_in == prev_out, "block %d input %d != previous output %d" % (i, c_in, prev_out)
            first_of_stage = c_in != c_out
            if first_of_stage:
                stage += 1
            stride = STAGE_STRIDES[stage] if first_of_stage else 1
            blocks.append(dict(prefix=p, expand=has_expand, k=dw.shape[2], stride=stride,
                               c_in=c_in, c_out=c_out, residual=(stride == 1 and c_in == c_out)))
            prev_out = c_out
        assert stage == len(STAGE_STRIDES) - 1, "expected 7 stages, found %d" % (stage + 1)
        self.blocks = blocks

    def to_dtype(self, dtype):
        """Converts every weight to `dtype` (e.g. torch.float64 for a higher-precision oracle)."""
        self.sd = {k: v.to(dtype) for k, v in self.sd.items()}
        return self

    def describe(self):
        return [(b["c_in"], b["c_out"], b["k"], b["stride"], b["expand"], b["residual"])
                for b in self.blocks]

    def conv(self, x, name, stride=1, groups=1):
        w = self.sd[name + ".weight"]
        k = w.shape[2]
        if self.padding == "same":
            x = same_pad(x, k, stride)
            return F.conv2d(x, w, None, stride, 0, 1, groups)
        return F.conv2d(x, w, None, stride, k // 2, 1, groups)

    def bn(self, x, name):
        sd = self.sd
        return F.batch_norm(x, sd[name + ".running_mean"], sd[name + ".running_var"],
                            sd[name + ".weight"], sd[name + ".bias"], False, 0.0, BN_EPS)

    def normalise(self, x):
        if self.normalisation == "tf":
            return (255.0 * x - 127.0) / 128.0
        if self.normalisation == "imagenet":
            mean = torch.tensor([0.485, 0.456, 0.406], dtype=x.dtype).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225], dtype=x.dtype).view(1, 3, 1, 1)
            return (x - mean) / std
        return x

    def forward(self, x):
        """x: (N, 3, H, W) RGB in [0, 1] -> logits (N, 1000)."""
        x = self.normalise(x)
        x = F.relu6(self.bn(self.conv(x, "_conv_stem", stride=2), "_bn0"))
        for b in self.blocks:
            p = b["prefix"]
            y = x
            if b["expand"]:
                y = F.relu6(self.bn(self.conv(y, p + "_expand_conv"), p + "_bn0"))
            y = F.relu6(self.bn(self.conv(y, p + "_depthwise_conv", stride=b["stride"],
                                          groups=y.shape[1]), p + "_bn1"))
            y = self.bn(self.conv(y, p + "_project_conv"), p + "_bn2")
            x = x + y if b["residual"] else y
        x = F.relu6(self.bn(self.conv(x, "_conv_head"), "_bn1"))
        x = x.mean(dim=(2, 3))
        return F.linear(x, self.sd["_fc.weight"], self.sd["_fc.bias"])


# Lite0's stages as (repeats, kernel, expand ratio, in, out), from the TF efficientnet_lite_builder
# block strings (width and depth multipliers 1.0); only used to build synthetic weights.
LITE0_STAGES = [(1, 3, 1, 32, 16), (2, 3, 6, 16, 24), (2, 5, 6, 24, 40), (3, 3, 6, 40, 80),
                (3, 5, 6, 80, 112), (4, 5, 6, 112, 192), (1, 3, 6, 192, 320)]


def synthetic_lite0_state_dict(seed=0):
    """Random weights with lite0's exact shapes (for timing without downloading the .pth)."""
    g = torch.Generator().manual_seed(seed)

    def conv(o, i, k):
        return torch.randn(o, i, k, k, generator=g) * math.sqrt(2.0 / (i * k * k))

    def bn(prefix, c, sd):
        sd[prefix + ".weight"] = torch.ones(c)
        sd[prefix + ".bias"] = torch.zeros(c)
        sd[prefix + ".running_mean"] = torch.zeros(c)
        sd[prefix + ".running_var"] = torch.ones(c)

    sd = {"_conv_stem.weight": conv(32, 3, 3)}
    bn("_bn0", 32, sd)
    i = 0
    for repeats, k, e, c_in, c_out in LITE0_STAGES:
        for r in range(repeats):
            cin = c_in if r == 0 else c_out
            p = "_blocks.%d." % i
            if e != 1:
                sd[p + "_expand_conv.weight"] = conv(cin * e, cin, 1)
                bn(p + "_bn0", cin * e, sd)
            sd[p + "_depthwise_conv.weight"] = conv(cin * e, 1, k)
            bn(p + "_bn1", cin * e, sd)
            sd[p + "_project_conv.weight"] = conv(c_out, cin * e, 1)
            bn(p + "_bn2", c_out, sd)
            i += 1
    sd["_conv_head.weight"] = conv(1280, 320, 1)
    bn("_bn1", 1280, sd)
    sd["_fc.weight"] = torch.randn(1000, 1280, generator=g) * 0.01
    sd["_fc.bias"] = torch.zeros(1000)
    return sd


def load_model(name, padding="same", normalisation="tf", path=None):
    sd = torch.load(path or weights_path(name), map_location="cpu")
    model = EfficientNetLite(sd, padding=padding, normalisation=normalisation)
    model.eval()
    return model


def load_labels():
    path = os.path.join(ROOT, "Sources", "Networks", "Resources", "imagenet_classes.txt")
    with open(path) as f:
        return [l.rstrip("\n") for l in f]


def resize_centre_crop(img, size):
    """PIL image -> PIL image size x size: shorter side to `size` (BILINEAR), centre crop."""
    from PIL import Image
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - size) // 2, (nh - size) // 2
    return img.crop((left, top, left + size, top + size))


def image_to_tensor(img):
    """PIL RGB image -> (1, 3, H, W) float32 in [0, 1] (pixels / 255)."""
    import numpy as np
    a = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0    # (H, W, 3)
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0).contiguous()


CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat


def bn_stats(names):
    """The stem's BatchNorm saw (normalised) training images: its running variance tells which
    input normalisation the network was trained with. Ratio ~1 means a match."""
    import glob
    from PIL import Image
    files = [os.path.join(ROOT, "Samples", "cat.png")] + sorted(
        glob.glob(os.path.join(ROOT, "Samples", "scenes", "*", "*")))
    for name in names:
        size = input_size(name)
        x = torch.cat([image_to_tensor(resize_centre_crop(Image.open(f).convert("RGB"), size))
                       for f in files])                                  # (N, 3, S, S)
        sd = torch.load(weights_path(name), map_location="cpu")
        for norm in ["tf", "imagenet", "none"]:
            m = EfficientNetLite(sd, normalisation=norm)
            y = m.conv(m.normalise(x), "_conv_stem", stride=2)          # (N, 32, S/2, S/2)
            var_ratio = y.var(dim=(0, 2, 3)) / m.sd["_bn0.running_var"]
            mean_err = (y.mean(dim=(0, 2, 3)) - m.sd["_bn0.running_mean"]).abs().mean()
            print("%s norm=%-8s stem variance / BN running_var: median %.2f | mean |mean - running_mean| %.3f"
                  % (name, norm, float(var_ratio.median()), float(mean_err)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default=os.path.join(ROOT, "Samples", "cat.png"))
    ap.add_argument("--models", default="lite0,lite1,lite2")
    ap.add_argument("--compare", action="store_true",
                    help="also run padding/normalisation variants and report cat probabilities")
    ap.add_argument("--describe", action="store_true", help="print the block table")
    ap.add_argument("--bn-stats", action="store_true",
                    help="compare stem conv output statistics on Samples/ photos with _bn0's "
                         "running mean/var under each input normalisation")
    args = ap.parse_args()
    from PIL import Image
    torch.set_num_threads(2)
    if args.bn_stats:
        bn_stats(args.models.split(","))
        return
    labels = load_labels()
    img = Image.open(args.image).convert("RGB")
    variants = [("same", "tf")]
    if args.compare:
        variants += [("symmetric", "tf"), ("same", "imagenet"), ("symmetric", "imagenet"),
                     ("same", "none")]
    ok = True
    for name in args.models.split(","):
        size = input_size(name)
        x = image_to_tensor(resize_centre_crop(img, size))
        sd = torch.load(weights_path(name), map_location="cpu")
        for padding, norm in variants:
            m = EfficientNetLite(sd, padding=padding, normalisation=norm).eval()
            if args.describe and (padding, norm) == ("same", "tf"):
                for i, row in enumerate(m.describe()):
                    print("  block %2d: in %4d out %4d k %d stride %d expand %-5s residual %s"
                          % ((i,) + row))
            with torch.no_grad():
                p = torch.softmax(m(x), dim=1)[0]
            top = torch.topk(p, 5)
            cat_mass = float(p[list(CAT_CLASSES)].sum())
            desc = ", ".join("%d %s %.3f" % (int(i), labels[int(i)], float(v))
                             for v, i in zip(top.values, top.indices))
            print("%s %d pad=%-9s norm=%-8s cat-mass %.3f | top5: %s"
                  % (name, size, padding, norm, cat_mass, desc))
            if (padding, norm) == ("same", "tf") and int(top.indices[0]) not in CAT_CLASSES:
                ok = False
    if not ok:
        sys.exit("error: the reference model did not classify the cat as a cat")


if __name__ == "__main__":
    main()
