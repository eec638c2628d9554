#!/usr/bin/python3
"""Writes the golden values the Swift EfficientNet-Lite tests compare against.

Produces Tests/NetworksTests/Fixtures/:
  cat_{224,240,260}.png       Samples/cat.png resized (shorter side to the model's input size,
                              PIL BILINEAR) and centre-cropped to size x size; 8-bit RGB PNG.
  golden_lite{0,1,2}.json     logits (1000) and top-5 for that PNG, read back as pixels / 255.
  golden_lite0_batch2.json    lite0 logits for a batch of 2: cat_224.png and its horizontal flip.
  grad_lite0_ce859.f32        d CE(logits, 859 "toaster") / d input, input = cat_224.png pixels / 255,
                              raw little-endian float32, NHWC (1, 224, 224, 3); the loss is in
                              golden_lite0.json ("ce859").
Not a test itself; run it with Debian's /usr/bin/python3 (python3-torch 1.13) after
Scripts/fetch-models.sh. Each JSON also records fp32-vs-fp64 differences of the reference itself,
a floor for the tolerances a Swift test can ask for.
"""

import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref  # noqa: E402

OUT = os.path.join(ref.ROOT, "Tests", "NetworksTests", "Fixtures")
TARGET = 859  # toaster


def f9(values):
    """float32 values -> Python floats printed with 9 significant digits (round-trips float32)."""
    return [float("%.9g" % v) for v in np.asarray(values, dtype=np.float32).ravel()]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(path, ref.ROOT), os.path.getsize(path), "bytes")


def nchw_from_png(path):
    """PNG -> (1, 3, H, W) float32 in [0, 1]: exactly pixels / 255, as the Swift side reads it."""
    return ref.image_to_tensor(Image.open(path))


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    provenance = ("Scripts/make_golden.py, torch %s (CPU, float32), Scripts/reference_model.py "
                  "(TF SAME padding, BN eps 1e-3, input (255x-127)/128)" % torch.__version__)
    cat = Image.open(os.path.join(ref.ROOT, "Samples", "cat.png")).convert("RGB")

    for name in ["lite0", "lite1", "lite2"]:
        size = ref.input_size(name)
        png = "cat_%d.png" % size
        png_path = os.path.join(OUT, png)
        ref.resize_centre_crop(cat, size).save(png_path, optimize=True)
        print("wrote", os.path.relpath(png_path, ref.ROOT), os.path.getsize(png_path), "bytes")

        weights = ref.weights_path(name)
        model = ref.load_model(name, path=weights)
        x = nchw_from_png(png_path)                       # (1, 3, S, S)
        with torch.no_grad():
            logits = model(x)[0]                          # (1000,)
            logits64 = model.to_dtype(torch.float64)(x.double())[0]
        model.to_dtype(torch.float32)
        top5 = [int(i) for i in torch.topk(logits, 5).indices]
        record = {
            "model": name,
            "input": png,
            "size": size,
            "preprocessing": "Samples/cat.png, shorter side resized to size with PIL BILINEAR, "
                             "centre crop, saved as 8-bit PNG; model input = pixels / 255, "
                             "normalised inside the model",
            "weights_sha256": ref.read_models_tsv()[name]["pth_sha256"],
            "logits": f9(logits),
            "top5": top5,
            "top5_probabilities": f9(torch.softmax(logits, 0)[top5]),
            "fp32_vs_fp64_max_abs_logit_diff": float("%.3g" % float((logits.double() - logits64).abs().max())),
            "provenance": provenance,
        }

        if name == "lite0":
            # Input gradient of cross-entropy to the target class, NHWC float32 little-endian.
            xg = x.clone().requires_grad_(True)
            loss = F.cross_entropy(model(xg), torch.tensor([TARGET]))
            (grad,) = torch.autograd.grad(loss, xg)       # (1, 3, 224, 224)
            x64 = x.double().requires_grad_(True)
            model.to_dtype(torch.float64)
            loss64 = F.cross_entropy(model(x64), torch.tensor([TARGET]))
            (grad64,) = torch.autograd.grad(loss64, x64)
            model.to_dtype(torch.float32)
            nhwc = grad.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4")   # (1, 224, 224, 3)
            grad_path = os.path.join(OUT, "grad_lite0_ce%d.f32" % TARGET)
            nhwc.tofile(grad_path)
            print("wrote", os.path.relpath(grad_path, ref.ROOT), os.path.getsize(grad_path), "bytes")
            record["ce%d" % TARGET] = {
                "target": TARGET,
                "loss": float("%.9g" % float(loss)),
                "gradient_file": os.path.basename(grad_path),
                "gradient_layout": "NHWC (1, 224, 224, 3) float32 little-endian, d loss / d pixel "
                                   "for pixels in [0, 1]",
                "gradient_l2": float("%.9g" % float(grad.norm())),
                "gradient_max_abs": float("%.9g" % float(grad.abs().max())),
                "gradient_sha256": sha256(grad_path),
                "fp32_vs_fp64_max_abs_grad_diff": float("%.3g" % float((grad.double() - grad64).abs().max())),
                # Elementwise gradient differences are dominated by ReLU6 kinks that flip between
                # precisions; compare gradients by relative L2 error (and cosine) instead.
                "fp32_vs_fp64_rel_l2_grad_diff": float("%.3g" % float((grad.double() - grad64).norm() / grad64.norm())),
            }

            # Batch of two: the cat and its mirror image (flip along W).
            xb = torch.cat([x, torch.flip(x, dims=[3])], dim=0)   # (2, 3, 224, 224)
            with torch.no_grad():
                lb = model(xb)                                      # (2, 1000)
            batch = {
                "model": name,
                "inputs": [png, png + " flipped horizontally (x -> W-1-x)"],
                "size": size,
                "logits": [f9(lb[0]), f9(lb[1])],
                "top5": [[int(i) for i in torch.topk(lb[k], 5).indices] for k in range(2)],
                "max_abs_diff_vs_single": float("%.3g" % float((lb[0] - logits).abs().max())),
                "provenance": provenance,
            }
            write_json("golden_lite0_batch2.json", batch)

        write_json("golden_%s.json" % name, record)
        print("  %s top5 %s" % (name, top5))

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("fixtures total %d bytes" % total)


if __name__ == "__main__":
    main()
