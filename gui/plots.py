"""The five live plots. Each item is created once and updated in place (setData/setOpts/setImage).

The plots draw what ``core`` measured; the only arithmetic here is for display
(log10 of values already computed, picking ticks, thinning very long histories).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor

# No antialiasing: it made painting the main cost of a frame, and frames share the GIL with training.
pg.setConfigOptions(antialias=False, background="w", foreground="k", imageAxisOrder="row-major")

VANISHING = 1e-6   # gradient norms below this: the layer has effectively stopped learning
EXPLODING = 1e2    # above this: updates are drastic
COLOURS = {"vanishing": "#4c78a8", "healthy": "#54a24b", "exploding": "#e45756", "nonfinite": "#222222"}
MAX_IMAGE_COLUMNS = 2000   # longer histories are thinned for display


def _log10(values) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.asarray(values, dtype=float))


def layer_ticks(n: int) -> list[tuple[float, str]]:
    """Whole layer numbers, at most about 20 of them, always including the last."""
    step = max(1, math.ceil(n / 20))
    return [(k, str(k)) for k in range(1, n + 1) if (k - 1) % step == 0 or k == n]


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


class GradientBars:
    """One bar per weight layer, height log10 of the gradient norm, coloured by regime."""

    TITLE = "Gradient norm per layer ‖dL/dW‖"

    def __init__(self):
        self.widget = _plot(self.TITLE, "‖dL/dW‖ (log scale)", "layer (1 = input side)",
                            "Height: log10 of each layer's gradient norm. Blue: vanishing (< 1e-6), "
                            "green: healthy, red: exploding (> 1e2). Hover a bar for its value.", "gradientPlot")
        self.bars = pg.BarGraphItem(x=[1], height=[0], width=0.7, y0=0)
        self.widget.addItem(self.bars)
        # The comparison run B: lighter bars beside A's, hidden unless comparing.
        self.bars_b = pg.BarGraphItem(x=[1], height=[0], width=0.34, y0=0)
        self.widget.addItem(self.bars_b)
        self.bars_b.setVisible(False)
        self.values_b = None
        self.theory = pg.PlotDataItem([], [], pen=pg.mkPen("#f58518"),
                                      symbol="o", symbolSize=5, symbolBrush="#f58518", name="theory")
        self.widget.addItem(self.theory)
        self.theory.setVisible(False)
        legend = self.widget.addLegend(offset=(5, 5), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 200),
                                       pen=pg.mkPen("#cccccc"))
        for key, label in (("vanishing", "vanishing &lt; 1e-6"), ("healthy", "healthy"),
                           ("exploding", "exploding &gt; 1e2"), ("nonfinite", "NaN / inf")):
            sample = pg.ScatterPlotItem(symbol="s", size=10, brush=COLOURS[key], pen=None)
            legend.addItem(sample, label)
        self.legend = legend
        # Names of the two runs while comparing: A's bars solid on the left, B's light on the right.
        self.sample_a = pg.ScatterPlotItem(symbol="s", size=10, brush=COLOURS["healthy"], pen=None)
        self.sample_b = pg.ScatterPlotItem(symbol="s", size=10, brush=QColor(COLOURS["healthy"]).lighter(150),
                                           pen=pg.mkPen("#555555", style=Qt.DotLine))
        self.run_labels = None
        self.hover = pg.TextItem("", anchor=(0.5, 1.2), color="k", fill=pg.mkBrush(255, 255, 255, 220))
        self.hover.setZValue(10)
        self.widget.addItem(self.hover)
        self.values = np.array([])
        self._brushes = {k: pg.mkBrush(c) for k, c in COLOURS.items()}
        self._brushes_b = {k: pg.mkBrush(QColor(c).lighter(150)) for k, c in COLOURS.items()}
        self._b_pen = pg.mkPen("#555555", width=1, style=Qt.DotLine)
        self._no_pen, self._mark_pen = pg.mkPen(None), pg.mkPen("#ff00ff", width=3)
        self._view, self._caption, self._mouse = None, None, None
        self.widget.scene().sigMouseMoved.connect(self._on_mouse)
        self.widget.setMouseEnabled(x=False, y=False)

    @staticmethod
    def _regimes(g):
        finite = np.isfinite(g)
        return np.where(~finite, "nonfinite", np.where(g < VANISHING, "vanishing",
                                                       np.where(g > EXPLODING, "exploding", "healthy")))

    def set_run_labels(self, labels) -> None:
        """(label A, label B) while comparing, None otherwise: shown in the legend."""
        if labels == self.run_labels:
            return
        if self.run_labels is not None:
            self.legend.removeItem(self.sample_a)
            self.legend.removeItem(self.sample_b)
        self.run_labels = labels
        if labels is not None:
            self.legend.addItem(self.sample_a, labels[0] + " (left)")
            self.legend.addItem(self.sample_b, labels[1] + " (right)")

    def update(self, grad_norms, marked_layer: int | None = None, caption: str = "", grad_norms_b=None) -> None:
        """Bars for run A; with ``grad_norms_b``, run B's bars beside them (A left, B right)."""
        g = np.asarray(grad_norms, dtype=float)
        self.values = g
        self.values_b = None if grad_norms_b is None else np.asarray(grad_norms_b, dtype=float)
        n = len(g)
        logs = _log10(g)
        both = logs if self.values_b is None else np.concatenate([logs, _log10(self.values_b)])
        finite = np.isfinite(both)
        lo = math.floor(np.min(both[finite])) - 1 if finite.any() else -8
        hi = math.ceil(np.max(both[finite])) + 1 if finite.any() else 2
        lo, hi = max(lo, -40), min(max(hi, lo + 3), 40)
        lo = min(lo, -1)
        top = np.where(np.isfinite(logs), logs, hi)  # NaN / inf: a full-height black bar
        paired = self.values_b is not None
        x = np.arange(1, n + 1, dtype=float)
        self.bars.setOpts(x=x - 0.18 if paired else x, width=0.34 if paired else 0.7, y0=np.full(n, lo),
                          height=np.maximum(top - lo, 0), brushes=[self._brushes[r] for r in self._regimes(g)],
                          pens=[self._mark_pen if marked_layer == i + 1 else self._no_pen for i in range(n)])
        self.bars_b.setVisible(paired)
        if paired:
            gb = self.values_b
            lb = _log10(gb)
            top_b = np.where(np.isfinite(lb), lb, hi)
            xb = np.arange(1, len(gb) + 1, dtype=float) + 0.18
            self.bars_b.setOpts(x=xb, width=0.34, y0=np.full(len(gb), lo), height=np.maximum(top_b - lo, 0),
                                brushes=[self._brushes_b[r] for r in self._regimes(gb)], pens=[self._b_pen] * len(gb))
            n = max(n, len(gb))
        # Axes are repainted only when their range changes: most frames change only the bars.
        if self._view != (lo, hi, n):
            self._view = (lo, hi, n)
            self.widget.setYRange(lo, hi, padding=0)
            self.widget.setXRange(0.4, n + 0.6, padding=0)
            self.widget.getAxis("left").setTicks([power_ticks(lo, hi)])
            self.widget.getAxis("bottom").setTicks([layer_ticks(n)])
        if caption != self._caption:
            self._caption = caption
            self.widget.setTitle(f"{self.TITLE}  ({caption})" if caption else self.TITLE, size="10pt")

    def show_theory(self, profile, visible: bool) -> None:
        """Overlay a predicted gradient-norm profile (values, one per layer) as a dashed line."""
        if profile is None or not visible:
            self.theory.setVisible(False)
            return
        logs = _log10(profile)
        if not np.isfinite(logs).any():  # no prediction (residual network, diverged run)
            self.theory.setVisible(False)
            return
        self.theory.setData(np.arange(1, len(logs) + 1), logs, connect="finite")
        self.theory.setVisible(True)

    def refresh_hover(self) -> None:
        """After new bars: the hover text shows the new values at the mouse's last position."""
        if self._mouse is not None:
            self._on_mouse(self._mouse)

    def _on_mouse(self, pos) -> None:
        self._mouse = pos
        vb = self.widget.getPlotItem().vb
        if not self.widget.sceneBoundingRect().contains(pos) or not len(self.values):
            self.hover.setText("")
            return
        p = vb.mapSceneToView(pos)
        k = int(round(p.x()))
        if 1 <= k <= max(len(self.values), 0 if self.values_b is None else len(self.values_b)):
            parts = []
            if k <= len(self.values):
                parts.append(f"{'A ' if self.values_b is not None else ''}layer {k}: ‖dL/dW‖ = {self.values[k - 1]:.3e}")
            if self.values_b is not None and k <= len(self.values_b):
                parts.append(f"B layer {k}: ‖dL/dW‖ = {self.values_b[k - 1]:.3e}")
            self.hover.setText("\n".join(parts))
            self.hover.setPos(k, p.y())
        else:
            self.hover.setText("")


