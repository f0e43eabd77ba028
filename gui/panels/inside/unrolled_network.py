"""unrolledNetwork: a sequence model unrolled through time (issue 21): layers x time steps (recurrent) or blocks x
positions (Transformer), each cell coloured by the quantity recorded for that layer at that step at the rewind
slider's point (core.measure.sequence_inside: std of h_t / x_l[:, t], ||dL/dh_t||, saturated shares ...).

One ImageItem (row-major float32: a row per layer, layer 1 at the bottom, a column per step), explicit levels
and a colour bar: norms and stds as log10 (the bar's numbers are powers of ten; exact zeros in the lowest colour),
shares from 0 to 1. NaN and infinite values are left out, so the purple backdrop (the bars' NaN colour) shows.
Run B, while comparing, is a second block of rows above A's, on the same colour scale.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from gui.widgets import plain_label
from gui.panels.gradient_bars import COLOURS
from gui.panels.inside.sequence_plots import SHARES, combo, fill_combo, plot_box, sync_scene
from gui.panels.plotting import _log10, _plot
from gui.panels.recurrent.time_bars import step_ticks

MAP = pg.colormap.get("viridis")


class UnrolledNetwork:
    def __init__(self):
        self.widget = _plot("Network unrolled through time", "layer", "time step t",
                            "The network unrolled: a row per layer (or block), a column per time step (or "
                            "position), coloured by the chosen quantity at the rewind slider's point (colour bar; "
                            "log10 for norms and stds). Purple: NaN or infinite. While comparing, run B's rows "
                            "are drawn above run A's.", "unrolledNetwork")
        self.widget.showGrid(x=False, y=False)
        self.widget.setMouseEnabled(x=False, y=False)
        self.backdrop = QGraphicsRectItem(QRectF(0, 0, 1, 1))
        self.backdrop.setBrush(pg.mkBrush(COLOURS["nonfinite"]))
        self.backdrop.setPen(pg.mkPen(None))
        self.backdrop.setVisible(False)
        self.widget.addItem(self.backdrop)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(MAP)
        self.widget.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=MAP, interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.widget.getPlotItem())
        self.quantityCombo = combo("unrolledQuantityCombo", "Colour each layer and time step by this quantity.")
        self.quantityCombo.currentIndexChanged.connect(self.redraw)
        self.caption = plain_label("No step recorded yet.", "unrolledCaption", "What the colours show.")
        self.caption.setWordWrap(True)
        self.box = plot_box(self.widget, self.caption, self.quantityCombo)
        self.layout = self.rec = self.rec_b = None
        self.what, self.levels, self.image_values = "", (0.0, 1.0), None

    def clear(self) -> None:
        self.layout = self.rec = self.rec_b = self.image_values = None
        self.image.clear()
        self.backdrop.setVisible(False)
        self.caption.setText("No step recorded yet.")

    def show(self, layout, rec: dict, what: str, rec_b: dict | None = None) -> None:
        if layout is not self.layout:
            fill_combo(self.quantityCombo, layout.time, self.quantityCombo.currentData(), "grad_t")   # the lesson
            self.widget.setLabel("bottom", f"{layout.time_name} t")
            self.widget.setLabel("left", layout.layer_name)
        self.layout, self.rec, self.rec_b, self.what = layout, rec, rec_b, what
        self.redraw()

    def field(self) -> str:
        return self.quantityCombo.currentData()

    def grid(self) -> np.ndarray:
        """The values drawn: (layers, T) of run A, or with run B (2 layers + 1, T): A's rows, a gap, B's rows."""
        a = np.asarray(self.rec[self.field()], dtype=float)
        if self.rec_b is None:
            return a
        b = np.asarray(self.rec_b[self.field()], dtype=float)
        return np.concatenate([a, np.full((1, a.shape[1]), np.nan), b])

    def redraw(self, *_) -> None:
        if self.rec is None or self.field() is None:
            return
        sync_scene(self.widget)
        field, lay = self.field(), self.layout
        values = self.image_values = self.grid()
        share = field in SHARES
        if share:
            shown, self.levels = values.copy(), (0.0, 1.0)
        else:
            shown = _log10(values)
            finite = shown[np.isfinite(shown)]
            lo, hi = (math.floor(finite.min()), math.ceil(finite.max())) if finite.size else (-1, 0)
            self.levels = (float(lo), float(max(hi, lo + 1)))
            shown[values == 0] = self.levels[0]   # exactly 0: the lowest colour
        shown[~np.isfinite(values)] = np.nan      # NaN or inf: the backdrop shows through
        rows, T = values.shape
        self.image.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False, levels=self.levels)
        rect = QRectF(0.5, 0.5, T, rows)
        self.image.setRect(rect)
        L = lay.n_layers
        self.backdrop.setRect(QRectF(0.5, 0.5, T, L))
        self.backdrop.setVisible(bool(np.isnan(shown[:L]).any()))
        self.colorbar.setLevels(self.levels)
        self.widget.getAxis("bottom").setTicks([step_ticks(T)])
        self.widget.getAxis("left").setTicks([self._row_ticks(L)])
        self.widget.setXRange(0.5, T + 0.5, padding=0)
        self.widget.setYRange(0.5, rows + 0.5, padding=0)
        name = lay.label(field)
        self.widget.setTitle(f"{name}: {lay.layer_name}s x {lay.time_name}s" + (" (log10)" if not share else ""),
                             size="10pt")
        self.caption.setText(f"At {self.what}: each cell is one {lay.layer_name} (rows, 1 at the bottom) at one "
                             f"{lay.time_name} (columns), coloured by {name}"
                             + ("" if share else "; the colour bar's numbers are log10")
                             + ("; exact zeros in the lowest colour" if not share and (values == 0).any() else "")
                             + (f". {lay.note[:-1]}" if lay.note else "")
                             + (". Bottom rows run A, top rows (B1 ...) run B at the same step." if self.rec_b
                                is not None else "."))

    def _row_ticks(self, L: int) -> list:
        step = max(1, math.ceil(L / 6))
        ticks = [(k + 1, str(k + 1)) for k in range(0, L, step)]
        if self.rec_b is not None:
            ticks += [(L + 2 + k, f"B{k + 1}") for k in range(0, L, step)]
        return ticks

    def table(self) -> tuple[list, list]:
        if self.rec is None:
            return [], []
        a = np.asarray(self.rec[self.field()], dtype=float)
        b = np.asarray(self.rec_b[self.field()], dtype=float) if self.rec_b is not None else None
        head = [self.layout.layer_name, "t", self.field()] + ([f"b_{self.field()}"] if b is not None else [])
        return head, [[l + 1, t + 1, float(a[l, t])] + ([float(b[l, t])] if b is not None else [])
                      for l in range(a.shape[0]) for t in range(a.shape[1])]
