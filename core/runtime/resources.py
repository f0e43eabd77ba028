"""Will a configuration fit in this machine's memory? Checked before anything is allocated.

Linux overcommits memory: a too-large NumPy array is often granted and the process is killed
later, while its pages are written. So the trainer estimates what a config needs and refuses,
with a message naming what to reduce, when that exceeds what the machine has available.
"""
from __future__ import annotations

import os

from core.config import ConfigError
from core.data.datasets import MULTICLASS
from core.nn.kinds import kind_of
from core.training.history import SCALARS
from core.training.statistics import LAYER_FIELDS, PRECISION_FIELDS

OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}
SEQUENCE_FEATURES = {"recall": 1, "adding": 2}   # inputs per time step


def memory_needed(config, n_features: int = 2) -> dict[str, int]:
    """Bytes a Trainer for ``config`` needs, by what needs them (the per-kind part: the kind's ``memory``)."""
    item = 8 if config.dtype == "float64" else 4
    steps = config.seq_len if config.dataset in SEQUENCE_FEATURES else 1
    n_features = SEQUENCE_FEATURES.get(config.dataset, n_features)
    # per epoch: every layer statistic, issue 24's underflow, overflow and lost_updates per layer, the scalars
    history_row = ((len(LAYER_FIELDS) + len(PRECISION_FIELDS)) * (config.depth + 1) + len(SCALARS)) * 8
    return kind_of(config).memory(config, n_features, steps, item, OPTIMIZER_STATES[config.optimizer],
                                  history_row, MULTICLASS.get(config.dataset, 1))


def available_memory() -> int | None:
    """Bytes the system can give without swapping (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_fits(config, n_features: int = 2, available: int | None = None) -> None:
    """Raise ConfigError naming the field to reduce when ``config`` needs more than 80% of the memory left."""
    if os.environ.get("GRADFLOW_NO_MEMORY_CHECK"):
        return
    available = available_memory() if available is None else available
    if available is None:
        return
    need = memory_needed(config, n_features)
    total = sum(need.values())
    if total <= 0.8 * available:
        return
    biggest = max(need, key=need.get)
    field = {"parameters": "width", "activations": "batch_size", "evaluation": "width", "data": "samples",
             "history": "epochs"}[biggest]
    advice = {"parameters": "reduce width or depth", "activations": "reduce batch_size, width or depth",
              "evaluation": "reduce width", "data": "reduce samples", "history": "reduce epochs or depth"}[biggest]
    raise ConfigError(field, f"{field}: this network needs about {total / 2**30:.1f} GiB "
                             f"({biggest} {need[biggest] / 2**30:.1f} GiB) but {available / 2**30:.1f} GiB "
                             f"of memory is available: {advice}")


def check_disk_space(path: str, need: int, field: str, advice: str, free: int | None = None) -> None:
    """Raise ConfigError(field) when writing ``need`` bytes to ``path`` would not fit in its file system's free
    space (the old file at ``path`` counts as free: it is replaced)."""
    folder = os.path.dirname(os.path.realpath(path))
    if free is None:
        try:
            st = os.statvfs(folder)
        except OSError:
            return
        free = st.f_bavail * st.f_frsize
    try:
        free += os.stat(os.path.realpath(path)).st_size
    except OSError:
        pass
    if need > free:
        raise ConfigError(field, f"{field}: the output needs up to {need / 2**20:,.1f} MiB but "
                                 f"{free / 2**20:,.1f} MiB is free where it goes: {advice}")
