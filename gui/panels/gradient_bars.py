"""The gradient bars: one bar per layer, height log10 of ‖dL/dW‖ or ‖dL/dz‖, coloured by core.measure.regimes.

Every finite bar fits in the view however small (down to 1e-300 and below); an exactly zero value is
drawn as a stub at the floor, whose tick reads "0"; NaN/inf as a full-height bar in its own colour.
The legend sits in headroom above the tallest bar, so it never covers one.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core.measure.regimes import EXPLODING_ABOVE, EXPLODING_RISE, VANISHING_RATIO, classify_layers

from gui.app import theme
from gui.panels.plotting import (TITLE_LEGEND_ABOVE, _log10, _plot, hover_label, hover_text, layer_ticks,
                                 legend_cell, legend_share, power_label, power_ticks, title_legend)

# Regime colours; NaN/inf is a purple that stands out on the light and the dark background alike.
COLOURS = {"vanishing": "#4c78a8", "healthy": "#54a24b", "exploding": "#e45756", "zero": "#9d9d9d",
           "nonfinite": "#b15ed6"}
THEORY_COLOUR = "#f58518"
QUANTITIES = {"grad_norm": "‖dL/dW‖ weight gradient", "delta_norms": "‖dL/dz‖ error signal"}
LEGEND = {"healthy": "healthy", "vanishing": f"vanishing < {power_label(VANISHING_RATIO)}·largest",
          "exploding": f"exploding ≥{power_label(EXPLODING_RISE)}·out,>{power_label(EXPLODING_ABOVE)}", "zero": "exactly 0", "nonfinite": "NaN / inf"}
SHORT = {"grad_norm": "‖dL/dW‖", "delta_norms": "‖dL/dz‖"}
UNDERFLOW_COLOUR = "#b35806"   # issue 24: the label over a layer whose gradient is all 0 by underflow
ZERO_STUB = 0.25       # height of an exactly-zero bar, as a share of one decade above the floor
ROW_SHARE = 0.075      # share of the view above the tallest bar kept free per legend row (and 0.12 more)


class GradientBars:
    def __init__(self):
        self.quantity = "grad_norm"
        self.widget = _plot(self.title(), "(log scale)", "layer",
                            "Layer 1 is the input side, the last layer the output. Height: log10 of each layer's value. Colour: the regime relative to this network "
                            "(core.measure.regimes); an exactly zero value is a grey stub on the floor labelled 0, NaN or "
                            "inf a full-height purple bar. Hover a bar for its value.", "gradientPlot")
        self.bars = pg.BarGraphItem(x=[1], height=[0], width=0.7, y0=0)
        self.bars_b = pg.BarGraphItem(x=[1], height=[0], width=0.34, y0=0)   # run B, beside A's while comparing
        for b in (self.bars, self.bars_b):
            self.widget.addItem(b)
        self.bars_b.setVisible(False)
        self.values, self.values_b, self.regimes = np.array([]), None, []
        self.theory = pg.PlotDataItem([], [], pen=pg.mkPen(THEORY_COLOUR, width=2, style=Qt.DashLine),
                                      symbol="o", symbolSize=5, symbolBrush=THEORY_COLOUR)
        self.widget.addItem(self.theory)
        self.theory.setVisible(False)
        self.legend = self.widget.addLegend(offset=(5, 5), labelTextSize="8pt", verSpacing=-6,
                                            brush=pg.mkBrush(255, 255, 255, 200), pen=pg.mkPen("#cccccc"))
        self.samples = {k: pg.ScatterPlotItem(symbol="s", size=10, brush=c, pen=None) for k, c in COLOURS.items()}
        # the theory's legend sample (the line itself may be hidden: its own sample would then show an icon)
        self.theory_sample = pg.PlotDataItem([], [], pen=pg.mkPen(THEORY_COLOUR, width=2, style=Qt.DashLine),
                                             symbol="o", symbolSize=5, symbolBrush=THEORY_COLOUR)
        self.theory_label = None
        self.entries: list = []   # (sample, text) in the legend now
        self.sample_a = pg.ScatterPlotItem(symbol="s", size=10, brush=COLOURS["healthy"], pen=None)
        self.sample_b = pg.ScatterPlotItem(symbol="s", size=10, brush=QColor(COLOURS["healthy"]).lighter(150),
                                           pen=pg.mkPen("#555555", style=Qt.DotLine))
        self.run_labels = None
        self.hover = hover_label(self.widget)
        self._brushes = {k: pg.mkBrush(c) for k, c in COLOURS.items()}
        self._brushes_b = {k: pg.mkBrush(QColor(c).lighter(150)) for k, c in COLOURS.items()}
        self._b_pen = pg.mkPen("#555555", width=1, style=Qt.DotLine)
        self._no_pen, self._mark_pen = pg.mkPen(None), pg.mkPen("#ff00ff", width=3)
        self.view, self._caption, self._mouse, self._title_key = None, None, None, None
        self.widget.scene().sigMouseMoved.connect(self._on_mouse)
        self._args = None   # the latest update's arguments, drawn again when the plot's height changes
        self.underflow, self.underflow_marks = None, []   # issue 24: layers all 0 by underflow, and their labels
        self.underflow_sample = pg.ScatterPlotItem(symbol="s", size=10, brush=UNDERFLOW_COLOUR, pen=None)
        self.widget.getPlotItem().vb.sigResized.connect(self._on_resized)
        self.widget.setMouseEnabled(x=False, y=False)

    def title(self) -> str:
        return f"Gradient bars: {SHORT[self.quantity]}"

    def set_quantity(self, quantity: str) -> None:
        self.quantity = quantity
        self.widget.setLabel("left", f"{SHORT[quantity]} (log scale)")
        self.widget.setTitle(self.title(), size="10pt")
        self._caption, self._title_key = None, None

    def set_run_labels(self, labels) -> None:
        """(label A, label B) while comparing, None otherwise: shown in the legend."""
        self.run_labels = labels

    def _legend(self, present) -> list:
        """The legend's rows: the rule of every regime (0 and NaN/inf only when present), the theory, the runs."""
        rows = [(self.samples[k], LEGEND[k].replace("<", "&lt;")) for k in ("healthy", "vanishing", "exploding")]
        rows += [(self.samples[k], LEGEND[k]) for k in ("zero", "nonfinite") if k in present]
        if self.underflow is not None and self.underflow.any():
            rows.append((self.underflow_sample, "0 by underflow (apart from true zeros)"))
        if self.theory_label is not None:
            rows.append((self.theory_sample, self.theory_label))
        if self.run_labels is not None:
            rows += [(self.sample_a, self.run_labels[0] + " (left)"), (self.sample_b, self.run_labels[1] + " (right)")]
        if rows != self.entries:
            for sample, _ in self.entries:
                self.legend.removeItem(sample)
            for sample, text in rows:
                self.legend.addItem(sample, text)
            self.entries = rows
        return rows

    def _legend_share(self, rows: int) -> float:
        """The share of the view's height kept free above the tallest bar for the legend: per legend row, or
        the legend's own measured height once the plot is laid out (in a short plot its rows side by side):
        gui/panels/plotting.legend_share. Where it would still need more than half the view (the Transformer
        layout's short row), the legend's rows go under the title instead, outside the bars' view."""
        share = legend_share(self.widget, self.legend, 0.12 + ROW_SHARE * rows, most=1.0)
        in_title = share > TITLE_LEGEND_ABOVE
        self._legend_in_title(in_title)
        return 0.1 if in_title else share

    def _legend_in_title(self, on: bool) -> None:
        key = (on, self.title(), tuple(text for _, text in self.entries), self.widget.width() if on else 0)
        if key != self._title_key:
            self._title_key = key
            cells = [legend_cell(self._sample_colour(sample), "╌" if sample is self.theory_sample else "■", text)
                     for sample, text in self.entries] if on else None
            title_legend(self.widget, self.legend, self.title(), cells)

    def _sample_colour(self, sample) -> str:
        if sample is self.theory_sample:
            return THEORY_COLOUR
        return QColor(sample.opts["brush"].color()).name()

    def _on_resized(self) -> None:
        """A new height may need another headroom for the legend: the same bars again."""
        if self._args is not None:
            self.update(*self._args)

    @staticmethod
    def _range(values, share: float) -> tuple[int, int, bool]:
        """(floor, top, has zero) in log10 units: every finite positive value inside, ``share`` of the height
        free above (for the legend)."""
        v = np.concatenate([np.asarray(a, dtype=float) for a in values])
        pos = v[np.isfinite(v) & (v > 0)]
        zero = bool(np.any(v == 0))
        if pos.size:   # the floor half a decade to a decade and a half below the smallest bar: a 6x step shows
            lo, hi = math.floor(math.log10(pos.min()) - 0.5), math.ceil(math.log10(pos.max()))
        else:
            lo, hi = -3, 1
        lo = min(lo, hi - 2) - (1 if zero else 0)   # a zero gets a floor a decade below the smallest bar
        return lo, hi + max(1, math.ceil(share / (1 - share) * (hi - lo))), zero

    def _heights(self, g, lo: int, hi: int):
        logs = _log10(g)
        regimes = classify_layers(g)
        top = np.where(np.isfinite(logs), logs, hi)                  # NaN/inf: full height
        top = np.where(np.asarray(g) == 0, lo + ZERO_STUB, top)      # exactly 0: a stub on the floor
        return np.maximum(top - lo, 0), regimes

    def update(self, values, marked_layer: int | None = None, caption: str = "", values_b=None) -> None:
        """Bars for run A; with ``values_b``, run B's bars beside them (A left, B right)."""
        self._args = (values, marked_layer, caption, values_b)
        g = np.asarray(values, dtype=float)
        self.values = g
        self.values_b = None if values_b is None else np.asarray(values_b, dtype=float)
        both = [g] if self.values_b is None else [g, self.values_b]
        rows = len(self._legend({k for v in both for k in classify_layers(v)}))
        lo, hi, zero = self._range(both, self._legend_share(rows))
        n, paired = len(g), self.values_b is not None
        heights, self.regimes = self._heights(g, lo, hi)
        x = np.arange(1, n + 1, dtype=float)
        self.bars.setOpts(x=x - 0.18 if paired else x, width=0.34 if paired else 0.7, y0=np.full(n, float(lo)),
                          height=heights, brushes=[self._brushes[r] for r in self.regimes],
                          pens=[self._mark_pen if marked_layer == i + 1 else self._no_pen for i in range(n)])
        self.bars_b.setVisible(paired)
        if paired:
            gb = self.values_b
            hb, rb = self._heights(gb, lo, hi)
            self.bars_b.setOpts(x=np.arange(1, len(gb) + 1, dtype=float) + 0.18, width=0.34,
                                y0=np.full(len(gb), float(lo)), height=hb,
                                brushes=[self._brushes_b[r] for r in rb], pens=[self._b_pen] * len(gb))
            n = max(n, len(gb))
        if self.view != (lo, hi, n, zero):   # axes repaint only when their range changes
            self.view = (lo, hi, n, zero)
            self.widget.setYRange(lo - 0.03 * (hi - lo), hi, padding=0)   # room for the floor's label
            self.widget.setXRange(0.4, n + 0.6, padding=0)
            ticks = power_ticks(lo + (1 if zero else 0), hi)
            self.widget.getAxis("left").setTicks([([(lo, "0")] if zero else []) + ticks, []])
            self.widget.getAxis("bottom").setTicks([layer_ticks(n), []])
        self._mark_underflow(lo, hi)
        if caption != self._caption:   # under the plot: a long title would widen it past its place
            self._caption = caption
            self.widget.setLabel("bottom", f"layer{' · ' + caption if caption else ''}")

    def set_underflow(self, mask) -> None:
        """Issue 24: per layer, True where the bar is 0 because every entry underflowed (core decides:
        core.training.precision_step.zeroed_by_underflow); None or all False: no mark. Drawn at the next update."""
        self.underflow = None if mask is None else np.asarray(mask, dtype=bool)

    def _mark_underflow(self, lo: float, hi: float) -> None:
        layers = [] if self.underflow is None else np.flatnonzero(self.underflow).tolist()
        while len(self.underflow_marks) < len(layers):
            mark = pg.TextItem("underflow", color=theme.role_colour("underflow"), anchor=(0, 0.5), angle=90)
            mark.theme_role = "underflow"   # restyled with the theme
            self.widget.addItem(mark, ignoreBounds=True)
            self.underflow_marks.append(mark)
        for i, mark in enumerate(self.underflow_marks):
            mark.setVisible(i < len(layers))
            if i < len(layers):
                mark.setPos(layers[i] + 1, lo + ZERO_STUB + 0.02 * (hi - lo))

    def show_theory(self, profile, on: bool) -> None:
        """The mean-field prediction of ‖dL/dz‖ (``profile``, one value per layer, NaN where none): drawn
        only over ‖dL/dz‖ bars; over ‖dL/dW‖ bars the legend says where to find it."""
        logs = None if profile is None else _log10(profile)
        drawable = on and self.quantity == "delta_norms" and logs is not None and np.isfinite(logs).any()
        if drawable:
            self.theory.setData(np.arange(1, len(logs) + 1), logs, connect="finite")
        self.theory.setVisible(bool(drawable))
        label = None
        if on:
            label = ("theory: predicted ‖dL/dz‖" if drawable else
                     "theory: shown with ‖dL/dz‖" if self.quantity != "delta_norms" else
                     "theory: none for this network")
        if label != self.theory_label:
            self.theory_label = label
            self._legend({k for k in self.regimes})
            self.view = None   # the headroom follows the legend's rows

    def refresh_hover(self) -> None:
        """After new bars: the hover text shows the new values at the mouse's last position."""
        if self._mouse is not None:
            self._on_mouse(self._mouse)

    def clear_hover(self) -> None:
        """Nothing of the old run: the text goes; the next bars show theirs where the mouse is."""
        hover_text(self.hover, "")

    def _on_mouse(self, pos) -> None:
        self._mouse = pos
        if not self.widget.sceneBoundingRect().contains(pos) or not len(self.values):
            hover_text(self.hover, "")
            return
        p = self.widget.getPlotItem().vb.mapSceneToView(pos)
        k = int(round(p.x()))
        name = SHORT[self.quantity]
        parts = []
        for tag, v in (("A " if self.values_b is not None else "", self.values), ("B ", self.values_b)):
            if v is not None and 1 <= k <= len(v):
                parts.append(f"{tag}layer {k}: {name} = " + ("0 (exactly)" if v[k - 1] == 0 else f"{v[k - 1]:.3e}"))
        hover_text(self.hover, "\n".join(parts))
        if parts:
            self.hover.setPos(k, p.y())
