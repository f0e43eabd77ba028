"""Loss per epoch with the chance level, and validation accuracy in a plot of its own under it (0 to 1).

The loss axis starts at 0 by default, so a plateau looks flat and a fall to near 0 looks like one;
"Fit to data" zooms to the curves; the log scale plots log10 of the loss with decade ticks. The
dashed line is ``core.nn.losses.chance_loss`` (sent in the Snapshot): the loss of a network that learns
nothing. The legend sits in headroom above the curves, measured from its own drawn height, so it covers no
point; while there are few epochs each one carries a marker (one epoch is a point, not an empty plot).
Accuracy has its own plot (issue 21: a 0-1 axis beside the loss put 1.0 next to the ln 2 line).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QBoxLayout, QCheckBox, QWidget

from gui.widgets import named
from gui.panels.panel import Panel
from gui.panels.step_envelope import thinned
from gui.panels.plotting import (TITLE_LEGEND_ABOVE, _log10, _plot, empty_note, legend_cell, legend_share, nice_ceiling,
                                 power_ticks, title_legend, with_controls)

ROW_SHARE = 0.075   # share of the view above the data kept free per legend row (and 0.12 more), before layout
ACC_COLOUR = "#9c6ade"
MARKED_UP_TO = 40   # epochs: up to this many points each curve marks every point
PEN = {"train": "#4c78a8", "validation": "#f58518", "B train": "#54a24b", "B validation": "#b279a2"}


def marker_opts(colour: str, n: int) -> dict:
    """A curve's symbol options: a dot per epoch while there are few (a single epoch is then visible)."""
    if n > MARKED_UP_TO:
        return {"symbol": None}
    return {"symbol": "o", "symbolSize": 6, "symbolBrush": pg.mkBrush(colour), "symbolPen": pg.mkPen(colour)}


class AccuracyPlot:
    """Validation accuracy per epoch on a 0-1 axis of its own, its x axis linked to the loss plot's."""

    def __init__(self, loss_widget):
        self.widget = _plot("", "val. acc.", "",
                            "The share of validation samples classified correctly after each epoch, 0 to 1 (for "
                            "regression there is no accuracy and this plot stays empty).", "accuracyPlot")
        self.widget.setXLink(loss_widget)
        self.widget.setYRange(-0.14, 1.12, padding=0)   # 0 and 1 with room for their tick labels
        self.widget.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.5, 1.0)], []])
        self.widget.setMouseEnabled(x=False, y=False)
        self.set_beside(False)
        for w in (self.widget, loss_widget):
            w.setMinimumHeight(40)   # the pair takes the room the loss plot alone took (the row keeps its height)
        self.curve = self.widget.plot([], [], pen=pg.mkPen(ACC_COLOUR))
        self.empty = empty_note(self.widget, "no accuracy measured yet")

    def set_beside(self, on: bool) -> None:
        """Beside the loss plot: an epoch axis of its own; under it: none (the loss plot's epoch axis, just above,
        is the same)."""
        item = self.widget.getPlotItem()
        if on:
            item.showAxis("bottom")
            item.setLabel("bottom", "epoch")
        else:
            item.hideAxis("bottom")
        item.setTitle(None)
        item.layout.setRowFixedHeight(0, 4)

    def update(self, x, acc) -> None:
        finite = np.isfinite(acc)
        self.curve.setData(*thinned(x[finite], acc[finite]), **marker_opts(ACC_COLOUR, int(finite.sum())))
        self.empty.setVisible(not finite.any())
        if not finite.any():
            (x0, x1), _ = self.widget.getPlotItem().vb.viewRange()
            self.empty.setPos((x0 + x1) / 2, 0.5)
        self.empty.setText("no epoch completed yet" if not len(x) else "no accuracy measured for these epochs")


