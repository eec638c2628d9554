#!/usr/bin/python3
"""PyTorch CPU baseline for EfficientNet-Lite0: samples/s for forward and forward+backward-to-input.

The yardstick the Swift engine is compared with; not a test. Uses Scripts/reference_model.py
(plain PyTorch ops, NCHW, float32), torch.set_num_threads(2), weights frozen (they are plain
tensors, never requiring grad), input requires grad, loss = cross-entropy to one target class.
Each configuration is warmed up, then run repeatedly for about --seconds seconds.
glibc malloc settings come from the environment (see Scripts/bench_torch.sh).

Prints a table, then one JSON line (last line of output) with every number.
"""

import argparse
import json
import os
import platform
import time

import torch
import torch.nn.functional as F

import reference_model as ref


def bench(fn, seconds, warmup):
    for _ in range(warmup):
        fn()
    n = 0
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        n += 1
        if time.perf_counter() - start >= seconds and n >= 3:
            break
    times.sort()
    return n, sum(times), times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="lite0")
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--seconds", type=float, default=10.0, help="timed seconds per configuration")
    ap.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--random-weights", action="store_true",
                    help="lite0 only: random weights of the right shapes (no download needed)")
    ap.add_argument("--label", default=os.environ.get("BENCH_LABEL", "default"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    size = ref.input_size(args.model)
    if args.random_weights:
        if args.model != "lite0":
            raise SystemExit("error: --random-weights supports only --model lite0")
        model = ref.EfficientNetLite(ref.synthetic_lite0_state_dict()).eval()
    else:
        model = ref.load_model(args.model)
    target = 859

    results = []
    for batch in [int(b) for b in args.batches.split(",")]:
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(batch, 3, size, size, generator=gen)          # (N, 3, S, S) in [0, 1]
        y = torch.full((batch,), target, dtype=torch.long)

        def forward():
            with torch.no_grad():
                model(x)

        def forward_backward():
            xi = x.clone().requires_grad_(True)
            loss = F.cross_entropy(model(xi), y)
            (g,) = torch.autograd.grad(loss, xi)
            return g

        for mode, fn in [("forward", forward), ("forward+backward", forward_backward)]:
            n, total, median = bench(fn, args.seconds, args.warmup)
            results.append({
                "model": args.model, "size": size, "batch": batch, "mode": mode,
                "iterations": n, "seconds": round(total, 3),
                "samples_per_s": round(n * batch / total, 2),
                # batch / median iteration time: less sensitive to other processes' bursts.
                "samples_per_s_median": round(batch / median, 2),
                "median_ms_per_iteration": round(median * 1e3, 2),
            })

    env = {k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "GLIBC_TUNABLES", "OPENBLAS", "OMP_"))}
    print("label: %s   torch %s, %d threads, %s, load average before: %s"
          % (args.label, torch.__version__, args.threads, platform.machine(), LOAD_BEFORE))
    print("malloc/env: %s" % (env or "(glibc defaults)"))
    print("%-6s %-5s %-18s %10s %17s %12s %7s" % ("model", "batch", "mode", "samples/s",
                                                   "samples/s@median", "median ms", "iters"))
    for r in results:
        print("%-6s %-5d %-18s %10.2f %17.2f %12.2f %7d" % (
            r["model"], r["batch"], r["mode"], r["samples_per_s"], r["samples_per_s_median"],
            r["median_ms_per_iteration"], r["iterations"]))
    print(json.dumps({"label": args.label, "torch": torch.__version__, "threads": args.threads,
                      "env": env, "load_average_before": LOAD_BEFORE,
                      "load_average_after": list(os.getloadavg()), "results": results}))


LOAD_BEFORE = list(os.getloadavg())

if __name__ == "__main__":
    main()
