"""Reading a data file off the GUI thread, with a progress bar and Cancel (issue 25).

A 400k-row CSV takes seconds to parse; read in the GUI thread it froze the window. ``DataLoader`` reads it
with core's reader (``core.data.userdata.load_for``) in a QThread of its own while a progress dialog shows
how much of the file is read; Cancel sets a ``threading.Event`` that the reader checks between blocks, and
nothing is loaded. A file smaller than ``BACKGROUND_BYTES`` reads in a blink and is opened at once.
"""
from __future__ import annotations

import os
import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog

from core import ConfigError
from core.data.userdata import Cancelled, load_for
from core.runtime.resources import check_fits
from core.training.trainer import check_data

BACKGROUND_BYTES = 1 << 20   # about 20k rows: under this, reading takes a few milliseconds


class _Reader(QObject):
    """Runs in the loader's thread: reads, checks, and reports one of loaded / failed / cancelled."""
    progressed = Signal(int)       # per mille of the file read
    loaded = Signal(object)        # the Dataset
    failed = Signal(str)           # what is wrong, naming the file
    cancelled = Signal()

    def __init__(self, config, path: str, cancel: threading.Event):
        super().__init__()
        self.config, self.path, self.cancel = config, path, cancel

    @Slot()
    def run(self) -> None:
        try:
            data = load_for(self.config, self.path, self._progress, self.cancel)
            check_fits(self.config, data.n_features)
            check_data(self.config, data)
        except Cancelled:
            self.cancelled.emit()
        except ConfigError as e:
            self.failed.emit(f"Could not open {self.path}: {e}")
        except MemoryError:
            self.failed.emit(f"Could not open {self.path}: data: it does not fit in the memory available")
        else:
            self.loaded.emit(data)

    def _progress(self, done: int, total: int) -> None:
        self.progressed.emit(int(1000 * done / total) if total else 1000)


class DataLoader(QObject):
    """One data file being read for ``window``; ``on_loaded(data)`` or ``on_failed(text)`` runs in the GUI
    thread when it is done; a cancelled read calls neither and says so on the message line."""

    def __init__(self, window, config, path: str, on_loaded, on_failed):
        super().__init__(window)
        self.window, self.path = window, path
        self._on_loaded, self._on_failed = on_loaded, on_failed
        self.cancel = threading.Event()
        self.dialog = QProgressDialog(f"Reading {os.path.basename(path)}…", "Cancel", 0, 1000, window)
        self.dialog.setMinimumWidth(360)
        self.dialog.setObjectName("dataProgressDialog")
        self.dialog.setWindowTitle("Open data")
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setWindowModality(Qt.NonModal)   # the window keeps drawing and answering
        self.dialog.canceled.connect(self.cancel.set)
        self.thread = QThread()   # no parent: Python owns it, and it is finished before it is let go
        self.reader = _Reader(config, path, self.cancel)
        self.reader.moveToThread(self.thread)
        self.thread.started.connect(self.reader.run)
        self.reader.progressed.connect(self.dialog.setValue)
        self.reader.loaded.connect(self._loaded)
        self.reader.failed.connect(self._failed)
        self.reader.cancelled.connect(self._cancelled)

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        self.dialog.show()
        self.thread.start()

    def stop(self) -> None:
        """Cancel and wait for the thread (the window is closing)."""
        if self.thread is not None:
            self.cancel.set()
            self._finish()

    def _finish(self) -> None:
        self.thread.quit()
        self.thread.wait()
        self.thread = None
        self.dialog.canceled.disconnect(self.cancel.set)   # closing a QProgressDialog emits canceled
        self.dialog.close()

    def _loaded(self, data) -> None:
        assert QThread.currentThread() is self.window.thread()
        if self.thread is None:
            return
        self._finish()
        if not self.cancel.is_set():
            self._on_loaded(data)

    def _failed(self, text: str) -> None:
        if self.thread is not None:
            self._finish()
            self._on_failed(text)

    def _cancelled(self) -> None:
        if self.thread is not None:
            self._finish()
            self.window.model.say(f"Did not open {self.path}: cancelled; the data is unchanged.")

