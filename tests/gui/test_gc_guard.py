"""Python's cyclic garbage collector runs only in the GUI thread while a trainer thread lives (gui/bridge/gc_guard.py):
a collection in the trainer's thread could destroy a closed window's Qt objects there and deadlock with the
GUI thread (Qt's connection lock against the GIL)."""
import gc
import threading

import pytest

from gui.bridge import gc_guard

from .conftest import SMALL


@pytest.mark.thread_only("makes garbage in the trainer's thread by patching core.training.session in this process")
def test_every_collection_runs_in_the_gui_thread_while_training(small_window, qtbot, monkeypatch):
    import core.training.session
    w = small_window
    threads = []
    real = core.training.session.Session.train_one_batch

    def littering(self, *args, **kwargs):   # reference cycles made in the trainer's thread: collections fall due
        for _ in range(400):
            a, b = [], []
            a.append(b)
            b.append(a)
        return real(self, *args, **kwargs)

    def seen(phase, info):
        if phase == "start":
            threads.append(threading.current_thread())

    monkeypatch.setattr(core.training.session.Session, "train_one_batch", littering)
    assert gc_guard.active() and not gc.isenabled()
    gc.callbacks.append(seen)
    try:
        w.set_config(SMALL.replace(epochs=400, samples=400, batch_size=8))
        w.toggle_run()
        qtbot.waitUntil(lambda: len(threads) >= 5, timeout=20000)
        w.toggle_run()
    finally:
        gc.callbacks.remove(seen)
    assert all(t is threading.main_thread() for t in threads), {t.name for t in threads}


def test_collection_is_python_s_again_once_the_last_trainer_thread_ends(qtbot):
    from gui.app.main_window import MainWindow
    assert gc.isenabled() and not gc_guard.active()
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    assert gc_guard.active() and not gc.isenabled()
    w.shutdown()
    assert gc.isenabled() and not gc_guard.active()
