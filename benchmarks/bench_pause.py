"""How long Pause takes to be acknowledged at the largest size: depth 100 x width 1024 x batch 1.

Drives the window's session model (no window): Run, wait until training, press Pause at a random
point of a step, and time until the worker's PAUSED snapshot arrives on the GUI thread. Needs
about 4 GB of memory (the weights, their gradient, the update and a scratch buffer, 800 MB each).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_pause.py [--rounds 5] [--root DIR]

``--root`` runs another checkout's code (e.g. main, for a before/after figure).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--size", default="100/1024/1")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.root))
    try:
        from core.runtime.setup import configure_process
    except ImportError:   # --root names an older checkout, whose core tuned the allocator on import
        for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(_var, "1")
    else:
        configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from core import ExperimentConfig
    from core.training.session import RunState
    from gui.bridge.session_model import SessionModel
    from gui.bridge.worker import Kind

    app = QApplication.instance() or QApplication([])
    depth, width, batch = (int(v) for v in args.size.split("/"))
    cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, lr=10, epochs=1000)
    model = SessionModel(cfg)
    snaps = []
    model.measured.connect(snaps.append)

    def wait_for(cond, timeout=600.0):
        end = time.perf_counter() + timeout
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError("no snapshot")
            app.processEvents(QEventLoop.AllEvents, 20)
            time.sleep(0.002)

    wait_for(lambda: any(s.kind == Kind.REBUILT for s in snaps))
    waits = []
    rng = random.Random(0)
    for _ in range(args.rounds):
        n = len(snaps)
        model.toggle_run()
        wait_for(lambda: any(s.kind == Kind.PROGRESS and s.step >= 2 for s in snaps[n:]))  # past the first steps
        time.sleep(rng.uniform(0.0, 1.0))  # somewhere inside a step
        n = len(snaps)
        started = time.perf_counter()
        model.toggle_run()
        wait_for(lambda: any(s.kind == Kind.PAUSED for s in snaps[n:]))
        waits.append(time.perf_counter() - started)
        print(f"  pause acknowledged after {waits[-1]:.2f} s", flush=True)
        wait_for(lambda: model.state is RunState.PAUSED)
        time.sleep(0.5)
        app.processEvents()
    print(f"{args.size}: Pause acknowledged in median {statistics.median(waits):.2f} s "
          f"(range {min(waits):.2f} - {max(waits):.2f} s) over {len(waits)} pauses")
    model.shutdown(timeout_ms=60000)
    QTimer.singleShot(0, QCoreApplication.quit)


if __name__ == "__main__":
    main()
