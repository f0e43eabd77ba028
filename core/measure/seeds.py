"""Many seeds at once: the spread of ||dL/dz_l|| per layer over initialisation seeds (Hanin & Rolnick 2018).

``seed_delta_norms(config, seeds, executor)`` builds the config's network once per seed (seed, seed + 1, ...),
takes one backward pass over its training data at initialisation (or after ``config.epochs`` of training when
``train``) and returns log10 ||dL/dz_l|| per layer, one row per seed. ``band`` gives the median and the 10 and 90%
quantiles per layer; ``hanin_fan`` the spread Hanin & Rolnick predict for ReLU nets: the variance of ln ||dL/dz_l||^2
grows as 5 sum_{j >= l} 1/n_j (the layers the gradient has come back through), so the 10-90% band of log10 ||dL/dz_l||
is the median +- 1.2816 sqrt(5 beta_l) / (2 ln 10). Their theorem is about one input and the
forward pass; measured here (ReLU, He, depth 10, width 32, 200 seeds), the 10-90% width at layer 1 / 5 / 9 is
0.78 / 0.67 / 0.54 with one input (the output's error itself varies with the seed), 0.58 / 0.47 / 0.30 over 1024
inputs, against the fan's 0.70 / 0.54 / 0.31.

    python main.py --headless --seeds 32 --depth 20 --width 32 --activation relu --init he --out seeds.csv
"""
from __future__ import annotations

import math

import numpy as np

from core.config import ExperimentConfig

Z90 = 1.2815515655446004     # the standard normal's 90% quantile
HANIN_CONSTANT = 5.0         # Var[ln ||.||^2] per unit of sum 1/n_j for ReLU (Hanin & Rolnick 2018, Theorem 5)
SAMPLES = 1024               # training rows in the backward pass (at most)


def delta_norms_of(task: tuple) -> np.ndarray:
    """(config, train, inputs) -> log10 ||dL/dz_l|| per layer (hidden layers, then the output) for that config's seed,
    over the first ``inputs`` training rows (1: Hanin & Rolnick's setting, one input)."""
    config, train, inputs = task
    from core.training.trainer import Trainer
    t = Trainer(config)
    if train:
        t.run()
    d = t.data
    n = min(len(d.y_train), inputs)
    with np.errstate(all="ignore"):
        norms = np.asarray(t.network.backward(d.X_train[:n], d.y_train[:n]).delta_norms, dtype=np.float64)
        return np.log10(norms)


def _in_worker(task: tuple) -> np.ndarray:
    from core.stories.reproductions.gallery import _WORKER_SET_UP
    if not _WORKER_SET_UP:
        from core.runtime.setup import configure_process
        _WORKER_SET_UP.append(configure_process(blas_threads=1, force=True))
    return delta_norms_of(task)


def seed_delta_norms(config: ExperimentConfig, seeds: int, executor=None, train: bool = False,
                     stop=None, progress=None, inputs: int = SAMPLES) -> np.ndarray:
    """(seeds, layers) of log10 ||dL/dz_l||, row i from seed config.seed + i, over ``inputs`` training rows.
    ``progress(done, total)`` after each."""
    from core.sweep.executors import SerialExecutor
    executor = executor or SerialExecutor()
    tasks = [(config.replace(seed=(config.seed + i) % 2 ** 32), train, inputs) for i in range(seeds)]
    rows: list = [None] * seeds
    done = 0
    for i, value in executor.map_unordered(_in_worker if not isinstance(executor, SerialExecutor)
                                           else delta_norms_of, tasks, stop):
        rows[i] = value
        done += 1
        if progress is not None:
            progress(done, seeds)
    return np.array([r for r in rows if r is not None])


def band(log_norms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per layer: the 10% quantile, the median and the 90% quantile over seeds (non-finite seeds left out)."""
    out = []
    for col in np.asarray(log_norms, dtype=np.float64).T:
        col = col[np.isfinite(col)]
        out.append(np.quantile(col, (0.1, 0.5, 0.9)) if len(col) else np.full(3, np.nan))
    q = np.array(out).T
    return q[0], q[1], q[2]


def hanin_fan(config: ExperimentConfig, median: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Hanin & Rolnick's predicted 10-90% band of log10 ||dL/dz_l|| around the measured median, for a plain ReLU MLP;
    None where their theorem does not speak (another activation, residual connections, normalisation)."""
    from core.measure.theory import mean_field_reason
    if config.activation != "relu" or mean_field_reason(config) is not None:   # an RNN, residual, normalisation
        return None
    widths = [config.width] * config.depth
    # layer l's gradient has come back through hidden layers l..depth (0-based l = 0..depth-1); the output: none
    beta = np.array([sum(1.0 / n for n in widths[l:]) for l in range(config.depth)] + [0.0])
    half = Z90 * np.sqrt(HANIN_CONSTANT * beta) / (2.0 * math.log(10.0))
    return median - half, median + half


def seeds_csv(log_norms: np.ndarray, first_seed: int) -> str:
    """One row per seed: the seed, then log10 ||dL/dz_l|| per layer (layer_1 .. layer_depth, output)."""
    n_layers = log_norms.shape[1]
    head = ["seed"] + [f"log10_delta_norm_{l + 1}" for l in range(n_layers)]
    lines = [",".join(head)]
    for i, row in enumerate(log_norms):
        lines.append(",".join([str(first_seed + i)] + [repr(float(v)) if np.isfinite(v) else "" for v in row]))
    return "\n".join(lines) + "\n"
