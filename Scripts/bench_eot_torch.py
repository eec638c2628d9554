#!/usr/bin/python3
"""A plain PyTorch EOT patch loop, the yardstick for `robustpatch-bench --eot` (not a test).

Same work per step as robustpatch's digital preset: batch B of (scene, transform) pairs; each
sample rotates (±22.5°), scales (patch width 0.32–0.40 of the side) and places a 64×64 circle-masked
texture by an affine grid_sample (bilinear) into a 224×224 scene, brightness ×0.9–1.1, composites,
then EfficientNet-Lite0 forward + backward to the texture, TV loss, Adam step, clamp to [0, 1].
No anti-aliasing (grid_sample has none) — robustpatch does more work per sample (mip-mapped warp).
Run with Debian's /usr/bin/python3 (python3-torch); prints steps/s and samples/s and a JSON line.
"""
import argparse, glob, json, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref  # noqa: E402


def load_scenes(folder, size):
    out = []
    for p in sorted(glob.glob(os.path.join(folder, "*"))):
        if p.lower().endswith((".png", ".jpg", ".jpeg")):
            out.append(ref.image_to_tensor(ref.resize_centre_crop(Image.open(p).convert("RGB"), size))[0])
    return torch.stack(out)                                   # (S, 3, H, W)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scenes", default=os.path.join(ref.ROOT, "Samples", "scenes", "train"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    size, tex = 224, 64
    model = ref.load_model("lite0")
    for p in model.parameters():
        p.requires_grad_(False)
    scenes = load_scenes(args.scenes, size)
    yy, xx = torch.meshgrid(torch.arange(tex) + 0.5, torch.arange(tex) + 0.5, indexing="ij")
    mask = (((xx - tex / 2) ** 2 + (yy - tex / 2) ** 2) <= (tex / 2) ** 2).float()[None, None]   # (1,1,T,T)
    texture = torch.rand(1, 3, tex, tex, requires_grad=True)
    opt = torch.optim.Adam([texture], lr=0.1)
    target = torch.full((args.batch,), 859, dtype=torch.long)

    def step():
        B = args.batch
        idx = torch.randint(len(scenes), (B,))
        angle = (torch.rand(B) * 2 - 1) * math.radians(22.5)
        scale = 0.32 + 0.08 * torch.rand(B)                      # patch width / image side
        limit = 1 - scale                                        # keep the patch inside
        tx, ty = (torch.rand(B) * 2 - 1) * limit, (torch.rand(B) * 2 - 1) * limit
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, -(cos * tx - sin * ty)], 1),
                             torch.stack([sin, cos, -(sin * tx + cos * ty)], 1)], 1)       # (B, 2, 3)
        grid = F.affine_grid(theta, (B, 3, size, size), align_corners=False)
        rgba = torch.cat([texture.clamp(0, 1), mask], 1).expand(B, -1, -1, -1)
        warped = F.grid_sample(rgba, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        bright = (0.9 + 0.2 * torch.rand(B))[:, None, None, None]
        a = warped[:, 3:4]
        img = a * (warped[:, :3] * bright).clamp(0, 1) + (1 - a) * scenes[idx]
        loss = F.cross_entropy(model(img), target)
        tv = (texture[:, :, 1:, :] - texture[:, :, :-1, :]).abs().mean() + (texture[:, :, :, 1:] - texture[:, :, :, :-1]).abs().mean()
        opt.zero_grad()
        (loss + 0.02 * tv).backward()
        opt.step()
        with torch.no_grad():
            texture.clamp_(0, 1)
        return float(loss)

    for _ in range(3):
        step()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < args.seconds:
        step(); n += 1
    dt = time.perf_counter() - t0
    env = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    print("pytorch EOT loop: batch %d, %.3f s/step, %.1f samples/s (%s)" % (args.batch, dt / n, n * args.batch / dt, env or "glibc default malloc"))
    print(json.dumps({"engine": "pytorch", "batch": args.batch, "seconds_per_step": dt / n, "samples_per_s": n * args.batch / dt, "env": env}))


if __name__ == "__main__":
    main()
