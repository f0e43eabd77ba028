"""What issue 12's per-step distributions cost: a step with and without InsideRecorder.measure, and the
history's bytes per step.

For each size, one Trainer steps on the same batch; the recorder is swapped for a no-op in alternate
rounds, so both figures come from the same run; the ratio is the median over paired rounds of what a step slows
by (the best times are printed too). Timed with time.thread_time (CPU time of this thread): the machine is
shared, and wall time counted the other processes' time slices; run it twice and compare. Prints the
timeline's bytes per recorded row (float32: gradient bands, activation std, saturation), what 100,000
rows take, and what 100,000 training steps take at this size's recording rate.

    .venv/bin/python benchmarks/bench_distributions.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

from core import ExperimentConfig, Trainer  # noqa: E402

SIZES = [(8, 32, 32), (10, 32, 32), (20, 64, 64), (10, 256, 128), (5, 1000, 32), (100, 32, 32)]


class _Off:
    def measure(self, *a, **k):
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"{'depth/width/batch':>18} {'step off':>10} {'step on':>10} {'median ratio':>6}  {'every':>5} {'B/row':>6} {'1e5 rows':>9} {'1e5 steps':>9}")
    for depth, width, batch in SIZES:
        cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, activation="tanh", lr=1e-3,
                               samples=max(16 * batch, 400))
        t = Trainer(cfg)
        X, y = t.data.X_train[:batch], t.data.y_train[:batch]
        rec, off = t.inside, _Off()
        cycle = rec.batches_per_epoch if rec.every < rec.batches_per_epoch else rec.every
        steps = cycle * max(1, -(-args.steps // cycle))   # whole recording cycles
        times = {"off": [], "on": []}
        for _ in range(args.repeat):   # alternate short rounds: the machine's load hits both alike
            for name, r in (("off", off), ("on", rec)):
                t.inside = r
                t0 = time.thread_time()
                for _ in range(steps):
                    t.train_on_batch(X, y)
                times[name].append((time.thread_time() - t0) / steps)
        ratios = sorted(b / a for a, b in zip(times["off"], times["on"]))
        best = {k: min(v) for k, v in times.items()}
        ratio = ratios[len(ratios) // 2]   # median of the paired rounds
        tl = rec.history.timeline
        per_step = tl.nbytes / len(tl.step)   # bytes per recorded step (row) of the timeline
        share = sum(rec.recorded(s) for s in range(1, 100 * cycle + 1)) / (100 * cycle)   # rows per step
        print(f"{depth:>6}/{width}/{batch:<7} {best['off'] * 1e6:8.0f}us {best['on'] * 1e6:8.0f}us "
              f"{ratio:6.3f}  {rec.every:5d} {per_step:6.0f} {per_step * 1e5 / 1e6:7.1f}MB {per_step * share * 1e5 / 1e6:7.1f}MB")


if __name__ == "__main__":
    main()
