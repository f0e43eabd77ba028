"""The gradient-flow heatmap: log10 of each layer's mean gradient norm, layer by epoch, and its panel."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from gui.panels.panel import Panel
from gui.panels.inside.history_slider import CursorAt, place_cursor   # issue 21
from gui.panels.plotting import MAX_IMAGE_COLUMNS, _log10, _plot, empty_note, layer_ticks, nice_ceiling

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


class HeatmapPanel(CursorAt, Panel):
    def __init__(self):
        self.plot = FlowHeatmap()
        self.widget = self.plot.widget

    def clear(self, snap) -> None:
        self.plot.clear(snap.n_layers)

    def on_epochs(self, f) -> None:
        self.history = f.history
        self.changed()

    def draw(self) -> None:
        if self.at is not None:   # issue 21: the epochs done at the rewound point, and a cursor there
            self._draw_at(self.at)
            return
        place_cursor(self.cursor, None)
        self.plot.update(self.history.layer("grad_norm"))

    def set_at(self, at) -> None:   # issue 21
        self.move_cursor(at)
        if at is not None or hasattr(self, "history"):
            self.changed()

    def _draw_at(self, at) -> None:
        shown = self.history.layer("grad_norm")[:at.point.epochs_done] if hasattr(self, "history") else None
        if shown is None or not len(shown):
            self.plot.clear(self.plot._n_layers)
        else:
            self.plot.update(shown)
        place_cursor(self.cursor, at.point.position + 0.5, f"step {at.step}")
