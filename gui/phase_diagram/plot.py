"""The phase diagram's plot: the metric as a heatmap over the grid of cells, crosses on the cells that diverged,
and the theory on top (the 6 xi_c depth line and chi_1 = 1) where it applies. It draws what ``core`` computed:
the grid by ``core.sweep.metric_grid``, the lines by ``core.measure.theory.trainability_boundary``."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.sweep import metric_grid

# metric -> (label on the colour bar, fixed levels or None for "from 0 to the largest value")
METRIC_VIEWS = {
    "val_accuracy": ("validation accuracy (0 to 1)", (0.0, 1.0)),
    "train_loss": ("training loss (from 0)", None),
    "val_loss": ("validation loss (from 0)", None),
    "grad_gain": ("log10 grad_gain at initialisation (0: gradients keep their size)", "log"),
    "diverged": ("diverged (1) or not (0)", (0.0, 1.0)),
    "epoch_reached": ("epochs completed", None),
}

class PhasePlot:
    def __init__(self):
        """Every item is made once here and updated with setImage / setData afterwards."""
        self.plotWidget = pg.PlotWidget(objectName="phasePlot")
        plot = self.plotWidget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.colorBar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorBar.setImageItem(self.image, insert_in=plot)
        self.legend = plot.addLegend(offset=(5, 5), brush=pg.mkBrush(0, 0, 0, 170), labelTextColor="w")
        self.depthLine = plot.plot([], [], pen=pg.mkPen("w", width=2, style=Qt.DashLine), name="6 ξ_c (theory)")
        self.criticalLine = pg.InfiniteLine(angle=90, pen=pg.mkPen("r", width=2))
        plot.addItem(self.criticalLine)
        self.criticalLine.hide()
        self.criticalLegend = pg.PlotDataItem([], [], pen=pg.mkPen("r", width=2))
        self.legend.addItem(self.criticalLegend, "χ₁ = 1")
        self.divergedMarks = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen("w"), brush=pg.mkBrush("w"),
                                                name="diverged")
        plot.addItem(self.divergedMarks)


    def draw_axes(self, plan, boundary) -> None:
        x, y = plan.axes
        n_x, n_y = len(x.values), len(y.values)
        plot = self.plotWidget.getPlotItem()
        sw2 = boundary.sigma_w2 if boundary is not None and x.field != "depth" else None
        x_labels = [f"{s:.3g}" for s in sw2] if sw2 else [_label(v) for v in x.values]
        plot.getAxis("bottom").setTicks([_ticks(x_labels)])
        plot.getAxis("left").setTicks([_ticks([_label(v) for v in y.values])])
        plot.setLabel("bottom", f"σ_w² (swept as {x.field})" if sw2 else x.field)
        plot.setLabel("left", y.field)
        plot.setTitle(f"{plan.size} cells, {'at initialisation' if plan.init_only else f'{plan.base.epochs} epochs'}")
        plot.getViewBox().setRange(xRange=(0, n_x), yRange=(0, n_y), padding=0)

    def draw_theory(self, plan, boundary) -> None:
        bd, (x, y) = boundary, plan.axes
        if bd is None:
            self.depthLine.setData([], [])
            self.criticalLine.hide()
            self.criticalLegend.hide()
            return
        depth_axis, other = (y, x) if y.field == "depth" else (x, y)
        along = np.arange(len(other.values)) + 0.5
        deep = np.array([_index(depth_axis.values, d) for d in bd.max_depth])
        pts = (along, deep) if y.field == "depth" else (deep, along)
        finite = np.isfinite(pts[0]) & np.isfinite(pts[1])
        self.depthLine.setData(pts[0][finite], pts[1][finite], connect="finite")
        self.criticalLegend.show()
        crit = bd.critical_sigma_w2
        self.legend.getLabel(self.criticalLegend).setText(
            f"χ₁ = 1: σ_w² = {crit:.3g}" if math.isfinite(crit) else "χ₁ = 1 at no σ_w² from 0.01 to 100")
        if math.isfinite(bd.critical_value):
            self.criticalLine.setAngle(90 if y.field == "depth" else 0)
            self.criticalLine.setValue(_index(other.values, bd.critical_value))
            self.criticalLine.show()
        else:
            self.criticalLine.hide()

    def draw(self, plan, rows: dict, metric: str) -> None:
        """The metric's grid over the plan's cells, and a cross on each cell that diverged."""
        label, levels = METRIC_VIEWS[metric]
        grid = metric_grid(plan, rows, metric)
        if levels == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                grid = np.log10(grid).astype(np.float32)
            finite = grid[np.isfinite(grid)]
            top = max(float(np.abs(finite).max()) if finite.size else 0.0, 0.05)
            levels = (-top, top)
            grid[grid == -np.inf] = -top  # a gain of exactly 0 is the bottom of the scale, not a missing cell
        elif levels is None:
            finite = grid[np.isfinite(grid)]
            levels = (0.0, max(float(finite.max()) if finite.size else 0.0, 1e-12))
        x, y = plan.axes
        self.image.setImage(grid, levels=levels, autoLevels=False)
        self.image.setRect(0, 0, len(x.values), len(y.values))
        self.colorBar.setLevels(levels)
        self.colorBar.getAxis("right").setLabel(label)
        j, i = np.nonzero(metric_grid(plan, rows, "diverged") == 1)
        self.divergedMarks.setData(i + 0.5, j + 0.5)


def _label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _ticks(labels: list) -> list:
    """Cell centres, labelled; every k-th so at most about ten labels."""
    step = max(1, math.ceil(len(labels) / 10))
    return [(i + 0.5, t) for i, t in enumerate(labels) if i % step == 0]


def _index(values, v) -> float:
    """Where value v falls in cell coordinates (cell i spans [i, i + 1]), extrapolating linearly past the ends."""
    xs = np.asarray(values, dtype=float)
    centres = np.arange(len(xs)) + 0.5
    if not math.isfinite(v) or len(xs) < 2:
        return math.nan if not math.isfinite(v) else 0.5
    order = np.argsort(xs)
    xs, centres = xs[order], centres[order]
    if v < xs[0]:
        return centres[0] + (v - xs[0]) * (centres[1] - centres[0]) / (xs[1] - xs[0])
    if v > xs[-1]:
        return centres[-1] + (v - xs[-1]) * (centres[-1] - centres[-2]) / (xs[-1] - xs[-2])
    return float(np.interp(v, xs, centres))
