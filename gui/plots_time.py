"""The time-step plot of a recurrent network: ‖dL/dh_t‖ of the top recurrent layer for t = 1..T.

The recurrent stories say to watch it (core.presets): a gradient that falls from t = T toward t = 1
has vanished through time. The values are core's (``time_grad_norm`` of the batch or the epoch's
mean); log10 is drawn with decade ticks, an exactly zero value sits on a floor labelled 0.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from .plots import _log10, _plot, power_ticks


class TimeStepPlot:
    def __init__(self):
        self.widget = _plot("Time steps", "‖dL/dh_t‖ (log scale)", "time step t",
                            "A recurrent network's gradient reaching each time step: ‖dL/dh_t‖ of the top recurrent "
                            "layer, t = 1 (first input) to T (last). Falling toward t = 1: the gradient vanishes "
                            "through time; rising: it explodes. Empty for a network without recurrence.",
                            "timeStepPlot")
        self.curve = self.widget.plot([], [], pen=pg.mkPen("#4c78a8"), symbol="o", symbolSize=3,
                                      symbolBrush="#4c78a8")
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.disableAutoRange()
        self.values = np.array([])
        self.view = None
        self.update([], "")

    def update(self, values, caption: str) -> None:
        v = np.asarray(values, dtype=float)
        self.values = v
        pos = v[np.isfinite(v) & (v > 0)]
        zero = bool(np.any(v == 0))
        lo, hi = (math.floor(math.log10(pos.min())), math.ceil(math.log10(pos.max()))) if pos.size else (-3, 0)
        hi = max(hi, lo + 1)
        lo -= 1 if zero else 0
        y = np.where(v == 0, lo, _log10(np.where(v > 0, v, np.nan)))
        y = np.where(np.isfinite(y), y, np.nan)
        t = np.arange(1, len(v) + 1, dtype=float)
        self.curve.setData(t, y, connect="finite") if np.isfinite(y).any() else self.curve.setData([], [])
        view = (lo, hi, len(v), zero)
        if view != self.view:
            self.view = view
            self.widget.setXRange(0.5, max(len(v), 1) + 0.5, padding=0)
            self.widget.setYRange(lo - 0.03 * (hi - lo), hi + 0.05 * (hi - lo), padding=0)
            self.widget.getAxis("left").setTicks([([(lo, "0")] if zero else []) + power_ticks(lo + zero, hi), []])
        self.widget.setLabel("bottom", f"t{' · ' + caption if caption else ''}")


class TimeStepPanel:
    """Dashboard panel (clear / on_batch / on_epochs, as gui.dashboard.Panel); shown in the lesson tabs."""

    def __init__(self, show_tab):
        """``show_tab(on)``: bring the tab forward for a recurrent network's lesson."""
        self.plot = TimeStepPlot()
        self.widget = self.plot.widget
        self.show_tab = show_tab

    def clear(self, snap) -> None:
        self.plot.update([], "before any step")
        self.show_tab(snap.config.model != "mlp")

    def on_batch(self, f) -> None:
        if f.stats is not None and len(getattr(f.stats, "time_grad_norm", ())):
            self.plot.update(f.stats.time_grad_norm, f.caption)

    def on_epochs(self, f) -> None:
        pass
