"""The trainer in a process of its own, seen from the window: a child that dies is said and replaced, one that
cannot start leaves the trainer in the window's process (saying so), the choice is a View-menu setting and a
command-line flag, and Ctrl+C in a terminal leaves no process behind."""
import os
import signal
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from core.runtime.runner_process import ENV

from .conftest import SMALL
from .test_app_signals import start

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="checks processes through /proc")


def process_window(qtbot, monkeypatch, settings=None):
    from gui.app.main_window import MainWindow
    monkeypatch.setenv(ENV, "process")
    w = MainWindow(SMALL, settings)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=30000)
    return w


def test_a_killed_trainer_process_is_said_and_replaced_and_the_window_trains_on(qtbot, monkeypatch):
    w = process_window(qtbot, monkeypatch)
    assert w.worker.mode == "process" and w.trainerAction.isChecked()
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=10000)
    gen, pid = w.last_snapshot.generation, w.worker._link.process.pid
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=30000)
    text = w.messageLabel.text()
    assert "The trainer process was ended by SIGKILL" in text and "history was cleared" in text, text
    assert w.worker._link.process.pid != pid and not os.path.exists(f"/proc/{pid}")   # reaped, no zombie
    assert len(w.history) == 0 and w.state == "ready" and w.last_snapshot.config == w.config
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=10000)


def test_a_trainer_process_that_cannot_start_leaves_the_trainer_in_the_window(qtbot, monkeypatch):
    import core.runtime.runner_process
    from tests.trainer_faults import exit_at_once
    monkeypatch.setattr(core.runtime.runner_process, "child_main", exit_at_once)
    monkeypatch.setenv(ENV, "process")
    from gui.app.main_window import MainWindow
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=30000)
    assert w.worker.mode == "thread"
    assert "ended with exit code 3" in w.messageLabel.text() and "window's process instead" in w.messageLabel.text()
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=10000)


def test_a_trainer_process_that_dies_building_its_networks_is_replaced_with_the_defaults_then_the_thread(
        qtbot, monkeypatch):
    import core.runtime.runner_process
    from tests.trainer_faults import start_then_exit
    monkeypatch.setattr(core.runtime.runner_process, "child_main", start_then_exit)   # every child dies the same way
    monkeypatch.setenv(ENV, "process")
    from gui.app.main_window import MainWindow
    messages = []
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.model.message.connect(lambda text, error: messages.append(text))
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=30000)
    assert w.worker.mode == "thread"
    assert any("ended with exit code 4. It ended while building its networks, so a new one started with the default "
               "settings." in m for m in messages), messages
    assert "could not build even the default network, so the trainer runs in the window's process" in messages[-1]
    assert w.last_snapshot.config == w.config
    w.step_batch()
    qtbot.waitUntil(lambda: w.last_snapshot.step == 1, timeout=10000)


def test_a_process_that_cannot_even_be_started_leaves_the_trainer_in_the_window(qtbot, monkeypatch):
    import gui.bridge.worker

    def refused(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(gui.bridge.worker, "TrainerProcess", refused)
    monkeypatch.setenv(ENV, "process")
    from gui.app.main_window import MainWindow
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None and "could not start" in w.messageLabel.text(), timeout=30000)
    assert w.worker.mode == "thread" and not w.trainerAction.isChecked()
    assert "Resource temporarily unavailable" in w.messageLabel.text()
    w.step_batch()
    qtbot.waitUntil(lambda: w.last_snapshot.step == 1, timeout=10000)


def test_the_view_menu_stores_where_the_trainer_runs_for_the_next_start(qtbot, monkeypatch, tmp_path):
    from gui.app import settings as stored
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    w = process_window(qtbot, monkeypatch, settings)
    w.trainerAction.setChecked(False)
    assert settings.value(stored.TRAINER_KEY) == "thread" and stored.stored_trainer(settings) == "thread"
    assert w.messageLabel.text() == ("The trainer will run in the window's process from the next start; it stays "
                                     "in a process of its own until then.")
    assert w.worker.mode == "process"
    w.trainerAction.setChecked(True)
    assert stored.stored_trainer(settings) == "process" and "kept for the next starts" in w.messageLabel.text()
    settings.setValue(stored.TRAINER_KEY, "<b>fork</b>")
    assert stored.stored_trainer(settings) is None   # an unusable value: chosen by the cores again


