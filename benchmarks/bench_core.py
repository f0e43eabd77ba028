"""Time one full training step: forward, backward, update and per-layer statistics.

Prints, for each size, the core's step time with and without statistics and, when torch
is installed, eager PyTorch's time for the same work on the CPU (same architecture, batch,
dtype, and per-layer gradient norms). Figures are ratios measured in one run: the core and
PyTorch alternate round by round (the machine is shared), each timed in thread CPU time, and
each ratio is the median of the rounds' ratios with their range.

    .venv/bin/python benchmarks/bench_core.py [--rounds 15] [--quick] [--no-extra] [--against DIR]

--against DIR also times DIR's core (another checkout, e.g. main) in the same process, imported under
another name, alternating round by round with this one: a before/after ratio from one run.
"""
from __future__ import annotations

import argparse
import os
import sys
import statistics
import time

# --root DIR: time another checkout's core (e.g. main, for a before/after figure in the same session)
_root = sys.argv[sys.argv.index("--root") + 1] if "--root" in sys.argv else os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, os.path.abspath(_root))
try:
    from core.runtime.setup import configure_process  # noqa: E402
except ImportError:   # --root names an older checkout, whose core tuned the allocator on import
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
else:
    configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

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


def core_step(depth, width, batch, stats, norm="none", dtype="float64", core=None):
    cfg_type, trainer_type = (ExperimentConfig, Trainer) if core is None else (core.ExperimentConfig, core.Trainer)
    cfg = cfg_type(depth=depth, width=width, batch_size=batch, activation="tanh", init="xavier",
                   lr=1e-3, samples=max(4 * batch, 64), norm=norm, dtype=dtype)
    t = trainer_type(cfg)
    X, y = t.data.X_train[:batch], t.data.y_train[:batch]
    return lambda: t.train_on_batch(X, y, collect_stats=stats)


def torch_step(depth, width, batch, dtype="float64"):
    import torch
    torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    torch.manual_seed(0)
    layers = []
    fan_in = 2
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.Tanh()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 1))
    tdtype = torch.float64 if dtype == "float64" else torch.float32
    model = torch.nn.Sequential(*layers).to(tdtype)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X = torch.randn(batch, 2, dtype=tdtype)
    y = (torch.rand(batch, dtype=tdtype) > 0.5).to(tdtype)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(X)[:, 0], y)
        loss.backward()
        norms = torch.stack([w.grad.norm() for w in weights]).tolist()  # per-layer gradient norms
        opt.step()
        return loss.item(), norms
    return step


def interleaved(fns: dict, steps: int, rounds: int) -> dict:
    """Per-call times of each function, round by round: every round times each function in turn.
    CPU time of this thread (everything runs in it with one BLAS and one torch thread): on a shared
    machine the time spent waiting for a core does not count, which made wall-clock ratios swing 2-4x."""
    times = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = time.thread_time()
            for _ in range(steps):
                f()
            times[k].append((time.thread_time() - t0) / steps)
    return times


def ratio_text(a: list, b: list) -> str:
    """Median of the per-round ratios a/b, and their range."""
    r = sorted(x / y for x, y in zip(a, b))
    return f"{statistics.median(r):.2f}x ({r[0]:.2f}-{r[-1]:.2f})"


def steps_for(depth, width, batch) -> int:
    return max(10, int(5e7 / (depth * width * width * batch * 6 + 3e5)))


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


def dgemm_ratio(depth: int, width: int, batch: int, rounds: int, steps: int = 2) -> list:
    """Per round, the step's arithmetic rate (its products' flops over the whole step's time, statistics included)
    over this core's DGEMM rate on the step's own product, (batch x width) @ (width x width), timed in the same
    round (interleaved: a shared machine's load moves both alike). Returns the rounds' ratios."""
    a = np.random.default_rng(0).standard_normal((batch, width))
    w = np.random.default_rng(1).standard_normal((width, width))
    out = np.empty((batch, width))
    gemm_calls = max(1, round(3 * depth * steps))   # about as long as the steps
    t = interleaved({"step": core_step(depth, width, batch, True),
                     "dgemm": lambda: np.matmul(a, w, out=out)}, 1, 0)   # warm both
    ratios = []
    step, gemm = core_step(depth, width, batch, True), lambda: np.matmul(a, w, out=out)
    step(), gemm()
    for _ in range(rounds):
        t0 = time.thread_time()
        for _ in range(steps):
            step()
        t_step = (time.thread_time() - t0) / steps
        t0 = time.thread_time()
        for _ in range(gemm_calls):
            gemm()
        t_gemm = (time.thread_time() - t0) / gemm_calls
        ratios.append((step_flops(depth, width, batch) / t_step) / (2.0 * batch * width * width / t_gemm))
    del t
    return ratios


def kernel_line() -> str:
    kernel = os.environ.get("OPENBLAS_CORETYPE")
    try:
        from threadpoolctl import threadpool_info
        used = ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in threadpool_info())
    except ImportError:
        used = "threadpoolctl not installed"
    return ("OPENBLAS_CORETYPE=" + (kernel or "(unset)") + f"; kernels in use: {used}")


