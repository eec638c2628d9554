#!/usr/bin/env python3
"""A plain PyTorch EOT loop for issue 22's can label, the yardstick for `generate --mesh cylinder`
(research, not a test; never used at run time).

A 66 x 115 mm can is ray-cast (side: the label texture, u around the axis, v down; lids: grey
aluminium) under the acceptance distribution of `TransformDistribution.object`: turned 0-360 deg
about its axis, seen from 0-30 deg above, its perspective outline 30-50 % of the frame's height
anywhere in the frame (pinhole, 50 deg across the image), light from any side 15-75 deg up with
35-65 % ambient, intensity 0.65-1.35, defocus sigma 0-1.5 px, sensor noise sigma 0-0.035;
rendered at 2x and averaged (anti-aliasing), composited over 224 x 224 scene squares.
Adam on the texture (clamped to [0, 1]), cosine learning rate, targeted cross-entropy + TV.

Each experiment trains on the library's train/ squares (centre + mirror) and is judged on 1000
samples of the held-out val/ squares (and 1000 of train/), with a noise-texture control, by
category. Prints one JSON line per experiment.

  python3 Scripts/can_eot_torch.py --scenes DIR --weights lite0.pth --experiments ref,ours
where DIR holds train/*.jpg, val/*.jpg (224 x 224 squares) and manifest.tsv (file, category).
"""
import argparse, glob, json, math, os, sys, time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref  # noqa: E402

DIAMETER, HEIGHT = 66.0, 115.0
LID = 0.78


def load_squares(folder, mirror):
    paths = sorted(glob.glob(os.path.join(folder, "*.jpg")) + glob.glob(os.path.join(folder, "*.png")))
    imgs = [torch.from_numpy(np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1) for p in paths]
    x = torch.stack(imgs)
    if mirror:
        x = torch.cat([x, x.flip(3)])
    return x, [os.path.splitext(os.path.basename(p))[0] for p in paths]


def rot_x(a):
    c, s = torch.cos(a), torch.sin(a)
    o, z = torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([torch.stack([o, z, z], -1), torch.stack([z, c, -s], -1), torch.stack([z, s, c], -1)], -2)


def rot_y(a):
    c, s = torch.cos(a), torch.sin(a)
    o, z = torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1), torch.stack([-s, z, c], -1)], -2)


def draw_poses(B, g, dev):
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(B, generator=g, device=dev)
    return dict(az=u(0, 360), el=u(0, 30), h=u(0.3, 0.5), x=u(0, 1), y=u(0, 1), laz=u(0, 360), lel=u(15, 75),
                amb=u(0.35, 0.65), bright=u(0.65, 1.35), blur=u(0, 1.5), noise=u(0, 0.035))


