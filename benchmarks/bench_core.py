"""Time one full training step: forward, backward, update and per-layer statistics.

Prints, for each size, the core's step time with and without statistics and, when torch
is installed, eager PyTorch's time for the same work on the CPU (same architecture, batch,
dtype, and per-layer gradient norms). Figures are ratios measured in one run: the core and
PyTorch alternate round by round (the machine is shared), each timed in thread CPU time, and
each ratio is the median of the rounds' ratios with their range.

    .venv/bin/python benchmarks/bench_core.py [--rounds 15] [--runs 5] [--quick] [--no-extra] [--against DIR]

Issue 25's goals first, each line saying whether it is met: the step's arithmetic rate over this core's DGEMM
rate at 10/1024/256 (goal 0.85) and 10/256/128 (0.75), with the step without statistics and the products alone
beside it (what limits it); then core / PyTorch at 10/32/32 and 20/64/64 in --runs runs (goal: every run's
median at most 0.5x). Then the sizes in float64 and float32 and the per-layer cost from 10 to 100 layers.
The BLAS kernel in use and OPENBLAS_CORETYPE are printed first: rerun with ``env -u OPENBLAS_CORETYPE`` and
with ``OPENBLAS_CORETYPE=Haswell`` to see both kernel sets.

--against DIR also times DIR's core (another checkout, e.g. main) in a child process, alternating round by
round with this one: a before/after ratio from one run.
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


def step_flops(depth: int, width: int, batch: int) -> float:
    """Multiply-add flops of one step's products: forward h W, backward h^T dz and dz W^T."""
    hidden = 2.0 * batch * width * width * (3 * (depth - 1))  # hidden-to-hidden layers
    edges = 2.0 * batch * 2 * width * 2 + 2.0 * batch * width * 3  # input layer (no dh), output layer
    return hidden + edges


def products_only(depth: int, width: int, batch: int):
    """The step's hidden-layer products alone, in the step's order and on its shapes: forward h W through ``depth``
    distinct weight matrices, then back h^T dz and dz W^T: what the step's BLAS work costs with its own working
    set (the weights leave L2 as they do in the step)."""
    rng = np.random.default_rng(2)
    Ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]
    H = np.tanh(rng.standard_normal((depth, batch, width)))
    dW, out = np.empty((width, width)), np.empty((batch, width))

    def run():
        for k in range(1, depth):
            np.matmul(H[k - 1], Ws[k], out=out)
        for k in range(depth - 1, 0, -1):
            np.matmul(H[k - 1].T, H[k], out=dW)
            H[k] @ Ws[k].T
    return run


def dgemm_ratios(depth: int, width: int, batch: int, rounds: int, steps: int) -> dict:
    """Per round, the arithmetic rate (the products' flops over the time) of the step with statistics, the step
    without, and the products alone, each over this core's DGEMM rate on the step's own product (batch x width)
    @ (width x width) timed in the same round (interleaved, thread CPU time: a shared machine's load moves all
    alike). Returns {name: the rounds' ratios}."""
    a = np.random.default_rng(0).standard_normal((batch, width))
    w = np.random.default_rng(1).standard_normal((width, width))
    out = np.empty((batch, width))
    flops = {"step": step_flops(depth, width, batch), "bare": step_flops(depth, width, batch),
             "products": 2.0 * batch * width * width * 3 * (depth - 1), "dgemm": 2.0 * batch * width * width}
    calls = {"step": steps, "bare": steps, "products": steps, "dgemm": max(1, 3 * depth * steps)}
    fns = {"step": core_step(depth, width, batch, True), "bare": core_step(depth, width, batch, False),
           "products": products_only(depth, width, batch), "dgemm": lambda: np.matmul(a, w, out=out)}
    for f in fns.values():
        f()
    ratios = {k: [] for k in fns if k != "dgemm"}
    for _ in range(rounds):
        rate = {}
        for k, f in fns.items():
            t0 = time.thread_time()
            for _ in range(calls[k]):
                f()
            rate[k] = flops[k] * calls[k] / (time.thread_time() - t0)
        for k in ratios:
            ratios[k].append(rate[k] / rate["dgemm"])
    return ratios


def spread(values: list, fmt: str = ".3f") -> str:
    v = sorted(values)
    return f"{statistics.median(v):{fmt}} ({v[0]:{fmt}}-{v[-1]:{fmt}})"


DGEMM_GOALS = {(10, 1024, 256): 0.85, (10, 256, 128): 0.75}


