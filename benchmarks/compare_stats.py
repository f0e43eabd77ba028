"""Every statistic of a few training steps of many configurations, for comparing two checkouts (issue 25).

A speed change must leave the numbers alone: this records, for 17 configurations (sigmoid, the default, at
10/32/32 and 20/64/64, tanh at 20/64/64 as bench_core.py runs it, relu + Adam, momentum + clipping, residual, batch
norm, float32, float16, diverging runs, Transformers, a recurrent network; widths 32 to 512) and 12 steps each,
every per-layer statistic of each step, its loss and global gradient norm, the Inside page's record of each step
it records (distributions, forward signal, network picture), and the final weights, into an .npz; ``--compare A
B`` reports every entry whose values differ by more than 1e-12 relative (or whose NaNs differ) and whether the
weights are bit-identical.

    .venv/bin/python benchmarks/compare_stats.py --root /work/main --out main.npz
    .venv/bin/python benchmarks/compare_stats.py --out branch.npz
    .venv/bin/python benchmarks/compare_stats.py --compare main.npz branch.npz
"""
from __future__ import annotations

import argparse
import os
import sys

FIELDS = ("grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm", "update_ratio", "act_deriv_mean",
          "saturation", "delta_norms", "lost_updates", "underflow", "overflow")
CASES = {
 "tanh_small": dict(depth=10, width=32, batch_size=32),
 "tanh_256": dict(depth=4, width=256, batch_size=64, samples=256),
 "tanh_256_lr": dict(depth=3, width=256, batch_size=64, samples=256, lr=1e-7),
 "relu_adam": dict(depth=6, width=200, batch_size=32, activation="relu", init="he", optimizer="adam", samples=200),
 "mom_clip": dict(depth=5, width=190, batch_size=16, optimizer="momentum", clip_norm=0.01, samples=200),
 "resid": dict(depth=5, width=190, batch_size=16, residual=True, samples=200),
 "bn": dict(depth=4, width=190, batch_size=16, norm="batch", samples=200),
 "f32": dict(depth=4, width=256, batch_size=32, dtype="float32", samples=200),
 "f16": dict(depth=3, width=200, batch_size=32, dtype="float16", samples=200),
 "explode": dict(depth=6, width=190, batch_size=16, init_gain=10, lr=100, samples=200),
 "wide": dict(depth=2, width=512, batch_size=32, samples=128),
 "explode_wide": dict(depth=3, width=400, batch_size=16, init_gain=10, lr=100, samples=200),
 "tf": dict(model="transformer", depth=2, width=32, heads=2, batch_size=8, dataset="recall"),
 "tf_adam": dict(model="transformer", depth=2, width=64, heads=4, batch_size=8, dataset="recall", optimizer="adam"),
 "rnn": dict(model="rnn", depth=1, width=32, batch_size=16, dataset="adding"),
 "sigmoid_20x64": dict(depth=20, width=64, batch_size=64, samples=400),   # the recorder's every-n rhythm, epoch ends
 "bench_20x64": dict(depth=20, width=64, batch_size=64, samples=256, activation="tanh", lr=1e-3),   # bench_core's:
}                                                                                   # no weight keeps its value


def record(root: str, path: str) -> None:
    sys.path.insert(0, os.path.abspath(root))
    from core.runtime.setup import configure_process
    configure_process()
    import numpy as np
    from core import ExperimentConfig, Trainer
    res = {}
    for name, kw in CASES.items():
        t = Trainer(ExperimentConfig(**{"epochs": 2, "seed": 3, **kw}))
        last = None
        for s in range(12):
            b = t.step_batch()
            for f in FIELDS:
                res[f"{name}/{s}/{f}"] = np.asarray(getattr(b, f), dtype=float)
            res[f"{name}/{s}/loss"] = np.array([b.loss, b.grad_norm_total, float(b.diverged)])
            rec = getattr(getattr(t, "inside", None), "last", None)   # the Inside page's, on the steps it records
            if rec is not None and rec is not last:
                for f, v in rec.items():
                    res[f"{name}/{s}/inside/{f}"] = np.asarray(v, dtype=float)
            last = rec
        res[f"{name}/flat"] = t.network.flat.astype(float)
    np.savez(path, **res)
    print(f"{root}: {len(res)} arrays into {path}")


def compare(path_a: str, path_b: str) -> int:
    import numpy as np
    a, b = np.load(path_a), np.load(path_b)
    if set(a.files) != set(b.files):
        print("different entries:", sorted(set(a.files) ^ set(b.files)))
        return 1
    worst, bad = 0.0, 0
    for k in a.files:
        x, y = a[k], b[k]
        m = np.isfinite(x) & np.isfinite(y)
        d = float(np.max(np.abs(x[m] - y[m]) / np.maximum(np.abs(x[m]), 1e-300))) if m.any() else 0.0
        if not np.array_equal(x[~m], y[~m], equal_nan=True) or d > 1e-12:
            print("DIFFERS", k, d)
            bad += 1
        worst = max(worst, d)
    flat = [k for k in a.files if k.endswith("/flat") and not np.array_equal(a[k], b[k], equal_nan=True)]
    print(f"{len(a.files)} arrays, {bad} differ by more than 1e-12 relative; worst {worst:.2g}; "
          f"final weights bit-identical in {sum(k.endswith('/flat') for k in a.files) - len(flat)} of "
          f"{sum(k.endswith('/flat') for k in a.files)} configurations")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--out", help="record this checkout's (or --root's) statistics into this .npz")
    ap.add_argument("--compare", nargs=2, metavar=("A", "B"))
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not args.out:
        ap.error("give --out FILE.npz or --compare A B")
    record(args.root, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
