"""distributionPlot: per-layer distributions of |value| as TensorBoard-style percentile bands (issue 12).

Two views of what core.measure.distributions recorded:
- one layer over time: the bands min-max, 2.3-97.7%, 15.9-84.1% and the median against the step, with a
  line at the history slider's point;
- all layers at the slider's point (ridge plot): each layer a row, its outline the density the bands
  imply (each band's share of the samples spread evenly over its width in log10 |value|).
The y (or x) axis is log10 |value|; exact zeros are drawn at ZERO_FLOOR and the caption says so.
Run B is overlaid dashed. Nothing is computed here but log10 and the ridge outline's drawing.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox, QVBoxLayout, QWidget

from core.measure.distributions import KINDS, QUANTILES

from gui.widgets import named, plain_label

ZERO_FLOOR = 1e-12
FIELD = {"gradients": "grad", "activations": "act", "pre-activations": "pre"}
FILLS = ((0, 6, (76, 120, 168, 50)), (1, 5, (76, 120, 168, 90)), (2, 4, (76, 120, 168, 150)))
MASS = np.diff(QUANTILES) / 100.0   # the share of samples between consecutive bands


def zero_floor(v) -> float:
    """Where exact zeros are drawn: a decade below the smallest nonzero |value| shown (ZERO_FLOOR if none)."""
    v = np.asarray(v, dtype=float)
    pos = v[np.isfinite(v) & (v > 0)]
    return float(pos.min()) / 10 if pos.size else ZERO_FLOOR


def log_abs(v, floor: float = ZERO_FLOOR) -> tuple[np.ndarray, bool]:
    """log10 of |values| already taken by core, zeros at ``floor``; and whether any were zero."""
    v = np.asarray(v, dtype=float)
    zero = v <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(zero, floor, v)), bool(zero.any())


def ridge_outline(bands: np.ndarray, floor: float = ZERO_FLOOR, height: float = 0.85):
    """x (log10 |value|) and y of a step outline for each row of (rows, 7) bands, row r at baseline r + 1,
    joined into one curve with NaN breaks: mass / width per band, the tallest band wider than 0.1 decade
    ``height`` high (narrower ones, e.g. many equal values, are cut at that height)."""
    xs, ys = [], []
    for r, row in enumerate(bands):
        x, _ = log_abs(row, floor)
        if not np.isfinite(x).all():
            continue
        width = np.maximum(np.diff(x), 0.1)   # equal percentiles (e.g. many exact zeros): a spike 0.1 decade wide
        dens = MASS / width
        wide = np.diff(x) > 0.1               # scaled by the spread-out bands; a spike is cut at full height
        y = r + 1 + height * np.minimum(dens / (dens[wide].max() if wide.any() else dens.max()), 1.0)
        xs.append(np.concatenate([[x[0]], np.repeat(x, 2)[1:-1], [x[-1], np.nan]]))
        ys.append(np.concatenate([[r + 1], np.repeat(y, 2), [r + 1, np.nan]]))
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


class DistributionPlot:
    def __init__(self):
        self.widget = named(pg.PlotWidget(), "distributionPlot",
                            "Distribution of |value| per layer: percentile bands (min, 2.3%, 15.9%, median, 84.1%, "
                            "97.7%, max) of a fixed sample of entries, on a log axis.")
        p = self.plot = self.widget.getPlotItem()
        self.curves = [p.plot([], [], pen=pg.mkPen((40, 80, 130), width=1)) for _ in range(7)]
        self.fills = [pg.FillBetweenItem(self.curves[a], self.curves[b], brush=pg.mkBrush(c)) for a, b, c in FILLS]
        for f in self.fills:
            p.addItem(f)
        self.curves[3].setPen(pg.mkPen((10, 20, 60), width=1))   # solid 1-px pens: wide ones cost frames
        self.b_curves = [p.plot([], [], pen=pg.mkPen((228, 87, 86), width=1, style=Qt.DashLine)) for _ in (0, 3, 6)]
        self.ridge = p.plot([], [], pen=pg.mkPen((40, 80, 130), width=1), connect="finite")
        self.ridge_b = p.plot([], [], pen=pg.mkPen((228, 87, 86), width=1, style=Qt.DashLine), connect="finite")
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen((120, 120, 120), style=Qt.DotLine))
        p.addItem(self.cursor)
        self.kindCombo = named(QComboBox(), "distributionKindCombo", "Which values: dL/dW entries, activations h "
                               "or pre-activations z = hW + b of each layer.")
        self.kindCombo.addItems(KINDS)
        self.modeCombo = named(QComboBox(), "distributionModeCombo", "One layer over the recorded steps, or every "
                               "layer at the history slider's point (ridge plot).")
        self.modeCombo.addItems(["one layer over time", "all layers (ridge)"])
        self.modeCombo.setCurrentIndex(1)
        self.layerSpin = named(QSpinBox(), "distributionLayerSpin", "The layer shown over time (1 = input side).")
        self.layerSpin.setRange(1, 1)
        self.caption = plain_label("", "distributionCaption", "What the plot shows, from which sample.")
        self.kindCombo.setMinimumWidth(48)   # full text when there is room; the window stays narrow-able
        self.modeCombo.setMinimumWidth(48)   # full text when there is room; the window stays narrow-able
        self.box = QWidget()
        v = QVBoxLayout(self.box)
        v.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.layerSpin.setPrefix("layer ")
        for w in (self.kindCombo, self.modeCombo, self.layerSpin):
            row.addWidget(w)
        row.addStretch(1)
        v.addLayout(row)
        v.addWidget(self.widget, 1)
        v.addWidget(self.caption)
        self.state = None
        self.floor = ZERO_FLOOR
        self._axes = None
        for sig in (self.kindCombo.currentIndexChanged, self.modeCombo.currentIndexChanged,
                    self.layerSpin.valueChanged):
            sig.connect(self.redraw)

    @property
    def kind(self) -> str:
        return self.kindCombo.currentText()

    @property
    def ridge_mode(self) -> bool:
        return self.modeCombo.currentIndex() == 1

    def clear(self) -> None:
        self.state = None
        for c in self.curves + self.b_curves + [self.ridge, self.ridge_b]:
            c.setData([], [])
        self.caption.setText("No step recorded yet.")

    def show(self, view, i: int | None, view_b=None, j: int | None = None, what: str = "") -> None:
        """Draw run A's ``view`` at position i (B's at j, overlaid)."""
        self.state = (view, i, view_b, j, what)
        self.redraw()

    def redraw(self, *_):
        if self.state is None or self.state[1] is None:
            return
        view, i, view_b, j, what = self.state
        field = FIELD[self.kind]
        n_rows = view.epochs[field].shape[1]
        self.layerSpin.setRange(1, max(1, n_rows))
        names = "weight layer" if field == "grad" else "hidden layer"
        rule = f"{view.layout.pre_label}; " if field == "pre" else ""
        data = view.point(i)[0][field] if self.ridge_mode else view.series(field)[:, self.layerSpin.value() - 1]
        self.floor = zero_floor(data)
        zero = self._draw_ridge(view, i, view_b, j, field) if self.ridge_mode else \
            self._draw_time(view, i, view_b, field, self.layerSpin.value() - 1)
        n = view.layout.every
        every = "every step" if n == 1 else f"every {n} steps, ending on an epoch's last step"
        self.caption.setText(f"|{self.kind}| per {names}, {rule}percentile bands of up to {view.layout.samples} "
                             f"sampled entries, recorded {every}; at {what}." + (f" Exact zeros drawn at {self.floor:.2g}, a decade below the smallest nonzero value." if zero else "")
                             + (" Dashed: run B." if view_b is not None else ""))

    def _draw_time(self, view, i, view_b, field, layer) -> bool:
        p = self.plot
        self.ridge.setData([], [])
        self.ridge_b.setData([], [])
        steps = view.series("step").astype(float)
        bands, zero = log_abs(view.series(field)[:, layer, :], self.floor)
        for q, c in enumerate(self.curves):
            c.setData(steps, bands[:, q])
        for c, q in zip(self.b_curves, (0, 3, 6)):
            if view_b is not None and layer < view_b.epochs[field].shape[1]:
                y, _ = log_abs(view_b.series(field)[:, layer, q], self.floor)
                c.setData(view_b.series("step").astype(float), y)
            else:
                c.setData([], [])
        self.cursor.setVisible(True)
        self.cursor.setValue(steps[i])
        if self._axes != ("time",):
            self._axes = ("time",)
            p.setLabel("bottom", "step")
            p.setLabel("left", "log10 |value|")
            p.getAxis("left").setTicks(None)
        p.enableAutoRange()
        return zero

    def _draw_ridge(self, view, i, view_b, j, field) -> bool:
        p = self.plot
        for c in self.curves + self.b_curves:
            c.setData([], [])
        self.cursor.setVisible(False)
        rec, _ = view.point(i)
        x, y = ridge_outline(rec[field], self.floor)
        self.ridge.setData(x, y)
        if view_b is not None and j is not None:
            self.ridge_b.setData(*ridge_outline(view_b.point(j)[0][field], self.floor))
        else:
            self.ridge_b.setData([], [])
        n = rec[field].shape[0]
        if self._axes != ("ridge", n):   # axes repaint when changed: only when they must
            self._axes = ("ridge", n)
            step = max(1, n // 20)
            p.getAxis("left").setTicks([[(k, str(k)) for k in range(1, n + 1) if (k - 1) % step == 0 or k == n]])
            p.setLabel("left", "layer (1 = input side)")
            p.setLabel("bottom", "log10 |value|")
        p.enableAutoRange()
        return bool((rec[field] <= 0).any())

    def table(self) -> tuple[list, list]:
        """Header and rows of what is shown (for CSV export): every position, every layer, the 7 bands."""
        if self.state is None:
            return [], []
        view, *_ = self.state
        field = FIELD[self.kind]
        data, steps, epochs = view.series(field), view.series("step"), view.series("epoch")
        rows = [[int(s), int(e), l + 1, *map(float, data[k, l])]
                for k, (s, e) in enumerate(zip(steps, epochs)) for l in range(data.shape[1])]
        return ["step", "epoch", "layer", *(f"{self.kind} |value| {q:g}%" for q in QUANTILES)], rows
