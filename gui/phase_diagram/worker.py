"""The phase diagram's sweep, off the GUI thread: ``core.sweep`` streams the finished cells, this worker
hands them to the window in batches (at most 20 a second) and says when it is done."""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from core.config import ConfigError
from core.sweep import make_executor, stream_rows

EMIT_INTERVAL = 0.05  # at most 20 batches of rows a second cross to the window


class SweepWorker(QObject):
    """Runs a plan's cells off the GUI thread; emits fresh lists of finished rows, then ``done``."""
    rows_ready = Signal(object)
    done = Signal(str)  # "" when every cell finished or it was stopped; else the error

    def __init__(self, plan, stop: threading.Event, workers: int | None):
        super().__init__()
        self.plan, self.stop, self.workers = plan, stop, workers

    @Slot()
    def run(self) -> None:
        pending, last, error = [], 0.0, ""
        executor = None
        try:
            executor = make_executor(self.workers)
            for batch in stream_rows(self.plan, executor, stop=self.stop):
                pending.extend(batch)
                if time.monotonic() - last >= EMIT_INTERVAL:
                    self.rows_ready.emit(pending)
                    pending, last = [], time.monotonic()
                if self.stop.is_set():
                    break
        except ConfigError as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - a worker thread must always report back, or the view waits forever
            error = f"{type(e).__name__}: {e}"
        finally:
            if executor is not None:
                executor.close(wait=True)
        if pending:
            self.rows_ready.emit(pending)
        self.done.emit(error)
