"""The heatmap, update-ratio and prediction plots, and the helpers every plot module shares. Each item is created once and updated in place (setData/setOpts/setImage).

The plots draw what ``core`` measured; the only arithmetic here is for display
(log10 of values already computed, picking ticks, thinning very long histories).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

# No antialiasing: it made painting the main cost of a frame, and frames share the GIL with training.
pg.setConfigOptions(antialias=False, background="w", foreground="k", imageAxisOrder="row-major")

MAX_IMAGE_COLUMNS = 2000   # longer histories are thinned for display


def _log10(values) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.asarray(values, dtype=float))


def layer_ticks(n: int, most: int = 10) -> list[tuple[float, str]]:
    """Layer 1, then multiples of a step of 1, 2, 5, 10, 20 ... so at most about ``most`` labels
    (readable at depth 100 in a narrow plot), and the last layer unless it would crowd its neighbour."""
    step = int(nice_ceiling(n / most)) if n > most else 1
    ticks = [1] + [k for k in range(step, n + 1, step) if k > 1]
    if ticks[-1] != n and n - ticks[-1] >= step / 2:
        ticks.append(n)
    return [(k, str(k)) for k in ticks]


def power_label(x: float) -> str:
    """1e-3 for 0.001, 1e2 for 100: short enough for a legend in a narrow plot."""
    return f"1e{round(math.log10(x))}"


def power_ticks(lo: int, hi: int) -> list[tuple[float, str]]:
    """Tick labels 1e-6, 1e-4 ... for integer log10 positions, at most about 10 of them."""
    step = max(1, math.ceil((hi - lo) / 10))
    return [(k, f"1e{k}" if k else "1") for k in range(lo, hi + 1) if k % step == 0]


def nice_ceiling(n: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50 ... that is at least n."""
    if n <= 1:
        return 1.0
    k = 10 ** math.floor(math.log10(n))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= n)


