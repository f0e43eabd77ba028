"""Steps per second of each recurrent story in the window (every plot live) against headless, offscreen.

For each preset: a bare ``Trainer`` loop, then the window running it from its first step (the
time-step plot, the time x epoch map and the chain through time drawn as a user sees them),
with the frames drawn per second and the seconds one epoch takes in the window:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_presets.py [--seconds 5]
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

from PySide6.QtWidgets import QApplication  # noqa: E402

from bench_gui import run_event_loop  # noqa: E402
from core.stories.presets import PRESETS, RECURRENT_PRESETS  # noqa: E402


def headless_until_diverged(cfg, seconds: float) -> float:
    """Steps per second of a bare Trainer, counting only steps taken (a diverged one takes none)."""
    from core import Trainer
    t = Trainer(cfg)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and not t.diverged:
        t.step_batch()
    return t.step / (time.perf_counter() - start)


def window_rate(cfg, seconds: float) -> tuple[float, float, int]:
    """(steps/s, frames/s, steps done) in the window; a story that diverges stops early."""
    from gui.app.main_window import MainWindow

    w = MainWindow(cfg)
    w.resize(1280, 800)
    w.show()
    while w.last_snapshot is None:
        run_event_loop(0.01)
    frames = {"n": 0}
    w.model.measured.connect(lambda snap: frames.__setitem__("n", frames["n"] + 1))
    w.toggle_run()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and w.state in ("running", "ready"):
        run_event_loop(0.05)
    elapsed = time.perf_counter() - start
    steps = w.worker.trainer_step   # run A's step count, in either trainer mode
    w.shutdown()
    w.deleteLater()
    return steps / elapsed, frames["n"] / elapsed, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    QApplication.instance() or QApplication([])
    print(f"{'story':>14} {'headless':>10} {'window':>10} {'window/headless':>16} {'frames/s':>9} "
          f"{'s per epoch':>12} {'steps':>6}")
    for p in RECURRENT_PRESETS:
        cfg = PRESETS[p.name].config(epochs=1_000)   # keep running for the whole measurement
        head = headless_until_diverged(cfg, min(args.seconds, 2.0))
        rate, fps, steps = window_rate(cfg, args.seconds)
        from core import Trainer
        per_epoch = Trainer(cfg).batches_per_epoch / rate if rate else float("inf")
        note = "  (diverges: stops early)" if steps < 10 else ""
        print(f"{p.name:>14} {head:>8.0f}/s {rate:>8.0f}/s {rate / head:>15.0%} {fps:>9.1f} {per_epoch:>12.1f} "
              f"{steps:>6}{note}")


if __name__ == "__main__":
    main()
