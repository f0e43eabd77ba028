"""historySlider: rewind every plot through what was recorded (issues 12 and 21), and the panel that feeds the
inside views.

Positions are run A's recorded points (core.training.rewind.RewindHistory): the completed epochs (each by its
last step) and then the recorded steps of the latest epoch; for an MLP they are the steps its Inside views
recorded. At the last position the slider follows training: every new snapshot moves it to the newest point.
Moved back, it stays on that step (found again by step number when the epoch rolls over) and the dashboard hands
every panel that rewinds a ``RewindAt`` (``set_at``): the bars, update ratios, chain rule, heatmaps, time-step
and Transformer block views and the inside views draw that point; the loss and the step timeline keep their
curves and mark it (``mark_at``). Run B shows its latest point at or before the same step. The control sits in
the pages' tab bar, so it is on both pages.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from gui.widgets import named
from gui.panels.panel import Panel, Rewinds
from gui.panels.transformer.common import wheel_only_when_focused


@dataclass(frozen=True)
class RewindAt:
    """The point every rewinding panel draws: run A's RewindPoint, B's at or before its step (or None)."""
    point: object
    point_b: object
    what: str

    @property
    def step(self) -> int:
        return self.point.step

    @property
    def caption(self) -> str:
        return self.point.caption()


class HistorySlider(QWidget):
    def __init__(self):
        super().__init__()
        self.slider = named(QSlider(Qt.Horizontal), "historySlider",
                            "Rewind: the recorded epochs, then the recorded steps of the latest epoch. Every plot "
                            "on both pages shows the chosen step (the loss, the step timeline and the heatmaps "
                            "mark it with a red dashed line); at the right end they follow training.")
        wheel_only_when_focused(self.slider)   # no wheel moves it unless clicked into (issue 21)
        self.slider.setMinimumWidth(120)
        self.label = named(QLabel("live"), "historyLabel", "Which recorded point the plots show.")
        self.label.setTextFormat(Qt.PlainText)
        self.liveButton = named(QPushButton("Live"), "historyLiveButton", "Follow training again (the slider's end).")
        h = QHBoxLayout(self)
        h.setContentsMargins(4, 0, 4, 0)
        h.addWidget(QLabel("Rewind:"))
        h.addWidget(self.slider, 1)
        h.addWidget(self.label)
        h.addWidget(self.liveButton)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)


class RewindPanel(Panel):
    """Keeps the runs' rewind histories and the chosen point; ``on_rewind(at)`` (the dashboard) hands the point,
    or None for live, to the panels whenever it changes."""

    def __init__(self, on_rewind):
        self.widget = HistorySlider()
        self.on_rewind = on_rewind
        self.history = self.history_b = None
        self.pinned_step: int | None = None   # None: follow training
        self.at: RewindAt | None = None
        self.latest = None     # run A's latest step (BatchStats): what the plots show live
        self.positions = 0     # the recorded points, and one more for live when the latest step was not recorded
        self._setting = False
        self.widget.slider.valueChanged.connect(self._moved)
        self.widget.liveButton.clicked.connect(self.follow)

    def views(self) -> list:
        return []   # it draws nothing that waits to be shown

    def clear(self, snap) -> None:
        self.history = self.history_b = None
        self.pinned_step, self.at, self.latest, self.positions = None, None, None, 0
        self._set_range(0)
        self.widget.label.setText("nothing recorded yet")

    def on_batch(self, f) -> None:
        snap = f.snap
        h = getattr(snap, "rewind", None)
        if h is None or not len(h):
            return
        self.history = h
        self.history_b = getattr(snap.b, "rewind", None) if snap.b is not None else None
        self.latest = snap.last_batch
        recorded = self.latest is None or self.latest.step <= h.point(-1).step
        self.positions = len(h) + (0 if recorded else 1)
        if self.pinned_step is None:
            self._set_range(self.positions, self.positions - 1)
            self._label()
            return
        i = h.find(self.pinned_step)
        self._set_range(self.positions, 0 if i is None else i)
        self._pin(0 if i is None else i)

    def what(self, i: int) -> str:
        """Which point position i is, in the Inside views' words (core.measure.distributions.InsideView.point)."""
        p = self.history.point(i)
        return (f"end of epoch {p.epoch} (step {p.step})" if i < len(self.history.epochs)
                else f"step {p.step} (epoch {p.epoch})")

    def _label(self) -> None:
        if self.pinned_step is not None:
            self.widget.label.setText(self.what(self.widget.slider.value()))
        elif self.latest is not None:   # the step the plots show live (the Inside views name their own)
            self.widget.label.setText(f"live: step {self.latest.step} (epoch {self.latest.epoch})")
        else:
            self.widget.label.setText("live: " + self.what(len(self.history) - 1))

    def _set_range(self, n: int, value: int = 0) -> None:
        self._setting = True
        s = self.widget.slider
        s.setRange(0, max(0, n - 1))
        s.setValue(value)
        s.setEnabled(n > 1)
        self._setting = False

    def _moved(self, value: int) -> None:
        if self._setting or self.history is None:
            return
        if value == self.positions - 1:
            self.follow()
            return
        self.pinned_step = self.history.point(value).step
        self._pin(value)

    def _pin(self, i: int) -> None:
        """Hand the panels position i (a new RewindAt only when what it shows changed)."""
        p = self.history.point(i)
        hb = self.history_b
        pb = hb.at(p.step) if hb is not None and len(hb) else None
        self._label()
        if self.at is None or self.at.point is not p or self.at.point_b is not pb:
            self.at = RewindAt(p, pb, self.what(i))
            self.on_rewind(self.at)

    def follow(self) -> None:
        """Live again: the panels follow training."""
        was = self.at
        self.pinned_step, self.at = None, None
        if self.history is not None:
            self._set_range(self.positions, self.positions - 1)
            self._label()
        if was is not None:
            self.on_rewind(None)


