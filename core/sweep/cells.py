"""One cell of a sweep (a short run, or a measurement at initialisation) and the grouping of cells into
tasks of about a second: the unit of work an executor runs."""
from __future__ import annotations

import math
import time

import numpy as np

from core.config import ExperimentConfig
from core.runtime.setup import configure_process
from core.sweep.plan import METRICS, Plan, cell_text


GAIN_SAMPLES = 1024       # training samples (at most) in the backward pass that measures grad_gain
TASK_SECONDS = 1.0        # the work put into one task


def grad_gain(delta_norms: np.ndarray, depth: int) -> float:
    """Geometric mean over hidden layers l of ||dL/dz_l|| / ||dL/dz_{l+1}||: (||dL/dz_1|| / ||dL/dz_out||)^(1/depth).

    Mean-field theory predicts sqrt(chi_1) for it. 0 when the gradient vanishes to nothing at layer 1;
    NaN when it overflows."""
    first, last = float(delta_norms[0]), float(delta_norms[depth])
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0.0:
        return math.nan
    if first == 0.0:
        return 0.0
    return math.exp((math.log(first) - math.log(last)) / depth)

def measure(config: ExperimentConfig, init_only: bool = False) -> dict:
    """One cell's metrics: grad_gain at initialisation, then (unless init_only) config.epochs of training."""
    from core.training.trainer import Trainer
    t = Trainer(config)
    d = t.data
    n = min(len(d.y_train), GAIN_SAMPLES)
    with np.errstate(all="ignore"):
        r = t.network.backward(d.X_train[:n], d.y_train[:n])
        gain = grad_gain(r.delta_norms, config.depth)
        if init_only:  # the backward pass saw every training sample when there are few: its loss is theirs
            train_loss = r.loss if n == len(d.y_train) else t.network.loss(d.X_train, d.y_train)
            val_loss, val_acc = t.evaluate(d.X_val, d.y_val)
            return dict(train_loss=train_loss, val_loss=val_loss, val_accuracy=val_acc,
                        diverged=not math.isfinite(train_loss), epoch_reached=0, grad_gain=gain)
    t.run()
    e = t.last_epoch
    return dict(train_loss=e.train_loss, val_loss=e.val_loss, val_accuracy=e.val_accuracy,
                diverged=t.diverged, epoch_reached=t.epoch, grad_gain=gain)

def _metric_text(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""  # no value: not finite, or no accuracy for regression
    return repr(float(value)) if isinstance(value, float) else str(int(value))

def run_group(plan: Plan, cells: list) -> list:
    """The rows (lists of CSV cells) of some cells of a plan."""
    rows = []
    for values in cells:
        m = measure(plan.config(values), plan.init_only)
        rows.append([cell_text(v) for v in values] + [_metric_text(m[k]) for k in METRICS] + plan.fixed_text())
    return rows

def worker_group(plan: Plan, cells: list) -> list:
    """run_group in a worker process: the unit of work sent to local workers and to a Dask cluster."""
    if not _WORKER_SET_UP:
        # Cells run side by side, one per core: a second BLAS thread each would only oversubscribe the cores.
        _WORKER_SET_UP.append(configure_process(blas_threads=1, force=True))
    return run_group(plan, cells)


_WORKER_SET_UP: list = []   # what configure_process did in this worker process (once)


def cost(config: ExperimentConfig, init_only: bool) -> float:
    """Relative work of a cell: per layer, a fixed overhead plus the matrix products, per batch."""
    n_train = config.samples - int(round(config.samples * config.val_fraction))
    batches = 1 if init_only else 1 + config.epochs * -(-n_train // config.batch_size)
    per_pass = min(n_train, GAIN_SAMPLES) if init_only else config.batch_size
    return 2e5 + batches * (config.depth + 1) * (2e4 + 6.0 * per_pass * config.width ** 2)

def make_groups(plan: Plan, cells: list, seconds_per_unit: float, workers: int) -> list:
    """Consecutive cells in groups of about TASK_SECONDS of work, and at least two groups per worker."""
    costs = [cost(plan.config(v), plan.init_only) * seconds_per_unit for v in cells]
    target = min(TASK_SECONDS, sum(costs) / (2 * max(workers, 1)))
    groups, current, acc = [], [], 0.0
    for values, c in zip(cells, costs):
        current.append(values)
        acc += c
        if acc >= target:
            groups.append(current)
            current, acc = [], 0.0
    if current:
        groups.append(current)
    return groups

def calibrate(plan: Plan, cells: list, seconds: float = 0.2, most: int = 50) -> tuple[float, list]:
    """Seconds per unit of cost, timed here on the cheapest cells after one to warm up, and their rows
    (kept, not wasted): up to ``most`` cells or ``seconds`` of work."""
    by_cost = sorted(cells, key=lambda v: cost(plan.config(v), plan.init_only))
    rows = run_group(plan, by_cost[:1])  # the first cell in a process also pays for imports and caches
    timed, units, started = 0, 0.0, time.perf_counter()
    for values in by_cost[1:most]:
        rows += run_group(plan, [values])
        timed += 1
        units += cost(plan.config(values), plan.init_only)
        if time.perf_counter() - started >= seconds:
            break
    if timed == 0:
        return TASK_SECONDS / cost(plan.config(by_cost[0]), plan.init_only), rows  # nothing left to group
    return (time.perf_counter() - started) / units, rows