def test_the_command_line_choice_comes_before_the_environment(monkeypatch):
    from gui.bridge.worker import choose_mode, current_mode
    monkeypatch.setenv(ENV, "process")
    assert current_mode() == "process"
    choose_mode("thread")
    assert current_mode() == "thread"
    choose_mode(None)
    monkeypatch.delenv(ENV)
    assert current_mode() == ("process" if len(os.sched_getaffinity(0)) >= 2 else "thread")


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_ctrl_c_in_a_terminal_closes_the_window_and_its_trainer_process(tmp_path):
    """Ctrl+C reaches the whole foreground process group: the trainer ignores it and the window ends it."""
    proc = start(["--depth", "3", "--width", "8", "--trainer", "process"], tmp_path)
    deadline = time.monotonic() + 30
    while not (kids := children_of(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kids, "no trainer process started"
    for pid in [*kids, proc.pid]:   # as a terminal's Ctrl+C does (this test's own group is pytest's)
        os.kill(pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT and "Traceback" not in err, err
    deadline = time.monotonic() + 10
    while [k for k in kids if os.path.exists(f"/proc/{k}")] and time.monotonic() < deadline:
        time.sleep(0.05)   # (multiprocessing's resource tracker ends when it reads the window's end of its pipe)
    assert not [k for k in kids if os.path.exists(f"/proc/{k}")], "a process outlived its window"


@pytest.mark.parametrize("argv, env, expected", [
    (["--trainer", "fork"], None, "main.py: error: trainer: must be one of thread, process, got 'fork'"),
    (["--trainer", "process", "--headless"], None,
     "main.py: error: --trainer cannot be used with --headless: it is for the window"),
    (["--depth", "3"], "<b>both</b>", "main.py: error: GRADFLOW_TRAINER: must be one of thread, process, "
                                      "got '<b>both</b>'"),
])
def test_a_bad_trainer_choice_exits_2_with_one_line(argv, env, expected, monkeypatch, capsys):
    import main
    if env is not None:
        monkeypatch.setenv(ENV, env)
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err == expected + "\n"


def test_the_window_draws_less_when_the_trainer_process_is_starved_of_a_core(qtbot):
    """Process mode: the GUI thread's share for frames follows the share of a core the trainer gets (read from
    the child's CPU time in shared memory): 70% while it has a core, down to the thread's 8% as it gets ~half."""
    import threading
    from types import SimpleNamespace

    from gui.bridge.worker import TrainingWorker
    w = TrainingWorker(SMALL, mode="thread")   # its link is replaced by a stand-in for a trainer process
    clock = {"cpu": 0.0}
    running = threading.Event()
    running.set()
    w._link = SimpleNamespace(running=running, pace=0.0, min_interval=0.0, drawn=threading.Event(),
                              cpu_seconds=0.0)
    w.mode = "process"

    def frames(cpu_per_wall: float, n: int = 30) -> float:
        for _ in range(n):
            time.sleep(0.025)
            clock["cpu"] += 0.025 * cpu_per_wall
            w._link.cpu_seconds = clock["cpu"]
            w.acknowledge(0.005)          # 5 ms of GUI CPU per frame
        return w._link.min_interval
    assert frames(1.0) == pytest.approx(max(1 / 30, 0.005 / 0.7))    # a core of its own: the 30/s cap
    slow = frames(0.5)
    assert slow == pytest.approx(0.005 / 0.08, rel=0.2)              # about half a core: the thread's share
    assert frames(1.0, 40) == pytest.approx(1 / 30, rel=0.05)         # and back
    w._link.pace = 10.0                                               # paced: it idles by choice, not starved
    assert frames(0.2) == pytest.approx(1 / 30)


def test_the_pacing_follows_the_average_frame_not_the_last_one(qtbot):
    """Process mode: snapshots are spaced by the GUI thread's average CPU a frame (smoothed), so one slow frame
    (a garbage collection, an axis laid out anew) does not halve the frame rate; a lasting change is followed."""
    import threading
    from types import SimpleNamespace

    from gui.bridge.worker import TrainingWorker
    w = TrainingWorker(SMALL, mode="thread")
    running = threading.Event()
    w._link = SimpleNamespace(running=running, pace=0.0, min_interval=0.0, drawn=threading.Event(),
                              cpu_seconds=None)
    w.mode = "process"
    share = TrainingWorker.GUI_SHARE["process"]
    w.acknowledge(2.0)                                     # a costly frame while not running (a rebuild)...
    running.set()
    w.acknowledge(0.030)                                   # ...is not averaged into a run's frames
    assert w._link.min_interval == pytest.approx(0.030 / share, rel=1e-3)
    for _ in range(20):
        w.acknowledge(0.030)
    w.acknowledge(0.300)                                   # one frame ten times as costly: counted as twice
    assert w._link.min_interval == pytest.approx((0.030 + 0.3 * 0.030) / share, rel=1e-3)
    assert w._link.min_interval < 0.300 / share / 5        # not the slow frame's own spacing
    for _ in range(20):
        w.acknowledge(0.100)                               # frames that stay three times as costly
    assert w._link.min_interval == pytest.approx(0.100 / share, rel=0.01)
