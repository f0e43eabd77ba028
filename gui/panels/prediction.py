"""The prediction: the network's output over the input plane with the data on top (a fitted curve for
1-D data), the data legend under it, and its panel."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.panels.data_legend import DataLegend
from gui.panels.panel import Panel
from gui.panels.plotting import _plot, class_colour
from gui.panels.unit_axis import (REGRESSION_TIP, colour_levels, regression_map, show_units, target_brushes,
                                  unit_axes)


KEEP = 0.5          # the map's colours keep this share of their strength (faded toward white): never the points' own
SMOOTH_SIDE = 240   # samples per side the map is drawn with (the grid's values, linearly interpolated between them)
OUTLINE = "#1a1a1a"  # the points' outline: dark on every colour of the faded map (light and dark theme alike)


def faded(rgb: np.ndarray) -> np.ndarray:
    """Colours in [0, 1] faded toward white to ``KEEP`` of their strength."""
    return 1.0 - (1.0 - rgb) * KEEP


def class_mix(prob: np.ndarray) -> np.ndarray:
    """(rows, cols, k) class probabilities -> RGB in [0, 1]: each class's colour weighted by its
    probability, faded toward white by half so the data points, in the full colours, stay visible."""
    k = prob.shape[2]
    rgb = np.array([class_colour(c).getRgbF()[:3] for c in range(k)])
    mix = np.nan_to_num(prob, nan=1.0 / k) @ rgb
    return np.ascontiguousarray(faded(mix), dtype=np.float32)


def binary_lut() -> np.ndarray:
    """CET-D1 (class 0 blue, white at 0.5, class 1 red) faded toward white: a lookup table of 256 RGB rows."""
    table = pg.colormap.get("CET-D1").getLookupTable(0.0, 1.0, 256, alpha=False) / 255.0
    return np.round(faded(table) * 255).astype(np.uint8)


def upsample(values: np.ndarray, side: int = SMOOTH_SIDE) -> np.ndarray:
    """A grid of values (rows, cols[, k]) drawn with ``side`` samples per axis, linearly interpolated between the
    grid's own (display only, as a contour plot shades between its samples; the ends are the grid's ends)."""
    rows, cols = values.shape[:2]
    if rows < 2 or cols < 2 or (rows >= side and cols >= side):
        return values
    def along(a, n, axis):
        old, new = np.linspace(0.0, 1.0, a.shape[axis]), np.linspace(0.0, 1.0, n)
        i = np.clip(np.searchsorted(old, new, side="right") - 1, 0, a.shape[axis] - 2)
        w = ((new - old[i]) / (old[i + 1] - old[i])).reshape([-1 if d == axis else 1 for d in range(a.ndim)])
        return np.take(a, i, axis=axis) * (1 - w) + np.take(a, i + 1, axis=axis) * w
    return along(along(values, max(side, rows), 0), max(side, cols), 1)


class DecisionBoundary:
    """The network's prediction over the input plane with the data on top (a fitted curve for 1-D data)."""

    MAX_POINTS = 1500
    BINARY_TIP = ("Colour: the predicted probability of class 1 (red) against class 0 (blue) over the input plane, "
                  "in paler tints than the points (white: 0.5); the network's grid of predictions is shaded "
                  "linearly between its samples. The data points on top, outlined (for the sine data set, the "
                  "fitted curve).")
    MULTI_TIP = ("Colour: each class's colour weighted by its predicted probability over the input plane (a pure "
                 "colour where the network is sure of that class, a blend where it is not), with the data points "
                 "on top in their class's colour.")

    def __init__(self):
        self.widget = _plot("Prediction", "x₂", "x₁", self.BINARY_TIP, "boundaryPlot")
        self.axes = unit_axes(self.widget)   # issue 21: a data file's axes in its own units (gui/panels/unit_axis.py)
        self.widget.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-D1"))
        self.widget.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen(OUTLINE, width=1))
        self.lut = binary_lut()
        self.widget.addItem(self.points)
        self.curve = self.widget.plot([], [], pen=pg.mkPen("#e45756"))
        self.widget.setMouseEnabled(x=False, y=False)
        self.one_d = False
        self.multi = False
        self.levels = (0.0, 1.0)   # what the colour map spans (gui/panels/unit_axis.colour_levels)
        self.regression = False    # a map of a regression's target (a data file's), not of a probability

    def set_data(self, X: np.ndarray, y: np.ndarray) -> None:
        if X.ndim != 2:  # a sequence task's inputs span no plane: nothing to draw (core gives no grid either)
            self.points.setData([], [])
            self.image.setVisible(False)
            self.curve.setVisible(False)
            return
        stride = max(1, len(y) // self.MAX_POINTS)  # thin the drawn points only
        X, y = X[::stride], y[::stride]
        self.one_d = X.shape[1] == 1
        self.widget.setLabel("left", "y" if self.one_d else "x₂")
        self.image.setVisible(not self.one_d)
        self.curve.setVisible(self.one_d)
        if self.one_d:
            self.points.setData(X[:, 0], y, brush=pg.mkBrush(80, 80, 80, 120))
        else:
            # class indices beyond 1 make multi-class data; class 1 red, class 0 blue either way,
            # the colours of the binary probability map (CET-D1: 0 blue, 1 red)
            self.multi = not self.regression and bool(len(y)) and float(y.max()) > 1 and bool(
                np.all(y == np.round(y)))
            self.widget.setToolTip(self.MULTI_TIP if self.multi else self.BINARY_TIP)
            if self.multi:
                palette = [pg.mkBrush(class_colour(c)) for c in range(int(y.max()) + 1)]
                brushes = [palette[int(v)] for v in y]
            else:
                red, blue = pg.mkBrush(class_colour(1)), pg.mkBrush(class_colour(0))
                brushes = [red if v > 0.5 else blue for v in y]
            self.points.setData(X[:, 0], X[:, 1], brush=brushes, pen=pg.mkPen(OUTLINE, width=1))
            if self.regression:   # issue 21: each point in its target's colour on the map's scale, outlined
                self.points.setBrush(target_brushes(y, self.levels))
                self.widget.setToolTip(REGRESSION_TIP)
            self.widget.setXRange(X[:, 0].min() - 0.25, X[:, 0].max() + 0.25, padding=0)
            self.widget.setYRange(X[:, 1].min() - 0.25, X[:, 1].max() + 0.25, padding=0)

    def update(self, boundary) -> None:
        xs, ys, pred = boundary
        if ys is None:
            finite = np.isfinite(pred)
            self.curve.setData(xs, np.where(finite, pred, np.nan), connect="finite") if finite.any() \
                else self.curve.setData([], [])
            return
        if pred.ndim == 3:  # multi-class: (rows, cols, k) probabilities, drawn as RGB without the colour map
            self.image.setLookupTable(None)
            self.image.setImage(upsample(class_mix(pred)), autoLevels=False, levels=(0.0, 1.0))
        else:
            self.image.setLookupTable(self.lut)   # CET-D1 faded: the points keep the full colours
            lo, hi = self.levels   # issue 21: a regression's target in its own units, else probability 0..1
            img = np.clip(np.nan_to_num(pred, nan=(lo + hi) / 2), lo, hi)
            self.image.setImage(np.ascontiguousarray(upsample(img), dtype=np.float32), autoLevels=False,
                                levels=(lo, hi))
        rows, cols = self.image.image.shape[:2]   # samples from the first grid point to the last
        dx, dy = (xs[-1] - xs[0]) / (cols - 1), (ys[-1] - ys[0]) / (rows - 1)
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * cols, dy * rows))


class BoundaryPanel(Panel):
    def __init__(self):
        self.plot = DecisionBoundary()
        self.legend = DataLegend()   # the axes in words and the class colours, under the plot
        self.widget = QWidget()
        v = QVBoxLayout(self.widget)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.plot.widget, 1)
        v.addWidget(self.legend, 0)

    def clear(self, snap) -> None:
        self.plot.levels, self.plot.regression = colour_levels(snap), regression_map(snap)   # issue 21
        self.plot.set_data(*snap.data)
        show_units(self.plot.axes, self.plot.widget, snap.units, self.plot.one_d)
        self.legend.show_data(snap)

    def on_batch(self, f) -> None:
        if f.snap.boundary is not None:   # None: the picture has not changed (or is not due)
            self.boundary = f.snap.boundary
            self.changed()

    def draw(self) -> None:
        self.plot.update(self.boundary)

    def mark_at(self, at) -> None:
        """Issue 21: the prediction picture is not recorded per step; rewound, its title says it shows the latest
        weights."""
        self.plot.widget.setTitle("Prediction" if at is None else "Prediction (now, not rewound)")
