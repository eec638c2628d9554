#!/usr/bin/python3
"""Writes ONNX fixtures for the Swift ONNX tests: torchvision architectures exported by
torch.onnx.export (opset 17, batch left open), with reference outputs from PyTorch.

Produces Tests/ONNXTests/Fixtures/:
  resnet18_w8.onnx          torchvision's ResNet-18 at width 8 (64 in the original), 100 classes,
                            seeded weights and BatchNorm statistics (not trained: the architecture
                            and its ops are what is tested), 224 x 224 input.
  mobilenet_v2_w25.onnx     torchvision's MobileNetV2 at width 0.25, 100 classes, seeded weights.
  mobilenet_v3_small_w50.onnx  torchvision's MobileNetV3-Small at width 0.5, 100 classes (HardSwish,
                            HardSigmoid, squeeze-and-excitation: a broadcast Mul).
  opzoo.onnx                a small net for the operators the three leave out: a dilated and
                            an unequal-stride convolution, LeakyRelu, Sigmoid, Sub/Div by constants,
                            Concat, a BatchNormalization that cannot fold, a per-channel Mul,
                            AveragePool and MaxPool in ceil mode, ReduceMean, x.view(N, -1) (Shape,
                            Gather, Unsqueeze, Concat, Reshape), MatMul, Softmax. (torch 1.13
                            exports F.pad through ConstantOfShape, Slice and Transpose: Pad is
                            tested on a graph the Swift tests build.)
  reference.json            per model: the logits of two inputs (a formula and a crop of
                            Samples/cat.png), the input gradient of sum_k c_k logits[n, k]
                            (c_k = ((7k) mod 11 - 5) / 5) at every 97th NCHW element with its norm,
                            and its SHA-256 pins.
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
import torch.nn.functional as F
from PIL import Image

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


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def conv_bn_act(inp, out, k, stride, groups, act):
    """torchvision's Conv2dNormActivation as MobileNetV3 uses it."""
    layers = [nn.Conv2d(inp, out, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(out, eps=0.001, momentum=0.01)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x))))) * x


