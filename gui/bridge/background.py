"""A worker object run in a QThread of its own, stopped through a ``threading.Event`` (a queued stop slot is never
delivered while the worker's loop holds its thread): the phase diagram, the reproductions and the seeds dialogs (each a ``JobDialog``)."""
from __future__ import annotations

import threading

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QDialog


class BackgroundJob:
    """One job at a time: ``start`` makes the worker (given the stop flag) and its thread, ``stop`` asks it to stop
    and joins it, ``finish`` joins it after it said it was done. The thread has no parent: Python owns it, and it is
    joined before it is let go (a QThread destroyed while running aborts the process)."""

    def __init__(self):
        self.thread: QThread | None = None
        self.worker = None
        self.stop_flag = threading.Event()

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self, make_worker, **signals) -> None:
        """``make_worker(stop_flag)`` returns the worker (a QObject with ``run``); ``signals``: its signal names and
        the slots (of GUI-thread objects) they go to."""
        self.stop_flag = threading.Event()
        self.thread = QThread()
        self.worker = make_worker(self.stop_flag)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        for name, slot in signals.items():
            getattr(self.worker, name).connect(slot)
        self.thread.start()

    def is_current(self, sender) -> bool:
        """Whether a signal's sender is this job's worker (rows of a stopped run may still arrive)."""
        return self.worker is not None and sender is self.worker

    def finish(self) -> None:
        self.thread.quit()
        self.thread.wait()
        self.thread = self.worker = None

    def stop(self) -> bool:
        """Set the flag and join the thread (the work in flight ends first); False when nothing was running."""
        if self.thread is None:
            return False
        self.stop_flag.set()
        self.finish()
        return True


class JobDialog(QDialog):
    """A dialog that runs a BackgroundJob: closing it, Escape and its buttons' accept/reject stop the job first
    (the subclass's ``stop``), so no thread outlives the window that started it."""

    def stop(self) -> None:
        raise NotImplementedError

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.stop()
        super().done(result)