class LossCurves:
    def __init__(self):
        self.widget = _plot("Loss per epoch", "loss", "epoch",
                            "Training loss (mean over the epoch's batches) and validation loss (after the epoch). "
                            "A flat curve while gradients vanish means learning has stopped.", "lossPlot")
        self.widget.addLegend(offset=(-5, 5), labelTextSize="8pt")
        # Solid one-pixel pens: drawn as plain line segments. Dashed and wide pens made stroking
        # the curves the main cost of a frame (measured with py-spy), so colour tells them apart.
        self.train = self.widget.plot([], [], pen=pg.mkPen("#4c78a8"), name="train")
        self.val = self.widget.plot([], [], pen=pg.mkPen("#f58518"), name="validation")
        self.train_b = pg.PlotDataItem([], [], pen=pg.mkPen("#54a24b"))
        self.val_b = pg.PlotDataItem([], [], pen=pg.mkPen("#b279a2"))
        for item in (self.train, self.val, self.train_b, self.val_b):
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
        for item in (self.train_b, self.val_b):
            self.widget.addItem(item)
            item.setVisible(False)
        self.legend = self.widget.getPlotItem().legend
        self.log_scale = False
        self.comparing = False
        self.widget.disableAutoRange()
        self._x_end = 0.0
        self._y = StickyRange()

    def set_compare(self, on: bool) -> None:
        """Show or hide run B's curves, and name the runs in the legend."""
        if on == self.comparing:
            return
        self.comparing = on
        for item in (self.train, self.val, self.train_b, self.val_b):
            self.legend.removeItem(item)
        names = (("A train", "A validation", "B train", "B validation") if on else ("train", "validation"))
        for item, name in zip((self.train, self.val, self.train_b, self.val_b), names):
            self.legend.addItem(item, name)
        for item in (self.train_b, self.val_b):
            item.setVisible(on)
            if not on:
                item.setData([], [])

    def set_log(self, on: bool) -> None:
        self.log_scale = on
        self.widget.setLogMode(y=on)
        self._y.reset()

    def update(self, epochs, train, val, b=None) -> None:
        """b: (epochs, train, val) of run B when comparing."""
        shown = [self._set(self.train, self.val, epochs, train, val)]
        if b is not None:
            shown.append(self._set(self.train_b, self.val_b, *b))
        n = max(len(epochs), len(b[0]) if b is not None else 0)
        if n == 0:
            self._x_end = 0.0
            self._y.reset()
            return
        if n > self._x_end:  # the x axis grows in steps of 1, 2, 5, 10 ... epochs
            self._x_end = nice_ceiling(n)
            self.widget.setXRange(0.5, self._x_end + 0.5, padding=0)
        values = np.concatenate([v for pair in shown for v in pair])
        values = values[np.isfinite(values)]
        if values.size:
            if self.log_scale:
                values = np.log10(values)
            new = self._y.fit(float(values.min()), float(values.max()))
            if new is not None:
                self.widget.setYRange(*new, padding=0)

    def _set(self, train_item, val_item, epochs, train, val) -> list:
        # Non-positive values cannot be drawn on a log axis; NaN/inf are gaps, never an exception.
        drawn = []
        for item, y in ((train_item, train), (val_item, val)):
            y = np.asarray(y, dtype=float)
            if self.log_scale:
                y = np.where(y > 0, y, np.nan)
            y = np.where(np.isfinite(y), y, np.nan)
            item.setData(np.asarray(epochs, dtype=float), y, connect="finite")
            drawn.append(y)
        return drawn


