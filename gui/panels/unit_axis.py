"""An axis that labels standardised coordinates in a data file's own units (issue 21).

The prediction map is drawn where the network works, in standardised features z; a data file's column is read
x = z * std + mean (core.data.units.FeatureUnits, from core). This axis picks round numbers in x, puts each tick
at its z, and writes x: the picture stays as core computed it, only the numbers on the axis change. Without
units it is an ordinary axis.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg


class UnitAxis(pg.AxisItem):
    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.units: tuple[float, float] | None = None   # (mean, std): x = z * std + mean; None: show z

    def set_units(self, units: tuple[float, float] | None) -> None:
        if units != self.units:
            self.units = units
            self.picture = None   # redraw the ticks (pyqtgraph caches the drawn axis)
            self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float):
        if self.units is None:
            return super().tickValues(minVal, maxVal, size)
        mean, std = self.units
        lo, hi = sorted((minVal * std + mean, maxVal * std + mean))
        return [(spacing / std, [(x - mean) / std for x in values])
                for spacing, values in super().tickValues(lo, hi, size)]

    def tickStrings(self, values, scale: float, spacing: float):
        if self.units is None:
            return super().tickStrings(values, scale, spacing)
        mean, std = self.units
        return super().tickStrings([v * std + mean for v in values], scale, spacing * std)

    def original(self, z: float) -> float:
        """The value the axis writes at the position ``z``."""
        return z if self.units is None else z * self.units[1] + self.units[0]


def unit_axes(widget: pg.PlotWidget) -> dict[str, UnitAxis]:
    """Give ``widget`` UnitAxis items at the bottom and left, keeping their labels; returns them by side."""
    labels = {side: widget.getAxis(side).labelText for side in ("bottom", "left")}
    axes = {side: UnitAxis(side) for side in labels}
    widget.setAxisItems(axes)
    for side, text in labels.items():
        widget.setLabel(side, text)
    return axes


def show_units(axes: dict[str, UnitAxis], widget: pg.PlotWidget, units, one_d: bool) -> None:
    """Label ``widget``'s axes with a data file's columns (``units``: core.data.units.FeatureUnits, or None for a
    built-in data set: x₁, x₂ and y in standardised coordinates as before). 1-D data: x is the feature and y the
    target, already in its own units."""
    columns = (0,) if one_d else (0, 1)
    axes["bottom"].set_units(None if units is None else (units.mean[0], units.std[0]))
    axes["left"].set_units(None if units is None or one_d else (units.mean[1], units.std[1]))
    if units is None:
        widget.setLabel("bottom", "x₁")
        widget.setLabel("left", "y" if one_d else "x₂")
        return
    names = [html.escape(units.names[c]) for c in columns]   # a file's header: pyqtgraph's labels read HTML
    widget.setLabel("bottom", names[0])
    widget.setLabel("left", html.escape(units.target) if one_d else names[1])


def regression_map(snap) -> bool:
    """Whether the prediction is a map of a regression's target (a data file with 2 or more features), whose
    colours are the target's values, not a probability."""
    X = snap.data[0] if snap.data is not None else None
    return snap.units is not None and not snap.class_names and X is not None and X.ndim == 2 and X.shape[1] >= 2


def colour_levels(snap) -> tuple[float, float]:
    """What the prediction's colour map spans: a regression's targets from lowest to highest, in the file's
    units; else a probability, 0 to 1."""
    if not regression_map(snap):
        return 0.0, 1.0
    y = snap.data[1][np.isfinite(snap.data[1])]
    lo, hi = (float(y.min()), float(y.max())) if y.size else (0.0, 1.0)
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


REGRESSION_TIP = ("Colour: the network's predicted target over the input plane, in the file's units, from its lowest "
                  "target (blue) to its highest (red); the data points on top in their own target's colour.")


def target_brushes(y: np.ndarray, levels: tuple[float, float]) -> list:
    """A regression's points coloured by their targets on the prediction map's scale (CET-D1 over ``levels``)."""
    lo, hi = levels
    colours = pg.colormap.get("CET-D1").map(np.clip((y - lo) / (hi - lo), 0.0, 1.0), mode="qcolor")
    return [pg.mkBrush(c) for c in colours]
