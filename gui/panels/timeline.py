"""The step timeline: every step's loss and global gradient norm on one log axis, clipped steps marked.

Fed from the session model's StepHistory (the rows each Snapshot carries), so a divergence is a
curve you see coming even when no epoch completes. Long runs are drawn thinned by pyqtgraph's
peak downsampling; the data stay whole.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.panels.plotting import _log10, _plot, legend_share, power_ticks, set_data
from gui.panels.panel import Panel

HEADROOM = 0.3   # share of the view above the data, kept free for the legend
LOSS_COLOUR, NORM_COLOUR, CLIP_COLOUR = "#4c78a8", "#e45756", "#f2a900"
SCALE_COLOUR, SKIP_COLOUR = "#54a24b", "#b35806"   # issue 24: the loss scale, steps dynamic scaling skipped


class LogCache:
    """log10 of the loss and the norm, taken once per step as steps arrive (a long run has hundreds of
    thousands: taking them all again every frame made the timeline the costliest plot), with the running
    lowest and highest finite log and whether any value was exactly 0."""

    KEYS = ("loss", "grad_norm_total")

    def __init__(self):
        self.n, self.x, self.logs = 0, np.empty(0), [np.empty(0), np.empty(0)]
        self.zeros = [np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)]   # where a value is exactly 0
        self.lo, self.hi = math.inf, -math.inf
        self.has_log = [False, False]   # per curve: some value has a finite log

    def update(self, steps) -> None:
        n = len(steps)
        if n < self.n:   # a new run's history
            self.__init__()
        if n > len(self.x):
            cap = max(256, 2 * len(self.x), n)
            self.x = np.concatenate([self.x[:self.n], np.full(cap - self.n, np.nan)])
            self.logs = [np.concatenate([y[:self.n], np.full(cap - self.n, np.nan)]) for y in self.logs]
        new = slice(self.n, n)
        self.x[new] = steps.scalar("step")[new]
        for k, key in enumerate(self.KEYS):
            v = np.asarray(steps.scalar(key)[new], dtype=float)
            y = _log10(np.where(v > 0, v, np.nan))
            y = np.where(np.isfinite(y), y, np.nan)   # NaN/inf and exact zeros: no log (zeros: the floor)
            self.logs[k][new] = y
            if (v == 0).any():
                self.zeros[k] = np.concatenate([self.zeros[k], self.n + np.flatnonzero(v == 0)])
            finite = y[np.isfinite(y)]
            if finite.size:
                self.has_log[k] = True
                self.lo, self.hi = min(self.lo, float(finite.min())), max(self.hi, float(finite.max()))
        self.n = n

    def curve(self, k: int, floor: float) -> np.ndarray:
        """Curve k's y values, an exact zero at ``floor``."""
        y = self.logs[k][:self.n]
        if len(self.zeros[k]):
            y = y.copy()
            y[self.zeros[k]] = floor
        return y


def axis_end(n: int) -> int:
    """The x axis' end for n steps: the next of 10, 12, 15, 20, 25, 30, 40, 50, 60, 80 (x a power of 10),
    so the curve fills at least 3/4 of the width as it grows."""
    if n <= 10:
        return 10
    k = 10 ** math.floor(math.log10(n))
    return next(int(m * k) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * k >= n)


