"""The phase-diagram view: a sweep over two settings, drawn cell by cell as a heatmap while it runs.

Everything it shows is computed by ``core``: the cells by ``core.sweep`` (in a background thread that
streams them), the grid by ``core.sweep.metric_grid``, the 6 xi_c line and the critical sigma_w^2 by
``core.measure.theory.trainability_boundary``. Clicking a cell hands its config to the caller's ``on_pick``.

    dialog = open_phase_diagram(window, window.config, on_pick=window.set_config)
"""
from __future__ import annotations

import math
import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRect, Qt, QThread, Signal, Slot
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout)

from core.config import FIELD_SPECS, ConfigError, ExperimentConfig
from core.io.records import write_atomically
from core.sweep import (METRICS, SWEEP_PRESETS, cell_text, make_executor, make_plan, metric_grid, plan_from_csv,
                        sorted_csv, stream_rows)
from core.measure.theory import trainability_boundary

# metric -> (label on the colour bar, fixed levels or None for "from 0 to the largest value")
METRIC_VIEWS = {
    "val_accuracy": ("validation accuracy (0 to 1)", (0.0, 1.0)),
    "train_loss": ("training loss (from 0)", None),
    "val_loss": ("validation loss (from 0)", None),
    "grad_gain": ("log10 grad_gain at initialisation (0: gradients keep their size)", "log"),
    "diverged": ("diverged (1) or not (0)", (0.0, 1.0)),
    "epoch_reached": ("epochs completed", None),
}
PAPER = "deep-information-propagation"
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


