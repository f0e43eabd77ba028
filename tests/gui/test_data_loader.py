"""Issue 25: a large data file is read off the GUI thread, with a progress bar and Cancel; the window keeps
drawing meanwhile, and a cancelled or refused file changes nothing."""
import os
import time

import numpy as np
import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QMessageBox, QPushButton

import core.data.userdata as userdata
from gui.files import data_loader


def write_rows(path, n, bad_line=None):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3))
    lines = [",".join(f"{v:.6f}" for v in row) + f",{int(row[0] > 0)}" for row in X]
    if bad_line is not None:
        lines[bad_line - 1] = "1,2,xyz,0"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def slow_reader(monkeypatch):
    """Small blocks, each a little slow: a read that lasts long enough to watch and to cancel."""
    monkeypatch.setattr(userdata, "CHUNK_BYTES", 16 << 10)
    original = userdata._parse_block

    def slow(*args):
        time.sleep(0.02)
        return original(*args)
    monkeypatch.setattr(userdata, "_parse_block", slow)


def test_a_large_file_is_read_in_a_thread_while_the_window_keeps_drawing(small_window, qtbot, tmp_path, slow_reader):
    w = small_window
    path = write_rows(tmp_path / "big.csv", 40_000)
    assert os.path.getsize(path) >= data_loader.BACKGROUND_BYTES
    ticks = []
    timer = QTimer(w)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    started = time.monotonic()
    with qtbot.waitSignal(w.model.rebuilt, timeout=60000) as blocker:
        assert w.open_data(path) is True   # returns at once: the reading has only started
        assert time.monotonic() - started < 0.5
        loader = w.files.loader
        assert loader.reader.thread() is loader.thread and loader.thread is not QThread.currentThread()
        qtbot.waitUntil(lambda: loader.dialog.value() > 0, timeout=30000)   # the bar moves
    took = time.monotonic() - started
    timer.stop()
    assert took > 0.5, "the read should last a while with slow blocks"
    gaps = np.diff([started] + ticks)
    assert gaps.max() < 0.4, f"the GUI thread stalled {gaps.max():.2f} s while the file was read"
    snap = blocker.args[0]
    assert snap.data_source["path"] == os.path.abspath(path)
    assert "40000 rows, 3 features, binary classification" in w.messageLabel.text()
    assert loader.thread is None and not loader.dialog.isVisible()


def test_cancel_stops_the_read_and_nothing_changes(small_window, qtbot, tmp_path, slow_reader):
    w = small_window
    path = write_rows(tmp_path / "big.csv", 40_000)
    gen, source = w.last_snapshot.generation, w.model.data_source
    assert w.open_data(path)
    loader = w.files.loader
    qtbot.waitUntil(lambda: loader.dialog.value() > 0, timeout=30000)
    (button,) = loader.dialog.findChildren(QPushButton)
    assert button.text() == "Cancel"
    button.click()
    qtbot.waitUntil(lambda: loader.thread is None, timeout=30000)
    assert "cancelled; the data is unchanged" in w.messageLabel.text()
    qtbot.wait(100)
    assert w.model.data_source == source and w.last_snapshot.generation == gen
    assert loader.dialog.value() < 1000   # stopped before the end


def test_a_bad_large_file_is_refused_with_the_line(small_window, qtbot, tmp_path):
    w = small_window
    path = write_rows(tmp_path / "bad.csv", 40_000, bad_line=39_000)
    source = w.model.data_source
    assert w.open_data(path)
    qtbot.waitUntil(lambda: w.files.loader.thread is None, timeout=60000)
    boxes = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "line 39000, column 3: 'xyz' is not a number" in boxes[0].text()
    assert w.model.data_source == source


def test_a_second_file_while_one_is_read_is_refused_and_closing_stops_the_reader(small_window, qtbot, tmp_path,
                                                                                 slow_reader):
    w = small_window
    path = write_rows(tmp_path / "big.csv", 40_000)
    assert w.open_data(path)
    assert w.open_data(path) is False
    assert "is still being read" in w.messageLabel.text()
    loader = w.files.loader
    w.shutdown()   # what closing the window does: the reader's thread is joined, nothing is loaded
    assert loader.thread is None and loader.cancel.is_set()