def dgemm_section(rounds: int) -> None:
    print("\nstep's arithmetic rate / this core's DGEMM rate on (batch x width) @ (width x width), float64, "
          f"median of interleaved rounds (range); goal at least")
    print(f"{'depth/width/batch':>18} {'step+stats':>20} {'goal':>5} {'met':>4} {'step, no stats':>20} "
          f"{'products alone':>20}")
    for (depth, width, batch), goal in DGEMM_GOALS.items():
        big = width >= 1024
        r = dgemm_ratios(depth, width, batch, max(5, rounds // 3) if big else rounds, 2 if big else 10)
        met = "yes" if statistics.median(r["step"]) >= goal else "NO"
        print(f"{f'{depth}/{width}/{batch}':>18} {spread(r['step']):>20} {goal:>5.2f} {met:>4} "
              f"{spread(r['bare']):>20} {spread(r['products']):>20}", flush=True)
    print("  (products alone: the step's own BLAS calls cycling through its layers' weights; their ratio is the "
          "ceiling a step with no other work would reach)")


TORCH_GOAL_SIZES, TORCH_GOAL = [(10, 32, 32), (20, 64, 64)], 0.5


def torch_runs(runs: int, rounds: int) -> None:
    """The step with statistics / eager PyTorch at the goal's sizes, ``runs`` times (each the median of ``rounds``
    interleaved rounds): the goal holds only if every run's median is at most TORCH_GOAL."""
    print(f"\ncore / PyTorch, float64, {runs} runs of {rounds} interleaved rounds each: every run's median "
          f"(and range) must be at most {TORCH_GOAL}x")
    for depth, width, batch in TORCH_GOAL_SIZES:
        medians = []
        for _ in range(runs):
            t = interleaved({"core": core_step(depth, width, batch, True), "torch": torch_step(depth, width, batch)},
                            steps_for(depth, width, batch), rounds)
            medians.append(statistics.median(a / b for a, b in zip(t["core"], t["torch"])))
        met = "yes" if max(medians) <= TORCH_GOAL else "NO"
        print(f"{f'{depth}/{width}/{batch}':>18}  runs: {' '.join(f'{m:.2f}x' for m in medians)}  "
              f"worst {max(medians):.2f}x  met: {met}", flush=True)


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


class OtherCheckout:
    """Another checkout's step, timed in a child process of its own (benchmarks/step_worker.py), on request."""

    def __init__(self, root: str):
        import subprocess
        worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "step_worker.py")
        self.proc = subprocess.Popen([sys.executable, worker, root], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ask(self, **cmd):
        import json
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def compare_checkouts(root: str, sizes, rounds: int) -> None:
    """This checkout's step with statistics against ``root``'s, round by round: this one in this process, then
    the other in its child process (which waits meanwhile)."""
    other = OtherCheckout(root)
    print(f"\nthis checkout / {root}: step with statistics, median of {rounds} interleaved rounds (range)")
    for dtype in ("float64", "float32"):
        for depth, width, batch in sizes:
            if dtype == "float32" and width > 256:
                continue
            key = [depth, width, batch, dtype]
            other.ask(make=key)
            # 24: whole recording cycles of the small sizes; at width 1024 a step is ~0.4 s and records every step
            n = 2 if width > 256 else max(24, steps_for(depth, width, batch))
            mine = core_step(depth, width, batch, True, dtype=dtype)
            mine()
            t = {"this": [], "other": []}
            for _ in range(rounds):
                t0 = time.thread_time()
                for _ in range(n):
                    mine()
                t["this"].append((time.thread_time() - t0) / n)
                t["other"].append(other.ask(time=key, steps=n))
            print(f"{f'{depth}/{width}/{batch}':>18} {dtype}  {statistics.median(t['this']) * 1e6:>8.0f}us / "
                  f"{statistics.median(t['other']) * 1e6:>8.0f}us = {ratio_text(t['this'], t['other'])}", flush=True)
    other.close()


def per_layer_section(rounds: int, have_torch: bool) -> None:
    print("\nper-layer cost from 10 to 100 layers (us/layer should stay flat):")
    for dtype in ("float64", "float32"):
        compare_sizes([(10, 128, 32), (30, 128, 32), (100, 128, 32)], dtype, rounds, have_torch)
    fns = {**{("step", d): core_step(d, 128, 32, True) for d in (10, 100)},
           **{("products", d): products_only(d, 128, 32) for d in (10, 100)}}
    calls = {k: 1000 // k[1] for k in fns}   # equal work per round: the first, colder call weighs the same at each depth
    t = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = time.thread_time()
            for _ in range(calls[k]):
                f()
            t[k].append((time.thread_time() - t0) / calls[k])
    for what, n in (("step", 0), ("products", 1)):   # per layer: per hidden layer, per hidden-to-hidden product
        r = sorted((a / (100 - n)) / (b / (10 - n)) for a, b in zip(t[(what, 100)], t[(what, 10)]))
        print(f"  float64, {'step with statistics' if what == 'step' else 'its products alone':>20}: cost per layer "
              f"at depth 100 / at depth 10, interleaved: {statistics.median(r):.2f}x ({r[0]:.2f}-{r[-1]:.2f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--runs", type=int, default=5, help="runs of the PyTorch goal's sizes (default 5)")
    ap.add_argument("--quick", action="store_true", help="only the goals: DGEMM ratios and the PyTorch runs")
    ap.add_argument("--root", help="the checkout whose core is timed (default: this one)")
    ap.add_argument("--no-extra", action="store_true", help="leave out the normalisation section")
    ap.add_argument("--against", metavar="DIR", help="also time DIR's core against this one (a child process)")
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
        compare_checkouts(args.against, SIZES + ([] if args.quick else [(100, 128, 32), (10, 1024, 256)]),
                          max(5, args.rounds // 2))
    dgemm_section(args.rounds)
    if have_torch:
        torch_runs(args.runs, args.rounds)
    if args.quick:
        return
    compare_sizes(SIZES, "float64", args.rounds, have_torch)
    compare_sizes(SIZES, "float32", args.rounds, have_torch)
    per_layer_section(max(5, args.rounds // 3), have_torch)
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


if __name__ == "__main__":
    main()
