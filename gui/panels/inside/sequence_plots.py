"""The Inside page of sequence models (issue 21): the forward signal through time and the distributions per layer.

timeSignalPlot: one curve per layer (recurrent) or block (Transformer) against the time step or position t, of the
quantity chosen (core.measure.sequence_inside: the std of h_t or of the residual stream x_l[:, t], ||dL/dh_t||, the
saturated shares, the attention and MLP outputs' std); norms and stds on a log10 axis, shares from 0 to 1. Run B
dashed in the same colours. sequenceDistributionPlot: per layer, the percentile bands of |value| of the quantity
chosen (dL/dh, h, pre-activations ...) at the rewind slider's point, as the MLP's ridge plot: a row per layer, its
outline the density the bands imply, the median marked; run B dashed. Nothing is computed here but log10.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtCore import QSizeF
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from core.measure.distributions import BAND_NAMES

from gui.widgets import named, plain_label
from gui.panels.inside.distribution_plot import log_abs, ridge_outline, zero_floor
from gui.panels.plotting import _plot, layer_ticks, power_ticks
from gui.panels.recurrent.time_bars import step_ticks

SHARES = ("saturation", "gate_saturation")   # fields that are a share from 0 to 1; the others are on a log axis
MAP = pg.colormap.get("viridis")


def layer_colours(n: int) -> list:
    """One colour per layer, input side blue through green to output side orange: hues of middle lightness,
    readable on the light and the dark background alike."""
    return [QColor.fromHsvF((0.58 - 0.53 * k / max(n - 1, 1)) % 1.0, 0.8, 0.85) for k in range(n)]


def log_ticks(lo: int, hi: int, most: int) -> list:
    """Major ticks at powers of ten (power_ticks); over two decades or less, also 2x and 5x, so the axis is a
    scale and not a single label."""
    major = power_ticks(lo, hi, most)
    if hi - lo > 2:
        return [major]
    minor = [(k + math.log10(m), f"{m}e{k}" if k else str(m)) for k in range(lo, hi) for m in (2, 5)]
    return [major, minor]


def colour_key(layout, colours) -> str:
    """The title's key: a coloured square per layer (first, last and a few between for deep networks)."""
    n = len(colours)
    shown = sorted({0, n // 2, n - 1}) if n > 3 else range(n)
    return " ".join(f"<span style='color:{colours[k].name()}'>■</span> {k + 1}" for k in shown)


def combo(name: str, tip: str) -> QComboBox:
    c = named(QComboBox(), name, tip)
    c.setSizeAdjustPolicy(QComboBox.AdjustToContents)
    return c


def sync_scene(widget) -> None:
    """A plot on a page behind gets no resize events: its scene keeps the size it had when it was made. Drawn
    there (e.g. just before an export), it is resized to its widget as a shown one would be."""
    if not widget.isVisible() and widget.getPlotItem().sceneBoundingRect().size() != QSizeF(widget.size()):
        widget.resizeEvent(QResizeEvent(widget.size(), widget.size()))   # pyqtgraph: scene and PlotItem to the size


def plot_box(plot, caption, control) -> QWidget:
    """The plot, and under it its caption (taking the width) and its control."""
    box = QWidget()
    v = QVBoxLayout(box)
    v.setContentsMargins(0, 0, 0, 0)
    v.addWidget(plot, 1)
    row = QHBoxLayout()
    row.addWidget(caption, 1)
    row.addWidget(control, 0, Qt.AlignTop)
    v.addLayout(row)
    return box


def fill_combo(c: QComboBox, items, keep: str | None, default: str | None = None) -> None:
    """``items`` ((field, label), ...) as the combo's entries (data = field), keeping the chosen field if present,
    else ``default``, else the first."""
    c.blockSignals(True)
    c.clear()
    for f, label in items:
        c.addItem(label, f)
    i = c.findData(keep) if keep is not None else -1
    c.setCurrentIndex(i if i >= 0 else max(c.findData(default), 0))
    c.blockSignals(False)


class SequenceSignalPlot:
    """timeSignalPlot: the recorded quantity per layer against the time step or position."""

    def __init__(self):
        self.widget = _plot("Forward signal through time", "std of h_t (log10)", "time step t",
                            "One line per layer (or block): the chosen quantity at each time step or position, "
                            "at the rewind slider's point. Norms and stds on a log10 axis (1e-3 means 0.001); "
                            "shares from 0 to 1. Dashed: run B.", "timeSignalPlot")
        self.quantityCombo = combo("timeSignalQuantityCombo", "What to draw per layer and time step.")
        self.quantityCombo.currentIndexChanged.connect(self.redraw)
        self.caption = plain_label("No step recorded yet.", "timeSignalCaption", "What the lines show.")
        self.caption.setWordWrap(True)
        self.box = plot_box(self.widget, self.caption, self.quantityCombo)
        self.curves, self.curves_b = [], []
        self.layout = self.rec = self.rec_b = None
        self.what = ""

    def clear(self) -> None:
        for c in self.curves + self.curves_b:
            self.widget.removeItem(c)
        self.curves, self.curves_b = [], []
        self.layout = self.rec = self.rec_b = None
        self.caption.setText("No step recorded yet.")

    def show(self, layout, rec: dict, what: str, rec_b: dict | None = None) -> None:
        if layout is not self.layout:
            keep = self.quantityCombo.currentData()
            fill_combo(self.quantityCombo, layout.time, keep)
            self._make_curves(layout)
        self.layout, self.rec, self.rec_b, self.what = layout, rec, rec_b, what
        self.redraw()

    def _make_curves(self, layout) -> None:
        for c in self.curves + self.curves_b:
            self.widget.removeItem(c)
        colours = layer_colours(layout.n_layers)
        self.curves = [self.widget.plot([], [], pen=pg.mkPen(c, width=2), symbol="o", symbolSize=4,
                                        symbolBrush=c, symbolPen=None) for c in colours]
        self.curves_b = [self.widget.plot([], [], pen=pg.mkPen(c, width=2, style=Qt.DashLine)) for c in colours]
        self.widget.setLabel("bottom", f"{layout.time_name} t")
        self.widget.getAxis("bottom").setTicks([step_ticks(layout.steps)])
        self.widget.setXRange(0.5, layout.steps + 0.5, padding=0)
        self.colours = colours

    def field(self) -> str:
        return self.quantityCombo.currentData()

    def values(self, rec) -> np.ndarray:
        return np.asarray(rec[self.field()], dtype=float)

    def redraw(self, *_) -> None:
        if self.rec is None or self.field() is None:
            return
        sync_scene(self.widget)
        field, lay = self.field(), self.layout
        share = field in SHARES
        runs = [(self.curves, self.values(self.rec))] + ([(self.curves_b, self.values(self.rec_b))]
                                                          if self.rec_b is not None else [])
        t = np.arange(1, lay.steps + 1, dtype=float)
        zero = None
        if share:
            ys = [v for _, v in runs]
            self.widget.getAxis("left").setTicks(None)
            self.widget.setYRange(0, 1, padding=0.02)
        else:
            floor = zero_floor(np.concatenate([r.ravel() for _, r in runs]))
            ys = [log_abs(v, floor)[0] for _, v in runs]
            zero = floor if any((v == 0).any() for _, v in runs) else None
            finite = np.concatenate([y[np.isfinite(y)] for y in ys])
            lo, hi = (int(np.floor(finite.min())), int(np.ceil(finite.max()))) if finite.size else (-1, 1)
            hi = max(hi, lo + 1)
            self.widget.getAxis("left").setTicks(log_ticks(lo, hi, max(3, self.widget.height() // 30)))
            self.widget.setYRange(lo, hi, padding=0.02)
        for (curves, _), y in zip(runs, ys):
            for c, row in zip(curves, y):
                c.setData(t, row, connect="finite")
        if self.rec_b is None:
            for c in self.curves_b:
                c.setData([], [])
        name = lay.label(field)
        self.widget.setLabel("left", name if share else f"{name} (log10)")
        self.widget.setTitle(f"{name} per {lay.layer_name} ({colour_key(lay, self.colours)})", size="10pt")
        rule = f" Saturated: {lay.saturation_rule}." if field == "saturation" else (
            " Saturated gate: sigma'(z) <= 5% of 1/4." if field == "gate_saturation" else "")
        self.caption.setText(f"At {self.what}: {name} at each {lay.time_name}, one line per {lay.layer_name} "
                             f"(colours in the title, {lay.layer_name} 1 the input side).{rule}"
                             + (f" Exact zeros drawn at {zero:.0e}." if zero is not None else "")
                             + (f" {lay.note}" if lay.note else "")
                             + (" Dashed: run B at the same step." if self.rec_b is not None else ""))

    def table(self) -> tuple[list, list]:
        if self.rec is None:
            return [], []
        a = self.values(self.rec)
        b = self.values(self.rec_b) if self.rec_b is not None else None
        head = [self.layout.layer_name, "t", self.field()] + ([f"b_{self.field()}"] if b is not None else [])
        rows = [[l + 1, t + 1, float(a[l, t])] + ([float(b[l, t])] if b is not None else [])
                for l in range(a.shape[0]) for t in range(a.shape[1])]
        return head, rows


class SequenceDistributionPlot:
    """sequenceDistributionPlot: each layer's percentile bands of |value| at the slider's point (ridge rows)."""

    def __init__(self):
        self.widget = _plot("Distributions per layer", "layer", "|value| (log10)",
                            "Each row a layer (or block): the density implied by the percentile bands (min, 2.3%, "
                            "15.9%, median, 84.1%, 97.7%, max) of |value| over every time step of a fixed sample "
                            "of entries; the dot is the median. Dashed: run B.", "sequenceDistributionPlot")
        self.fieldCombo = combo("sequenceDistributionCombo", "Which quantity's distribution to draw.")
        self.fieldCombo.currentIndexChanged.connect(self.redraw)
        self.caption = plain_label("No step recorded yet.", "sequenceDistributionCaption", "What the rows show.")
        self.caption.setWordWrap(True)
        self.box = plot_box(self.widget, self.caption, self.fieldCombo)
        self.outline = self.widget.plot([], [], pen=pg.mkPen((70, 130, 200), width=2))
        self.outline_b = self.widget.plot([], [], pen=pg.mkPen((228, 87, 86), width=2, style=Qt.DashLine))
        self.medians = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(70, 130, 200), pen=None)
        self.medians_b = pg.ScatterPlotItem(size=8, brush=None, pen=pg.mkPen(228, 87, 86, width=1.5))
        self.widget.addItem(self.medians)
        self.widget.addItem(self.medians_b)
        self.layout = self.bands = self.bands_b = None
        self.what, self.rec, self.rec_b = "", None, None

    def clear(self) -> None:
        for item in (self.outline, self.outline_b, self.medians, self.medians_b):
            item.setData([], [])
        self.layout = self.rec = self.rec_b = None
        self.caption.setText("No step recorded yet.")

    def show(self, view, i: int, view_b, j, what: str) -> None:
        lay = view.layout
        if lay is not self.layout:
            fill_combo(self.fieldCombo, lay.dist, self.fieldCombo.currentData())
            self.widget.getAxis("left").setTicks([layer_ticks(lay.n_layers)])
            self.widget.setLabel("left", lay.layer_name)
        self.layout, self.what = lay, what
        self.rec = view.point(i)[0]
        self.rec_b = view_b.point(j)[0] if view_b is not None and j is not None else None
        self.redraw()

    def redraw(self, *_) -> None:
        if self.rec is None or self.fieldCombo.currentData() is None:
            return
        sync_scene(self.widget)
        field = self.fieldCombo.currentData()
        self.bands = np.asarray(self.rec[field], dtype=float)
        self.bands_b = np.asarray(self.rec_b[field], dtype=float) if self.rec_b is not None else None
        both = self.bands if self.bands_b is None else np.concatenate([self.bands, self.bands_b])
        floor = zero_floor(both)
        n = len(self.bands)
        rows = np.arange(1, n + 1, dtype=float)
        self.outline.setData(*ridge_outline(self.bands, floor), connect="finite")
        self.medians.setData(log_abs(self.bands[:, 3], floor)[0], rows)
        if self.bands_b is not None:
            self.outline_b.setData(*ridge_outline(self.bands_b, floor), connect="finite")
            self.medians_b.setData(log_abs(self.bands_b[:, 3], floor)[0], rows)
        else:
            self.outline_b.setData([], [])
            self.medians_b.setData([], [])
        x, zero = log_abs(both, floor)
        finite = x[np.isfinite(x)]
        lo, hi = (int(np.floor(finite.min())), int(np.ceil(finite.max()))) if finite.size else (-1, 1)
        hi = max(hi, lo + 1)
        self.widget.getAxis("bottom").setTicks(log_ticks(lo, hi, max(3, self.widget.width() // 60)))
        self.widget.setXRange(lo, hi, padding=0.02)
        self.widget.setYRange(0.8, n + 1, padding=0)
        lay = self.layout
        label = lay.label(field)
        self.widget.setTitle(f"|{label}| per {lay.layer_name}", size="10pt")
        self.caption.setText(f"At {self.what}: |{label}| over every {lay.time_name} of up to {lay.samples} fixed "
                             f"entries per {lay.layer_name}; dot: median." + (f" {lay.note}" if lay.note else "")
                             + (f" Exact zeros drawn at {floor:.0e}." if zero else "")
                             + (" Dashed, hollow: run B at the same step." if self.rec_b is not None else ""))

    def table(self) -> tuple[list, list]:
        if self.bands is None:
            return [], []
        head = [self.layout.layer_name] + list(BAND_NAMES) + ([f"b_{b}" for b in BAND_NAMES]
                                                              if self.bands_b is not None else [])
        rows = [[l + 1] + [float(v) for v in self.bands[l]] + ([float(v) for v in self.bands_b[l]]
                                                                if self.bands_b is not None else [])
                for l in range(len(self.bands))]
        return head, rows
