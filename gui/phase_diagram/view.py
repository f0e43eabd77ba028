"""The phase-diagram view: a sweep over two settings, drawn cell by cell as a heatmap while it runs.

Everything it shows is computed by ``core``: the cells by ``core.sweep`` (in a background thread that
streams them), the grid by ``core.sweep.metric_grid``, the 6 xi_c line and the critical sigma_w^2 by
``core.measure.theory.trainability_boundary``. Clicking a cell hands its config to the caller's ``on_pick``.

    dialog = open_phase_diagram(window, window.config, on_pick=window.set_config)
"""
from __future__ import annotations

import math
import sys

from PySide6.QtCore import Qt, QThread, Slot
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout)

from core.config import FIELD_SPECS, ConfigError, ExperimentConfig
from core.io.formats import CSV, PHASE, PNG, FormatError
from core.io.records import write_atomically
from core.measure.theory import trainability_boundary
from core.sweep import METRICS, SWEEP_PRESETS, cell_text, make_plan, plan_from_csv, sorted_csv

from gui.bridge.background import BackgroundJob, JobDialog
from gui.files.export import widget_png, write_image
from gui.phase_diagram.plot import METRIC_VIEWS, PhasePlot, _index, _label  # noqa: F401  (_index: for tests)
from gui.phase_diagram.worker import SweepWorker

PAPER = "deep-information-propagation"
EMIT_INTERVAL = 0.05  # at most 20 batches of rows a second cross to the window


