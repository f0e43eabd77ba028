"""The GUI-thread cost of one frame, on the same snapshots each time.

bench_gui.py measures the window while it trains: its frames per second follow the worker's pacing
and its per-frame cost moves with what each frame happens to carry. Here, per size: the window
trains for a while and every snapshot it is sent is kept; the worker is stopped; then the kept
snapshots are drawn again one by one (``SessionModel._on_snapshot``, then the event loop until the
paint is done) while a thread trains the same network for the GIL, as the worker would. Printed:
the GUI thread's CPU time per frame (median and 10-90% range) and the frame rate that would keep
the GUI thread at the worker's 8% share. The session model's histories already hold the recorded
epochs, so the replayed frames add them again: the loss and heatmap draw up to twice the epochs the
run had (a young run's: a few hundred at most). Offscreen:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_frames.py [--sizes 20/64/64] [--page inside]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core import ExperimentConfig, Trainer  # noqa: E402

SIZES = {"8/32/32": ExperimentConfig(depth=8, width=32, epochs=1_000_000),
         "20/32/32": ExperimentConfig(depth=20, width=32, epochs=1_000_000),
         "20/64/64": ExperimentConfig(depth=20, width=64, batch_size=64, epochs=1_000_000),
         "50/256/64": ExperimentConfig(depth=50, width=256, batch_size=64, epochs=1_000_000)}
GUI_SHARE = 0.08   # gui/bridge/worker.py's pacing target


def run_event_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def record(cfg: ExperimentConfig, frames: int, page: int):
    """A window that trained until it was sent ``frames`` snapshots, its worker stopped; and those snapshots."""
    from gui.app.main_window import MainWindow
    w = MainWindow(cfg)
    w.resize(1280, 800)
    w.show()
    w.plotPages.setCurrentIndex(page)
    snaps = []
    w.model.worker.snapshot.connect(snaps.append)   # runs in the worker thread: a list append only
    deadline = time.perf_counter() + 60
    while w.last_snapshot is None and time.perf_counter() < deadline:
        run_event_loop(0.05)
    w.toggle_run()
    deadline = time.perf_counter() + 120
    while sum(s.kind != "rebuilt" for s in snaps) < frames and time.perf_counter() < deadline:
        run_event_loop(0.1)
    w.shutdown()
    return w, [s for s in snaps if s.kind != "rebuilt"][:frames]


def replay(app, w, snaps, cfg: ExperimentConfig) -> list[float]:
    """GUI-thread CPU ms of each snapshot drawn again, with a trainer thread competing for the GIL."""
    stop = threading.Event()

    def train():
        t = Trainer(cfg)
        while not stop.is_set():
            t.step_batch()
    rival = threading.Thread(target=train, daemon=True)
    rival.start()
    time.sleep(0.3)
    times = []
    try:
        for s in snaps:
            c0 = time.thread_time()
            w.model._on_snapshot(s)
            for _ in range(3):   # the scene's queued update, then the paint
                app.processEvents()
            times.append(1e3 * (time.thread_time() - c0))
            time.sleep(0.02)     # the trainer runs between frames, as it does in the app
    finally:
        stop.set()
        rival.join()
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(SIZES), help="e.g. 8/32/32,20/64/64 (default: all four)")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--page", choices=("gradients", "inside"), default="gradients")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    sys.setswitchinterval(0.001)   # as gui/bridge/worker.py sets it
    print(f"{'depth/width/batch':>18} {'frames':>7} {'GUI CPU per frame':>18} {'10% - 90%':>14} "
          f"{'frames/s at 8%':>15}")
    for size in args.sizes.split(","):
        cfg = SIZES[size]
        w, snaps = record(cfg, args.frames + 5, ("gradients", "inside").index(args.page))
        t = sorted(replay(app, w, snaps, cfg)[5:])   # the first few: caches and layouts settling
        w.deleteLater()
        med = statistics.median(t)
        print(f"{size:>18} {len(t):>7} {med:>15.1f} ms {t[len(t) // 10]:>6.1f} - {t[9 * len(t) // 10]:<5.1f}ms "
              f"{min(30.0, 1e3 * GUI_SHARE / med):>15.1f}", flush=True)


if __name__ == "__main__":
    main()
