"""Each place of the Inside page shows the MLP's plot or the sequence models' (issue 21), one at a time.

The rewind panel (gui/panels/inside/history_slider.py, InsidePanel) calls the three places' ``show`` with the
point the slider chose, for runs A and B, whatever the kind; a place hands the call to the MLP's plot, or to the
sequence models' plot when the recorded layout is a core.measure.sequence_inside.SequenceLayout. Which plot is in
front is the kind registry's answer (``"inside_time" in kind_of(config).views``), set when a network is built.
"""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.nn.kinds import kind_of

from gui.panels.panel import Panel

SEQUENCE_VIEW = "inside_time"   # the kind registry's name for these views (core.nn.kinds.SEQUENCE_INSIDE)


def is_sequence(layout) -> bool:
    return bool(getattr(layout, "sequence", False))


def comparable(rec, rec_b):
    """Run B's sequence record if it can be drawn beside A's (the same fields of the same shapes), else None: while
    comparing two kinds (an RNN against an LSTM or an MLP) or depths, B's numbers are not on A's rows."""
    if rec_b is None or set(rec_b) != set(rec) or any(rec_b[k].shape != rec[k].shape for k in rec):
        return None
    return rec_b


class Place:
    """One place of the page: the MLP's plot or the sequence models' plot, the other hidden (not a stack: a
    hidden page of a QStackedWidget would count as shown for export)."""

    def __init__(self, mlp, sequence):
        self.mlp, self.sequence = mlp, sequence
        self.box = QWidget()
        v = QVBoxLayout(self.box)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(mlp.box)
        v.addWidget(sequence.box)
        sequence.box.setVisible(False)

    def front(self, sequence: bool) -> None:
        if self.sequence.box.isHidden() == sequence:   # only a change touches the widgets
            self.mlp.box.setVisible(not sequence)
            self.sequence.box.setVisible(sequence)


    def clear(self) -> None:
        self.mlp.clear()
        self.sequence.clear()


class DistributionPlace(Place):
    def show(self, view, i, view_b, j, what) -> None:
        seq = is_sequence(view.layout)
        self.front(seq)
        if view_b is not None and j is not None and (
                comparable(view.point(i)[0], view_b.point(j)[0]) is None if seq else is_sequence(view_b.layout)):
            view_b, j = None, None   # B is another kind of network: not on A's axes
        (self.sequence if seq else self.mlp).show(view, i, view_b, j, what)


class SignalPlace(Place):
    """The forward signal: the MLP's takes (rec, rule, what, rec_b); the sequence plot needs the layout too,
    which the distribution place (drawn first by InsidePanel) has just been given."""

    def __init__(self, mlp, sequence, distribution: DistributionPlace):
        super().__init__(mlp, sequence)
        self.distribution = distribution

    def show(self, rec, rule, what, rec_b=None) -> None:
        layout = self.distribution.sequence.layout
        seq = "signal" in rec and layout is not None
        self.front(seq)
        if seq:
            self.sequence.show(layout, rec, what, comparable(rec, rec_b))
        else:
            self.mlp.show(rec, rule, what, None if rec_b is not None and "signal" in rec_b else rec_b)


class DiagramPlace(Place):
    def show(self, layout, rec, what, layout_b=None, rec_b=None) -> None:
        seq = is_sequence(layout)
        self.front(seq)
        if seq:
            self.sequence.show(layout, rec, what, comparable(rec, rec_b))
        elif is_sequence(layout_b):
            self.mlp.show(layout, rec, what)
        else:
            self.mlp.show(layout, rec, what, layout_b, rec_b)


class PageSwitch(Panel):
    """Puts the kind's plots in front when a network is built (before anything is recorded)."""

    def __init__(self, places):
        self.places = places

    def clear(self, snap) -> None:
        seq = SEQUENCE_VIEW in kind_of(snap.config).views
        for p in self.places:
            p.front(seq)
