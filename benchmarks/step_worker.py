"""Times another checkout's training step in a process of its own, for ``bench_core.py --against DIR``.

Another checkout's ``core`` cannot share the benchmark's process: its modules import ``core.…`` by absolute
name, so a copy loaded under another name ran this checkout's trainer (``--against`` compared a checkout
with itself until issue 25). Protocol, one JSON object a line: ``{"make": [depth, width, batch, dtype]}``
builds that step (answer ``"ok"``); ``{"time": [depth, width, batch, dtype], "steps": n}`` times n steps in
thread CPU time and answers the seconds per step. The parent waits for each answer, so the two processes
take turns and never run at once.

    python benchmarks/step_worker.py DIR
"""
from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.abspath(sys.argv[1]))
try:
    from core.runtime.setup import configure_process  # noqa: E402
except ImportError:   # an older checkout
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
else:
    configure_process()

from core import ExperimentConfig, Trainer  # noqa: E402


def make_step(depth, width, batch, dtype):
    cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, activation="tanh", init="xavier",
                           lr=1e-3, samples=max(4 * batch, 64), dtype=dtype)
    t = Trainer(cfg)
    X, y = t.data.X_train[:batch], t.data.y_train[:batch]
    return lambda: t.train_on_batch(X, y, collect_stats=True)


def main() -> None:
    steps = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        if "make" in cmd:
            key = tuple(cmd["make"])
            steps[key] = make_step(*key)
            steps[key]()
            answer = "ok"
        else:
            fn, n = steps[tuple(cmd["time"])], cmd["steps"]
            t0 = time.thread_time()
            for _ in range(n):
                fn()
            answer = (time.thread_time() - t0) / n
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