class LossCurves:
    def __init__(self):
        self.widget = _plot("Loss per epoch", "loss", "epoch",
                            "Training loss (mean over the epoch's batches) and validation loss (after the epoch); "
                            "the dashed line is the chance level, the loss of the best constant guess. The axis "
                            "starts at 0 unless 'Fit to data' is on. Validation accuracy: the plot below.",
                            "lossPlot")
        self.legend = self.widget.addLegend(offset=(-5, 5), labelTextSize="8pt", verSpacing=-6)
        self.empty = empty_note(self.widget)
        self.train = self.widget.plot([], [], pen=pg.mkPen(PEN["train"]), name="train")
        self.val = self.widget.plot([], [], pen=pg.mkPen(PEN["validation"]), name="validation")
        self.train_b = pg.PlotDataItem([], [], pen=pg.mkPen(PEN["B train"]))
        self.val_b = pg.PlotDataItem([], [], pen=pg.mkPen(PEN["B validation"]))
        for item in (self.train_b, self.val_b):
            self.widget.addItem(item)
            item.setVisible(False)
        self.chance = pg.InfiniteLine(angle=0, pen=pg.mkPen("#777777", width=1, style=Qt.DashLine))
        self.widget.addItem(self.chance)
        self.chance.setVisible(False)
        self.chance_sample = pg.PlotDataItem([], [], pen=pg.mkPen("#777777", style=Qt.DashLine))
        self.legend.addItem(self.chance_sample, "chance loss")
        self.accuracy = AccuracyPlot(self.widget)
        self.acc, self.acc_view = self.accuracy.curve, self.accuracy.widget.getPlotItem().vb
        self.widget.companions = (self.accuracy.widget,)
        self.log_scale, self.fit, self.comparing = False, False, False
        self.legend_in_title, self._title_rows = False, None
        self.chance_value = math.nan
        self.widget.disableAutoRange()
        self.widget.setMouseEnabled(x=False, y=False)
        self.x_end = 1.0
        self.view = None
        self._last = ([], [], [], None, None)
        self.widget.getPlotItem().vb.sigResized.connect(self._on_resized)

    def _on_resized(self) -> None:
        """Another height may need another headroom (and legend columns): the same curves again."""
        self.view = None
        self.update(*self._last)

    def headroom(self) -> float:
        """The share of the view above the curves that the legend needs (gui/panels/plotting.legend_share); in a
        plot too short for that, the legend goes under the title and the curves keep the view."""
        share = legend_share(self.widget, self.legend, 0.12 + ROW_SHARE * (5 if self.comparing else 3), most=1.0)
        in_title = share > TITLE_LEGEND_ABOVE
        key = (self._rows(), self.widget.width()) if in_title else None
        if in_title != self.legend_in_title or key != self._title_rows:
            self.legend_in_title, self._title_rows = in_title, key
            title_legend(self.widget, self.legend, "Loss per epoch", key[0] if in_title else None)
        return 0.08 if in_title else share

    def _rows(self) -> list[str]:
        curves = ((self.train, "━"), (self.val, "━")) + (((self.train_b, "━"), (self.val_b, "━"))
                                                           if self.comparing else ())
        names = {id(sample.item): label.text for sample, label in self.legend.items}
        return [legend_cell(item.opts["pen"].color().name(), glyph, names[id(item)]) for item, glyph in curves] + \
            [legend_cell("#777777", "╌", "chance loss")]

    def set_compare(self, on: bool) -> None:
        """Show or hide run B's curves, and name the runs in the legend."""
        if on == self.comparing:
            return
        self.comparing = on
        for item in (self.train, self.val, self.train_b, self.val_b, self.chance_sample):
            self.legend.removeItem(item)
        names = ("A train", "A validation", "B train", "B validation") if on else ("train", "validation")
        for item, name in zip((self.train, self.val, self.train_b, self.val_b), names):
            self.legend.addItem(item, name)
        self.legend.addItem(self.chance_sample, "chance loss")
        self.accuracy.widget.setLabel("left", "A val. acc." if on else "val. acc.")
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
        for item, y, colour in ((self.train, train, PEN["train"]), (self.val, val, PEN["validation"])) + (
                ((self.train_b, b[1], PEN["B train"]), (self.val_b, b[2], PEN["B validation"]))
                if b is not None else ()):
            ys = self._y(y)
            xs = x if item in (self.train, self.val) else np.asarray(b[0], dtype=float)
            item.setData(*thinned(xs, ys), connect="finite", **marker_opts(colour, len(xs)))
            drawn.append(ys)
        self.accuracy.update(x, np.asarray(accuracy if accuracy is not None else [], dtype=float))
        chance = self._y([self.chance_value])[0]
        self.chance.setVisible(bool(np.isfinite(chance)))
        if np.isfinite(chance):
            self.chance.setPos(chance)
        values = np.concatenate(drawn + [[chance]]) if drawn else np.array([chance])
        n = max(len(x), len(b[0]) if b is not None else 0)
        lo, hi = self._set_range(values[np.isfinite(values)], n)
        shown = any(np.isfinite(y).any() for y in drawn)
        self.empty.setText("no epoch completed yet" if n == 0 else "no finite loss to draw: training diverged")
        self.empty.setVisible(not shown)
        if not shown:   # in the middle of the view's part under the legend
            vb = self.widget.getPlotItem().vb
            room = vb.sceneBoundingRect()
            top = self.legend.mapRectToScene(self.legend.boundingRect()).bottom() if self.legend.isVisible() \
                else room.top()
            self.empty.setPos(vb.mapSceneToView(QPointF(room.center().x(), (max(top, room.top()) + room.bottom()) / 2)))

    def _data_range(self, values) -> tuple[float, float]:
        if not values.size:
            return (-1.0, 1.0) if self.log_scale else (0.0, 1.0)
        if self.log_scale:
            lo, hi = math.floor(values.min()), math.ceil(values.max())
            return lo, max(hi, lo + 1)
        if self.fit:
            lo, hi = float(values.min()), float(values.max())
            pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1e-3)
            return lo - pad, hi + pad
        return 0.0, float(values.max()) * 1.05 if values.max() > 0 else 1.0

    def _set_range(self, values, n: int) -> tuple[float, float]:
        """Set the view to the data and the legend's headroom above; returns the data's (lo, hi)."""
        if n > self.x_end or n == 0:   # the x axis grows in steps of 1, 2, 5, 10 ... epochs
            self.x_end = nice_ceiling(max(n, 1))
            self.widget.setXRange(0.5, self.x_end + 0.5, padding=0)
        lo, hi = self._data_range(values)
        share = self.headroom()
        top = hi + share / (1 - share) * (hi - lo)
        if self.view == (lo, top):
            return lo, hi
        self.view = (lo, top)
        self.widget.setYRange(lo, top, padding=0)
        axis = self.widget.getAxis("left")
        if self.log_scale:
            axis.setTicks([power_ticks(int(lo), int(math.ceil(hi))), []])
        else:
            axis.setTicks(None)   # pyqtgraph's own linear ticks
        return lo, hi