def compare_sizes(sizes, dtype, rounds, have_torch):
    print(f"\n{dtype}: step with statistics vs eager PyTorch, median of {rounds} interleaved rounds (range)")
    print(f"{'depth/width/batch':>18} {'core+stats':>11} {'core only':>10} {'stats cost':>16} {'torch':>9} "
          f"{'core/torch':>18} {'us/layer':>9}")
    for depth, width, batch in sizes:
        fns = {"stats": core_step(depth, width, batch, True, dtype=dtype),
               "bare": core_step(depth, width, batch, False, dtype=dtype)}
        if have_torch:
            fns["torch"] = torch_step(depth, width, batch, dtype)
        t = interleaved(fns, steps_for(depth, width, batch), rounds)
        med = {k: statistics.median(v) for k, v in t.items()}
        cost = sorted(a / b - 1 for a, b in zip(t["stats"], t["bare"]))
        row = (f"{f'{depth}/{width}/{batch}':>18} {med['stats'] * 1e6:>9.0f}us {med['bare'] * 1e6:>8.0f}us "
               f"{statistics.median(cost):>+5.0%} ({cost[0]:+.0%}..{cost[-1]:+.0%})")
        if have_torch:
            row += f" {med['torch'] * 1e6:>7.0f}us {ratio_text(t['stats'], t['torch']):>18}"
        print(row + f" {med['stats'] * 1e6 / depth:>7.1f}")


def load_core(root: str, name: str = "core_against"):
    """Another checkout's ``core`` package, imported as ``name`` (its relative imports stay inside it)."""
    import importlib.util
    pkg = os.path.join(os.path.abspath(root), "core")
    spec = importlib.util.spec_from_file_location(name, os.path.join(pkg, "__init__.py"),
                                                  submodule_search_locations=[pkg])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def compare_checkouts(other, root: str, sizes, rounds: int) -> None:
    """This checkout's step with statistics against ``other``'s (another checkout's core), interleaved."""
    print(f"\nthis checkout / {root}: step with statistics, median of {rounds} interleaved rounds (range)")
    for dtype in ("float64", "float32"):
        for depth, width, batch in sizes:
            t = interleaved({"this": core_step(depth, width, batch, True, dtype=dtype),
                             "other": core_step(depth, width, batch, True, dtype=dtype, core=other)},
                            max(24, steps_for(depth, width, batch)), rounds)   # 24: whole recording cycles
            print(f"{f'{depth}/{width}/{batch}':>18} {dtype}  {statistics.median(t['this']) * 1e6:>8.0f}us / "
                  f"{statistics.median(t['other']) * 1e6:>8.0f}us = {ratio_text(t['this'], t['other'])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="only the three target sizes, float64")
    ap.add_argument("--root", help="the checkout whose core is timed (default: this one)")
    ap.add_argument("--no-extra", action="store_true", help="leave out the normalisation and large sections")
    ap.add_argument("--against", metavar="DIR", help="also time DIR's core against this one, same process")
    args = ap.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
        torch.set_num_threads(1)
    except ImportError:
        have_torch = False
    print(kernel_line())
    print(f"numpy {np.__version__}, BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, tanh, SGD"
          + (f", torch {torch.__version__} (threads 1)" if have_torch else ", torch not installed"))
    if args.against:
        compare_checkouts(load_core(args.against), args.against,
                          SIZES + ([] if args.quick else [(100, 128, 32)]), max(5, args.rounds))
    compare_sizes(SIZES, "float64", args.rounds, have_torch)
    if args.quick:
        return
    compare_sizes(SIZES, "float32", args.rounds, have_torch)
    print("\nper-layer cost from 10 to 100 layers (us/layer should stay flat):")
    for dtype in ("float64", "float32"):
        compare_sizes([(10, 128, 32), (30, 128, 32), (100, 128, 32)], dtype, max(5, args.rounds // 3), have_torch)
    if args.no_extra:
        return
    print("\nnormalisation layers (step with statistics; cost relative to norm none in this run):")
    for depth, width, batch in SIZES:
        t = interleaved({n: core_step(depth, width, batch, True, n) for n in ("none", "batch", "layer")},
                        steps_for(depth, width, batch), max(5, args.rounds // 3))
        times = {k: statistics.median(v) for k, v in t.items()}
        print(f"{f'{depth}/{width}/{batch}':>18}  none {times['none'] * 1e6:>7.0f}us  batch {times['batch'] * 1e6:>7.0f}us "
              f"({times['batch'] / times['none'] - 1:+.0%})  layer {times['layer'] * 1e6:>7.0f}us "
              f"({times['layer'] / times['none'] - 1:+.0%})")
    depth, width, batch = 10, 1024, 256
    step = best_time(core_step(depth, width, batch, True), 5, 5)
    achieved = step_flops(depth, width, batch) / step
    machine = blas_rate(batch, width, 5)
    print(f"\nlarge: depth {depth} / width {width} / batch {batch}, one full step with statistics: {step * 1e3:.1f} ms")
    print(f"  step's products at {achieved / 1e9:.1f} GFLOP/s; this machine's BLAS on ({batch}x{width}) @ "
          f"({width}x{width}): {machine / 1e9:.1f} GFLOP/s; ratio {achieved / machine:.0%}")
    if have_torch:
        t = interleaved({"core": core_step(depth, width, batch, True), "torch": torch_step(depth, width, batch)},
                        3, 5)
        print(f"  core / torch: {ratio_text(t['core'], t['torch'])}")


if __name__ == "__main__":
    main()