class StickyRange:
    """An axis range that changes only when the data leave it or fill less than a third of it:
    a changed range repaints the axis, which was a fifth of a frame's cost when done every frame."""

    def __init__(self):
        self.range: tuple[float, float] | None = None

    def fit(self, lo: float, hi: float) -> tuple[float, float] | None:
        """The new range for data in [lo, hi], or None to keep the current one."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        if hi - lo < 1e-12 * max(1.0, abs(hi)):
            lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
        r = self.range
        if r is not None and r[0] <= lo and hi <= r[1] and (hi - lo) >= (r[1] - r[0]) / 3:
            return None
        pad = 0.1 * (hi - lo)
        self.range = (lo - pad, hi + pad)
        return self.range

    def reset(self) -> None:
        self.range = None


def _plot(title: str, left: str, bottom: str, tip: str, name: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setObjectName(name)
    w.setTitle(title, size="10pt")
    w.setLabel("left", left)
    w.setLabel("bottom", bottom)
    w.setToolTip(tip)
    w.showGrid(x=False, y=True, alpha=0.25)
    w.setMenuEnabled(False)
    for side in ("left", "bottom"):
        w.getAxis(side).enableAutoSIPrefix(False)  # "(x0.001)" on a loss axis only confuses
    return w


def set_data(item, x, y, **kw) -> bool:
    """``item.setData(x, y, **kw)`` unless the PlotDataItem already shows exactly these points (NaN equal to
    NaN): setData re-renders the curve and its symbols and recomputes the view's bounds even when nothing
    changed. ``kw`` (e.g. connect) must be the same at every call for an item. True if it was set."""
    old_x, old_y = item.xData, item.yData
    if old_x is None:
        same = len(x) == 0
    else:
        same = len(old_x) == len(x) and np.array_equal(old_x, x) and np.array_equal(old_y, y, equal_nan=True)
    if not same:
        item.setData(x, y, **kw)
    return not same


def cache_axes(widget) -> None:
    """An axis with grid lines spans the whole plot, so it repaints whenever anything under it changes, e.g.
    a curve: rendered once into a pixmap (Qt's DeviceCoordinateCache), it is copied until it changes itself
    (range, ticks, label, size, theme), which the axis announces by update() as before. Axes without a grid
    are left alone: the pixmap, cut at their bounding rectangle, would lose the last pixel of the axis line."""
    for axis in widget.getPlotItem().axes.values():
        if axis["item"].grid is not False:
            axis["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def hover_label(widget: pg.PlotWidget) -> pg.TextItem:
    """A bar plot's hover label: dark text on a white box above the mouse, hidden until it has text."""
    item = pg.TextItem("", anchor=(0.5, 1.2), color="k", fill=pg.mkBrush(255, 255, 255, 220))
    item.setZValue(10)
    item.setVisible(False)
    widget.addItem(item)
    return item


def hover_text(item: pg.TextItem, text: str) -> None:
    """A hover label's text, hidden while empty: an empty TextItem still paints its filled box (a white
    rectangle sat at the time-step plot's first step)."""
    item.setText(text)
    item.setVisible(bool(text))


def empty_note(widget, text: str = "no epoch completed yet") -> pg.TextItem:
    """A grey note in the middle of an empty plot, so empty axes read as 'nothing yet', not as a fault."""
    note = pg.TextItem(text, color="#808080", anchor=(0.5, 0.5))
    note.setZValue(10)
    widget.addItem(note, ignoreBounds=True)
    return note


def centre(widget, note) -> None:
    """Put ``note`` in the middle of the plot's current view."""
    (x0, x1), (y0, y1) = widget.getPlotItem().vb.viewRange()
    note.setPos((x0 + x1) / 2, (y0 + y1) / 2)


ZERO_COLOUR = "#9d9d9d"   # exactly 0: the same grey as the bars' "exactly 0"
NONFINITE_COLOUR = "#b15ed6"   # NaN/inf: the bars' purple
SPECIAL_RGBA = {"zero": (0x9d, 0x9d, 0x9d, 255), "nonfinite": (0xb1, 0x5e, 0xd6, 255)}


class FlowHeatmap:
    """log10 gradient norm, layer by epoch: the whole history of gradients shrinking or growing."""

    def __init__(self):
        self.widget = _plot("Gradient flow", "layer", "epoch",
                            "Each column is an epoch, each row a layer (1 at the bottom); colour is log10 of the "
                            "layer's mean gradient norm over that epoch; grey: exactly 0; NaN or infinite: the top "
                            "colour.", "heatmapPlot")
        self.widget.showGrid(x=False, y=False)
        # cells with no colour on the scale: exactly 0 (grey, as the bars' "exactly 0") and NaN/inf (the bars'
        # purple), painted by a second image on top whose other pixels are transparent
        self.special = pg.ImageItem(axisOrder="row-major")
        self.special.setZValue(1)
        self.widget.addItem(self.special)
        self.empty = empty_note(self.widget)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.widget.addItem(self.image)
        self.cmap = pg.colormap.get("viridis")
        self.image.setColorMap(self.cmap)
        self.colorbar = pg.ColorBarItem(values=(-8, 2), colorMap=self.cmap, interactive=False, width=12,
                                           label="log10 ‖dL/dW‖")
        self.colorbar.setImageItem(self.image, insert_in=self.widget.getPlotItem())
        self.levels = (-8.0, 2.0)
        self._x_end, self._n_layers = 1.0, 0
        self.widget.setMouseEnabled(x=False, y=False)

    def clear(self, n_layers: int) -> None:
        self.levels = (-8.0, 2.0)
        self._x_end, self._n_layers = 1.0, n_layers
        self.image.setImage(np.full((n_layers, 1), np.nan, dtype=np.float32), autoLevels=False, levels=self.levels)
        self.image.setRect(QRectF(0.5, 0.5, 1, n_layers))
        self.special.clear()
        self.special.setVisible(False)
        self.title = "Gradient flow"
        self.widget.setTitle(self.title)
        self.widget.getAxis("left").setTicks([layer_ticks(n_layers)])
        self.widget.setXRange(0.5, 1.5, padding=0)
        self.widget.setYRange(0.5, n_layers + 0.5, padding=0)
        self.empty.setPos(1.0, (n_layers + 1) / 2)
        self.empty.setVisible(True)

    def update(self, grad_norm_history: np.ndarray) -> None:
        """grad_norm_history: (epochs, layers)."""
        n_epochs, n_layers = grad_norm_history.shape
        if n_epochs == 0:
            return
        self.empty.setVisible(False)
        logs = _log10(grad_norm_history)
        if n_epochs > MAX_IMAGE_COLUMNS:  # thin for display: every k-th epoch
            logs = logs[:: math.ceil(n_epochs / MAX_IMAGE_COLUMNS)]
        finite = logs[np.isfinite(logs)]
        if finite.size:  # levels only widen, so colours keep their meaning during a run
            lo = min(self.levels[0], math.floor(finite.min()))
            hi = max(self.levels[1], math.ceil(finite.max()))
            self.levels = (max(lo, -330.0), min(hi, 310.0))   # every finite double has its own colour
        zero = np.isneginf(logs)                     # log10(0): exactly zero, never shown as a small value
        nonfinite = ~np.isfinite(logs) & ~zero       # NaN or infinite: the gradient overflowed
        img = np.ascontiguousarray(np.where(np.isfinite(logs), logs, np.nan).T, dtype=np.float32)
        self.image.setImage(img, autoLevels=False, levels=self.levels)
        self.image.setRect(QRectF(0.5, 0.5, n_epochs, n_layers))
        keys = [k for k, cells in (("grey: exactly 0", zero), ("purple: NaN/inf", nonfinite)) if cells.any()]
        self.special.setVisible(bool(keys))   # no such cell (the usual case): no overlay to draw
        if keys:
            rgba = np.zeros(img.shape + (4,), dtype=np.uint8)
            rgba[zero.T] = SPECIAL_RGBA["zero"]
            rgba[nonfinite.T] = SPECIAL_RGBA["nonfinite"]
            self.special.setImage(rgba, autoLevels=False)
            self.special.setRect(QRectF(0.5, 0.5, n_epochs, n_layers))
        title = f"Gradient flow ({', '.join(keys)})" if keys else "Gradient flow"
        if title != self.title:   # a title set again relays the plot out
            self.title = title
            self.widget.setTitle(title)
        if self.colorbar.levels() != self.levels:
            self.colorbar.setLevels(self.levels)
        if (n_epochs > self._x_end) or n_layers != self._n_layers:  # axes grow in steps of 1, 2, 5, 10 ...
            self._x_end, self._n_layers = nice_ceiling(n_epochs), n_layers
            self.widget.setXRange(0.5, self._x_end + 0.5, padding=0)
            self.widget.setYRange(0.5, n_layers + 0.5, padding=0)
            self.widget.getAxis("left").setTicks([layer_ticks(n_layers)])


class UpdateRatios:
    """‖ΔW‖ / ‖W‖ per layer on a log axis (log10 drawn, decade ticks); an exactly zero ratio (a layer
    that did not move) sits on the floor, whose tick reads "0"; NaN/inf leave a gap."""

    REFERENCE = 1e-3
    SPARE_DECADES = 2

    def __init__(self):
        self.widget = _plot("Update ratio", "‖ΔW‖ / ‖W‖ (log scale)", "layer",
                            "How much one step changes each layer's weights. Around 1e-3 is healthy; far "
                            "below, w_new ≈ w_old and the layer has stopped learning; near 1, steps are drastic. "
                            "A layer that did not move at all is drawn on the floor, labelled 0.",
                            "updatePlot")
        self.curve = self.widget.plot([], [], pen=pg.mkPen("#4c78a8"), symbol="o", symbolSize=6,
                                      symbolBrush="#4c78a8")
        self.line = pg.InfiniteLine(pos=math.log10(self.REFERENCE), angle=0,
                                    pen=pg.mkPen("#888888", style=Qt.DashLine),
                                    label="1e-3", labelOpts={"position": 0.98, "color": "#888888",
                                                             "anchors": [(1, 1), (1, 1)]})
        self.widget.addItem(self.line)
        self.curve_b = self.widget.plot([], [], pen=pg.mkPen("#54a24b"), symbol="t",
                                        symbolSize=6, symbolBrush="#54a24b")
        self.widget.setMouseEnabled(x=False, y=False)
        self.view = None
        self.update([])

    @staticmethod
    def _range(ratios) -> tuple[int, int, bool]:
        r = np.asarray(ratios, dtype=float)
        pos = r[np.isfinite(r) & (r > 0)]
        lo = min(math.floor(math.log10(pos.min())) if pos.size else -6, -4)
        hi = max(math.ceil(math.log10(pos.max())) if pos.size else 0, -2)
        zero = bool(np.any(r == 0))
        return lo - (1 if zero else 0), hi, zero

    @staticmethod
    def _set(curve, r, floor: float) -> None:
        r = np.asarray(r, dtype=float)
        y = np.where(r == 0, floor, _log10(np.where(r > 0, r, np.nan)))
        y = np.where(np.isfinite(y), y, np.nan)
        if np.isfinite(y).any():
            set_data(curve, np.arange(1, len(y) + 1), y, connect="finite")
        else:
            set_data(curve, [], [], connect="finite")  # nothing drawable: no all-NaN data to take bounds of

    def _sticky(self, lo: int, hi: int, n: int, zero: bool, sticky: bool) -> tuple:
        """With ``sticky`` (while training runs), the shown view while it still holds every value with at most
        SPARE_DECADES to spare, else the data's own: the smallest ratio of a step moves by a decade back and
        forth from one frame to the next, and an axis that follows it jumps and repaints every frame. Without
        (paused, done), the data's own view, so a still picture is the same whatever came before."""
        v = self.view
        if sticky and v is not None and v[2:] == (n, zero) and v[0] <= lo and hi <= v[1] and \
                (lo - v[0]) + (v[1] - hi) <= self.SPARE_DECADES:
            return v
        return lo, hi, n, zero

    def update(self, ratios, ratios_b=None, sticky: bool = False) -> None:
        both = np.concatenate([np.asarray(ratios, dtype=float)] +
                              ([] if ratios_b is None else [np.asarray(ratios_b, dtype=float)]))
        n = max(len(ratios), 0 if ratios_b is None else len(ratios_b), 1)
        lo, hi, zero = self._range(both)
        view = self._sticky(lo, hi, n, zero, sticky)
        lo, hi, _, zero = view
        self._set(self.curve, ratios, lo)
        self._set(self.curve_b, [] if ratios_b is None else ratios_b, lo)
        if self.view != view:  # repaint the axes only when the range changes
            self.view = view
            self.widget.setXRange(0.5, n + 0.5, padding=0)
            self.widget.setYRange(lo, hi, padding=0.05)
            ticks = power_ticks(lo + (1 if zero else 0), hi)
            self.widget.getAxis("left").setTicks([([(lo, "0")] if zero else []) + ticks, []])
            self.widget.getAxis("bottom").setTicks([layer_ticks(n), []])


# One colour per class for multi-class data; the first two are the binary map's ends (class 0 blue, 1 red).
CLASS_COLOURS = ("#2b5fad", "#c4302b", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def class_colour(c: int) -> QColor:
    return QColor(CLASS_COLOURS[c % len(CLASS_COLOURS)])


def class_mix(prob: np.ndarray) -> np.ndarray:
    """(rows, cols, k) class probabilities -> RGB in [0, 1]: each class's colour weighted by its
    probability, faded toward white by a third so the data points stay visible."""
    k = prob.shape[2]
    rgb = np.array([class_colour(c).getRgbF()[:3] for c in range(k)])
    mix = np.nan_to_num(prob, nan=1.0 / k) @ rgb
    return np.ascontiguousarray(1.0 - (1.0 - mix) * 0.67, dtype=np.float32)


class DecisionBoundary:
    """The network's prediction over the input plane with the data on top (a fitted curve for 1-D data)."""

    MAX_POINTS = 1500
    BINARY_TIP = ("Colour: the predicted probability of class 1 (red) against class 0 (blue) over the input plane, "
                  "with the data points on top (for the sine data set, the fitted curve).")
    MULTI_TIP = ("Colour: each class's colour weighted by its predicted probability over the input plane (a pure "
                 "colour where the network is sure of that class, a blend where it is not), with the data points "
                 "on top in their class's colour.")

    def __init__(self):
        self.widget = _plot("Prediction", "x₂", "x₁", self.BINARY_TIP, "boundaryPlot")
        self.widget.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-D1"))
        self.widget.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=5, pen=pg.mkPen(None))
        self.widget.addItem(self.points)
        self.curve = self.widget.plot([], [], pen=pg.mkPen("#e45756"))
        self.widget.setMouseEnabled(x=False, y=False)
        self.one_d = False
        self.multi = False

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
            self.multi = bool(len(y)) and float(y.max()) > 1 and bool(np.all(y == np.round(y)))
            self.widget.setToolTip(self.MULTI_TIP if self.multi else self.BINARY_TIP)
            if self.multi:
                palette = [pg.mkBrush(class_colour(c)) for c in range(int(y.max()) + 1)]
                brushes = [palette[int(v)] for v in y]
            else:
                red, blue = pg.mkBrush(class_colour(1)), pg.mkBrush(class_colour(0))
                brushes = [red if v > 0.5 else blue for v in y]
            self.points.setData(X[:, 0], X[:, 1], brush=brushes, pen=pg.mkPen("#ffffff" if self.multi else None))
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
            self.image.setImage(class_mix(pred), autoLevels=False, levels=(0.0, 1.0))
        else:
            self.image.setColorMap(pg.colormap.get("CET-D1"))
            img = np.ascontiguousarray(np.clip(np.nan_to_num(pred, nan=0.5), 0.0, 1.0), dtype=np.float32)
            self.image.setImage(img, autoLevels=False, levels=(0.0, 1.0))
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
