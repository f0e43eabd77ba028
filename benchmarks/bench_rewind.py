"""What issue 21's rewind history costs: bytes per recorded point, points kept after a run, and the time a step
spends recording (RewindRecorder.add) against the step itself.

For each story, one Trainer trains its epochs; the recorder's time is summed around each ``add`` call with
time.thread_time (CPU time of this thread: the machine is shared), so both figures come from the same run.
Bytes are each point's pickled size (what a snapshot carries for it in process mode; in a thread it is sent by
reference).

    .venv/bin/python benchmarks/bench_rewind.py [stories ...]
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()

from core import PRESETS  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

STORIES = ("vanishing-sigmoid", "exploding", "rnn-vanishing", "lstm-fix", "transformer-pre-ln")


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
    print(f"{name:22s} steps {t.step:6d}  points kept {len(h):4d} ({len(h.epochs)} epochs + {len(h.current)} of "
          f"the current)  {per_point / 1e3:6.2f} kB a point  {h.nbytes / 1e3:8.1f} kB in all  "
          f"recording {100 * spent[0] / total:5.2f}% of training time")


def main() -> None:
    for name in sys.argv[1:] or STORIES:
        measure(name)


if __name__ == "__main__":
    main()
