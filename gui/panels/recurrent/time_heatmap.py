"""Time step by epoch: log10 of each epoch's mean ||dL/dh_t||, the whole history of the gradient through time.

One ImageItem (row-major float32, one row per time step, t = 1 at the bottom, one column per
epoch) with explicit levels that only widen during a run, so a colour keeps its meaning, and a
colour bar. Exactly 0 is drawn in the lowest colour; NaN and infinite values are left out of the image,
so the rectangle behind it shows through in the bars' NaN / inf colour (purple, visible in both themes).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from core.nn.kinds import kind_of

from gui.panels.plotting import MAX_IMAGE_COLUMNS, _log10, _plot, nice_ceiling
from gui.panels.gradient_bars import COLOURS
from gui.panels.recurrent.time_bars import step_ticks
from gui.panels.panel import Panel
from gui.panels.inside.history_slider import CursorAt, place_cursor   # issue 21

DEFAULT_LEVELS = (-8.0, 2.0)


class TimeHeatmap:
    TITLE = "log10 ‖dL/dh_t‖ per epoch"

    def __init__(self):
        self.widget = _plot(self.TITLE, "time step t", "epoch",
                            "Each column is an epoch, each row a time step (t = 1 at the bottom, T at the top); "
                            "colour is log10 of the epoch's mean ‖dL/dh_t‖ (the colour bar's numbers are powers "
                            "of ten); purple: NaN or infinite. Empty until the first epoch ends.", "timeHeatmapPlot")
        self.widget.showGrid(x=False, y=False)
        self.backdrop = QGraphicsRectItem(QRectF(0.5, 0.5, 1, 1))   # shows through where a value is not finite
        self.backdrop.setBrush(pg.mkBrush(COLOURS["nonfinite"]))   # the NaN colour of the bars, visible in both themes
        self.backdrop.setPen(pg.mkPen(None))
        self.backdrop.setVisible(False)
        self.widget.addItem(self.backdrop)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.widget.addItem(self.image)
        self.cmap = pg.colormap.get("viridis")
        self.image.setColorMap(self.cmap)
        self.colorbar = pg.ColorBarItem(values=DEFAULT_LEVELS, colorMap=self.cmap, interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.widget.getPlotItem())
        self.levels = DEFAULT_LEVELS
        self.n_steps, self._x_end = 0, 1.0
        self._suffix, self._nonfinite = "", None
        self.widget.setMouseEnabled(x=False, y=False)

    def clear(self, n_steps: int, title: str = "") -> None:
        """An empty map for ``n_steps`` time steps (0: nothing at all)."""
        self.levels, self.n_steps, self._x_end = DEFAULT_LEVELS, n_steps, 1.0
        rows = max(n_steps, 1)
        self.image.setImage(np.full((rows, 1), np.nan, dtype=np.float32), autoLevels=False, levels=self.levels)
        self.image.setRect(QRectF(0.5, 0.5, 1, rows))
        self.backdrop.setVisible(False)
        self.colorbar.setLevels(self.levels)
        self.widget.getAxis("bottom").setTicks([step_ticks(1)])
        self.widget.getAxis("left").setTicks([step_ticks(n_steps)])
        self.widget.setXRange(0.5, 1.5, padding=0)
        self.widget.setYRange(0.5, rows + 0.5, padding=0)
        self._suffix, self._nonfinite = title, None
        self._set_title(False)

    def _set_title(self, nonfinite: bool) -> None:
        """The title names the NaN colour only while some value is NaN or infinite."""
        if nonfinite != self._nonfinite:
            self._nonfinite = nonfinite
            key = f"  <span style='color:{COLOURS['nonfinite']}'>■</span> NaN / inf" if nonfinite else ""
            self.widget.setTitle(f"{self.TITLE}{self._suffix}{key}", size="10pt")

    def update(self, history: np.ndarray) -> None:
        """``history``: (epochs, T) of time_grad_norm."""
        n_epochs, n_steps = history.shape
        if n_epochs == 0 or n_steps == 0:
            return
        stride = math.ceil(n_epochs / MAX_IMAGE_COLUMNS)   # thin very long histories for display
        values = history[::stride]
        logs = _log10(values)
        finite = logs[np.isfinite(logs)]
        if finite.size:   # levels only widen, so colours keep their meaning during a run
            self.levels = (max(min(self.levels[0], math.floor(finite.min())), -330.0),
                           min(max(self.levels[1], math.ceil(finite.max())), 320.0))
        logs[values == 0] = self.levels[0]            # exactly 0: the lowest colour
        logs[~np.isfinite(values)] = np.nan           # NaN or inf: transparent, the NaN-coloured backdrop shows
        self.image.setImage(np.ascontiguousarray(logs.T, dtype=np.float32), autoLevels=False, levels=self.levels)
        rect = QRectF(0.5, 0.5, n_epochs, n_steps)
        self.image.setRect(rect)
        self.backdrop.setRect(rect)
        self.backdrop.setVisible(True)
        self._set_title(bool(np.isnan(logs).any()))
        if tuple(self.colorbar.levels()) != self.levels:
            self.colorbar.setLevels(self.levels)
        if n_epochs > self._x_end or n_steps != self.n_steps:   # axes grow in steps of 1, 2, 5, 10 ...
            self._x_end, self.n_steps = nice_ceiling(n_epochs), n_steps
            self.widget.setXRange(0.5, self._x_end + 0.5, padding=0)
            self.widget.setYRange(0.5, n_steps + 0.5, padding=0)
            self.widget.getAxis("left").setTicks([step_ticks(n_steps)])
            self.widget.getAxis("bottom").setTicks([step_ticks(int(self._x_end))])


class TimeHeatmapPanel(CursorAt, Panel):
    """The dashboard's panel for the time x epoch map: run A's history (also while comparing)."""

    def __init__(self):
        self.plot = TimeHeatmap()
        self.widget = self.plot.widget

    def clear(self, snap) -> None:
        recurrent = "time_heatmap" in kind_of(snap.config).views
        positions = "attention_map" in kind_of(snap.config).views   # issue 22: a Transformer's positions
        self.plot.TITLE = "log10 ‖dL/dx_t‖ per epoch" if positions else TimeHeatmap.TITLE
        self.plot.widget.setLabel("left", "position t" if positions else "time step t")
        self.plot.clear(snap.config.seq_len if recurrent else 0, "  (run A)" if snap.b is not None else "")

    def on_epochs(self, f) -> None:
        if "time_heatmap" in kind_of(f.snap.config).views:
            self.history = f.history
            self.changed()

    def draw(self) -> None:
        if not hasattr(self, "history"):
            return
        rows = self.history.series("time_grad_norm")
        if self.at is not None:   # issue 21: the epochs done at the rewound point, and a cursor there
            rows = rows[:self.at.point.epochs_done]
            if not len(rows):
                self.plot.clear(self.plot.n_steps, self.plot._suffix)
        place_cursor(self.cursor, None if self.at is None else self.at.point.position + 0.5,
                     "" if self.at is None else f"step {self.at.step}")
        self.plot.update(rows)

    def set_at(self, at) -> None:   # issue 21
        self.move_cursor(at)
        self.changed()
