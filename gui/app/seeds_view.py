"""View > Many seeds: the current config built from N seeds (core.measure.seeds, through the sweep executors, off the
GUI thread), the band of log10 ||dL/dz_l|| per layer (median, 10-90%) beside Hanin & Rolnick's predicted fan.
Every number drawn is core's: the band and the fan come from core.measure.seeds."""
from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from core.config import ConfigError
from gui.panels.plotting import _plot, layer_ticks
from gui.bridge.background import BackgroundJob, JobDialog

MEDIAN, BAND, FAN = "#2b5fad", (43, 95, 173, 70), "#c4302b"


class SeedsWorker(QObject):
    progressed = Signal(int, int)
    done = Signal(object, str)   # (log10 norms or None, error)

    def __init__(self, config, seeds: int, inputs: int, stop: threading.Event, workers):
        super().__init__()
        self.config, self.seeds, self.inputs, self.stop, self.workers = config, seeds, inputs, stop, workers

    @Slot()
    def run(self) -> None:
        from core.measure.seeds import seed_delta_norms
        from core.sweep import make_executor
        logs, error, executor = None, "", None
        try:
            executor = make_executor(self.workers)
            logs = seed_delta_norms(self.config, self.seeds, executor, stop=self.stop, inputs=self.inputs,
                                    progress=lambda d, t: self.progressed.emit(d, t))
        except ConfigError as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - the dialog must hear back
            error = f"{type(e).__name__}: {e}"
        finally:
            if executor is not None:
                executor.close(wait=True)
        self.done.emit(logs, error)


class SeedsDialog(JobDialog):
    def __init__(self, config, parent=None, workers: int | None = None):
        super().__init__(parent)
        self.setObjectName("seedsDialog")
        self.setWindowTitle("Many seeds: the spread of ||dL/dz_l|| over initialisations")
        self.config, self.workers = config, workers
        self._job = BackgroundJob()   # the seeds, off the GUI thread
        self.plot = _plot("log10 ‖dL/dz_l‖ over seeds at initialisation", "log10 ‖dL/dz‖", "layer",
                          "The median (line) and 10-90% band over seeds; dashed: Hanin & Rolnick's predicted "
                          "10-90% band around the median (ReLU MLPs).", "seedsPlot")
        self.plot.addLegend(offset=(-10, 10))
        self.lo = self.plot.plot([], [], pen=pg.mkPen(None))
        self.hi = self.plot.plot([], [], pen=pg.mkPen(None))
        self.fill = pg.FillBetweenItem(self.lo, self.hi, brush=pg.mkBrush(*BAND))
        self.plot.addItem(self.fill)
        self.median = self.plot.plot([], [], pen=pg.mkPen(MEDIAN, width=2), symbol="o", symbolSize=5,
                                     symbolBrush=MEDIAN, name="median over seeds (shaded: 10-90%)")
        self.fan_lo = self.plot.plot([], [], pen=pg.mkPen(FAN, style=Qt.DashLine, width=2),
                                     name="Hanin & Rolnick: predicted 10-90%")
        self.fan_hi = self.plot.plot([], [], pen=pg.mkPen(FAN, style=Qt.DashLine, width=2))
        self.seedsSpin = QSpinBox(self)
        self.seedsSpin.setRange(2, 2000)
        self.seedsSpin.setValue(32)
        self.seedsSpin.setFocusPolicy(Qt.StrongFocus)   # no wheel changes unless focused
        self.oneInput = QCheckBox("one input (the theorem's setting)", self)
        self.runButton = QPushButton("Run", self)
        self.runButton.clicked.connect(lambda _=False: self.start())
        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.PlainText)
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        for w in (QLabel("Seeds", self), self.seedsSpin, self.oneInput, self.runButton):
            row.addWidget(w)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)
        self.resize(760, 520)

    @property
    def running(self) -> bool:
        return self._job.running

    def start(self) -> bool:
        if self._job.running:
            return False
        from core.nn.kinds import kind_of
        if kind_of(self.config).sequences:
            self.status.setText("The per-layer band is for MLPs; this network is recurrent.")
            return False
        self.show_logs(None)
        inputs, n = (1 if self.oneInput.isChecked() else 1024), self.seedsSpin.value()
        self._job.start(lambda stop: SeedsWorker(self.config, n, inputs, stop, self.workers),
                        progressed=self._on_progress, done=self._on_done)
        self.runButton.setEnabled(False)
        return True

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self._job.is_current(self.sender()):
            self.status.setText(f"{done} of {total} seeds")

    @Slot(object, str)
    def _on_done(self, logs, error: str) -> None:
        if not self._job.is_current(self.sender()):
            return
        self._job.finish()
        self.runButton.setEnabled(True)
        if error:
            self.status.setText(f"The run failed: {error}")
        else:
            self.show_logs(logs)

    def show_logs(self, logs) -> None:
        """Draw the band and the fan of ``logs`` (seeds x layers), or clear the plot (None)."""
        from core.measure.seeds import band, hanin_fan
        empty = np.zeros(0)
        if logs is None or len(logs) == 0:
            for item in (self.lo, self.hi, self.median, self.fan_lo, self.fan_hi):
                item.setData(empty, empty)
            return
        lo, med, hi = band(logs)
        layers = np.arange(1, len(med) + 1, dtype=float)
        self.lo.setData(layers, lo)
        self.hi.setData(layers, hi)
        self.median.setData(layers, med)
        fan = hanin_fan(self.config, med)
        self.fan_lo.setData(layers if fan else empty, fan[0] if fan else empty)
        self.fan_hi.setData(layers if fan else empty, fan[1] if fan else empty)
        self.plot.getAxis("bottom").setTicks([layer_ticks(len(med))])
        widest = int(np.nanargmax(hi - lo))
        self.status.setText(
            f"{len(logs)} seeds: the 10-90% band of log10 ‖dL/dz‖ is widest at layer {widest + 1} "
            f"({hi[widest] - lo[widest]:.2f} decades; the last layer is the output). " +
            ("Dashed: Hanin & Rolnick's 10-90% band, median ± 1.28·√(5 Σ_{j≥l} 1/n_j) / (2 ln 10), "
             f"{fan[1][0] - fan[0][0]:.2f} decades at layer 1." if fan else
             "No fan: Hanin & Rolnick's theorem is for plain ReLU networks."))

    def stop(self) -> None:
        if self._job.stop():
            self.runButton.setEnabled(True)


def open_seeds(parent, config, workers: int | None = None) -> SeedsDialog:
    dialog = SeedsDialog(config, parent, workers)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog
