"""Training speed in the window against headless, frames per second, and the worst event-loop stall.

For each size: steps per second of a bare ``Trainer`` loop, then of the window while it
runs with every plot live, once for each trainer mode asked for (``--trainer thread,process``:
the trainer in the window's worker thread, or in a process of its own); meanwhile a 5 ms timer
on the GUI thread records the longest gap between its ticks (an event-loop stall). Headless and
window runs take turns, so a machine busy with other work shows in both. Works offscreen:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py [--seconds 5] [--trainer thread,process]
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

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core import ExperimentConfig, Trainer  # noqa: E402

SIZES = [ExperimentConfig(depth=8, width=32, epochs=1_000_000),
         ExperimentConfig(depth=20, width=64, batch_size=64, epochs=1_000_000),
         ExperimentConfig(depth=50, width=256, batch_size=64, epochs=1_000_000),
         # the controls' far end: 100 layers of 1024 units, batch 1, learning rate 10
         ExperimentConfig(depth=100, width=1024, batch_size=1, lr=10.0, epochs=1_000_000)]


def headless_rate(cfg: ExperimentConfig, seconds: float) -> tuple[float, float]:
    """Steps per second of a bare Trainer loop, and per second of this thread's CPU time."""
    t = Trainer(cfg)
    t.step_batch()
    start, cpu, steps = time.perf_counter(), time.thread_time(), 0
    while time.perf_counter() - start < seconds:
        t.step_batch()
        steps += 1
    return steps / (time.perf_counter() - start), steps / (time.thread_time() - cpu)


def run_event_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def trainer_cpu(w) -> float:
    """CPU seconds the trainer has used so far: its process's, or (thread mode) its thread's."""
    if w.worker.mode == "process":
        path = f"/proc/{w.worker._link.process.pid}/stat"
    else:
        path = f"/proc/self/task/{w.worker.native_thread_id}/stat"
    with open(path) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def window_rate(app, cfg: ExperimentConfig, seconds: float, mode: str):
    """Steps per second in the window, the worst event-loop stall (ms), frames per second, the GUI
    thread's CPU time per frame (ms: drawing, painting and everything else the GUI thread did), the
    share of a core the trainer had (its process's or its thread's CPU time), steps per second of that CPU
    time, and the seconds from creating the window to its first snapshot (a trainer process's start is in it)."""
    from gui.app.main_window import MainWindow
    from gui.bridge.worker import choose_mode

    choose_mode(mode)
    built = time.perf_counter()
    w = MainWindow(cfg)
    assert w.worker.mode == mode, w.worker.mode
    w.show()
    deadline = time.perf_counter() + 60
    while w.last_snapshot is None and time.perf_counter() < deadline:
        run_event_loop(0.005)
    first = time.perf_counter() - built
    gaps = {"worst": 0.0, "frames": 0}
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick():
        now = clock.nsecsElapsed()
        gaps["worst"] = max(gaps["worst"], (now - last[0]) / 1e6)
        last[0] = now
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    w.model.measured.connect(lambda snap: gaps.__setitem__("frames", gaps["frames"] + 1))
    w.toggle_run()
    while w.state != "running":
        run_event_loop(0.01)
    run_event_loop(0.5)  # warm up
    s0, t0 = w.worker.trainer_step, time.perf_counter()   # run A's step count, in either mode
    gaps["worst"], gaps["frames"] = 0.0, 0
    last[0] = clock.nsecsElapsed()
    timer.start()
    cpu0 = time.thread_time()  # this (the GUI) thread's CPU time
    child0, wall0 = trainer_cpu(w), time.perf_counter()
    run_event_loop(seconds)  # the real event loop: idle between events, as in the app
    wall = time.perf_counter() - wall0
    gui_cpu = time.thread_time() - cpu0
    child = trainer_cpu(w) - child0
    steps = w.worker.trainer_step - s0
    rate = steps / (time.perf_counter() - t0)
    timer.stop()
    w.shutdown()
    w.deleteLater()
    frames = gaps["frames"]
    return (rate, gaps["worst"] - 5.0, frames / seconds, 1e3 * gui_cpu / max(frames, 1), child / wall,
            steps / max(child, 1e-9), first)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--sizes", default="all", help="e.g. 8/32/32,20/64/64 (default: all sizes)")
    ap.add_argument("--trainer", default="thread,process", help="trainer modes to measure, in this order")
    ap.add_argument("--gui-share", type=float, help="process mode: the GUI thread's share of its time for frames "
                    "(default: TrainingWorker.GUI_SHARE)")
    args = ap.parse_args()
    if args.gui_share is not None:
        from gui.bridge.worker import TrainingWorker
        TrainingWorker.GUI_SHARE["process"] = args.gui_share
    wanted = None if args.sizes == "all" else set(args.sizes.split(","))
    modes = args.trainer.split(",")
    app = QApplication.instance() or QApplication([])
    print(f"load average {os.getloadavg()[0]:.2f}; {len(os.sched_getaffinity(0))} usable cores; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print("window/headless: steps per second; per CPU-s: steps per second of the trainer's CPU time, which a busy "
          "machine does not count\ntrainer CPU: the share of a core the trainer had (process or thread); 1st "
          "snapshot: from creating the window")
    print(f"{'depth/width/batch':>18} {'trainer':>8} {'headless':>9} {'window':>9} {'window/headless':>16} "
          f"{'per CPU-s':>10} {'frames/s':>9} {'GUI CPU/frame':>14} {'worst stall':>12} {'trainer CPU':>12} "
          f"{'1st snapshot':>13}")
    for cfg in SIZES:
        size = f"{cfg.depth}/{cfg.width}/{cfg.batch_size}"
        if wanted is not None and size not in wanted:
            continue
        for mode in modes:
            head, head_cpu = headless_rate(cfg, args.seconds)   # again for each mode: the machine's load changes
            rate, stall, fps, frame_ms, child, rate_cpu, first = window_rate(app, cfg, args.seconds, mode)
            print(f"{size:>18} {mode:>8} {head:>7.0f}/s {rate:>7.0f}/s {rate / head:>15.0%} "
                  f"{rate_cpu / head_cpu:>9.0%} {fps:>9.1f} {frame_ms:>12.1f}ms {stall:>10.1f}ms {child:>11.0%} "
                  f"{first:>12.2f}s", flush=True)


if __name__ == "__main__":
    main()