def finished_only(h, divergence):
    """(epochs, train, val, accuracy) of history ``h`` without what an unfinished epoch left: the epoch a
    divergence cut short has no training mean or validation to show (its validation ran on a broken network);
    a divergence found by the validation itself leaves that epoch's training loss."""
    epochs, train = h.scalar("epoch").copy(), h.scalar("train_loss").copy()
    val, acc = h.scalar("val_loss").copy(), h.scalar("val_accuracy").copy()
    if divergence is not None:
        cut = epochs == divergence.epoch
        val[cut], acc[cut] = np.nan, np.nan
        if divergence.quantity != "validation loss":
            train[cut] = np.nan
    return epochs, train, val, acc


class SharedRoom(QWidget):
    """The loss plot and the accuracy plot: the accuracy under the loss where there is height for both, beside it
    in a short, wide place (the Transformer and recurrent layouts). Together they ask for the room the loss plot
    alone asked for, so the dashboard's rows keep their heights."""

    TALL = 200   # pixels: from this height the accuracy goes under the loss

    def __init__(self, loss: LossCurves):
        super().__init__()
        self.loss = loss
        self.box = QBoxLayout(QBoxLayout.TopToBottom, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(0)
        self.box.addWidget(loss.widget, 2)
        self.box.addWidget(loss.accuracy.widget, 1)

    def sizeHint(self):   # noqa: N802 (Qt's name)
        return self.loss.widget.sizeHint()

    def resizeEvent(self, event) -> None:   # noqa: N802 (Qt's name)
        under = event.size().height() >= self.TALL or event.size().height() >= event.size().width()
        direction = QBoxLayout.TopToBottom if under else QBoxLayout.LeftToRight
        if self.box.direction() != direction:
            self.box.setDirection(direction)
            self.loss.accuracy.set_beside(not under)
        super().resizeEvent(event)


class LossPanel(Panel):
    def __init__(self):
        self.plot = LossCurves()
        self.logCheck = named(QCheckBox("log scale"), "lossLogCheck",
                              "Show the loss on a logarithmic axis, with a tick at every power of ten.")
        self.fitCheck = named(QCheckBox("Fit to data"), "lossFitCheck",
                              "Zoom the loss axis to the curves; off, it starts at 0 so a plateau looks flat.")
        self.widget = with_controls(SharedRoom(self.plot), self.fitCheck, self.logCheck)
        self.history = self.history_b = None
        self.divergence = self.divergence_b = None
        self.logCheck.toggled.connect(self.plot.set_log)
        self.fitCheck.toggled.connect(self.plot.set_fit)

    def clear(self, snap) -> None:
        self.plot.set_compare(snap.b is not None)
        self.plot.set_chance(snap.chance_loss)
        self.plot.update([], [], [])
        self.history = self.history_b = None

    def on_epochs(self, f) -> None:
        self.history, self.history_b = f.history, f.history_b
        self.divergence = f.snap.divergence
        self.divergence_b = f.snap.b.divergence if f.snap.b is not None else None
        self.changed()

    def draw(self) -> None:
        h, hb = self.history, self.history_b
        if h is None:
            return
        epochs, train, val, acc = finished_only(h, self.divergence)
        b = finished_only(hb, self.divergence_b)[:3] if hb else None
        self.plot.update(epochs, train, val, b, acc)

    cursor = None

    def mark_at(self, at) -> None:
        """Issue 21: a cursor at the rewound point (epochs done, steps / steps per epoch); None: live, none."""
        from gui.panels.inside.history_slider import place_cursor, rewind_cursor
        if self.cursor is None:
            self.cursor = rewind_cursor(self.plot.widget)
        place_cursor(self.cursor, None if at is None else at.point.position,
                     "" if at is None else f"step {at.step}")
