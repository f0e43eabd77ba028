"""The step timeline: every step's loss and global gradient norm on one log axis, clipped steps marked.

Fed from the session model's StepHistory (the rows each Snapshot carries), so a divergence is a
curve you see coming even when no epoch completes. A long run is drawn as each curve's envelope, kept up to date as
steps arrive (gui/panels/step_envelope.py): the lowest and highest value of each block of steps, as peak downsampling
draws them, at a cost that does not grow with the run.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.panels.plotting import _plot, legend_share, power_ticks, set_data
from gui.panels.panel import Panel
from gui.panels.step_envelope import LogCache

HEADROOM = 0.3   # share of the view above the data, kept free for the legend
LOSS_COLOUR, NORM_COLOUR, CLIP_COLOUR = "#4c78a8", "#e45756", "#f2a900"
SCALE_COLOUR, SKIP_COLOUR = "#54a24b", "#b35806"   # issue 24: the loss scale, steps dynamic scaling skipped


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
        n = c.n
        zero = c.zero[0] or c.zero[1]
        self._show_scaling(self.scaled or c.scaled)
        extra = [c.lows[2], c.highs[2]] if self.scaled and c.has_log(2) else []
        values = np.array([c.lo, c.hi] + extra + ([self.threshold.value()] if self.threshold.isVisible() else []))
        self._set_range(values[np.isfinite(values)], int(c.x[n - 1]) if n else 0, zero)
        floor = self.view[0]
        dots = "o" if n <= self.DOTS else None   # a lone finite step (then NaN) is a dot, not nothing
        if dots != self.dots:
            self.dots = dots
            for item in (self.loss, self.norm):
                item.setSymbol(dots)
        for k, item in enumerate((self.loss, self.norm)):
            if c.has_log(k) or c.zero[k]:   # something to draw: no all-NaN data to take bounds of
                set_data(item, *c.curve(k, floor), connect="finite")
            else:
                set_data(item, [], [], connect="finite")
        if len(c.clipped_x) or len(self.clips.data):   # none clipped (the usual case): the empty rug stays
            self.clips.setData(c.clipped_x, np.full(len(c.clipped_x), floor + 0.03 * (self.view[1] - floor)))
        if self.scaled:
            set_data(self.scale, *c.curve(2, floor), connect="finite")
            self.skips.setData(c.skipped_x, np.full(len(c.skipped_x), floor + 0.08 * (self.view[1] - floor)))

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