def render(tex, scenes, p, size=224, ss=2, g=None):
    """tex (3, Th, Tw) in [0, 1]; scenes (B, 3, size, size); p: poses. Returns (B, 3, size, size)."""
    B, dev = scenes.shape[0], scenes.device
    d2r = math.pi / 180
    S = size * ss
    f = (S / 2) / math.tan(25 * d2r)
    # camera-from-object R = Rx(el) . F . Ry(az), F = diag(1, -1, -1)
    Fm = torch.diag(torch.tensor([1.0, -1.0, -1.0], device=dev))
    R = rot_x(p["el"] * d2r) @ Fm @ rot_y(p["az"] * d2r)                     # (B, 3, 3)
    r, hh = DIAMETER / 2, HEIGHT / 2
    ang = torch.linspace(0, 2 * math.pi, 65, device=dev)[:-1]
    ring = torch.stack([r * torch.sin(ang), torch.zeros_like(ang), r * torch.cos(ang)], -1)
    pts = torch.cat([ring + torch.tensor([0, hh, 0.0], device=dev), ring - torch.tensor([0, hh, 0.0], device=dev)])  # (128, 3)
    q = torch.einsum("bij,nj->bni", R, pts)                                   # (B, N, 3)
    target = p["h"] * S
    D = f * (q[..., 1].amax(1) - q[..., 1].amin(1)) / target
    for _ in range(30):
        py = f * q[..., 1] / (q[..., 2] + D[:, None])
        D = D * (py.amax(1) - py.amin(1)) / target
    px, py = f * q[..., 0] / (q[..., 2] + D[:, None]), f * q[..., 1] / (q[..., 2] + D[:, None])

    def place(lo, hi, t):
        first, last = -lo, S - hi
        return torch.where(first <= last, first + (last - first) * t, (first + last) / 2)
    cx, cy = place(px.amin(1), px.amax(1), p["x"]), place(py.amin(1), py.amax(1), p["y"])
    # rays in object coordinates
    ys, xs = torch.meshgrid(torch.arange(S, device=dev) + 0.5, torch.arange(S, device=dev) + 0.5, indexing="ij")
    dc = torch.stack([(xs[None] - cx[:, None, None]) / f, (ys[None] - cy[:, None, None]) / f, torch.ones(B, S, S, device=dev)], -1)
    Rt = R.transpose(1, 2)
    d = torch.einsum("bij,bhwj->bhwi", Rt, dc)                                # (B, S, S, 3)
    o = torch.einsum("bij,j->bi", Rt, torch.tensor([0, 0, -1.0], device=dev)) * D[:, None]  # (B, 3)
    o = o[:, None, None, :].expand_as(d)
    # side: (ox + t dx)^2 + (oz + t dz)^2 = r^2
    a = d[..., 0] ** 2 + d[..., 2] ** 2
    b = 2 * (o[..., 0] * d[..., 0] + o[..., 2] * d[..., 2])
    c = o[..., 0] ** 2 + o[..., 2] ** 2 - r * r
    disc = b * b - 4 * a * c
    t_side = (-b - torch.sqrt(disc.clamp(min=0))) / (2 * a)
    y_side = o[..., 1] + t_side * d[..., 1]
    hit_side = (disc > 0) & (t_side > 0) & (y_side.abs() <= hh)
    inf = torch.full_like(t_side, float("inf"))
    t_side = torch.where(hit_side, t_side, inf)
    # lids y = +-hh
    t_lid = inf
    n_lid_y = torch.zeros_like(t_side)
    for sgn in (1.0, -1.0):
        t = (sgn * hh - o[..., 1]) / d[..., 1]
        xx, zz = o[..., 0] + t * d[..., 0], o[..., 2] + t * d[..., 2]
        ok = (t > 0) & (xx * xx + zz * zz <= r * r)
        better = ok & (t < t_lid)
        t_lid = torch.where(better, t, t_lid)
        n_lid_y = torch.where(better, torch.full_like(t, sgn), n_lid_y)
    side = hit_side & (t_side <= t_lid)
    lid = torch.isfinite(t_lid) & ~side
    hit = side | lid
    P = o + t_side.where(side, torch.zeros_like(t_side))[..., None] * d
    u = (torch.atan2(P[..., 0], P[..., 2]) / (2 * math.pi)) % 1.0             # seam at +z
    v = (hh - P[..., 1]) / HEIGHT                                              # 0 at the top
    Th, Tw = tex.shape[1], tex.shape[2]
    wrapped = torch.cat([tex[:, :, -1:], tex, tex[:, :, :1]], 2)               # wrap in u
    gx = ((u * Tw + 1) / (Tw + 2)) * 2 - 1
    gy = v * 2 - 1
    grid = torch.stack([gx, gy], -1)
    col = F.grid_sample(wrapped[None].expand(B, -1, -1, -1), grid, mode="bilinear", padding_mode="border", align_corners=False)
    col = torch.where(lid[:, None], torch.full_like(col, LID), col)
    # shading: light in the room turned back by the azimuth
    la, le = (p["laz"] - p["az"]) * d2r, p["lel"] * d2r
    l = torch.stack([torch.cos(le) * torch.sin(la), torch.sin(le), torch.cos(le) * torch.cos(la)], -1)  # object frame
    nrm = torch.where(side[..., None], torch.stack([P[..., 0] / r, torch.zeros_like(u), P[..., 2] / r], -1),
                      torch.stack([torch.zeros_like(u), n_lid_y, torch.zeros_like(u)], -1))
    lam = (nrm * l[:, None, None, :]).sum(-1).clamp(min=0)
    amb = p["amb"][:, None, None]
    shade = (amb + (1 - amb) * lam) * p["bright"][:, None, None]
    obj = (col * shade[:, None]).clamp(0, 1)
    alpha = F.avg_pool2d(hit[:, None].float(), ss)
    premul = F.avg_pool2d(obj * hit[:, None].float(), ss)
    img = premul + (1 - alpha) * scenes
    # defocus blur (per-sample Gaussian, 7 taps) and noise
    k = torch.arange(7, device=dev, dtype=torch.float32) - 3
    s = p["blur"].clamp(min=1e-3)[:, None]
    g1 = torch.exp(-0.5 * (k[None] / s) ** 2)
    g1 = g1 / g1.sum(1, keepdim=True)
    g1 = torch.where(p["blur"][:, None] < 1e-3, (k[None] == 0).float(), g1)
    kern = (g1[:, :, None] * g1[:, None, :]).repeat_interleave(3, 0)[:, None]  # (B*3, 1, 7, 7)
    img = F.conv2d(F.pad(img.reshape(1, B * 3, size, size), (3, 3, 3, 3), mode="replicate"), kern, groups=B * 3).reshape(B, 3, size, size)
    noise = torch.randn(img.shape, generator=g, device=dev) * p["noise"][:, None, None, None]
    return (img + noise).clamp(0, 1)