class FlowHeatmap:
    """log10 gradient norm, layer by epoch: the whole history of gradients shrinking or growing."""

    def __init__(self):
        self.widget = _plot("Gradient flow history: log10 ‖dL/dW‖", "layer", "epoch",
                            "Each column is an epoch, each row a layer (1 at the bottom); colour is log10 of the "
                            "layer's mean gradient norm over that epoch.", "heatmapPlot")
        self.widget.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.widget.addItem(self.image)
        self.cmap = pg.colormap.get("viridis")
        self.image.setColorMap(self.cmap)
        self.colorbar = pg.ColorBarItem(values=(-8, 2), colorMap=self.cmap, interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.widget.getPlotItem())
        self.levels = (-8.0, 2.0)
        self._x_end, self._n_layers = 1.0, 0
        self.widget.setMouseEnabled(x=False, y=False)

    def clear(self, n_layers: int) -> None:
        self.levels = (-8.0, 2.0)
        self._x_end, self._n_layers = 1.0, n_layers
        self.image.setImage(np.full((n_layers, 1), np.nan, dtype=np.float32), autoLevels=False, levels=self.levels)
        self.image.setRect(QRectF(0.5, 0.5, 1, n_layers))
        self.widget.getAxis("left").setTicks([layer_ticks(n_layers)])
        self.widget.setXRange(0.5, 1.5, padding=0)
        self.widget.setYRange(0.5, n_layers + 0.5, padding=0)

    def update(self, grad_norm_history: np.ndarray) -> None:
        """grad_norm_history: (epochs, layers)."""
        n_epochs, n_layers = grad_norm_history.shape
        if n_epochs == 0:
            return
        logs = _log10(grad_norm_history)
        if n_epochs > MAX_IMAGE_COLUMNS:  # thin for display: every k-th epoch
            logs = logs[:: math.ceil(n_epochs / MAX_IMAGE_COLUMNS)]
        finite = logs[np.isfinite(logs)]
        if finite.size:  # levels only widen, so colours keep their meaning during a run
            lo = min(self.levels[0], math.floor(finite.min()))
            hi = max(self.levels[1], math.ceil(finite.max()))
            self.levels = (max(lo, -40.0), min(hi, 40.0))
        lo, hi = self.levels
        img = np.ascontiguousarray(np.nan_to_num(logs, nan=np.nan, posinf=hi, neginf=lo).T, dtype=np.float32)
        self.image.setImage(img, autoLevels=False, levels=self.levels)
        self.image.setRect(QRectF(0.5, 0.5, n_epochs, n_layers))
        if self.colorbar.levels() != self.levels:
            self.colorbar.setLevels(self.levels)
        if (n_epochs > self._x_end) or n_layers != self._n_layers:  # axes grow in steps of 1, 2, 5, 10 ...
            self._x_end, self._n_layers = nice_ceiling(n_epochs), n_layers
            self.widget.setXRange(0.5, self._x_end + 0.5, padding=0)
            self.widget.setYRange(0.5, n_layers + 0.5, padding=0)
            self.widget.getAxis("left").setTicks([layer_ticks(n_layers)])


