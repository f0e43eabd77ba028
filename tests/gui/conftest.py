
import pytest
from PySide6.QtCore import QThread

from core import ExperimentConfig

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


@pytest.fixture
def window(qtbot):
    from gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    yield w
    assert w.shutdown(), "worker thread did not stop"


@pytest.fixture
def small_window(window, qtbot):
    gen = window.last_snapshot.generation
    window.set_config(SMALL)
    qtbot.waitUntil(lambda: window.last_snapshot.generation > gen, timeout=5000)
    return window
