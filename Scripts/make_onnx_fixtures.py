#!/usr/bin/python3
"""Writes ONNX fixtures for the Swift ONNX tests: torchvision architectures exported by
torch.onnx.export (opset 17, batch left open), with reference outputs from PyTorch.

Produces Tests/ONNXTests/Fixtures/:
  resnet18_w8.onnx          torchvision's ResNet-18 at width 8 (64 in the original), 100 classes,
                            seeded weights and BatchNorm statistics (not trained: the architecture
                            and its ops are what is tested), 224 x 224 input.
  mobilenet_v2_w25.onnx     torchvision's MobileNetV2 at width 0.25, 100 classes, seeded weights.
  reference.json            per model: the logits of a seeded input, and its SHA-256 pins.
Full-size models (width 64 / 1.0) come from `--full DIR`, for benchmarks: ResNet-18 is 46 MB.

The architectures are torchvision 0.14's code re-typed in plain PyTorch (torchvision has no wheel
for Debian's torch 1.13 / Python 3.11). Run with Debian's /usr/bin/python3.
"""

import argparse
import hashlib
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref  # noqa: E402
from make_golden_mobilenet import MobileNetV2  # noqa: E402

OUT = os.path.join(ref.ROOT, "Tests", "ONNXTests", "Fixtures")


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18 with base width `w` (64)."""

    def __init__(self, w=64, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = [w, 2 * w, 4 * w, 8 * w]
        layers, inp = [], w
        for i, c in enumerate(widths):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(BasicBlock(inp, c, stride), BasicBlock(c, c, 1)))
            inp = c
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * w, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def randomise(model, seed):
    """Seeded weights and BatchNorm statistics, so that folding BN is exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif isinstance(mod, nn.BatchNorm2d):
                mod.weight.copy_(1 + 0.1 * torch.randn(mod.weight.shape, generator=g))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=g))
                mod.running_var.copy_(1 + 0.2 * torch.rand(mod.running_var.shape, generator=g))
            elif isinstance(mod, nn.Linear):
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (1.0 / mod.in_features) ** 0.5)
                mod.bias.copy_(0.01 * torch.randn(mod.bias.shape, generator=g))
    return model.eval()


def export(model, path):
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, opset_version=17, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--full", help="also write full-size resnet18.onnx and mobilenet_v2.onnx (real weights) here")
    a = p.parse_args()
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    # An input both sides can make: x[n, c, h, w] = ((37h + 59w + 101c + 7hw + 13n) mod 256) / 255.
    n_, c_, h_, w_ = torch.meshgrid(torch.arange(2), torch.arange(3), torch.arange(224), torch.arange(224), indexing="ij")
    x = ((37 * h_ + 59 * w_ + 101 * c_ + 7 * h_ * w_ + 13 * n_) % 256).float() / 255
    record = {"input": "x[n, c, h, w] = ((37h + 59w + 101c + 7hw + 13n) mod 256) / 255, (2, 3, 224, 224)", "torch": torch.__version__, "models": {}}
    # 100 classes instead of 1000 keeps the committed files small (MobileNetV2's classifier alone
    # is 5 MB at 1000).
    for name, model in [("resnet18_w8", randomise(ResNet18(8, num_classes=100), 1)),
                        ("mobilenet_v2_w25", randomise(MobileNetV2(num_classes=100, width_mult=0.25), 2))]:
        path = os.path.join(OUT, name + ".onnx")
        export(model, path)
        with torch.no_grad():
            logits = model(x)
        record["models"][name] = {"file": name + ".onnx", "sha256": sha256(path), "bytes": os.path.getsize(path),
                                  "logits": [[float("%.9g" % v) for v in row] for row in logits.tolist()],
                                  "top1": [int(i) for i in logits.argmax(1)]}
        print("wrote", os.path.relpath(path, ref.ROOT), os.path.getsize(path), "bytes")
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    if a.full:
        os.makedirs(a.full, exist_ok=True)
        export(randomise(ResNet18(64), 1), os.path.join(a.full, "resnet18.onnx"))
        m = MobileNetV2()
        m.load_state_dict(torch.load(ref.weights_path("mobilenet_v2"), map_location="cpu"))
        export(m.eval(), os.path.join(a.full, "mobilenet_v2.onnx"))
        print("wrote full-size models into", a.full)


if __name__ == "__main__":
    main()