class PhaseDiagram(QDialog):
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
        self._thread = self._worker = None
        self._stop = threading.Event()
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
        for fmt in ("PNG", "SVG", "CSV"):
            self._button(buttons, f"export{fmt}Button", f"Export {fmt}…", lambda _=False, f=fmt: self._ask_export(f))
        self.status = QLabel(objectName="statusLabel", textFormat=Qt.PlainText, wordWrap=True)
        self.plotWidget = pg.PlotWidget(objectName="phasePlot")
        self._build_plot()
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

    def _build_plot(self) -> None:
        """Every item is made once here and updated with setImage / setData afterwards."""
        plot = self.plotWidget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.colorBar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorBar.setImageItem(self.image, insert_in=plot)
        self.legend = plot.addLegend(offset=(5, 5), brush=pg.mkBrush(0, 0, 0, 170), labelTextColor="w")
        self.depthLine = plot.plot([], [], pen=pg.mkPen("w", width=2, style=Qt.DashLine), name="6 ξ_c (theory)")
        self.criticalLine = pg.InfiniteLine(angle=90, pen=pg.mkPen("r", width=2))
        plot.addItem(self.criticalLine)
        self.criticalLine.hide()
        self.criticalLegend = pg.PlotDataItem([], [], pen=pg.mkPen("r", width=2))
        self.legend.addItem(self.criticalLegend, "χ₁ = 1")
        self.divergedMarks = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen("w"), brush=pg.mkBrush("w"),
                                                name="diverged")
        plot.addItem(self.divergedMarks)
        self.plotWidget.scene().sigMouseClicked.connect(self._on_click)

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
        self._stop = threading.Event()
        self._thread = QThread()  # no parent: Python owns it, and it is finished before it is let go
        self._worker = SweepWorker(plan, self._stop, self.workers)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.rows_ready.connect(self._on_rows)
        self._worker.done.connect(self._on_done)
        self._thread.start()
        self.runButton.setEnabled(False)
        self.stopButton.setEnabled(True)
        self.show_message(f"Running {plan.size} cells…")
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        """Ask the worker to stop after the cells in flight, and wait for its thread."""
        if self._thread is None:
            return
        self._stop.set()
        self._finish_thread()  # waits for the cells in flight
        self.show_message(f"Stopped: {len(self.rows)} of {self.plan.size} cells.")

    def _finish_thread(self) -> None:
        self._thread.quit()
        self._thread.wait()
        self._thread = self._worker = None
        self.runButton.setEnabled(True)
        self.stopButton.setEnabled(False)

    @Slot(object)
    def _on_rows(self, rows) -> None:
        assert self.thread() is QThread.currentThread()
        if self.plan is None or self._worker is None or self.sender() is not self._worker:
            return  # rows of a stopped run arriving late
        from core.sweep import key_of
        self.rows.update((key_of(self.plan, r), r) for r in rows)
        self._redraw()
        self.show_message(f"{len(self.rows)} of {self.plan.size} cells")

    @Slot(str)
    def _on_done(self, error: str) -> None:
        if self._thread is None or self.sender() is not self._worker:
            return
        stopped = self._stop.is_set()
        self._finish_thread()
        if error:
            self.show_message(f"The sweep failed: {error}", error=True)
        else:
            self.show_message(f"{'Stopped' if stopped else 'Done'}: {len(self.rows)} of {self.plan.size} cells.")

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)

    def done(self, result: int) -> None:  # Escape and the close button also stop the thread
        self.stop()
        super().done(result)

    # -- drawing ------------------------------------------------------------------------
    def show_plan(self, plan, rows: dict) -> None:
        """Put a plan (and the rows known for it) on screen; nothing of the previous one stays."""
        if len(plan.axes) != 2:
            raise ConfigError("sweep", f"sweep: a phase diagram needs two axes, this sweep has {len(plan.axes)}")
        self.plan, self.rows = plan, dict(rows)
        self.boundary = self._theory(plan)
        self._draw_axes()
        self._draw_theory()
        self._redraw()

    def load_csv(self, path: str) -> bool:
        """Show a sweep CSV written by ``main.py --sweep`` (two axes)."""
        try:
            plan, rows = plan_from_csv(path)
            self.show_plan(plan, rows)
            self._show_in_controls(plan)
        except ConfigError as e:
            self.show_message(f"Could not open {path}: {e}", error=True)
            return False
        self.show_message(f"{path}: {len(rows)} of {plan.size} cells")
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

    def _draw_axes(self) -> None:
        x, y = self.plan.axes
        n_x, n_y = len(x.values), len(y.values)
        plot = self.plotWidget.getPlotItem()
        sw2 = self.boundary.sigma_w2 if self.boundary is not None and x.field != "depth" else None
        x_labels = [f"{s:.3g}" for s in sw2] if sw2 else [_label(v) for v in x.values]
        plot.getAxis("bottom").setTicks([_ticks(x_labels)])
        plot.getAxis("left").setTicks([_ticks([_label(v) for v in y.values])])
        plot.setLabel("bottom", f"σ_w² (swept as {x.field})" if sw2 else x.field)
        plot.setLabel("left", y.field)
        plot.setTitle(f"{self.plan.size} cells, {'at initialisation' if self.plan.init_only else f'{self.plan.base.epochs} epochs'}")
        plot.getViewBox().setRange(xRange=(0, n_x), yRange=(0, n_y), padding=0)

    def _draw_theory(self) -> None:
        bd, (x, y) = self.boundary, self.plan.axes
        if bd is None:
            self.depthLine.setData([], [])
            self.criticalLine.hide()
            self.criticalLegend.hide()
            return
        depth_axis, other = (y, x) if y.field == "depth" else (x, y)
        along = np.arange(len(other.values)) + 0.5
        deep = np.array([_index(depth_axis.values, d) for d in bd.max_depth])
        pts = (along, deep) if y.field == "depth" else (deep, along)
        finite = np.isfinite(pts[0]) & np.isfinite(pts[1])
        self.depthLine.setData(pts[0][finite], pts[1][finite], connect="finite")
        self.criticalLegend.show()
        crit = bd.critical_sigma_w2
        self.legend.getLabel(self.criticalLegend).setText(
            f"χ₁ = 1: σ_w² = {crit:.3g}" if math.isfinite(crit) else "χ₁ = 1 at no σ_w² from 0.01 to 100")
        if math.isfinite(bd.critical_value):
            self.criticalLine.setAngle(90 if y.field == "depth" else 0)
            self.criticalLine.setValue(_index(other.values, bd.critical_value))
            self.criticalLine.show()
        else:
            self.criticalLine.hide()

    @Slot()
    def _redraw(self) -> None:
        if self.plan is None:
            return
        metric = self.metricCombo.currentData()
        label, levels = METRIC_VIEWS[metric]
        grid = metric_grid(self.plan, self.rows, metric)
        if levels == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                grid = np.log10(grid).astype(np.float32)
            finite = grid[np.isfinite(grid)]
            top = max(float(np.abs(finite).max()) if finite.size else 0.0, 0.05)
            levels = (-top, top)
            grid[grid == -np.inf] = -top  # a gain of exactly 0 is the bottom of the scale, not a missing cell
        elif levels is None:
            finite = grid[np.isfinite(grid)]
            levels = (0.0, max(float(finite.max()) if finite.size else 0.0, 1e-12))
        x, y = self.plan.axes
        self.image.setImage(grid, levels=levels, autoLevels=False)
        self.image.setRect(0, 0, len(x.values), len(y.values))
        self.colorBar.setLevels(levels)
        self.colorBar.getAxis("right").setLabel(label)
        j, i = np.nonzero(metric_grid(self.plan, self.rows, "diverged") == 1)
        self.divergedMarks.setData(i + 0.5, j + 0.5)

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

    def _ask_export(self, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt}", f"phase-diagram.{fmt.lower()}",
                                              f"{fmt} (*.{fmt.lower()})")
        if path:
            self.export(path)

    def export(self, path: str) -> bool:
        """PNG, SVG or CSV by the name's ending, through core's atomic writer."""
        kind = path.rsplit(".", 1)[-1].lower()
        try:
            if self.plan is None:
                raise ValueError("there is no sweep to export yet")
            if kind == "csv":
                data = sorted_csv(self.plan, self.rows)
            elif kind == "png":
                data = self._png_bytes()
            elif kind == "svg":
                data = self._svg_bytes()
            else:
                raise ValueError(f"the name must end in .png, .svg or .csv, got {path!r}")
            write_atomically(path, data)
        except (OSError, ValueError, RuntimeError) as e:
            self.show_message(f"Could not write {path}: {getattr(e, 'strerror', None) or e}", error=True)
            return False
        self.show_message(f"Exported {path}.")
        return True

    def _png_bytes(self) -> bytes:
        buf = QBuffer()
        buf.open(QIODevice.WriteOnly)
        if not self.plotWidget.grab().save(buf, "PNG") or buf.size() == 0:
            raise RuntimeError("Qt could not encode the plot as PNG")
        return bytes(buf.data())

    def _svg_bytes(self) -> bytes:
        # pyqtgraph's SVGExporter fails on this Qt (pyqtgraph issue #3485): Qt's own generator draws vectors
        w = self.plotWidget
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.WriteOnly)
        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(w.size())
        gen.setViewBox(QRect(0, 0, w.width(), w.height()))
        gen.setTitle("Phase diagram")
        painter = QPainter(gen)
        w.render(painter)
        painter.end()
        if data.size() == 0:
            raise RuntimeError("Qt could not render the plot as SVG")
        return bytes(data)

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")


def _label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _ticks(labels: list) -> list:
    """Cell centres, labelled; every k-th so at most about ten labels."""
    step = max(1, math.ceil(len(labels) / 10))
    return [(i + 0.5, t) for i, t in enumerate(labels) if i % step == 0]


def _index(values, v) -> float:
    """Where value v falls in cell coordinates (cell i spans [i, i + 1]), extrapolating linearly past the ends."""
    xs = np.asarray(values, dtype=float)
    centres = np.arange(len(xs)) + 0.5
    if not math.isfinite(v) or len(xs) < 2:
        return math.nan if not math.isfinite(v) else 0.5
    order = np.argsort(xs)
    xs, centres = xs[order], centres[order]
    if v < xs[0]:
        return centres[0] + (v - xs[0]) * (centres[1] - centres[0]) / (xs[1] - xs[0])
    if v > xs[-1]:
        return centres[-1] + (v - xs[-1]) * (centres[-1] - centres[-2]) / (xs[-1] - xs[-2])
    return float(np.interp(v, xs, centres))


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
    print(dialog.status.text())
    dialog.close()
    return ok


if __name__ == "__main__":
    import sys
    sys.exit(0 if render_png(*sys.argv[1:4]) else 1)
