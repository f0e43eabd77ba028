"""What issue 21's rewind history costs: bytes per recorded point, points kept after a run, and the time a step
spends recording (RewindRecorder.add) against the step itself.

For each story, one Trainer trains its epochs; the recorder's time is summed around each ``add`` call with
time.thread_time (CPU time of this thread: the machine is shared), so both figures come from the same run.
Bytes: each point's pickled size (what a snapshot carries for it in process mode; in a thread it is sent by
reference) and its size in memory (``deep_size``: every object it holds, counted once, NumPy arrays by their
header and data).

    .venv/bin/python benchmarks/bench_rewind.py [stories ...]
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()

from core import PRESETS  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

STORIES = ("vanishing-sigmoid", "exploding", "rnn-vanishing", "lstm-fix", "transformer-pre-ln")


def deep_size(obj, seen: set) -> int:
    """Bytes of ``obj`` and everything it refers to (dataclass fields, dicts, lists, arrays), each object once."""
    import numpy as np
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, np.ndarray):
        return size if obj.base is None else size + obj.nbytes
    if dataclasses.is_dataclass(obj):
        return size + sum(deep_size(getattr(obj, f.name), seen) for f in dataclasses.fields(obj))
    if isinstance(obj, dict):
        return size + sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return size + sum(deep_size(v, seen) for v in obj)
    return size


def measure(name: str) -> None:
    t = Trainer(PRESETS[name].config())
    recorder, spent = t.rewind, [0.0]
    add = recorder.add

    def timed(b):
        started = time.thread_time()
        add(b)
        spent[0] += time.thread_time() - started

    recorder.add = timed
    started = time.thread_time()
    for _ in range(t.config.epochs):
        if t.step_epoch().diverged:
            break
    total = time.thread_time() - started
    h = recorder.history
    per_point = h.nbytes / max(len(h), 1)
    in_memory = deep_size(h.epochs + h.current, set()) / max(len(h), 1)
    print(f"{name:22s} steps {t.step:6d}  points kept {len(h):4d} ({len(h.epochs)} epochs + {len(h.current)} of "
          f"the current)  {per_point / 1e3:5.2f} kB a point pickled, {in_memory / 1e3:5.2f} kB in memory  "
          f"{h.nbytes / 1e3:7.1f} kB in all  "
          f"recording {100 * spent[0] / total:5.2f}% of training time")


def main() -> None:
    for name in sys.argv[1:] or STORIES:
        measure(name)


if __name__ == "__main__":
    main()