def evaluate(model, tex, scenes, cats, target, n, seed, dev, batch=100):
    g = torch.Generator(device=dev); g.manual_seed(seed)
    hits, per = 0, {}
    with torch.no_grad():
        for s0 in range(0, n, batch):
            B = min(batch, n - s0)
            idx = (torch.arange(s0, s0 + B, device=dev) % scenes.shape[0])
            p = draw_poses(B, g, dev)
            pred = model(render(tex, scenes[idx], p, g=g)).argmax(1)
            ok = (pred == target)
            hits += int(ok.sum())
            for i, o_ in zip(idx.tolist(), ok.tolist()):
                c = cats[i % len(cats)]
                a, t = per.get(c, (0, 0)); per[c] = (a + int(o_), t + 1)
    return hits / n, {c: round(a / t, 3) for c, (a, t) in sorted(per.items())}


def wilson(p, n, z=1.96):
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(c - h, 3), round(c + h, 3)]


EXPERIMENTS = {
    # name: (texture h, w, batch, steps, lr, tv, train-on)
    "ref": (64, 192, 12, 400, 0.03, 0.0, "train"),
    "ref_lr01": (64, 192, 12, 400, 0.1, 0.0, "train"),
    "ours": (71, 128, 16, 1200, 0.1, 0.02, "train"),
    "ours_lr003": (71, 128, 16, 1200, 0.03, 0.02, "train"),
    "ours_3k_b32": (71, 128, 32, 3000, 0.1, 0.02, "train"),
    "ours_10k_b32": (71, 128, 32, 10000, 0.1, 0.02, "train"),
    "ours_oracle": (71, 128, 16, 1200, 0.1, 0.02, "train+val"),
    "ref_1200_b16": (64, 192, 16, 1200, 0.03, 0.0, "train"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--experiments", default="ref,ours")
    ap.add_argument("--target", type=int, default=859)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply steps (a quick smoke test: 0.01)")
    args = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cudnn.benchmark = True
    model = ref.load_model("lite0", path=args.weights)
    model.sd = {k: v.to(dev) for k, v in model.sd.items()}
    cat_of = {}
    with open(os.path.join(args.scenes, "manifest.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                cat_of[os.path.splitext(os.path.basename(parts[0]))[0]] = parts[2]
    train, tnames = load_squares(os.path.join(args.scenes, "train"), mirror=True)
    val, vnames = load_squares(os.path.join(args.scenes, "val"), mirror=False)
    train, val = train.to(dev), val.to(dev)
    tcats = [cat_of.get(n, "?") for n in tnames]
    vcats = [cat_of.get(n, "?") for n in vnames]
    print("scenes: %d train squares, %d val; device %s" % (train.shape[0], val.shape[0], dev), flush=True)
    results = []
    for name in args.experiments.split(","):
        th, tw, B, steps, lr, tvw, on = EXPERIMENTS[name]
        steps = max(2, int(steps * args.scale))
        pool = torch.cat([train, val]) if on == "train+val" else train
        g = torch.Generator(device=dev); g.manual_seed(args.seed)
        torch.manual_seed(args.seed)
        tex = torch.rand(3, th, tw, device=dev, generator=g).requires_grad_(True)
        opt = torch.optim.Adam([tex], lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
        tgt = torch.full((B,), args.target, device=dev)
        t0 = time.time()
        for s in range(steps):
            idx = torch.randint(pool.shape[0], (B,), generator=g, device=dev)
            img = render(tex.clamp(0, 1), pool[idx], draw_poses(B, g, dev), g=g)
            loss = F.cross_entropy(model(img), tgt)
            tv = (tex[:, 1:] - tex[:, :-1]).abs().mean() + (tex[:, :, 1:] - tex[:, :, :-1]).abs().mean()
            opt.zero_grad(set_to_none=True)
            (loss + tvw * tv).backward()
            opt.step(); sched.step()
            with torch.no_grad():
                tex.clamp_(0, 1)
        if dev == "cuda":
            torch.cuda.synchronize()
        secs = time.time() - t0
        q8 = (tex.detach() * 255).round() / 255
        sv, cv = evaluate(model, q8, val, vcats, args.target, args.samples, 1234, dev)
        st, _ = evaluate(model, q8, train[: len(tnames)], tcats, args.target, args.samples, 4321, dev)
        noise = torch.rand(3, th, tw, device=dev, generator=g)
        sn, _ = evaluate(model, noise, val, vcats, args.target, args.samples, 1234, dev)
        r = dict(name=name, texture=[th, tw], batch=B, steps=steps, lr=lr, tv=tvw, train_on=on, seconds=round(secs, 1),
                 val=round(sv, 3), val_ci=wilson(sv, args.samples), train=round(st, 3), noise=round(sn, 3), by_category=cv)
        print(json.dumps(r), flush=True)
        results.append(r)
        if args.out:
            Image.fromarray((q8.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)).save(os.path.join(args.out, name + ".png"))
    if args.out:
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
