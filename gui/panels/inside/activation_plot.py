"""activationPlot: the forward signal per hidden layer (issue 12), placed next to the gradient bars.

Bars: the standard deviation of each hidden layer's activations h over all its (sample, unit) entries,
on a log10 axis (left); red markers: the share of saturated units (right axis, 0 to 1), by the rule
core names (makemore's |tanh| > 0.97 for tanh, phi' <= 5% of its largest value otherwise). Forward
growth here times backward shrinkage is why ||dL/dW|| = ||h^T delta|| can stay level while delta
vanishes. Run B: hatched bars and hollow markers beside A's.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.widgets import named, plain_label

STD_FLOOR = 1e-12


class ActivationPlot:
    def __init__(self):
        self.widget = named(pg.PlotWidget(), "activationPlot",
                            "Forward signal per hidden layer: activation std (bars, log axis) and the share of "
                            "saturated units (red, right axis 0-1).")
        p = self.plot = self.widget.getPlotItem()
        p.setLabel("bottom", "hidden layer (input side first)")
        p.setLabel("left", "activation std (log10)")
        p.showAxis("right")
        p.getAxis("right").setLabel("saturated share", color="#c0392b")
        self.sat_box = pg.ViewBox()
        p.scene().addItem(self.sat_box)
        p.getAxis("right").linkToView(self.sat_box)
        self.sat_box.setXLink(p)
        self.sat_box.setYRange(0, 1, padding=0.02)
        self.sat_box.setMouseEnabled(x=False, y=False)
        self.sat_box.setZValue(100)   # the markers above the bars
        p.vb.sigResized.connect(self._sync)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.4, brush=(76, 120, 168))
        self.bars_b = pg.BarGraphItem(x=[], height=[], width=0.4, brush=pg.mkBrush(228, 87, 86, 120))
        p.addItem(self.bars)
        p.addItem(self.bars_b)
        self.sat = pg.ScatterPlotItem(symbol="s", size=9, brush=pg.mkBrush(192, 57, 43), pen=None)
        self.sat_b = pg.ScatterPlotItem(symbol="s", size=9, brush=None, pen=pg.mkPen(192, 57, 43, width=1.5))
        self.sat_box.addItem(self.sat)
        self.sat_box.addItem(self.sat_b)
        self.caption = plain_label("", "activationCaption", "What the bars and markers show.")
        self.box = QWidget()
        v = QVBoxLayout(self.box)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.widget, 1)
        v.addWidget(self.caption)
        self.values = None
        self._n, self._y_range, self.floor = 0, None, -1.0

    def _sync(self) -> None:
        self.sat_box.setGeometry(self.plot.vb.sceneBoundingRect())

    def clear(self) -> None:
        self.values = None
        for item in (self.bars, self.bars_b):
            item.setOpts(x=[], height=[], y0=0)
        self.sat.setData([], [])
        self.sat_b.setData([], [])
        self.caption.setText("No step recorded yet.")

    def show(self, rec: dict, rule: str, what: str, rec_b: dict | None = None) -> None:
        std, sat = np.asarray(rec["act_std"], float), np.asarray(rec["saturation"], float)
        self.values = (std, sat, None if rec_b is None else (np.asarray(rec_b["act_std"], float),
                                                             np.asarray(rec_b["saturation"], float)))
        shift = 0.2 if rec_b is not None else 0.0
        both = std if rec_b is None else np.concatenate([std, self.values[2][0]])
        with np.errstate(divide="ignore"):
            tops = np.log10(np.maximum(both, STD_FLOOR))
        finite = tops[np.isfinite(tops)]
        self.floor = float(np.floor(min(finite.min() - 1, -1.0))) if finite.size else -1.0   # one axis for A and B
        y_range = (self.floor, float(np.ceil(max(finite.max() if finite.size else 0.0, self.floor + 1) + 0.2)))
        if y_range != self._y_range:   # a changed range repaints the axis: only when it must
            self._y_range = y_range
            self.plot.setYRange(*y_range, padding=0)
        self._bars(self.bars, std, -shift)
        x = np.arange(1, len(std) + 1, dtype=float)
        self.sat.setData(x - shift, sat)
        if rec_b is not None:
            self._bars(self.bars_b, self.values[2][0], shift)
            self.sat_b.setData(np.arange(1, len(self.values[2][1]) + 1) + shift, self.values[2][1])
        else:
            self.bars_b.setOpts(x=[], height=[], y0=0)
            self.sat_b.setData([], [])
        n = len(std)
        if n != self._n:
            self._n = n
            step = max(1, n // 20)
            self.plot.getAxis("bottom").setTicks([[(k, str(k)) for k in range(1, n + 1)
                                                   if (k - 1) % step == 0 or k == n]])
            self.plot.setXRange(0.4, n + 0.6, padding=0)
        self._sync()
        self.caption.setText(f"At {what}. Bars: std of each hidden layer's activations over all its entries; red: "
                             f"share of saturated units ({rule})." + (" Right/hollow: run B." if rec_b else ""))

    def _bars(self, item, std, shift: float) -> None:
        """Bars from the axis floor up to log10(std); zero std (a dead layer) gets a bar to the floor."""
        with np.errstate(divide="ignore"):
            top = np.log10(np.maximum(std, STD_FLOOR))
        finite = np.isfinite(top)
        item.setOpts(x=np.arange(1, len(std) + 1) + shift, y0=np.full(len(std), self.floor),
                     height=np.where(finite, top - self.floor, 0.0), width=0.4)

    def table(self) -> tuple[list, list]:
        if self.values is None:
            return [], []
        std, sat, b = self.values
        head = ["hidden_layer", "activation_std", "saturated_share"] + (["b_activation_std", "b_saturated_share"]
                                                                        if b else [])
        rows = [[k + 1, float(std[k]), float(sat[k])] + ([float(b[0][k]), float(b[1][k])] if b and k < len(b[0])
                                                           else []) for k in range(len(std))]
        return head, rows
