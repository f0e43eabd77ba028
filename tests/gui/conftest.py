
import os
import signal

import pytest
from PySide6.QtCore import QThread

import core.runtime.runner_process
from core import ExperimentConfig
from core.runtime.runner_process import ENV, MODES

# The tests of the wiring (marked ``wiring``: what crosses to the trainer and back, commands and snapshots,
# pause, stop, rebuild, close, crash) run twice: with the trainer in the window's worker thread and in a
# process of its own (the window, the tests and the command line cannot tell which is running). Tests of
# what a view draws run once, with the thread, or with the mode GRADFLOW_TRAINER names
# (GRADFLOW_TRAINER=process pytest tests/gui runs every window test with a trainer process).


def pytest_configure(config):
    config.addinivalue_line("markers", "thread_only(reason): the test patches the trainer's code in this process, "
                                       "which a trainer process would not see")
    config.addinivalue_line("markers", "wiring: the test checks what crosses between the window and its trainer; "
                                       "it runs with a trainer thread and with a trainer process")


def pytest_generate_tests(metafunc):
    if ("trainer_mode" in metafunc.fixturenames and metafunc.definition.get_closest_marker("wiring") is not None
            and metafunc.definition.get_closest_marker("thread_only") is None):
        metafunc.parametrize("trainer_mode", MODES, indirect=True)


@pytest.fixture(autouse=True)
def trainer_mode(request, monkeypatch):
    """Where the windows and session models this test makes run their trainer."""
    import gui.bridge.worker
    thread_only = request.node.get_closest_marker("thread_only") is not None
    mode = getattr(request, "param", None) or ("thread" if thread_only else os.environ.get(ENV) or "thread")
    monkeypatch.setenv(ENV, mode)
    yield mode
    gui.bridge.worker.choose_mode(None)   # a test of the command line may have chosen one for this process


_children: list = []   # pids of the trainer processes started
_original_init = core.runtime.runner_process.TrainerProcess.__init__


def _recording_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    _children.append(self.process.pid)


core.runtime.runner_process.TrainerProcess.__init__ = _recording_init


@pytest.fixture(autouse=True)
def no_trainer_process_left():
    """Fail any test that leaves a trainer process running, or ended but not joined (a zombie):
    /proc still lists both."""
    _children.clear()
    yield
    left = [pid for pid in _children if os.path.exists(f"/proc/{pid}")]
    for pid in left:   # end them so the rest of the suite survives, then fail
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    assert not left, f"test left {len(left)} trainer process(es) running or unjoined: {left}"

_started: list = []
_original_start = QThread.start


def _recording_start(self, *args, **kwargs):
    _started.append(self)
    return _original_start(self, *args, **kwargs)


QThread.start = _recording_start


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail any test that leaves a QThread running: at teardown it would abort the whole run."""
    _started.clear()
    yield
    running = [t for t in _started if t.isRunning()]
    for t in running:  # stop them so the rest of the suite survives, then fail
        t.quit()
        t.wait(5000)
    assert not running, f"test left {len(running)} QThread(s) running"


SMALL = ExperimentConfig(depth=3, width=8, samples=200, batch_size=32, epochs=5)
SMALL_RNN = ExperimentConfig(model="rnn", activation="tanh", dataset="recall", seq_len=12, width=8, depth=1,
                             samples=120, batch_size=32, epochs=2)   # the window tests' small recurrent network


@pytest.fixture
def window(qtbot):
    from gui.app.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    yield w
    assert w.shutdown(), "worker thread did not stop"


@pytest.fixture(scope="module")
def shared_window(qapp):
    """One MainWindow for a module's tests that each set all they look at (a story, a size) and only read the
    window then: building one costs about 0.7 s of CPU, more than most such tests. Its trainer runs where a
    test's own window's would (the trainer_mode fixture's choice for a test that is not ``wiring``)."""
    import time

    from gui.app.main_window import MainWindow
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, os.environ.get(ENV) or "thread")
        w = MainWindow()
        deadline = time.monotonic() + 5
        while w.last_snapshot is None:
            assert time.monotonic() < deadline, "the shared window drew no snapshot in 5 s"
            qapp.processEvents()
            time.sleep(0.01)
        yield w
        ended = w.shutdown()
        w.close()
        w.deleteLater()
        qapp.processEvents()
        assert ended, "worker thread did not stop"


def chosen_story(qtbot, w, name) -> None:
    """Choose story ``name`` as a click on the picker's entry would, and wait until the window trains its
    settings: a new network, or the same one with a setting applied live (exploding -> clipping-fix: clip_norm)."""
    from core.stories.presets import get_preset
    config = get_preset(name).config()
    gen, same = w.last_snapshot.generation, w.last_snapshot.config == config
    i = w.presetCombo.findData(name)
    w.presetCombo.setCurrentIndex(i)
    w.presetCombo.activated.emit(i)
    qtbot.waitUntil(lambda: w.config == config and w.model.story == name
                    and (same or w.last_snapshot.generation > gen or w.last_snapshot.config == config), timeout=10000)


@pytest.fixture
def small_window(window, qtbot):
    gen = window.last_snapshot.generation
    window.set_config(SMALL)
    qtbot.waitUntil(lambda: window.last_snapshot.generation > gen, timeout=5000)
    return window


def rebuilt_with_config(w, qtbot, config) -> None:
    """Set ``config`` and wait for the network it builds (a newer generation)."""
    gen = w.last_snapshot.generation
    w.set_config(config)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=5000)


def epochs_stepped(w, qtbot, n: int) -> None:
    """Step ``n`` epochs one after the other, each drawn before the next."""
    for _ in range(n):
        e = w.last_snapshot.epoch
        w.step_epoch()
        qtbot.waitUntil(lambda: w.last_snapshot.epoch > e and not w.model._step_pending, timeout=10000)


@pytest.fixture(scope="module")
def shared_dashboard(qapp):
    """One Dashboard (tests/gui/recorded.py's Replay) for a module's tests of what the views draw: building
    one costs most of a window's start, and a replay's first snapshot (REBUILT) clears every panel."""
    from tests.gui.recorded import Replay
    replay = Replay()
    yield replay
    replay.widget.close()
    replay.widget.deleteLater()


@pytest.fixture
def dashboard(shared_dashboard):
    """The module's Dashboard with a new window's view settings (log scale, fit, quantity, theory off)."""
    shared_dashboard.reset_view_settings()
    return shared_dashboard
