"""Memory growth of a long run in the window: 100,000 training steps with live plots.

Prints the resident memory after a warm-up and at the end, and the growth. History is kept
in growing arrays and long histories are thinned for drawing, so growth stays small.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_memory.py [--steps 100000]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core import ExperimentConfig  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def spin(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive for the window)
    from gui.app.main_window import MainWindow

    w = MainWindow(ExperimentConfig(epochs=1_000_000))
    w.show()
    while w.last_snapshot is None:
        spin(0.05)
    w.toggle_run()
    while w.worker.trainer_step < 2000:
        spin(0.1)
    base, started = rss_mb(), time.perf_counter()
    base_step = w.worker.trainer_step
    while w.worker.trainer_step < base_step + args.steps:
        spin(0.2)
    w.toggle_run()
    spin(0.5)
    end = rss_mb()
    t = w.last_snapshot
    print(f"{args.steps} steps ({t.epoch} epochs of {t.batches_per_epoch} batches) in "
          f"{time.perf_counter() - started:.0f} s; the window's resident memory ({w.worker.mode} trainer) {base:.0f} MB after warm-up, {end:.0f} MB at "
          f"the end: growth {end - base:+.1f} MB (goal < 50 MB); history arrays {w.history.nbytes / 1e6:.1f} MB")
    w.shutdown()


if __name__ == "__main__":
    main()
