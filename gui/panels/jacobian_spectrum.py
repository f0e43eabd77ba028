"""The Jacobian tab: the singular values of dh_L/dh_1 (core.measure.jacobian.measure_view, sent as Snapshot.jacobian)
as a histogram on a log axis, the dynamical-isometry band [0.5, 2] shaded, the free-probability prediction of the mean
of s^2 as a dashed line where it holds, its density as a red curve (the Fuss-Catalan law for a linear network, the
numerically solved free-probability density for tanh, ReLU, ...; where none is drawn the readout says why), and the
gauge (share of singular values in the band) in words."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.measure.jacobian import ISOMETRY_BAND
from gui.panels.panel import Panel
from gui.panels.plotting import _plot, empty_note
from gui.widgets import named

BAR = "#2b5fad"
PREDICTED = "#c4302b"


def gauge_text(view) -> str:
    """The readout under the histogram, every number from core's JacobianView."""
    if view.singular_values.size == 0:
        return view.reason
    if not math.isfinite(view.share):
        return "The Jacobian is not finite: the signal overflowed."
    lo, hi = ISOMETRY_BAND
    n = view.singular_values.size
    text = (f"Dynamical isometry: {100 * view.share:.0f}% of {n} singular values of dh_L/dh_1 lie in [{lo:g}, {hi:g}] "
            f"({view.rows} training input{'s' * (view.rows != 1)}). Measured mean of s² {view.moments[0]:.3g}, "
            f"variance {view.moments[1]:.3g}.")
    if view.predicted is not None:
        mean, var = view.predicted
        text += (f" Free probability (Pennington, Schoenholz & Ganguli 2017, wide limit): mean of s² {mean:.3g}, "
                 f"variance {var:.3g} (dashed line: √mean" + (f"; red curve: {view.law})." if len(view.density)
                                                               else ")."))
        law = getattr(view, "law", "")
        if not len(view.density) and law:
            text += f" Density: {law}."
        if getattr(view, "zero_mass", 0.0) > 0:
            text += (f" The law puts {100 * view.zero_mass:.0f}% of the singular values at exactly 0 (off the log "
                     "axis; the curve is the rest).")
    else:
        text += f" {view.reason}."
    if getattr(view, "zero_share", 0.0) > 0:
        text += (f" Measured: {100 * view.zero_share:.0f}% of the singular values are 0 up to rounding (below 1e-12 "
                 "of the largest; not in the histogram).")
    return text


class _Histogram:
    """What the dashboard reads as ``panel.plot.widget`` (export, theme): the PlotWidget."""

    def __init__(self, widget):
        self.widget = widget


class JacobianPanel(Panel):
    def __init__(self):
        plot = _plot("Jacobian dh_L/dh_1: singular values", "share of singular values",
                          "log10 singular value", "A histogram of the singular values of the input-output Jacobian "
                          "of the hidden layers at a few training inputs. Shaded: [0.5, 2], where a signal neither "
                          "shrinks nor grows much (dynamical isometry).", "jacobianPanel")
        self.plot = _Histogram(plot)
        plot.setMouseEnabled(x=False, y=False)
        self.bars = plot.plot([], [], stepMode="center", fillLevel=0, brush=pg.mkBrush(BAR + "99"),
                                   pen=pg.mkPen(BAR))
        self.band = pg.LinearRegionItem([math.log10(b) for b in ISOMETRY_BAND], movable=False,
                                        brush=pg.mkBrush(44, 160, 44, 40), pen=pg.mkPen(None))
        self.band.setZValue(-10)
        plot.addItem(self.band)
        self.law = plot.plot([], [], pen=pg.mkPen(PREDICTED, width=2))   # the Fuss-Catalan law, where drawn
        self.predicted = pg.InfiniteLine(angle=90, pen=pg.mkPen(PREDICTED, style=Qt.DashLine, width=2))
        self.predicted.setVisible(False)
        plot.addItem(self.predicted)
        self.note = empty_note(plot, "not measured yet")
        self.label = QLabel("")
        self.label.setTextFormat(Qt.PlainText)
        self.label.setWordWrap(True)
        self.label.setObjectName("jacobianGauge")
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(plot, 1)
        layout.addWidget(self.label)
        self.widget = named(box, "jacobianBox", "The Jacobian's singular values (dynamical isometry).")
        self.view = None

    def views(self) -> list:
        return [self.widget]

    rewound = False

    def mark_at(self, at) -> None:
        """Issue 21: the spectrum is not recorded per step; rewound, the text under it says it is of the latest
        weights (the narrow tab has no room in its title)."""
        if self.rewound != (at is not None):
            self.rewound = at is not None
            self._say()

    def _say(self) -> None:
        v = self.view
        text = "" if v is None else gauge_text(v)
        self.label.setText(f"Now, not rewound: {text}" if self.rewound and text else text)

    def clear(self, snap) -> None:
        self.view = getattr(snap, "jacobian", None)
        self.draw()

    def on_batch(self, f) -> None:
        view = getattr(f.snap, "jacobian", None)
        if view is not None:
            self.view = view
            self.changed()

    def draw(self) -> None:
        v = self.view
        has = v is not None and len(v.shares) > 0
        self.bars.setData(v.log_edges if has else [], v.shares if has else [])
        self.note.setVisible(not has)
        if not has:
            self.note.setText("not measured yet" if v is None else "no histogram (see below)")
            self.note.setPos(0, 0.5)
        drawn = has and len(v.density) > 0
        centres = 0.5 * (v.log_edges[1:] + v.log_edges[:-1]) if drawn else []
        self.law.setData(centres, v.density if drawn else [])
        mean = v.predicted[0] if has and v.predicted is not None else math.nan
        self.predicted.setVisible(has and math.isfinite(mean) and mean > 0)
        if self.predicted.isVisible():
            self.predicted.setValue(0.5 * math.log10(mean))
        self._say()
        self.dirty = False
