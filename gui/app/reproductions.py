"""Help > Reproductions: the gallery's table (core.stories.reproductions), run one or all off the GUI thread with a
progress bar, and a row's setup opened as a story in the main window. Every number shown is core's."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from core.config import ConfigError, ExperimentConfig
from core.stories.reproductions import REPRODUCTIONS
from gui.bridge.background import BackgroundJob, JobDialog

COLUMNS = ("Name", "Paper", "Quantity", "Published", "Measured", "Band", "Result", "Seconds")


class GalleryWorker(QObject):
    """Runs reproductions through a sweep executor off the GUI thread; emits (name, rows) as each finishes."""
    finished_one = Signal(object)
    done = Signal(str)   # "" when all finished or it was stopped; else the error

    def __init__(self, names: list, stop: threading.Event, workers: int | None):
        super().__init__()
        self.names, self.stop, self.workers = names, stop, workers

    @Slot()
    def run(self) -> None:
        from core.stories.reproductions.gallery import run_all
        from core.sweep import make_executor
        error, executor = "", None
        try:
            executor = make_executor(self.workers)
            reps = [REPRODUCTIONS[n] for n in self.names]
            for i, rows in run_all(reps, executor, stop=self.stop):
                self.finished_one.emit((reps[i].name, list(rows)))
                if self.stop.is_set():
                    break
        except ConfigError as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - the dialog must hear back, or it waits forever
            error = f"{type(e).__name__}: {e}"
        finally:
            if executor is not None:
                executor.close(wait=True)
        self.done.emit(error)


def _num(x: float) -> str:
    return "—" if x != x else f"{x:.4g}"   # NaN: a qualitative claim, no number published


class ReproductionsDialog(JobDialog):
    def __init__(self, parent=None, on_open=None, workers: int | None = None):
        super().__init__(parent)
        self.setObjectName("reproductionsDialog")
        self.setWindowTitle("Reproductions: published results, measured here")
        self.on_open, self.workers = on_open, workers
        self._job = BackgroundJob()   # the gallery, off the GUI thread
        self._rows_of: dict[str, list[int]] = {}
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("reproductionsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self._fill()
        self.progress = QProgressBar(self)
        self.progress.setObjectName("reproductionsProgress")
        self.status = QLabel("Pick a row and run it, or run them all. Open as story loads a row's setup.", self)
        self.status.setTextFormat(Qt.PlainText)
        self.status.setWordWrap(True)
        self.runButton = self._button("Run selected", "runSelectedButton", self.run_selected)
        self.runAllButton = self._button("Run all", "runAllButton", self.run_all)
        self.stopButton = self._button("Stop", "stopReproductionsButton", self.stop)
        self.openButton = self._button("Open as story", "openStoryButton", self.open_selected)
        self.stopButton.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.runButton, self.runAllButton, self.stopButton, self.openButton):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.resize(1100, 520)

    def _button(self, text, name, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.clicked.connect(lambda _=False: slot())
        return b

    def _fill(self) -> None:
        for rep in REPRODUCTIONS.values():
            for c in rep.checks:
                r = self.table.rowCount()
                self.table.insertRow(r)
                self._rows_of.setdefault(rep.name, []).append(r)
                for col, text in enumerate((rep.name, rep.paper, c.quantity, _num(c.published), "",
                                            f"[{_num(c.low)}, {_num(c.high)}]", "", "")):
                    item = QTableWidgetItem(text)
                    item.setToolTip(rep.setup if col < 3 else text)
                    self.table.setItem(r, col, item)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(1, 260)
        self.table.setColumnWidth(2, 300)

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    # -- running ----------------------------------------------------------------------------
    def run_selected(self) -> bool:
        name = self.selected_name()
        if name is None:
            self.status.setText("Select a row first.")
            return False
        return self.start([name])

    def run_all(self) -> bool:
        return self.start(list(REPRODUCTIONS))

    def start(self, names: list) -> bool:
        if self._job.running:
            return False
        for n in names:   # nothing of an earlier run stays on the rows about to be measured
            for r in self._rows_of[n]:
                for col in (4, 6, 7):
                    self.table.item(r, col).setText("")
        self._pending = len(names)
        self.progress.setRange(0, len(names))
        self.progress.setValue(0)
        self._job.start(lambda stop: GalleryWorker(names, stop, self.workers), finished_one=self._on_result,
                        done=self._on_done)
        self.runButton.setEnabled(False)
        self.runAllButton.setEnabled(False)
        self.stopButton.setEnabled(True)
        self.status.setText(f"Running {len(names)} reproduction{'s' * (len(names) > 1)}…")
        return True

    @property
    def running(self) -> bool:
        return self._job.running

    @Slot(object)
    def _on_result(self, result) -> None:
        assert self.thread() is QThread.currentThread()
        if not self._job.is_current(self.sender()):
            return
        name, rows = result
        for r, row in zip(self._rows_of[name], rows):
            self.table.item(r, 4).setText(_num(row.measured))
            self.table.item(r, 6).setText("pass" if row.passed else "FAIL")
            self.table.item(r, 7).setText(f"{row.seconds:.1f}")
        self.progress.setValue(self.progress.value() + 1)

    @Slot(str)
    def _on_done(self, error: str) -> None:
        if not self._job.is_current(self.sender()):
            return
        stopped = self._job.stop_flag.is_set()
        self._job.finish()
        self._idle_buttons()
        failed = sum(self.table.item(r, 6).text() == "FAIL" for r in range(self.table.rowCount()))
        self.status.setText(f"The run failed: {error}" if error else
                            f"{'Stopped' if stopped else 'Done'}: {self.progress.value()} run, "
                            f"{failed} check{'s' * (failed != 1)} failing.")

    def stop(self) -> None:
        if not self._job.stop():
            return
        self._idle_buttons()
        self.status.setText("Stopped.")

    def _idle_buttons(self) -> None:
        """The buttons once the gallery's thread has ended."""
        self.runButton.setEnabled(True)
        self.runAllButton.setEnabled(True)
        self.stopButton.setEnabled(False)

    # -- a row as a story -------------------------------------------------------------------
    def open_selected(self) -> bool:
        name = self.selected_name()
        if name is None:
            self.status.setText("Select a row first.")
            return False
        rep = REPRODUCTIONS[name]
        if not rep.story:
            self.status.setText(f"{rep.name} runs the Transformer engine directly: it is not a model kind of the "
                                "window yet, so it has no story to open.")
            return False
        if self.on_open is not None:
            self.on_open(ExperimentConfig.from_dict(dict(rep.story)), f"{rep.name}: {rep.setup}")
        self.status.setText(f"Opened {rep.name} in the window.")
        return True


def open_reproductions(parent, on_open, workers: int | None = None) -> ReproductionsDialog:
    dialog = ReproductionsDialog(parent, on_open, workers)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog
