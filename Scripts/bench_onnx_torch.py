#!/usr/bin/python3
"""PyTorch side of Scripts/bench_onnx.sh: torchvision's ResNet-18 (re-typed in
Scripts/make_onnx_fixtures.py, the same seeded weights as the exported resnet18.onnx) at
224 x 224: samples/s of the forward pass and of forward + backward to the input (weights frozen,
input requires grad, loss = the logit of class 859 summed over the batch). torch.set_num_threads(2).
Prints one JSON line. Not a test; glibc malloc settings come from the environment."""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_onnx_fixtures import ResNet18, randomise  # noqa: E402


def rate(fn, batch, seconds):
    fn(); fn()
    n, start = 0, time.perf_counter()
    while True:
        fn(); n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return batch * n / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="16")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--label", default="default")
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = randomise(ResNet18(64), 1)
    for p in model.parameters():
        p.requires_grad_(False)
    results = []
    for batch in [int(b) for b in a.batches.split(",")]:
        x = torch.rand(batch, 3, 224, 224, generator=torch.Generator().manual_seed(0))

        def forward():
            with torch.no_grad():
                model(x)

        def forward_backward():
            xi = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model(xi)[:, 859].sum(), xi)
            return g

        for mode, fn in [("forward", forward), ("forward+backward", forward_backward)]:
            r = rate(fn, batch, a.seconds)
            print("%5d  %-18s %10.1f" % (batch, mode, r), file=sys.stderr)
            results.append({"batch": batch, "mode": mode, "samples_per_s": r})
    print(json.dumps({"engine": "torch " + torch.__version__, "label": a.label, "results": results}))


if __name__ == "__main__":
    main()