class InsidePanel(Rewinds, Panel):
    """A dashboard panel: keeps the latest InsideViews of A and B; draws the three views when one of them is
    shown, at the rewound step (``set_at``) or, live, at the newest record."""

    def __init__(self, distribution, activation, diagram, slider: HistorySlider | None = None):
        self.widget = slider   # the rewind control (the dashboard's), for scripts that look for it here
        self.plots = (distribution, activation, diagram)
        self.view = self.view_b = None
        self.at: RewindAt | None = None
        self._drawn_key = None

    def clear(self, snap) -> None:
        self.view = self.view_b = None
        self.at = None
        self._drawn_key = None
        for v in self.plots:
            v.clear()

    def on_batch(self, f) -> None:
        snap = f.snap
        if snap.inside is None:   # no recorder for this kind of network: say so rather than "nothing yet"
            for v in self.plots:
                v.caption.setText("These views are not measured for this kind of network.")
            return
        if len(snap.inside) == 0:
            return
        key = (len(snap.inside), int(snap.inside.series("step")[-1]),
               None if snap.b is None or snap.b.inside is None else len(snap.b.inside))
        if key == self._drawn_key:
            return   # nothing new was recorded since the last frame (small networks record every n-th step)
        self._drawn_key = key
        self.view = snap.inside
        self.view_b = snap.b.inside if snap.b is not None else None
        self.changed()

    def views(self) -> list:
        return [v.box for v in self.plots]

    def live_index(self) -> int:
        """The newest record, or after a divergence the newest whose numbers are all finite (as the bars show
        the last finite batch); the diverged step stays one position further right."""
        ok = np.isfinite(self.view.series("grad")).all(axis=(1, 2))
        good = np.flatnonzero(ok)
        return len(ok) - 1 if ok[-1] or not len(good) else int(good[-1])

    def draw(self) -> None:
        view, vb = self.view, self.view_b
        if view is None:
            return
        i = self.live_index() if self.at is None else view.find(self.at.step)
        if i is None:
            return
        rec, what = view.point(i)
        step = int(view.series("step")[i])
        j = vb.find(step) if vb is not None and len(vb) else None
        rec_b = vb.point(j)[0] if j is not None else None
        dist, act, diagram = self.plots
        dist.show(view, i, vb if j is not None else None, j, what)
        act.show(rec, view.layout.saturation_rule, what, rec_b)
        diagram.show(view.layout, rec, what, vb.layout if j is not None else None, rec_b)


def rewind_cursor(widget, colour: str = "#e45756"):
    """A vertical dashed line that marks the rewound point on a plot with a step or epoch axis; hidden while
    live. ``place_cursor`` moves it. No label on the plot (it would cover a legend): the rewind control names the
    point, the line's tooltip says what it is."""
    import pyqtgraph as pg
    line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(colour, width=2, style=Qt.DashLine))
    line.setZValue(20)
    line.setVisible(False)
    widget.addItem(line)
    return line


def place_cursor(line, x: float | None, text: str = "") -> None:
    """The cursor at ``x`` with its label (None: hidden, live)."""
    if x is None:
        line.setVisible(False)
        return
    line.setVisible(True)
    line.setValue(x)
    line.setToolTip(f"Rewound to {text}: the other plots show this point (Live follows training again)")


class CursorAt:
    """A heatmap panel's rewind (issue 21): drawn up to the chosen point, with a cursor there (the panel has
    ``plot.widget`` and ``changed()``)."""
    at = None
    cursor = None

    def move_cursor(self, at) -> None:
        self.at = at
        if self.cursor is None:
            self.cursor = rewind_cursor(self.plot.widget)
        if at is None:
            place_cursor(self.cursor, None)   # at once: a rebuild clears the map without drawing it
