"""Loss per epoch with the chance level, and validation accuracy on its own 0-1 axis.

The loss axis starts at 0 by default, so a plateau looks flat and a fall to near 0 looks like one;
"Fit to data" zooms to the curves; the log scale plots log10 of the loss with decade ticks. The
dashed line is ``core.nn.losses.chance_loss`` (sent in the Snapshot): the loss of a network that learns
nothing. The top of the view is kept free for the legend.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

from gui.widgets import named
from gui.panels.panel import Panel
from gui.panels.plotting import _log10, _plot, centre, empty_note, nice_ceiling, power_ticks, with_controls

ROW_SHARE = 0.075   # share of the view above the data kept free per legend row (and 0.12 more)
ACC_COLOUR = "#9c6ade"


class LossCurves:
    def __init__(self):
        self.widget = _plot("Loss per epoch", "loss", "epoch",
                            "Training loss (mean over the epoch's batches) and validation loss (after the epoch); "
                            "the dashed line is the chance level, the loss of the best constant guess. The axis "
                            "starts at 0 unless 'Fit to data' is on. Right axis: validation accuracy, 0 to 1.",
                            "lossPlot")
        self.legend = self.widget.addLegend(offset=(-5, 5), labelTextSize="8pt", verSpacing=-6)
        self.empty = empty_note(self.widget)
        self.train = self.widget.plot([], [], pen=pg.mkPen("#4c78a8"), name="train")
        self.val = self.widget.plot([], [], pen=pg.mkPen("#f58518"), name="validation")
        self.train_b = pg.PlotDataItem([], [], pen=pg.mkPen("#54a24b"))
        self.val_b = pg.PlotDataItem([], [], pen=pg.mkPen("#b279a2"))
        for item in (self.train_b, self.val_b):
            self.widget.addItem(item)
            item.setVisible(False)
        self.chance = pg.InfiniteLine(angle=0, pen=pg.mkPen("#777777", width=1, style=Qt.DashLine))
        self.widget.addItem(self.chance)
        self.chance.setVisible(False)
        self.chance_sample = pg.PlotDataItem([], [], pen=pg.mkPen("#777777", style=Qt.DashLine))
        self.legend.addItem(self.chance_sample, "chance loss")
        self._accuracy_axis()
        self.log_scale, self.fit, self.comparing = False, False, False
        self.chance_value = math.nan
        self.widget.disableAutoRange()
        self.widget.setMouseEnabled(x=False, y=False)
        self.x_end = 1.0
        self.view = None
        self._last = ([], [], [], None, None)

    def _accuracy_axis(self) -> None:
        """A second view box on the right axis, 0 to 1, linked to the loss plot's x axis."""
        item = self.widget.getPlotItem()
        self.acc_view = pg.ViewBox()
        item.showAxis("right")
        item.scene().addItem(self.acc_view)
        axis = item.getAxis("right")
        axis.linkToView(self.acc_view)
        axis.setLabel("val. accuracy")
        axis.enableAutoSIPrefix(False)
        self.acc_view.setXLink(item)
        self.acc_view.setYRange(0, 1 / (1 - self.headroom()), padding=0)
        axis.setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1.0)], []])
        self.acc_view.setMouseEnabled(x=False, y=False)
        self.acc = pg.PlotDataItem([], [], pen=pg.mkPen(ACC_COLOUR))
        self.acc_view.addItem(self.acc)
        self.legend.addItem(self.acc, "val. acc. (right)")
        item.vb.sigResized.connect(lambda: self.acc_view.setGeometry(item.vb.sceneBoundingRect()))

    def headroom(self) -> float:
        """The share of the view above the curves that the legend's rows need."""
        return min(0.7, 0.12 + ROW_SHARE * (6 if getattr(self, "comparing", False) else 4))

    def set_compare(self, on: bool) -> None:
        """Show or hide run B's curves, and name the runs in the legend."""
        if on == self.comparing:
            return
        self.comparing = on
        for item in (self.train, self.val, self.train_b, self.val_b, self.acc):
            self.legend.removeItem(item)
        names = ("A train", "A validation", "B train", "B validation") if on else ("train", "validation")
        for item, name in zip((self.train, self.val, self.train_b, self.val_b), names):
            self.legend.addItem(item, name)
        self.legend.addItem(self.acc, "A val. acc. (right)" if on else "val. acc. (right)")
        self.acc_view.setYRange(0, 1 / (1 - self.headroom()), padding=0)
        self.view = None
        for item in (self.train_b, self.val_b):
            item.setVisible(on)
            if not on:
                item.setData([], [])

    def set_chance(self, value: float) -> None:
        self.chance_value = float(value)
        self.view = None

    def set_log(self, on: bool) -> None:
        self.log_scale = on
        self.widget.setLabel("left", "loss (log scale)" if on else "loss")
        self.view = None
        self.update(*self._last)

    def set_fit(self, on: bool) -> None:
        self.fit = on
        self.view = None
        self.update(*self._last)

    def _y(self, y) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if self.log_scale:
            y = _log10(np.where(y > 0, y, np.nan))   # non-positive values cannot be drawn on a log axis
        return np.where(np.isfinite(y), y, np.nan)

    def update(self, epochs, train, val, b=None, accuracy=None) -> None:
        """b: (epochs, train, val) of run B when comparing; accuracy: A's validation accuracy per epoch."""
        self._last = (epochs, train, val, b, accuracy)
        x = np.asarray(epochs, dtype=float)
        drawn = []
        for item, y in ((self.train, train), (self.val, val)) + (
                ((self.train_b, b[1]), (self.val_b, b[2])) if b is not None else ()):
            ys = self._y(y)
            item.setData(x if item in (self.train, self.val) else np.asarray(b[0], dtype=float), ys,
                         connect="finite")
            drawn.append(ys)
        acc = np.asarray(accuracy if accuracy is not None else [], dtype=float)
        finite_acc = np.isfinite(acc)
        self.acc.setData(x[finite_acc], acc[finite_acc]) if finite_acc.any() else self.acc.setData([], [])
        chance = self._y([self.chance_value])[0]
        self.chance.setVisible(bool(np.isfinite(chance)))
        if np.isfinite(chance):
            self.chance.setPos(chance)
        values = np.concatenate(drawn + [[chance]]) if drawn else np.array([chance])
        n = max(len(x), len(b[0]) if b is not None else 0)
        self._set_range(values[np.isfinite(values)], n)
        shown = any(np.isfinite(y).any() for y in drawn)
        self.empty.setText("no epoch completed yet" if n == 0 else "no finite loss to draw: training diverged")
        self.empty.setVisible(not shown)
        if not shown:
            centre(self.widget, self.empty)

    def _set_range(self, values, n: int) -> None:
        if n > self.x_end or n == 0:   # the x axis grows in steps of 1, 2, 5, 10 ... epochs
            self.x_end = nice_ceiling(max(n, 1))
            self.widget.setXRange(0.5, self.x_end + 0.5, padding=0)
        if not values.size:
            lo, hi = (-1.0, 1.0) if self.log_scale else (0.0, 1.0)
        elif self.log_scale:
            lo, hi = math.floor(values.min()), math.ceil(values.max())
            hi = max(hi, lo + 1)
        elif self.fit:
            lo, hi = float(values.min()), float(values.max())
            pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1e-3)
            lo, hi = lo - pad, hi + pad
        else:
            lo, hi = 0.0, float(values.max()) * 1.05 if values.max() > 0 else 1.0
        share = self.headroom()
        top = hi + share / (1 - share) * (hi - lo)
        if self.view == (lo, top):
            return
        self.view = (lo, top)
        self.widget.setYRange(lo, top, padding=0)
        axis = self.widget.getAxis("left")
        if self.log_scale:
            axis.setTicks([power_ticks(int(lo), int(math.ceil(hi))), []])
        else:
            axis.setTicks(None)   # pyqtgraph's own linear ticks


