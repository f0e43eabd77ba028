"""The Transformer's gradients at initialisation as depth and sequence length grow (issue 22; README's study).

For depth 2..48 blocks and T = 10..1000 positions, Pre-LN against Post-LN (width 32, 4 heads, tanh, Xavier, the
recall task's first batch, seeds 0-2): the median over the seeds of
  first/last = ||dL/dx_0[:, 1]|| / ||dL/dx_0[:, T]||, the embedded input's gradient at the first position over the last's
  W2 last    = the last block's ||dL/dW2||
Batch 8 up to T = 100, 2 from T = 300 (the attention matrices are T x T per head and block); T = 1000 only up to
12 blocks (48 would hold about 3 GiB of them). Prints a Markdown table.

    python benchmarks/study_transformer.py            (about 5 minutes on one core)
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from core.config import ExperimentConfig  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

DEPTHS = (2, 6, 12, 24, 48)
LENGTHS = (10, 100, 300, 1000)
SEEDS = (0, 1, 2)


def measure(depth: int, T: int, norm: str, seed: int) -> tuple[float, float]:
    batch = 8 if T <= 100 else 2
    cfg = ExperimentConfig(model="transformer", dataset="recall", seq_len=T, noise=0.2, samples=40, batch_size=batch,
                           depth=depth, width=32, heads=4, activation="tanh", init="xavier", norm_position=norm,
                           seed=seed)
    r = Trainer(cfg).measure()
    g = r.time_grad_norm
    return float(g[0] / g[-1]), float(r.transformer.sublayer_grad_norm["W2"][-1])


def main() -> None:
    print("| depth | T | Pre-LN first/last | Post-LN first/last | Pre-LN W2 last | Post-LN W2 last | Post/Pre W2 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for depth in DEPTHS:
        for T in LENGTHS:
            if T == 1000 and depth > 12:
                continue
            pre = np.median([measure(depth, T, "pre", s) for s in SEEDS], axis=0)
            post = np.median([measure(depth, T, "post", s) for s in SEEDS], axis=0)
            print(f"| {depth} | {T} | {pre[0]:.3g} | {post[0]:.3g} | {pre[1]:.3g} | {post[1]:.3g} | "
                  f"{post[1] / pre[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
