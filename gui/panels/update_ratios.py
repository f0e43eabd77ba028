"""The update ratio ‖ΔW‖ / ‖W‖ per layer, on a log axis with the 1e-3 reference line, and its panel."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.training.session import RunState

from gui.panels.panel import Panel
from gui.panels.plotting import _log10, _plot, layer_ticks, power_ticks, set_data


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
                                    label="1e-3", labelOpts={"position": 0.98, "color": "#595959",
                                                             "anchors": [(1, 1), (1, 1)]})
        self.widget.addItem(self.line)
        self.line.label.theme_role = "muted"   # the theme gives it a readable grey (gui/app/theme.ROLE_TEXT)
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


class UpdatesPanel(Panel):
    def __init__(self):
        self.plot = UpdateRatios()
        self.widget = self.plot.widget

    def clear(self, snap) -> None:
        self.plot.update([], None)   # no ratios before the first step of the new network

    def on_batch(self, f) -> None:
        self.ratios = (f.stats.update_ratio, None if f.other is None else f.other.update_ratio)
        self.running = f.snap.state == RunState.RUNNING
        self.changed()

    def draw(self) -> None:
        if self.at is not None:   # issue 21: rewound, the point's ratios (its epoch's means at an epoch's end)
            b = self.at.point_b
            self.plot.update(self.at.point.stats.update_ratio, None if b is None else b.stats.update_ratio)
            return
        self.plot.update(*self.ratios, sticky=self.running)   # while running, the axis does not jump

    at = None

    def set_at(self, at) -> None:   # issue 21
        self.at = at
        if at is not None or hasattr(self, "ratios"):
            self.changed()