class LossPanel(Panel):
    def __init__(self):
        self.plot = LossCurves()
        self.logCheck = named(QCheckBox("log scale"), "lossLogCheck",
                              "Show the loss on a logarithmic axis, with a tick at every power of ten.")
        self.fitCheck = named(QCheckBox("Fit to data"), "lossFitCheck",
                              "Zoom the loss axis to the curves; off, it starts at 0 so a plateau looks flat.")
        self.widget = with_controls(self.plot.widget, self.fitCheck, self.logCheck)
        self.history = self.history_b = None
        self.logCheck.toggled.connect(self.plot.set_log)
        self.fitCheck.toggled.connect(self.plot.set_fit)

    def clear(self, snap) -> None:
        self.plot.set_compare(snap.b is not None)
        self.plot.set_chance(snap.chance_loss)
        self.plot.update([], [], [])
        self.history = self.history_b = None

    def on_epochs(self, f) -> None:
        self.history, self.history_b = f.history, f.history_b
        self.changed()

    def draw(self) -> None:
        h, hb = self.history, self.history_b
        if h is None:
            return
        self.plot.update(h.scalar("epoch").copy(), h.scalar("train_loss").copy(), h.scalar("val_loss").copy(),
                         (hb.scalar("epoch").copy(), hb.scalar("train_loss").copy(), hb.scalar("val_loss").copy())
                         if hb else None, h.scalar("val_accuracy").copy())

    cursor = None

    def mark_at(self, at) -> None:
        """Issue 21: a cursor at the rewound point (epochs done, steps / steps per epoch); None: live, none."""
        from gui.panels.inside.history_slider import place_cursor, rewind_cursor
        if self.cursor is None:
            self.cursor = rewind_cursor(self.plot.widget)
        place_cursor(self.cursor, None if at is None else at.point.position,
                     "" if at is None else f"step {at.step}")
