"""The plots and the lesson tabs, as a registry of panels.

Each panel wraps one view and answers ``clear`` (a new network: nothing from the old run
stays, drawn at once), ``on_batch`` (the latest measured step) and ``on_epochs`` (epochs
were added to the histories), which keep the new data, and ``draw``, which the dashboard
calls only while the panel can be seen (gui/panels/panel.py): a hidden page, tab or collapsed
pane costs a frame nothing and is drawn when shown. A new plot is one Panel class and one
row of the view registry (gui/panels/views.py). Panels draw what ``core`` measured; they compute nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from core.measure.theory import predicted_delta_norms
from core.training.precision_step import zeroed_by_underflow   # issue 24
from core.runtime.messages import SHOWN_JACOBIAN, SHOWN_PICTURE
from core.runtime.runner import Kind

from gui.widgets import named
from gui.panels.chain_rule import ChainPanel
from gui.panels.gradient_bars import QUANTITIES, GradientBars
from gui.panels.help import HELP_HTML
from gui.panels.inside.history_slider import RewindPanel   # issue 21: rewind drives both pages
from gui.panels.panel import Panel, Rewinds, ShowWatcher, shown
from gui.panels.plotting import cache_axes, with_controls
from gui.panels.status import StatusPanel
from gui.panels import views


@dataclass
class Frame:
    """What one snapshot gives the panels to draw."""
    snap: object
    history: object          # run A's EpochHistory (the session model's)
    history_b: object        # run B's, or None
    stats: object = None     # the statistics the bars show: latest epoch mean, latest batch or last finite batch
    other: object = None     # B's, when comparing
    caption: str = ""
    theory: bool = False


class BarsPanel(Rewinds, Panel):
    """The per-layer bars of ‖dL/dW‖ (the epoch's mean or the latest batch) or ‖dL/dz‖ (the latest batch:
    epochs keep no error signal), with the theory of ‖dL/dz‖ over the latter."""

    def __init__(self):
        self.plot = GradientBars()
        self.quantityCombo = named(QComboBox(), "gradientQuantityCombo",
                                   "What the bars show: the weight gradient ‖dL/dW‖, which the update uses, or the "
                                   "error signal ‖dL/dz‖ (δ), the chain-rule product that the theory predicts.")
        for key, text in QUANTITIES.items():
            self.quantityCombo.addItem(text, key)
        self.quantityCombo.setSizeAdjustPolicy(QComboBox.AdjustToContents)   # its whole text (issue 21)
        self.widget = with_controls(self.plot.widget, self.quantityCombo)
        self.quantityCombo.currentIndexChanged.connect(lambda _: self._set_quantity())
        self.snap, self.frame, self.theory = None, None, False
        self.at = None   # issue 21: the rewound point, None: live

    def clear(self, snap) -> None:
        self.plot.clear_hover()
        self.plot.set_run_labels(None)
        self.snap, self.frame = snap, None
        self._draw()

    def on_batch(self, f: Frame) -> None:
        self.snap, self.frame = f.snap, f
        self.changed()

    def draw(self) -> None:
        self._draw()

    def set_theory(self, on: bool) -> None:
        self.theory = on
        self._draw()

    def _set_quantity(self) -> None:
        self.plot.set_quantity(self.quantityCombo.currentData())
        self._draw()

    def _values(self):
        """(values A, values B or None, caption) of the chosen quantity."""
        snap, f = self.snap, self.frame
        if self.at is not None:
            return self._values_at(self.at)
        if self.plot.quantity == "grad_norm":
            if f is None or f.stats is None:
                grad, grad_b = snap.initial_grad_norm
                return grad, grad_b, "before any step"
            return f.stats.grad_norm, None if f.other is None else f.other.grad_norm, f.caption
        batch = snap.last_finite_batch if snap.divergence is not None else snap.last_batch
        if f is None or batch is None or not len(batch.delta_norms):
            return snap.initial_delta_norm, None, "before any step"
        other = snap.b.last_batch if snap.b is not None else None
        caption = (f"step {batch.step}, before divergence" if snap.divergence is not None
                   else f"step {batch.step}")
        return batch.delta_norms, None if other is None else other.delta_norms, caption

    def _draw(self) -> None:
        snap = self.snap
        if snap is None or snap.initial_grad_norm is None and self.frame is None:
            return
        values, values_b, caption = self._values()
        if values is None:
            return
        if self.frame is not None:
            self.plot.set_run_labels((snap.b.label_a, snap.b.label) if snap.b is not None else None)
        profile = None
        if self.theory and self.plot.quantity == "delta_norms" and snap.phase is not None and not snap.phase.reason:
            profile = predicted_delta_norms(snap.config, values, snap.phase.factor)
        self.plot.show_theory(profile, self.theory)   # first: its legend row counts in the bars' headroom
        marked = snap.divergence.layer if snap.divergence is not None else None
        if self.at is not None:
            d = self.at.point.batch.divergence
            marked = d.layer if d is not None else None
        self.plot.set_underflow(self._underflow(values))
        self.plot.update(values, marked, caption, values_b)
        self.plot.refresh_hover()   # the new values where the mouse is, nothing of the old


    def _values_at(self, at):
        """Issue 21: A's and B's numbers at the rewound point (an epoch's means at its last step, as live)."""
        b = at.point_b
        if self.plot.quantity == "grad_norm":
            return at.point.stats.grad_norm, None if b is None else b.stats.grad_norm, at.caption
        return at.point.batch.delta_norms, None if b is None else b.batch.delta_norms, at.caption

    def _underflow(self, values):
        """Issue 24: the layers whose shown bar is 0 and whose latest step's gradient underflowed to all 0."""
        batch = self.snap.last_batch if self.frame is not None else None
        if self.at is not None:
            batch = self.at.point.batch
        if batch is None or len(batch.underflow) != len(values):
            return None
        return zeroed_by_underflow(batch) & (np.asarray(values, dtype=float) == 0)


class PhasePanel(Panel):
    """The mean-field phase of the config, in a label (the control panel's)."""

    def __init__(self, label: QLabel):
        self.widget = label

    def clear(self, snap) -> None:
        self.on_batch(Frame(snap, None, None))

    def on_batch(self, f: Frame) -> None:
        p = f.snap.phase
        if p is not None:   # where the theory does not hold for the network, core gives the reason instead
            self.widget.setText(f"Mean-field phase: {p}" + ("" if p.reason else f" (chi_1 = {p.chi1:.3g})"))


class Dashboard:
    """The panels, made from the view registry (gui/panels/views.py) and laid out in splitters and the lesson
    tabs (prediction, chain rule, help), on two pages: the gradients, and inside the network."""

    PLACED = {"gradients": "bars", "loss": "loss", "heatmap": "heatmap", "updates": "updates",
              "boundary": "boundary", "timeline": "timeline"}   # registry name -> attribute (tests and scripts)

    def __init__(self, phase_label: QLabel, steps_of=lambda: None):
        """``steps_of()``: the session model's StepHistory of run A (the timeline's data)."""
        self.steps_of = steps_of
        self.chain, self.status = ChainPanel(), StatusPanel()
        self.helpView = named(QTextBrowser(), "helpView", "What each plot shows and why gradients vanish or explode.")
        self.helpView.setHtml(HELP_HTML)
        self.lessonTabs = named(QTabWidget(), "lessonTabs", "The prediction, the chain rule of the latest batch, help.")
        self.lessonTabs.setUsesScrollButtons(True)   # in a narrow window the tab bar scrolls, the plots keep room
        self.lessonTabs.addTab(self.chain.widget, "Chain rule")
        self.lessonTabs.addTab(self.helpView, "Help")
        self.topSplitter, self.bottomSplitter = QSplitter(Qt.Horizontal), QSplitter(Qt.Horizontal)
        self.plotSplitter = QSplitter(Qt.Vertical)
        self.plotSplitter.addWidget(self.topSplitter)
        self.plotSplitter.addWidget(self.bottomSplitter)
        self.panels: list[Panel] = []
        self._build_views()
        self.bottomSplitter.addWidget(self.lessonTabs)
        self.lessonTabs.setCurrentIndex(0)   # the Prediction tab in front, as its place in the table says
        self.topSplitter.setSizes([360, 300, 300])
        self.bottomSplitter.setSizes([360, 290, 310])   # the loss has two axes and a legend
        self.panels += [self.chain, PhasePanel(phase_label), self.status]
        self.pages = named(QTabWidget(), "plotPages", "Gradients: how the gradient flows and what it does. "
                                                      "Inside: forward signal, distributions, the network, rewind.")
        self.pages.addTab(self.plotSplitter, "Gradients")   # each page readable at 1024x700
        self.pages.addTab(self._inside_page(), "Inside the network")
        self.rewind = RewindPanel(self._rewound)   # issue 21: in the pages' tab bar, on both pages
        self.inside.widget = self.rewind.widget
        self.pages.setCornerWidget(self.rewind.widget, Qt.TopRightCorner)
        self.panels.append(self.rewind)
        self.theory = False
        self._last_stats = None
        self._clearing = False
        self._watch()

    def _build_views(self) -> None:
        """Each registry row's factory once: a single panel is placed in its area in the table's order; a group
        (the recurrent row and tabs, the inside page) places its own views."""
        areas = {"gradients/top": self.topSplitter.addWidget, "gradients/bottom": self.bottomSplitter.addWidget,
                 "gradients/lesson": lambda w, label: self.lessonTabs.insertTab(
                     self.lessonTabs.indexOf(self.chain.widget), w, label)}
        made = set()
        self._lesson_views = []   # (row, widget) of the lesson tabs: a tab shows only for the kinds it supports
        for view in views.VIEWS:
            if view.factory not in made:
                made.add(view.factory)
                self._make(view, areas)

    def _make(self, view, areas) -> None:
        item = view.make()(self)
        if not hasattr(item, "panels"):   # one panel
            self.panels.append(item)
            setattr(self, self.PLACED.get(view.name, view.name.replace("-", "_")), item)
            place = areas[view.place]
            place(item.widget, view.label) if view.place == "gradients/lesson" else place(item.widget)
            if view.place == "gradients/lesson" and view.kinds != views.ALL:   # the others: their panels decide
                self._lesson_views.append((view, item.widget))
        elif view.place.startswith("inside/"):
            self.panels += item.panels
            self._inside = item
        else:   # recurrent models and sequence tasks (a Transformer's too): a row above the others, tabs
            self.panels += item.panels
            setattr(self, getattr(item, "attribute", "time"), item)
            self.plotSplitter.insertWidget(0, item.row)

    def _inside_page(self) -> QWidget:
        g = self._inside
        self.distribution, self.activation, self.diagram, self.inside = g.distribution, g.activation, g.diagram, g.inside
        self.inside_plots, self.insideSplitter = g.plots, g.splitter
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.insideSplitter, 1)
        return page

    def _watch(self) -> None:
        for widget in self.plot_widgets.values():
            cache_axes(widget)
        self.watcher = ShowWatcher(self.draw_shown, self.pages)   # a page, tab or pane shown: draw it first
        for p in self.panels:
            for w in p.views():
                self.watcher.watch(w)
        for tabs in (self.pages, self.lessonTabs):   # also in a window not shown yet (no Show events there)
            tabs.currentChanged.connect(lambda _: self.draw_shown())

    @property
    def plot_widgets(self) -> dict:
        """Object name -> pyqtgraph PlotWidget, for export and theming."""
        return {**{p.plot.widget.objectName(): p.plot.widget for p in self.panels if hasattr(p, "plot")},
                **{name: v.widget for name, v in self.inside_plots.items()}}

    def show(self, snap, history, history_b) -> None:
        """Draw one snapshot; ``history``/``history_b`` already hold its new epochs."""
        if snap.kind == Kind.REBUILT:
            self._last_stats = None
            self._hand_at(None)   # nothing rewound into the old run stays
            self._clearing = True   # a view shown by a clear (the recurrent row) draws nothing of the old run
            try:
                for p in self.panels:
                    p.clear(snap)
                    p.dirty = False
                self._show_lesson_tabs(snap.config.model)   # after the row's clear has shown its own tabs
            finally:
                self._clearing = False
        f = Frame(snap, history, history_b, theory=self.theory)
        self._choose_stats(f)
        if f.stats is not None:
            self._last_stats = f.stats
            for p in self.panels:
                p.on_batch(f)
        else:   # nothing measured yet: the extras, the phase and the status still show
            for p in self.panels:
                if p is not self.bars and p is not self.updates:
                    p.on_batch(f)
        if snap.new_epochs or snap.kind == Kind.REBUILT:
            for p in self.panels:
                p.on_epochs(f)
        self.draw_shown()

    def _show_lesson_tabs(self, model: str) -> None:
        """The registry says which kinds show a lesson tab (the Jacobian and Precision tabs: MLPs only)."""
        for view, widget in self._lesson_views:
            index = self.lessonTabs.indexOf(widget)
            if index >= 0:
                self.lessonTabs.setTabVisible(index, view.supports(model))

    def costly_shown(self) -> int:
        """Which of the trainer's costly extras can be seen now (core.runtime.messages.SHOWN_*): the prediction
        picture, the Jacobian's spectrum."""
        mask = 0
        for bit, name in ((SHOWN_PICTURE, "boundary"), (SHOWN_JACOBIAN, "jacobian")):
            panel = getattr(self, name, None)
            if panel is not None and any(shown(w) for w in panel.views()):
                mask |= bit
        return mask

    def draw_shown(self, everything: bool = False) -> None:
        """Draw the panels with new data that can be seen (``everything``: all of them, e.g. before an
        export of a plot that is not in front); the others stay marked until they are shown."""
        if self._clearing:
            return
        for p in self.panels:
            if p.dirty and (everything or any(shown(w) for w in p.views())):
                p.dirty = False
                at = getattr(p, "at", None)
                if at is not None and getattr(p, "_drawn_at", None) is at:
                    continue   # rewound: it shows that point already, whatever training added since
                p.draw()
                p._drawn_at = at

    @staticmethod
    def _choose_stats(f: Frame) -> None:
        """The bars and update ratios show the last epoch's means when one just finished, else the latest
        batch; after a divergence, the last batch whose numbers were all finite (the failing layer outlined)."""
        snap = f.snap
        if snap.divergence is not None and snap.last_finite_batch is not None:
            f.stats, f.caption = snap.last_finite_batch, f"step {snap.last_finite_batch.step}, before divergence"
        elif snap.new_epochs:
            f.stats, f.caption = snap.new_epochs[-1], "last epoch's mean"
        elif snap.last_batch is not None and snap.kind != Kind.REBUILT:
            f.stats, f.caption = snap.last_batch, "latest batch"
        if f.stats is not None and snap.b is not None:
            f.other = snap.b.new_epochs[-1] if snap.b.new_epochs else snap.b.last_batch

    def set_theory(self, on: bool) -> None:
        self.theory = on
        self.bars.set_theory(on)

    def _hand_at(self, at) -> None:
        """Issue 21: the rewound point (a gui.panels.inside.history_slider.RewindAt, None: live) to every panel
        that rewinds (``set_at``: draws that point) or marks it (``mark_at``: a cursor on its curves)."""
        for p in self.panels:
            if hasattr(p, "set_at"):
                p.set_at(at)
            if hasattr(p, "mark_at"):
                p.mark_at(at)

    def _rewound(self, at) -> None:
        self._hand_at(at)
        self.draw_shown()