class PhaseDiagram(JobDialog):
    """Pick two axes and a metric, run, watch the heatmap fill; the theory's boundary on top."""

    def __init__(self, base_config: ExperimentConfig, on_pick=None, parent=None, workers: int | None = None):
        super().__init__(parent)
        self.setWindowTitle("Phase diagram")
        self.base = base_config
        self.on_pick = on_pick
        self.workers = workers
        self.plan = None            # the plan on screen
        self.rows: dict = {}        # its finished cells, by cell; the one copy
        self.boundary = None
        self._job = BackgroundJob()   # the sweep, off the GUI thread
        self._build()

    # -- layout -----------------------------------------------------------------------
    def _build(self) -> None:
        controls = QGridLayout()
        self.xField, self.xValues = self._axis_row(controls, 0, "Across", "init_gain", "1:2:7")
        self.yField, self.yValues = self._axis_row(controls, 1, "Up", "depth", "2:30:8")
        self.metricCombo = QComboBox(objectName="metricCombo")
        for m in METRICS:
            self.metricCombo.addItem(METRIC_VIEWS[m][0], m)
        self.metricCombo.setCurrentIndex(self.metricCombo.findData("val_accuracy"))
        self.metricCombo.currentIndexChanged.connect(self._redraw)
        self.epochsSpin = QSpinBox(objectName="epochsSpin", minimum=0, maximum=100_000)
        self.epochsSpin.setValue(self.base.epochs)
        self.epochsSpin.setToolTip("epochs per cell; 0 measures at initialisation only")
        controls.addWidget(QLabel("Colour"), 2, 0)
        controls.addWidget(self.metricCombo, 2, 1, 1, 2)
        controls.addWidget(QLabel("Epochs"), 2, 3)
        controls.addWidget(self.epochsSpin, 2, 4)
        buttons = QHBoxLayout()
        self.runButton = self._button(buttons, "runButton", "Run", self.start)
        self.stopButton = self._button(buttons, "stopButton", "Stop", self.stop)
        self.stopButton.setEnabled(False)
        self.presetButton = self._button(buttons, "presetButton", "Paper's grid", lambda: self.use_preset(PAPER))
        self.presetButton.setToolTip(SWEEP_PRESETS[PAPER].summary)
        self._button(buttons, "openButton", "Open CSV…", self._ask_open)
        for fmt in PHASE.formats:
            name = fmt.ext[1:].upper()
            self._button(buttons, f"export{name}Button", f"Export {name}…", lambda _=False, e=fmt.ext: self._ask_export(e))
        self.status = QLabel(objectName="statusLabel", textFormat=Qt.PlainText, wordWrap=True)
        self.phasePlot = p = PhasePlot()
        self.plotWidget, self.image, self.colorBar, self.legend = p.plotWidget, p.image, p.colorBar, p.legend
        self.depthLine, self.criticalLine, self.criticalLegend = p.depthLine, p.criticalLine, p.criticalLegend
        self.divergedMarks = p.divergedMarks
        self.plotWidget.scene().sigMouseClicked.connect(self._on_click)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(buttons)
        layout.addWidget(self.plotWidget, 1)
        layout.addWidget(self.status)
        self.resize(760, 620)

    def _axis_row(self, grid, row, label, field, values):
        combo = QComboBox(objectName=f"{label.lower()}FieldCombo")
        for name, spec in FIELD_SPECS.items():
            combo.addItem(name, name)
        combo.setCurrentIndex(combo.findData(field))
        edit = QLineEdit(values, objectName=f"{label.lower()}ValuesEdit")
        edit.setToolTip("V1,V2,... or START:STOP:COUNT (COUNT points, both ends included)")
        grid.addWidget(QLabel(label), row, 0)
        grid.addWidget(combo, row, 1)
        grid.addWidget(edit, row, 2, 1, 3)
        return combo, edit

    @staticmethod
    def _button(layout, name, text, slot):
        b = QPushButton(text, objectName=name)
        b.clicked.connect(slot)
        layout.addWidget(b)
        return b

    # -- running ------------------------------------------------------------------------
    def read_plan(self):
        """The plan the controls describe; a ConfigError names what is wrong."""
        x, y = self.xField.currentData(), self.yField.currentData()
        if x == y:
            raise ConfigError("sweep", f"sweep: the two axes must be different settings, both are {x}")
        epochs = self.epochsSpin.value()
        base = self.base if epochs == 0 else self.base.replace(epochs=epochs)
        return make_plan(base, [f"{x}={self.xValues.text()}", f"{y}={self.yValues.text()}"], init_only=epochs == 0)

    def start(self) -> bool:
        if self.running:
            return False
        try:
            plan = self.read_plan()
        except ConfigError as e:
            self.show_message(str(e), error=True)
            return False
        self.show_plan(plan, {})
        self._job.start(lambda stop: SweepWorker(plan, stop, self.workers), rows_ready=self._on_rows,
                        done=self._on_done)
        self.runButton.setEnabled(False)
        self.stopButton.setEnabled(True)
        self.show_message(f"Running {plan.size} cells…")
        return True

    @property
    def running(self) -> bool:
        return self._job.running

    def stop(self) -> None:
        """Ask the worker to stop after the cells in flight, and wait for its thread."""
        if not self._job.stop():   # waits for the cells in flight
            return
        self._idle_buttons()
        self.show_message(f"Stopped: {len(self.rows)} of {self.plan.size} cells.")

    def _idle_buttons(self) -> None:
        """The buttons once the sweep's thread has ended."""
        self.runButton.setEnabled(True)
        self.stopButton.setEnabled(False)

    @Slot(object)
    def _on_rows(self, rows) -> None:
        assert self.thread() is QThread.currentThread()
        if self.plan is None or not self._job.is_current(self.sender()):
            return  # rows of a stopped run arriving late
        from core.sweep import key_of
        self.rows.update((key_of(self.plan, r), r) for r in rows)
        self._redraw()
        self.show_message(f"{len(self.rows)} of {self.plan.size} cells")

    @Slot(str)
    def _on_done(self, error: str) -> None:
        if not self._job.is_current(self.sender()):
            return
        stopped = self._job.stop_flag.is_set()
        self._job.finish()
        self._idle_buttons()
        if error:
            self.show_message(f"The sweep failed: {error}", error=True)
        else:
            self.show_message(f"{'Stopped' if stopped else 'Done'}: {len(self.rows)} of {self.plan.size} cells.")

    # -- drawing ------------------------------------------------------------------------
    def show_plan(self, plan, rows: dict) -> None:
        """Put a plan (and the rows known for it) on screen; nothing of the previous one stays."""
        if len(plan.axes) != 2:
            raise ConfigError("sweep", f"sweep: a phase diagram needs two axes, this sweep has {len(plan.axes)}")
        self.plan, self.rows = plan, dict(rows)
        self.boundary = self._theory(plan)
        self.phasePlot.draw_axes(plan, self.boundary)
        self.phasePlot.draw_theory(plan, self.boundary)
        self._redraw()

    def load_csv(self, path: str) -> bool:
        """Show a sweep CSV written by ``main.py --sweep`` (two axes)."""
        try:
            dropped = []
            plan, rows = plan_from_csv(path, dropped)
            self.show_plan(plan, rows)
            self._show_in_controls(plan)
        except ConfigError as e:
            self.show_message(f"Could not open {path}: {e}", error=True)
            return False
        skipped = f"; {len(dropped)} corrupted rows left out (line {dropped[0][0]}: {dropped[0][1]})" if dropped else ""
        self.show_message(f"{path}: {len(rows)} of {plan.size} cells{skipped}", error=bool(dropped))
        return True

    @staticmethod
    def _theory(plan):
        """The 6 xi_c line and the critical point when one axis is depth and the other moves sigma_w^2."""
        a, b = plan.axes
        if "depth" not in (a.field, b.field):
            return None
        other = a if b.field == "depth" else b
        try:
            return trainability_boundary(plan.base, other.field, other.values)
        except (ConfigError, ValueError):
            return None

    @Slot()
    def _redraw(self) -> None:
        if self.plan is not None:
            self.phasePlot.draw(self.plan, self.rows, self.metricCombo.currentData())

    # -- picking a cell -----------------------------------------------------------------
    def _on_click(self, event) -> None:
        if self.plan is None or event.button() != Qt.LeftButton:
            return
        vb = self.plotWidget.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        self.pick(int(math.floor(p.x())), int(math.floor(p.y())))

    def pick(self, i: int, j: int):
        """Hand cell (i across, j up) to on_pick as a config; None outside the grid."""
        x, y = self.plan.axes
        if not (0 <= i < len(x.values) and 0 <= j < len(y.values)):
            return None
        config = self.plan.config((x.values[i], y.values[j]))
        if self.plan.init_only:
            config = config.replace(epochs=self.base.epochs)
        self.show_message(f"Picked {x.field}={_label(x.values[i])}, {y.field}={_label(y.values[j])}.")
        if self.on_pick is not None:
            self.on_pick(config)
        return config

    # -- files ----------------------------------------------------------------------------
    def use_preset(self, name: str) -> None:
        """Put a preset sweep's settings and axes into the controls (Run starts it)."""
        plan = SWEEP_PRESETS[name].plan()
        self._show_in_controls(plan)
        self.show_message(f"{name}: {plan.size} cells; press Run. {SWEEP_PRESETS[name].summary}")

    def _show_in_controls(self, plan) -> None:
        """The controls describe ``plan``: Run repeats it."""
        self.base = plan.base
        for (combo, edit), axis in zip(((self.xField, self.xValues), (self.yField, self.yValues)), plan.axes):
            combo.setCurrentIndex(combo.findData(axis.field))
            edit.setText(",".join(cell_text(v) for v in axis.values))
        self.epochsSpin.setValue(0 if plan.init_only else plan.base.epochs)

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a sweep", "", "Sweep CSV (*.csv)")
        if path:
            self.load_csv(path)

    def _ask_export(self, ext: str) -> None:
        fmt = next(f for f in PHASE.formats if f.ext == ext)
        path, _ = QFileDialog.getSaveFileName(self, f"Export {ext[1:].upper()}", f"phase-diagram{ext}", fmt.filter)
        if path:
            self.export(path)

    def export(self, path: str) -> bool:
        """PNG, SVG or CSV by the name's ending (core.io.formats.PHASE), through core's one write path."""
        try:
            fmt = PHASE.choose(path)
            if self.plan is None:
                raise ValueError("there is no sweep to export yet")
            if fmt is CSV:
                write_atomically(path, sorted_csv(self.plan, self.rows))
            else:   # the plot as on screen, with its axes and colour bar (gui/files/export.py)
                write_image(path, self.plotWidget, fmt, widget_png if fmt is PNG else None, "Phase diagram")
        except (OSError, ValueError, RuntimeError, FormatError) as e:
            self.show_message(f"Could not write {path}: {getattr(e, 'strerror', None) or e}", error=True)
            return False
        self.show_message(f"Exported {path}.")
        return True

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")


def open_phase_diagram(parent, base_config: ExperimentConfig, on_pick, workers: int | None = None) -> PhaseDiagram:
    """Open the phase-diagram view for ``base_config``; ``on_pick(config)`` receives a clicked cell's config."""
    dialog = PhaseDiagram(base_config, on_pick, parent, workers)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog


def render_png(csv_path: str, png_path: str, metric: str = "val_accuracy") -> bool:
    """Draw a sweep CSV with this view and export it as PNG (offscreen with QT_QPA_PLATFORM=offscreen):
    ``python -m gui.phase_diagram.view SWEEP.csv OUT.png [METRIC]``."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    dialog = PhaseDiagram(ExperimentConfig())
    dialog.metricCombo.setCurrentIndex(dialog.metricCombo.findData(metric))
    dialog.show()
    ok = dialog.load_csv(csv_path)
    app.processEvents()
    ok = ok and dialog.export(png_path)
    print(dialog.status.text(), file=sys.stdout if ok else sys.stderr)
    dialog.close()
    return ok


if __name__ == "__main__":
    from core.runtime.exits import run_entry
    from gui.phase_diagram.__main__ import NAME, main
    sys.exit(run_entry(lambda: main(sys.argv[1:]), NAME))
