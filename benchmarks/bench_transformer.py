"""Time one Transformer step (forward, loss, backward) against eager PyTorch computing the same gradients.

At 4 blocks, width 64, 4 heads, T 32, batch 16 (issue 22), one thread each: the core's ``network.backward``
(every parameter's gradient and the pass's statistics: per-sub-layer ||dL/dW||, ||dL/dx_l|| per block and
position, attention entropy, token similarity) against PyTorch running the same equations with
torch.nn.functional and autograd (tests/torch_transformer.py: forward, loss, ``loss.backward()``). Both start
from the same weights; the script first checks that loss and gradients agree, then prints the times and
their ratio (core / torch: below 1 is faster), measured in this run, for float64 and float32.

    .venv/bin/python benchmarks/bench_transformer.py [--repeat 7] [--steps 10] [--norm pre post] [--activation tanh gelu]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core.nn.activations import get_activation  # noqa: E402
from core.nn.transformer import Transformer  # noqa: E402

DEPTH, WIDTH, HEADS, T, BATCH = 4, 64, 4, 32, 16


def times(fns, steps: int, repeat: int) -> list[list[float]]:
    """Seconds per step of each callable, rounds alternating between them so that a change in the machine's
    load (other processes) falls on both alike."""
    for fn in fns:
        fn()
    out = [[] for _ in fns]
    for _ in range(repeat):
        for fn, row in zip(fns, out):
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            row.append((time.perf_counter() - t0) / steps)
    return out


def compare(dtype, norm: str, scale: str, activation: str, steps: int, repeat: int) -> None:
    from tests.torch_transformer import step_function
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, T, 1)).astype(dtype)
    y = (rng.random(BATCH) > 0.5).astype(dtype)
    net = Transformer(1, DEPTH, WIDTH, HEADS, get_activation(activation), "xavier", 1.0, norm, scale,
                      "classification", np.random.default_rng(1), dtype, 1, T)
    grad = np.empty_like(net.flat)
    ours = lambda: net.backward(X, y, grad_out=grad)
    theirs = step_function(net, X, y)
    r = ours()
    loss, tgrads = theirs()
    named = dict(net.layout.named(r.grad_flat))
    scale_of_gradient = max(float(g.abs().max()) for g in tgrads.values())
    err = max(float(np.max(np.abs(named[n] - g.numpy()))) for n, g in tgrads.items()) / scale_of_gradient
    tol = 1e-9 if dtype == np.float64 else 1e-4
    assert abs(r.loss - loss) <= tol * abs(loss) and err < tol, (r.loss, loss, err)
    a, b = times((ours, theirs), steps, repeat)
    print(f"{np.dtype(dtype).name:>8} {activation:>5} {norm:>4} {scale:>6} {min(a) * 1e3:>8.2f}ms {min(b) * 1e3:>9.2f}ms "
          f"{min(a) / min(b):>5.2f}x {statistics.median(a) * 1e3:>7.2f}ms {statistics.median(b) * 1e3:>8.2f}ms "
          f"{statistics.median(a) / statistics.median(b):>5.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--norm", choices=("pre", "post"), nargs="*", default=["pre", "post"])
    ap.add_argument("--activation", choices=("tanh", "gelu", "relu"), nargs="*", default=["tanh", "gelu"])
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    print(f"numpy {np.__version__}, torch {torch.__version__}, one thread each; {DEPTH} blocks, width {WIDTH}, "
          f"{HEADS} heads, T {T}, batch {BATCH}; best and median of {args.repeat} rounds of {args.steps} steps")
    print(f"{'dtype':>8} {'phi':>5} {'norm':>4} {'scale':>6} {'core best':>10} {'torch best':>11} {'ratio':>6} "
          f"{'core med':>9} {'torch med':>10} {'ratio':>6}")
    for dtype in (np.float64, np.float32):
        for activation in args.activation:
            for norm in args.norm:
                compare(dtype, norm, "one", activation, args.steps, args.repeat)


if __name__ == "__main__":
    main()
