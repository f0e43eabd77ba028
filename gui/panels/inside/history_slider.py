"""historySlider: rewind through what was recorded (issue 12), and the panel that feeds the inside views.

Positions are the recorded epochs (each by its last step) and then the recorded steps of the latest epoch,
from core.measure.distributions.InsideView. At the last position the slider follows training: every new snapshot
moves it to the newest point. Moved back, it stays on that step (found again by step number when the
epoch rolls over) and the distribution plot, the forward signal and the network picture show that point;
run B shows its latest record at or before the same step. The other plots keep following training.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from gui.widgets import named
from gui.panels.panel import Panel


class HistorySlider(QWidget):
    def __init__(self):
        super().__init__()
        self.slider = named(QSlider(Qt.Horizontal), "historySlider",
                            "Rewind: the recorded epochs, then the recorded steps of the latest epoch. At the right "
                            "end the views follow training.")
        self.label = named(QLabel("live"), "historyLabel", "Which recorded point the inside views show.")
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


class InsidePanel(Panel):
    """A dashboard panel: keeps the latest InsideViews of A and B and the chosen point (the slider follows at
    once); draws the three views when one of them is shown."""

    def __init__(self, distribution, activation, diagram):
        self.widget = HistorySlider()
        self.plots = (distribution, activation, diagram)
        self.view = self.view_b = None
        self.pinned_step: int | None = None   # None: follow training
        self._setting = False
        self._drawn_key = None
        self.widget.slider.valueChanged.connect(self._moved)
        self.widget.liveButton.clicked.connect(self.follow)

    def clear(self, snap) -> None:
        self.view = self.view_b = None
        self.pinned_step = None
        self._drawn_key = None
        self._set_range(0)
        self.widget.label.setText("nothing recorded yet")
        for v in self.plots:
            v.clear()

    def on_batch(self, f) -> None:
        snap = f.snap
        if snap.inside is None:
            self.widget.label.setText("distributions are measured for MLPs only")
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
        n = len(self.view)
        i = self.live_index() if self.pinned_step is None else self.view.find(self.pinned_step)
        self._set_range(n, i if i is not None else 0)
        self.changed()

    def views(self) -> list:
        return [self.widget] + [v.box for v in self.plots]

    def live_index(self) -> int:
        """The newest record, or after a divergence the newest whose numbers are all finite (as the bars show
        the last finite batch); the diverged step stays one position further right."""
        ok = np.isfinite(self.view.series("grad")).all(axis=(1, 2))
        good = np.flatnonzero(ok)
        return len(ok) - 1 if ok[-1] or not len(good) else int(good[-1])

    def on_epochs(self, f) -> None:
        pass

    def _set_range(self, n: int, value: int = 0) -> None:
        self._setting = True
        s = self.widget.slider
        s.setRange(0, max(0, n - 1))
        s.setValue(value)
        s.setEnabled(n > 1)
        self._setting = False

    def _moved(self, value: int) -> None:
        if self._setting or self.view is None:
            return
        self.pinned_step = None if value == self.live_index() else int(self.view.series("step")[value])
        self.draw()

    def follow(self) -> None:
        self.pinned_step = None
        if self.view is not None:
            self._set_range(len(self.view), self.live_index())
            self.draw()

    def draw(self) -> None:
        view, vb = self.view, self.view_b
        i = self.widget.slider.value()
        rec, what = view.point(i)
        step = int(view.series("step")[i])
        j = vb.find(step) if vb is not None and len(vb) else None
        rec_b = vb.point(j)[0] if j is not None else None
        live = self.pinned_step is None
        before = live and i < len(view) - 1
        self.widget.label.setText(("live: " if live else "") + what + (", before the divergence" if before else ""))
        dist, act, diagram = self.plots
        dist.show(view, i, vb if j is not None else None, j, what)
        act.show(rec, view.layout.saturation_rule, what, rec_b)
        diagram.show(view.layout, rec, what, vb.layout if j is not None else None, rec_b)
