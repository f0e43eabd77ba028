"""What issue 21's Inside page of sequence models costs: a training step with and without
SequenceInsideRecorder.measure, for the recurrent and Transformer stories, and the record's bytes per step.

For each story one Trainer steps on the same batch; the recorder is swapped for a no-op in alternate rounds, so
both figures come from the same run; the ratio is the median over paired rounds of what a step slows by. Timed
with time.thread_time (this thread's CPU time: the machine is shared). Every step is recorded, so the ratio is
the whole cost.

    .venv/bin/python benchmarks/bench_sequence_inside.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from core.stories.presets import PRESETS  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

STORIES = ("rnn-vanishing", "lstm-fix", "gru-fix", "attention-vs-rnn", "transformer-pre-ln")


class _NoRecord:
    def measure(self, *args, **kwargs):
        return None


def _step_time(t, X, y) -> float:
    start = time.thread_time()
    t.train_on_batch(X, y)
    return time.thread_time() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    for name in STORIES:
        cfg = PRESETS[name].config()
        t = Trainer(cfg)
        X, y = t.data.X_train[:cfg.batch_size], t.data.y_train[:cfg.batch_size]
        recorder = t.inside
        _step_time(t, X, y)   # warm up
        ratios = []
        for _ in range(args.repeat):
            t.inside = recorder
            with_rec = _step_time(t, X, y)
            t.inside = _NoRecord()
            without = _step_time(t, X, y)
            ratios.append(with_rec / without - 1.0)
        t.inside = recorder
        full = sum(4 * int(np.prod(s)) for s in recorder.history.full_shapes.values()) + 12   # float32, step, epoch
        line = sum(4 * int(np.prod(s)) for s in recorder.history.timeline.shapes.values()) + 12
        print(f"{name:20s} step slows by {np.median(ratios):+.1%} (median of {args.repeat} pairs); "
              f"a full record {full / 1024:.1f} kB, a timeline row {line} B")


if __name__ == "__main__":
    main()