class V3Block(nn.Module):
    def __init__(self, inp, k, exp, out, se, hs, stride):
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        layers = [] if exp == inp else [conv_bn_act(inp, exp, 1, 1, 1, act)]
        layers.append(conv_bn_act(exp, exp, k, stride, exp, act))
        if se:
            layers.append(SqueezeExcitation(exp, make_divisible(exp // 4)))
        layers.append(conv_bn_act(exp, out, 1, 1, 1, None))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        y = self.block(x)
        return y + x if self.residual else y


class MobileNetV3Small(nn.Module):
    """torchvision.models.mobilenet_v3_small(width_mult=w), torchvision 0.14's configuration."""

    def __init__(self, w=1.0, num_classes=1000):
        super().__init__()
        a = lambda c: make_divisible(c * w)  # noqa: E731
        conf = [(16, 3, 16, 16, True, False, 2), (16, 3, 72, 24, False, False, 2), (24, 3, 88, 24, False, False, 1),
                (24, 5, 96, 40, True, True, 2), (40, 5, 240, 40, True, True, 1), (40, 5, 240, 40, True, True, 1),
                (40, 5, 120, 48, True, True, 1), (48, 5, 144, 48, True, True, 1), (48, 5, 288, 96, True, True, 2),
                (96, 5, 576, 96, True, True, 1), (96, 5, 576, 96, True, True, 1)]
        layers = [conv_bn_act(3, a(16), 3, 2, 1, nn.Hardswish)]
        for inp, k, exp, out, se, hs, stride in conf:
            layers.append(V3Block(a(inp), k, a(exp), a(out), se, hs, stride))
        last_in = a(96)
        layers.append(conv_bn_act(last_in, 6 * last_in, 1, 1, 1, nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = a(1024)
        self.classifier = nn.Sequential(nn.Linear(6 * last_in, last), nn.Hardswish(inplace=True), nn.Dropout(0.2, inplace=True),
                                        nn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class OpZoo(nn.Module):
    """Not a real architecture: the ONNX operators the three torchvision nets leave out."""

    def __init__(self, num_classes=100):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=(2, 1), padding=(1, 2))       # unequal strides
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.bn = nn.BatchNorm2d(16)                                        # after a Concat: cannot fold
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, 16).view(16, 1, 1))
        self.head = nn.Conv2d(16, 24, 3, stride=2, padding=1, bias=False)
        self.fc = nn.Parameter(torch.zeros(24 * 3 * 4, num_classes))
        self.fc_bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        x = F.leaky_relu(self.stem(x), 0.1)
        y = torch.sigmoid(self.dilated(x)) - 0.5
        x = torch.cat([x, y / 2.0], 1)
        x = self.bn(x) * self.gain
        x = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        x = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
        x = x * x.mean((2, 3), keepdim=True)
        x = F.avg_pool2d(F.relu(self.head(x)), (5, 7))
        x = x.view(x.size(0), -1) @ self.fc + self.fc_bias
        return torch.softmax(x, 1)


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
        if isinstance(model, OpZoo):
            model.fc.copy_(torch.randn(model.fc.shape, generator=g) * 0.2)
            model.fc_bias.copy_(0.1 * torch.randn(model.fc_bias.shape, generator=g))
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
    p.add_argument("--full-only", action="store_true", help="with --full: only the full-size models, not the fixtures")
    a = p.parse_args()
    torch.set_num_threads(2)
    if a.full and a.full_only:
        write_full(a.full)
        return
    os.makedirs(OUT, exist_ok=True)
    # Two inputs both sides can make: x[0, c, h, w] = ((37h + 59w + 101c + 7hw) mod 256) / 255, and
    # x[1] the 224 x 224 crop of Samples/cat.png at (113, 38), bytes / 255 (a real photo, no resampling).
    c_, h_, w_ = torch.meshgrid(torch.arange(3), torch.arange(224), torch.arange(224), indexing="ij")
    formula = ((37 * h_ + 59 * w_ + 101 * c_ + 7 * h_ * w_) % 256).float() / 255
    cat = Image.open(os.path.join(ref.ROOT, "Samples", "cat.png")).convert("RGB").crop((113, 38, 113 + 224, 38 + 224))
    photo = torch.tensor(list(cat.getdata()), dtype=torch.float32).view(224, 224, 3).permute(2, 0, 1) / 255
    x = torch.stack([formula, photo])
    coefficients = torch.tensor([((7 * k) % 11 - 5) / 5 for k in range(100)])
    record = {"input": "x[0, c, h, w] = ((37h + 59w + 101c + 7hw) mod 256) / 255; x[1] = Samples/cat.png's 224 x 224 crop at (113, 38) / 255",
              "loss": "sum over n, k of c_k logits[n, k], c_k = ((7k) mod 11 - 5) / 5; gradient at NCHW elements 0, 97, 194, ...",
              "torch": torch.__version__, "models": {}}
    # 100 classes instead of 1000 keeps the committed files small (MobileNetV2's classifier alone
    # is 5 MB at 1000).
    for name, model in [("resnet18_w8", randomise(ResNet18(8, num_classes=100), 1)),
                        ("mobilenet_v2_w25", randomise(MobileNetV2(num_classes=100, width_mult=0.25), 2)),
                        ("mobilenet_v3_small_w50", randomise(MobileNetV3Small(0.5, num_classes=100), 3)),
                        ("opzoo", randomise(OpZoo(100), 4))]:
        path = os.path.join(OUT, name + ".onnx")
        export(model, path)
        xg = x.clone().requires_grad_(True)
        logits = model(xg)
        (logits * coefficients).sum().backward()
        grad = xg.grad.flatten()
        record["models"][name] = {"file": name + ".onnx", "sha256": sha256(path), "bytes": os.path.getsize(path),
                                  "logits": [[float("%.9g" % v) for v in row] for row in logits.tolist()],
                                  "top1": [int(i) for i in logits.argmax(1)],
                                  "gradient_every_97th": [float("%.9g" % v) for v in grad[::97].tolist()],
                                  "gradient_norm": float("%.9g" % grad.norm().item())}
        print("wrote", os.path.relpath(path, ref.ROOT), os.path.getsize(path), "bytes")
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    if a.full:
        write_full(a.full)


def write_full(folder):
    os.makedirs(folder, exist_ok=True)
    export(randomise(ResNet18(64), 1), os.path.join(folder, "resnet18.onnx"))
    m = MobileNetV2()
    m.load_state_dict(torch.load(ref.weights_path("mobilenet_v2"), map_location="cpu"))
    export(m.eval(), os.path.join(folder, "mobilenet_v2.onnx"))
    print("wrote full-size models into", folder)

if __name__ == "__main__":
    main()