class StepTimeline:
    DOTS = 200   # up to this many steps, each step is also a dot
    def __init__(self):
        self.widget = _plot("Step timeline", "value (log scale)", "step",
                            "Every training step: the batch's loss and the global gradient norm ‖dL/dθ‖ over all "
                            "parameters, before clipping, on one log axis. Triangles along the floor mark steps whose "
                            "gradient was clipped; the dashed line is the clipping threshold. With loss scaling, the "
                            "green dashed line is each step's loss scale and crosses mark steps it skipped.", "timelinePlot")
        self.legend = self.widget.addLegend(offset=(5, 5), labelTextSize="8pt", verSpacing=-6)
        self.loss = self.widget.plot([], [], pen=pg.mkPen(LOSS_COLOUR), name="loss")
        self.norm = self.widget.plot([], [], pen=pg.mkPen(NORM_COLOUR), name="‖dL/dθ‖ all")
        for item in (self.loss, self.norm):
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            item.setSymbolSize(4)   # the dots' look, set once: each setter re-renders the item
            item.setSymbolPen(None)
            item.setSymbolBrush(item.opts["pen"].color())
        self.dots = None
        # clipped steps: a rug of ticks along the floor, so they never hide the curves
        self.clips = pg.ScatterPlotItem(symbol="t1", size=7, brush=CLIP_COLOUR, pen=None)
        self.widget.addItem(self.clips)
        self.legend.addItem(self.clips, "clipped")
        self.threshold = pg.InfiniteLine(angle=0, pen=pg.mkPen(CLIP_COLOUR, style=Qt.DashLine))
        self.widget.addItem(self.threshold)
        self.threshold.setVisible(False)
        # issue 24: with loss scaling, the scale each step used and the steps skipped (legend rows only then)
        self.scale = pg.PlotDataItem([], [], pen=pg.mkPen(SCALE_COLOUR, style=Qt.DashLine))
        self.skips = pg.ScatterPlotItem(symbol="x", size=8, brush=SKIP_COLOUR, pen=pg.mkPen(SKIP_COLOUR))
        for item in (self.scale, self.skips):
            self.widget.addItem(item)
        self.scaled = False
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.disableAutoRange()
        self.view = None
        self.steps = None
        self.clear()
        self.widget.getPlotItem().vb.sigResized.connect(self._on_resized)

    def _on_resized(self) -> None:
        """Another height may need another headroom for the legend: the same steps again."""
        self.view = None
        if self.steps is not None:
            self.update(self.steps)

    def clear(self, clip_norm=None) -> None:
        """A new run: no step of the old one stays."""
        for item in (self.loss, self.norm, self.clips, self.scale, self.skips):
            item.setData([], [])
        self.steps = None
        self._show_scaling(False)
        self.cache = LogCache()
        self.set_clip(clip_norm)
        self.view = None
        self._set_range(np.array([]), 0)

    def set_clip(self, clip_norm) -> None:
        """The clipping threshold (None: no clipping), a dashed line on the norm's scale."""
        self.clip_norm = clip_norm
        self.threshold.setVisible(clip_norm is not None and clip_norm > 0)
        if self.threshold.isVisible():
            self.threshold.setPos(math.log10(clip_norm))

    def update(self, steps) -> None:
        """``steps``: a core.training.history.StepHistory (the rows received so far). An exactly zero loss or norm
        is drawn on the floor, whose tick reads "0"; NaN/inf leave a gap where training stopped."""
        self.steps = steps
        c = self.cache
        c.update(steps)
        x = c.x[:c.n]
        zero = any(len(z) for z in c.zeros)
        scale = _log10(steps.scalar("loss_scale"))
        self._show_scaling(self.scaled or bool(np.any(np.nan_to_num(scale) != 0)))
        extra = [float(np.nanmin(scale)), float(np.nanmax(scale))] if self.scaled else []
        values = np.array([c.lo, c.hi] + extra + ([self.threshold.value()] if self.threshold.isVisible() else []))
        self._set_range(values[np.isfinite(values)], int(x[-1]) if len(x) else 0, zero)
        floor = self.view[0]
        dots = "o" if len(x) <= self.DOTS else None   # a lone finite step (then NaN) is a dot, not nothing
        if dots != self.dots:
            self.dots = dots
            for item in (self.loss, self.norm):
                item.setSymbol(dots)
        for k, item in enumerate((self.loss, self.norm)):
            if c.has_log[k] or len(c.zeros[k]):   # something to draw: no all-NaN data to take bounds of
                set_data(item, x, c.curve(k, floor), connect="finite")
            else:
                set_data(item, [], [], connect="finite")
        clipped = steps.clipped
        if clipped.any() or len(self.clips.data):   # none clipped (the usual case): the empty rug stays
            self.clips.setData(x[clipped], np.full(int(clipped.sum()), floor + 0.03 * (self.view[1] - floor)))
        if self.scaled:
            set_data(self.scale, x, scale, connect="finite")
            skipped = steps.scalar("skipped") == 1
            self.skips.setData(x[skipped], np.full(int(skipped.sum()), floor + 0.08 * (self.view[1] - floor)))

    def _show_scaling(self, on: bool) -> None:
        """The loss scale's legend rows, shown only for a run that scales its loss."""
        if on == self.scaled:
            return
        self.scaled = on
        if on:
            self.legend.addItem(self.scale, "loss scale")
            self.legend.addItem(self.skips, "skipped (inf/NaN gradient)")
        else:
            self.legend.removeItem(self.scale)
            self.legend.removeItem(self.skips)

    def _set_range(self, values, n: int, zero: bool = False) -> None:
        lo, hi = (math.floor(values.min()), math.ceil(values.max())) if values.size else (-2, 1)
        hi = max(hi, lo + 1)
        lo -= 1 if zero else 0   # a floor a decade below the smallest value, labelled 0
        # the legend's measured height (two more rows with loss scaling), HEADROOM before the plot is laid out
        room = legend_share(self.widget, self.legend, HEADROOM + (0.15 if self.scaled else 0))
        top = hi + max(1, math.ceil(room / (1 - room) * (hi - lo)))
        x_end = axis_end(n)
        if self.view == (lo, top, x_end, zero):
            return
        self.view = (lo, top, x_end, zero)
        self.widget.setXRange(0.5, x_end + 0.5, padding=0)
        self.widget.setYRange(lo - 0.03 * (top - lo), top, padding=0)   # room for the floor's label
        ticks = power_ticks(lo + (1 if zero else 0), top)
        self.widget.getAxis("left").setTicks([([(lo, "0")] if zero else []) + ticks, []])


class TimelinePanel(Panel):
    """The dashboard panel of the timeline (a gui.panels.panel.Panel)."""

    def __init__(self, steps_of):
        """``steps_of()``: the session model's StepHistory of run A."""
        self.plot = StepTimeline()
        self.widget = self.plot.widget
        self.steps_of = steps_of

    def clear(self, snap) -> None:
        self.plot.clear(snap.config.clip_norm)

    def on_batch(self, frame) -> None:
        if frame.snap.config.clip_norm != self.plot.clip_norm:   # clipping applies live
            self.plot.set_clip(frame.snap.config.clip_norm)
        self.changed()

    def draw(self) -> None:
        steps = self.steps_of()
        if len(steps):
            self.plot.update(steps)

    cursor = None

    def mark_at(self, at) -> None:
        """Issue 21: a cursor at the rewound step; None: live, none."""
        from gui.panels.inside.history_slider import place_cursor, rewind_cursor
        if self.cursor is None:
            self.cursor = rewind_cursor(self.plot.widget)
        place_cursor(self.cursor, None if at is None else at.step, "" if at is None else f"step {at.step}")