class UpdateRatios:
    REFERENCE = 1e-3

    def __init__(self):
        self.widget = _plot("Update ratio ‖ΔW‖ / ‖W‖ per layer", "ratio (log scale)", "layer",
                            "How much one step changes each layer's weights. Around 1e-3 is healthy; far "
                            "below, w_new ≈ w_old and the layer has stopped learning; near 1, steps are drastic.",
                            "updatePlot")
        self.widget.setLogMode(y=True)
        self.curve = self.widget.plot([], [], pen=pg.mkPen("#4c78a8"), symbol="o", symbolSize=6,
                                      symbolBrush="#4c78a8")
        self.line = pg.InfiniteLine(pos=math.log10(self.REFERENCE), angle=0,
                                    pen=pg.mkPen("#888888", style=Qt.DashLine),
                                    label="1e-3", labelOpts={"position": 0.95, "color": "#555555"})
        self.widget.addItem(self.line)
        self.curve_b = self.widget.plot([], [], pen=pg.mkPen("#54a24b"), symbol="t",
                                        symbolSize=6, symbolBrush="#54a24b")
        self.widget.setMouseEnabled(x=False, y=False)
        self._view = None
        self.widget.setYRange(-6, 0, padding=0.05)  # before the first step: decades only, as later
        self.widget.getAxis("left").setTicks([power_ticks(-6, 0), []])

    @staticmethod
    def _clean(ratios):
        r = np.asarray(ratios, dtype=float)
        return np.where(np.isfinite(r) & (r > 0), r, np.nan)

    @staticmethod
    def _set(curve, r) -> None:
        if np.isfinite(r).any():
            curve.setData(np.arange(1, len(r) + 1), r, connect="finite")
        else:
            curve.setData([], [])  # nothing drawable: no all-NaN data for pyqtgraph to take bounds of

    def update(self, ratios, ratios_b=None) -> None:
        r = self._clean(ratios)
        n = len(r)
        self._set(self.curve, r)
        if ratios_b is None:
            self.curve_b.setData([], [])
        else:
            rb = self._clean(ratios_b)
            self._set(self.curve_b, rb)
            r, n = np.concatenate([r, rb]), max(n, len(rb))
        logs = _log10(r)
        logs = logs[np.isfinite(logs)]
        lo = min(math.floor(logs.min()) if logs.size else -6, -4)
        hi = max(math.ceil(logs.max()) if logs.size else 0, -2)
        if self._view != (lo, hi, n):  # repaint the axes only when the range changes
            self._view = (lo, hi, n)
            self.widget.setXRange(0.5, n + 0.5, padding=0)
            self.widget.setYRange(lo, hi, padding=0.05)
            # decades only: the log axis' own minor labels overlap on narrow ranges
            self.widget.getAxis("left").setTicks([power_ticks(lo, hi), []])
            self.widget.getAxis("bottom").setTicks([layer_ticks(n)])


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
        self.widget = _plot("What the network predicts", "x₂", "x₁", self.BINARY_TIP, "boundaryPlot")
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
