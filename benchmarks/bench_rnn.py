"""Time one backpropagation-through-time step against an eager PyTorch loop computing the same gradients.

For each recurrent model at H=64, T=50, batch 32 (one layer, one input feature, float64, one thread):
the core's ``network.backward`` (forward, loss, BPTT, every parameter's gradient and the per-step
||dL/dh_t||) against PyTorch running the same equations step by step in Python with autograd
(forward loop, loss, ``loss.backward()``). Both start from the same weights; the script first checks
that the gradients agree, then prints the times and their ratio, measured in this run.

    .venv/bin/python benchmarks/bench_rnn.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

import numpy as np  # noqa: E402

from core import ExperimentConfig, Trainer  # noqa: E402
from core.nn.activations import get_activation  # noqa: E402
from core.nn.recurrent import RecurrentNetwork  # noqa: E402

H, T, BATCH = 64, 50, 32


def torch_loop(kind, params, X, y):
    """The issue's equations in PyTorch, one step at a time; returns a function doing forward + backward."""
    import torch
    P = [tuple(torch.tensor(p, requires_grad=True) for p in layer) for layer in params]
    Xt, yt = torch.tensor(X), torch.tensor(y)
    n = H

    def cell(layer, x, h, c):
        if kind == "rnn":
            W_x, W_h, b = layer
            return torch.tanh(x @ W_x + h @ W_h + b), c
        if kind == "lstm":
            W_x, W_h, b = layer
            z = x @ W_x + h @ W_h + b
            i, f, g, o = torch.sigmoid(z[:, :n]), torch.sigmoid(z[:, n:2 * n]), torch.tanh(z[:, 2 * n:3 * n]), \
                torch.sigmoid(z[:, 3 * n:])
            c = f * c + i * g
            return o * torch.tanh(c), c
        W_x, W_h, b_x, b_h = layer
        zx, zh = x @ W_x + b_x, h @ W_h + b_h
        r = torch.sigmoid(zx[:, :n] + zh[:, :n])
        z = torch.sigmoid(zx[:, n:2 * n] + zh[:, n:2 * n])
        cand = torch.tanh(zx[:, 2 * n:] + r * zh[:, 2 * n:])
        return (1 - z) * cand + z * h, c

    def step():
        for layer in P:
            for p in layer:
                p.grad = None
        h = torch.zeros(BATCH, n, dtype=torch.float64)
        c = torch.zeros(BATCH, n, dtype=torch.float64)
        hs = []
        for t in range(T):
            h, c = cell(P[0], Xt[:, t], h, c)
            h.retain_grad()  # the core measures ||dL/dh_t|| for every t: so does this loop
            hs.append(h)
        W_y, b_y = P[1]
        out = (h @ W_y + b_y)[:, 0]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out, yt)
        loss.backward()
        norms = torch.stack([h.grad.norm() for h in hs])
        return loss.item(), [[p.grad.numpy() for p in layer] for layer in P], norms.numpy()
    return step


def times(fn, steps: int, repeat: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        out.append((time.perf_counter() - t0) / steps)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    kernel = os.environ.get("OPENBLAS_CORETYPE")
    print("OpenBLAS kernel " + (f"forced to {kernel} by OPENBLAS_CORETYPE" if kernel else "chosen for this CPU"))
    print(f"numpy {np.__version__}, torch {torch.__version__}, one thread each, float64, H={H}, T={T}, "
          f"batch {BATCH}; best and median of {args.repeat} rounds of {args.steps} steps")
    print(f"{'model':>6} {'core best':>10} {'torch best':>11} {'ratio':>6} {'core med':>9} {'torch med':>10} {'ratio':>6}")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, T, 1))
    y = (rng.random(BATCH) > 0.5).astype(float)
    for kind in ("rnn", "lstm", "gru"):
        net = RecurrentNetwork(kind, 1, 1, H, get_activation("tanh"), recurrent_init="orthogonal",
                               rng=np.random.default_rng(1))
        grad = np.empty_like(net.flat)
        ours = lambda: net.backward(X, y, grad_out=grad)
        theirs = torch_loop(kind, net.params, X, y)
        r = ours()
        loss, tgrads, tnorms = theirs()
        err = max(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300) for ga, gb in zip(r.grads, tgrads)
                  for a, b in zip(ga, gb))
        assert abs(r.loss - loss) < 1e-12 and err < 1e-9 and np.allclose(r.time_grad_norm, tnorms, rtol=1e-9), err
        a, b = times(ours, args.steps, args.repeat), times(theirs, args.steps, args.repeat)
        print(f"{kind:>6} {min(a) * 1e3:>8.2f}ms {min(b) * 1e3:>9.2f}ms {min(a) / min(b):>5.2f}x "
              f"{statistics.median(a) * 1e3:>7.2f}ms {statistics.median(b) * 1e3:>8.2f}ms "
              f"{statistics.median(a) / statistics.median(b):>5.2f}x")
    print("\nA full training step in the core (SGD update; statistics: per-layer gradient and weight statistics, "
          "||dL/dh_t|| per step, gate saturation, ||W_h||_2), median:")
    for kind in ("rnn", "lstm", "gru"):
        t = Trainer(ExperimentConfig(model=kind, dataset="recall", depth=1, width=H, seq_len=T, batch_size=BATCH,
                                     activation="tanh", lr=1e-3))
        Xb, yb = t.data.X_train[:BATCH], t.data.y_train[:BATCH]
        with_stats = statistics.median(times(lambda: t.train_on_batch(Xb, yb), args.steps, args.repeat))
        without = statistics.median(times(lambda: t.train_on_batch(Xb, yb, collect_stats=False), args.steps,
                                          args.repeat))
        print(f"{kind:>6} with statistics {with_stats * 1e3:.2f}ms, without {without * 1e3:.2f}ms: "
              f"statistics {with_stats / without - 1:+.0%}")


if __name__ == "__main__":
    main()
