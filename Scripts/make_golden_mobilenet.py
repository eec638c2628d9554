#!/usr/bin/python3
"""Writes the golden values the Swift MobileNetV2 tests compare against.

Produces Tests/NetworksTests/Fixtures/:
  cat_mnv2_224.png            Samples/cat.png through torchvision's ImageNet preprocessing for PIL
                              images: Resize(256) (shorter side, PIL BILINEAR) + CenterCrop(224);
                              8-bit RGB PNG.
  golden_mobilenet_v2.json    logits (1000) and top-5 for that PNG (input = pixels / 255, then
                              torchvision's Normalize), the loss and a digest of the input
                              gradient of cross-entropy to 859 "toaster", and the top-5 of every
                              bundled photo (Samples/cat.png, Samples/scenes/*/*) through the same
                              preprocessing, for the end-to-end classify test.
  grad_mobilenet_v2_ce859.f32 d CE / d input (pixels in [0, 1]), NHWC (1, 224, 224, 3) float32 LE.

The network is torchvision 0.14's models/mobilenetv2.py (MobileNet_V2_Weights.IMAGENET1K_V1 =
mobilenet_v2-b0353104.pth) re-typed here module for module in plain PyTorch, so that the state
dict loads with strict=True: torchvision has no wheel for Debian's torch 1.13 / Python 3.11.
Not a test itself; run it with Debian's /usr/bin/python3 after Scripts/fetch-models.sh mobilenet_v2.
"""

import glob
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref  # noqa: E402

OUT = os.path.join(ref.ROOT, "Tests", "NetworksTests", "Fixtures")
TARGET = 859  # toaster
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def conv_bn_relu(inp, out, k=3, stride=1, groups=1):
    """torchvision.ops.misc.Conv2dNormActivation(norm BatchNorm2d, activation ReLU6)."""
    return nn.Sequential(nn.Conv2d(inp, out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu(inp, hidden, k=1))
        layers += [conv_bn_relu(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def make_divisible(v):
    """torchvision's _make_divisible(v, 8): channels rounded to multiples of 8, never 10 % below."""
    new = max(8, int(v + 4) // 8 * 8)
    return new + 8 if new < 0.9 * v else new


class MobileNetV2(nn.Module):
    SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, num_classes=1000, width_mult=1.0):
        super().__init__()
        inp = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features = [conv_bn_relu(3, inp, stride=2)]
        for t, c, n, s in self.SETTING:
            for i in range(n):
                features.append(InvertedResidual(inp, make_divisible(c * width_mult), s if i == 0 else 1, t))
                inp = make_divisible(c * width_mult)
        features.append(conv_bn_relu(inp, last, k=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(torch.flatten(x, 1))


def normalise(x):
    """(N, 3, H, W) in [0, 1] -> torchvision's Normalize(MEAN, STD)."""
    m = torch.tensor(MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


def preprocess(img):
    """torchvision's Resize(256) + CenterCrop(224) for a PIL image."""
    img = img.convert("RGB")
    w, h = img.size
    if w <= h:
        nw, nh = 256, int(256 * h / w)
    else:
        nw, nh = int(256 * w / h), 256
    img = img.resize((nw, nh), Image.BILINEAR)
    top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))
    return img.crop((left, top, left + 224, top + 224))


def f9(values):
    return [float("%.9g" % v) for v in np.asarray(values, dtype=np.float32).ravel()]


def main():
    torch.set_num_threads(2)
    weights = ref.weights_path("mobilenet_v2")
    model = MobileNetV2()
    model.load_state_dict(torch.load(weights, map_location="cpu"), strict=True)
    model.eval()

    png = "cat_mnv2_224.png"
    png_path = os.path.join(OUT, png)
    preprocess(Image.open(os.path.join(ref.ROOT, "Samples", "cat.png"))).save(png_path, optimize=True)
    x = ref.image_to_tensor(Image.open(png_path))
    with torch.no_grad():
        logits = model(normalise(x))[0]
        logits64 = model.double()(normalise(x.double()))[0]
    model.float()
    xg = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(normalise(xg)), torch.tensor([TARGET]))
    (grad,) = torch.autograd.grad(loss, xg)
    nhwc = grad.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4")
    grad_path = os.path.join(OUT, "grad_mobilenet_v2_ce%d.f32" % TARGET)
    nhwc.tofile(grad_path)

    samples = {}
    photos = [os.path.join(ref.ROOT, "Samples", "cat.png")] + sorted(glob.glob(os.path.join(ref.ROOT, "Samples", "scenes", "*", "*")))
    for p in photos:
        with torch.no_grad():
            l = model(normalise(ref.image_to_tensor(preprocess(Image.open(p)))))[0]
        samples[os.path.relpath(p, ref.ROOT)] = [int(i) for i in torch.topk(l, 5).indices]

    top5 = [int(i) for i in torch.topk(logits, 5).indices]
    record = {
        "model": "mobilenet_v2",
        "input": png,
        "size": 224,
        "preprocessing": "torchvision Resize(256) + CenterCrop(224) of Samples/cat.png (PIL BILINEAR), 8-bit PNG; "
                         "model input = pixels / 255, then Normalize(mean %s, std %s)" % (MEAN, STD),
        "weights_sha256": ref.read_models_tsv()["mobilenet_v2"]["pth_sha256"],
        "logits": f9(logits),
        "top5": top5,
        "top5_probabilities": f9(torch.softmax(logits, 0)[top5]),
        "fp32_vs_fp64_max_abs_logit_diff": float("%.3g" % float((logits.double() - logits64).abs().max())),
        "ce%d" % TARGET: {"target": TARGET, "loss": float("%.9g" % float(loss)), "gradient_file": os.path.basename(grad_path),
                          "gradient_layout": "NHWC (1, 224, 224, 3) float32 little-endian, d loss / d pixel for pixels in [0, 1]",
                          "gradient_l2": float("%.9g" % float(grad.norm()))},
        "samples_top5": samples,
        "provenance": "Scripts/make_golden_mobilenet.py, torch %s (CPU, float32), torchvision 0.14's MobileNetV2 re-typed "
                      "(symmetric padding, BN eps 1e-5, ImageNet mean/std)" % torch.__version__,
    }
    with open(os.path.join(OUT, "golden_mobilenet_v2.json"), "w") as f:
        json.dump(record, f, separators=(",", ":"))
        f.write("\n")
    print("top5", top5, "loss", float(loss), "samples", samples)


if __name__ == "__main__":
    main()
