"""Time one full training step: forward, backward, update and per-layer statistics.

Prints, for each size, the core's step time with and without statistics and, when torch
is installed, eager PyTorch's time for the same work on the CPU (same architecture, batch,
dtype, and per-layer gradient norms). Figures are ratios measured in one run.

    .venv/bin/python benchmarks/bench_core.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core import ExperimentConfig, Trainer  # noqa: E402

SIZES = [(10, 32, 32), (20, 64, 64), (10, 256, 128)]


def best_time(fn, steps: int, repeat: int) -> float:
    """Smallest mean time per call over `repeat` rounds of `steps` calls: the least disturbed round."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def core_step(depth, width, batch, stats, norm="none"):
    cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, activation="tanh", init="xavier",
                           lr=1e-3, samples=max(4 * batch, 64), norm=norm)
    t = Trainer(cfg)
    X, y = t.data.X_train[:batch], t.data.y_train[:batch]
    return lambda: t.train_on_batch(X, y, collect_stats=stats)


def torch_step(depth, width, batch):
    import torch
    torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    torch.manual_seed(0)
    layers = []
    fan_in = 2
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.Tanh()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 1))
    model = torch.nn.Sequential(*layers).double()
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X = torch.randn(batch, 2, dtype=torch.float64)
    y = (torch.rand(batch, dtype=torch.float64) > 0.5).double()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(X)[:, 0], y)
        loss.backward()
        norms = torch.stack([w.grad.norm() for w in weights]).tolist()  # per-layer gradient norms
        opt.step()
        return loss.item(), norms
    return step


def blas_rate(batch: int, width: int, repeat: int) -> float:
    """This machine's BLAS on the step's own products: (batch x width) @ (width x width), in flop/s."""
    a = np.random.default_rng(0).standard_normal((batch, width))
    w = np.random.default_rng(1).standard_normal((width, width))
    return 2.0 * batch * width * width / best_time(lambda: a @ w, 10, repeat)


def step_flops(depth: int, width: int, batch: int) -> float:
    """Multiply-add flops of one step's products: forward h W, backward h^T dz and dz W^T."""
    hidden = 2.0 * batch * width * width * (3 * (depth - 1))  # hidden-to-hidden layers
    edges = 2.0 * batch * 2 * width * 2 + 2.0 * batch * width * 3  # input layer (no dh), output layer
    return hidden + edges


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    kernel = os.environ.get("OPENBLAS_CORETYPE")
    print("OpenBLAS kernel " + (f"forced to {kernel} by OPENBLAS_CORETYPE" if kernel else "chosen for this CPU")
          + "; run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` to use this CPU's own kernels")
    print(f"numpy {np.__version__}, BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, float64, tanh, SGD"
          + (f", torch {torch.__version__}" if have_torch else ", torch not installed"))
    print(f"{'depth/width/batch':>18} {'core+stats':>11} {'core only':>10} {'stats cost':>10}"
          + (f" {'torch':>10} {'core/torch':>10}" if have_torch else ""))
    for depth, width, batch in SIZES:
        steps = max(20, int(2e8 / (depth * width * width * batch * 6 + 1e6)))
        with_stats = best_time(core_step(depth, width, batch, True), steps, args.repeat)
        without = best_time(core_step(depth, width, batch, False), steps, args.repeat)
        row = f"{f'{depth}/{width}/{batch}':>18} {with_stats * 1e6:>9.0f}us {without * 1e6:>8.0f}us {with_stats / without - 1:>+9.0%}"
        if have_torch:
            ref = best_time(torch_step(depth, width, batch), steps, args.repeat)
            row += f" {ref * 1e6:>8.0f}us {with_stats / ref:>9.2f}x"
        print(row)
    print("\nnormalisation layers (step with statistics; cost relative to norm none in this run):")
    for depth, width, batch in SIZES:
        steps = max(20, int(2e8 / (depth * width * width * batch * 6 + 1e6)))
        times = {n: best_time(core_step(depth, width, batch, True, n), steps, args.repeat)
                 for n in ("none", "batch", "layer")}
        print(f"{f'{depth}/{width}/{batch}':>18}  none {times['none'] * 1e6:>7.0f}us  batch {times['batch'] * 1e6:>7.0f}us "
              f"({times['batch'] / times['none'] - 1:+.0%})  layer {times['layer'] * 1e6:>7.0f}us "
              f"({times['layer'] / times['none'] - 1:+.0%})")
    depth, width, batch = 10, 1024, 256
    steps = 5
    step = best_time(core_step(depth, width, batch, True), steps, args.repeat)
    achieved = step_flops(depth, width, batch) / step
    machine = blas_rate(batch, width, args.repeat)
    print(f"\nlarge: depth {depth} / width {width} / batch {batch}, one full step with statistics: {step * 1e3:.1f} ms")
    print(f"  step's products at {achieved / 1e9:.1f} GFLOP/s; this machine's BLAS on ({batch}x{width}) @ "
          f"({width}x{width}): {machine / 1e9:.1f} GFLOP/s; ratio {achieved / machine:.0%}")


if __name__ == "__main__":
    main()
