"""The plots and the lesson tabs, as a registry of panels.

Each panel wraps one view and answers ``clear`` (a new network: nothing from the old run
stays, drawn at once), ``on_batch`` (the latest measured step) and ``on_epochs`` (epochs
were added to the histories), which keep the new data, and ``draw``, which the dashboard
calls only while the panel can be seen (gui/panels/panel.py): a hidden page, tab or collapsed
pane costs a frame nothing and is drawn when shown. A new plot is one Panel class and one
line in ``Dashboard.__init__``. Panels draw what ``core`` measured; they compute nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QProgressBar, QSplitter, QTabWidget,
                               QTextBrowser, QVBoxLayout, QWidget)

from core.measure.theory import predicted_delta_norms

from gui.app import theme
from gui.controls.control_panel import named
from gui.panels.data_legend import DataLegend
from gui.panels.help import HELP_HTML
from gui.panels.common import DecisionBoundary, FlowHeatmap, UpdateRatios, cache_axes
from gui.panels.gradient_bars import QUANTITIES, GradientBars
from gui.panels.loss import LossCurves
from gui.panels.timeline import TimelinePanel
from gui.panels.recurrent.time_row import TimeViews
from gui.panels.inside.activation_plot import ActivationPlot          # issue 12: the inside views and the rewind slider
from gui.panels.inside.distribution_plot import DistributionPlot
from gui.panels.inside.history_slider import InsidePanel
from gui.panels.inside.network_diagram import NetworkDiagram
from gui.panels.panel import Panel, ShowWatcher, shown


def chain_html(chain) -> str:
    """The chain rule as a table: from the loss down to layer 1, with the running product."""
    rows = "".join(
        f"<tr><td align=right>{l.layer}</td><td align=right>{l.deriv_abs_mean:.3g}</td>"
        f"<td align=right>{'—' if i == 0 else f'{l.gain:.3g}'}</td><td align=right>{l.product:.3g}</td></tr>"
        for i, l in enumerate(chain.links))
    return (f"<p><b>{chain.text()}</b></p>"
            "<p>Each layer multiplies the back-propagated gradient δ = dL/dz by its gain "
            "‖δ<sub>l</sub>‖ / ‖δ<sub>l+1</sub>‖; the product is how much reaches layer 1.</p>"
            "<table cellspacing=0 cellpadding=3 border=1>"
            "<tr><th>layer</th><th>mean |φ′(z)|</th><th>gain</th><th>product</th></tr>"
            f"{rows}</table>")


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


def _with_controls(plot_widget, *controls) -> QWidget:
    """A plot with a row of its own controls under it, right-aligned."""
    w = QWidget()
    v = QVBoxLayout(w)
    v.setContentsMargins(0, 0, 0, 0)
    v.addWidget(plot_widget, 1)
    row = QHBoxLayout()
    row.addStretch(1)
    for c in controls:
        row.addWidget(c)
    v.addLayout(row)
    return w


class BarsPanel(Panel):
    """The per-layer bars of ‖dL/dW‖ (the epoch's mean or the latest batch) or ‖dL/dz‖ (the latest batch:
    epochs keep no error signal), with the theory of ‖dL/dz‖ over the latter."""

    def __init__(self):
        self.plot = GradientBars()
        self.quantityCombo = named(QComboBox(), "gradientQuantityCombo",
                                   "What the bars show: the weight gradient ‖dL/dW‖, which the update uses, or the "
                                   "error signal ‖dL/dz‖ (δ), the chain-rule product that the theory predicts.")
        for key, text in QUANTITIES.items():
            self.quantityCombo.addItem(text, key)
        self.quantityCombo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.quantityCombo.setMinimumContentsLength(12)   # narrow windows: the plot keeps the room
        self.widget = _with_controls(self.plot.widget, self.quantityCombo)
        self.quantityCombo.currentIndexChanged.connect(lambda _: self._set_quantity())
        self.snap, self.frame, self.theory = None, None, False

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
        self.plot.update(values, marked, caption, values_b)
        self.plot.refresh_hover()   # the new values where the mouse is, nothing of the old


class UpdatesPanel(Panel):
    def __init__(self):
        self.plot = UpdateRatios()
        self.widget = self.plot.widget

    def clear(self, snap) -> None:
        self.plot.update([], None)   # no ratios before the first step of the new network

    def on_batch(self, f: Frame) -> None:
        self.ratios = (f.stats.update_ratio, None if f.other is None else f.other.update_ratio)
        self.running = f.snap.state == "running"
        self.changed()

    def draw(self) -> None:
        self.plot.update(*self.ratios, sticky=self.running)   # while running, the axis does not jump


class LossPanel(Panel):
    def __init__(self):
        self.plot = LossCurves()
        self.logCheck = named(QCheckBox("log scale"), "lossLogCheck",
                              "Show the loss on a logarithmic axis, with a tick at every power of ten.")
        self.fitCheck = named(QCheckBox("Fit to data"), "lossFitCheck",
                              "Zoom the loss axis to the curves; off, it starts at 0 so a plateau looks flat.")
        self.widget = _with_controls(self.plot.widget, self.fitCheck, self.logCheck)
        self.history = self.history_b = None
        self.logCheck.toggled.connect(self.plot.set_log)
        self.fitCheck.toggled.connect(self.plot.set_fit)

    def clear(self, snap) -> None:
        self.plot.set_compare(snap.b is not None)
        self.plot.set_chance(snap.chance_loss)
        self.plot.update([], [], [])
        self.history = self.history_b = None

    def on_epochs(self, f: Frame) -> None:
        self.history, self.history_b = f.history, f.history_b
        self.changed()

    def draw(self) -> None:
        h, hb = self.history, self.history_b
        if h is None:
            return
        self.plot.update(h.scalar("epoch").copy(), h.scalar("train_loss").copy(), h.scalar("val_loss").copy(),
                         (hb.scalar("epoch").copy(), hb.scalar("train_loss").copy(), hb.scalar("val_loss").copy())
                         if hb else None, h.scalar("val_accuracy").copy())


class HeatmapPanel(Panel):
    def __init__(self):
        self.plot = FlowHeatmap()
        self.widget = self.plot.widget

    def clear(self, snap) -> None:
        self.plot.clear(snap.n_layers)

    def on_epochs(self, f: Frame) -> None:
        self.history = f.history
        self.changed()

    def draw(self) -> None:
        self.plot.update(self.history.layer("grad_norm"))


class BoundaryPanel(Panel):
    def __init__(self):
        self.plot = DecisionBoundary()
        self.legend = DataLegend()   # the axes in words and the class colours, under the plot
        self.widget = QWidget()
        v = QVBoxLayout(self.widget)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.plot.widget, 1)
        v.addWidget(self.legend, 0)

    def clear(self, snap) -> None:
        self.plot.set_data(*snap.data)
        self.legend.show_data(snap)

    def on_batch(self, f: Frame) -> None:
        if f.snap.boundary is not None:   # None: the picture has not changed (or is not due)
            self.boundary = f.snap.boundary
            self.changed()

    def draw(self) -> None:
        self.plot.update(self.boundary)


class ChainPanel(Panel):
    def __init__(self):
        self.widget = named(QTextBrowser(), "chainView", "The chain rule for the latest batch with its real numbers: "
                            "each layer's mean |phi'|, its backward gain, and the running product from the output "
                            "down.")

    def clear(self, snap) -> None:
        self.widget.clear()

    def on_batch(self, f: Frame) -> None:
        if f.snap.chain is not None:
            self.chain = f.snap.chain
            self.changed()

    def draw(self) -> None:
        self.widget.setHtml(chain_html(self.chain))


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


STATUS = {"epochLabel": "Completed epochs.", "stepLabel": "Completed batches (gradient steps).",
          "lossLabel": "Loss of the latest batch.", "stateLabel": "ready, running, paused, done or diverged.",
          "speedLabel": "Training speed while running.", "progressBar": "Progress toward the epoch where Run stops."}


class StatusPanel(Panel):
    """Epoch, step, loss, state, speed and progress, for the status bar."""

    def __init__(self):
        self.widgets = {}
        for name, tip in STATUS.items():
            w = QProgressBar() if name == "progressBar" else QLabel("")
            if isinstance(w, QLabel):
                w.setTextFormat(Qt.PlainText)
            self.widgets[name] = named(w, name, tip)
        self.progress = self.widgets["progressBar"]
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("%v / %m epochs")
        self.progress.setVisible(False)
        self.show_state("ready")
        self._show(0, 0, None)

    def _show(self, epoch: int, step: int, batch) -> None:
        self.widgets["epochLabel"].setText(f"Epoch {epoch}")
        self.widgets["stepLabel"].setText(f"step {step}")
        self.widgets["lossLabel"].setText(f"batch loss {batch.loss:.4g}" if batch is not None else "batch loss –")

    def clear(self, snap) -> None:
        self._show(snap.epoch, snap.step, None)

    def on_batch(self, f: Frame) -> None:
        snap = f.snap
        self._show(snap.epoch, snap.step, snap.last_batch)
        running = snap.state == "running"
        self.widgets["speedLabel"].setText(f"{snap.steps_per_second:,.0f} steps/s" if running else "")
        p = self.progress
        wanted = running and snap.target_epoch > 0
        if p.isHidden() == wanted:
            p.setVisible(wanted)
        if snap.target_epoch > 0:   # each call repaints the bar, even with the same numbers
            if p.maximum() != snap.target_epoch:
                p.setRange(0, snap.target_epoch)
            if p.value() != min(snap.epoch, snap.target_epoch):
                p.setUpdatesEnabled(False)   # setValue repaints at once (and flushes); this way the bar is
                p.setValue(min(snap.epoch, snap.target_epoch))
                p.setUpdatesEnabled(True)    # painted with the rest of the frame (this schedules it)

    def show_state(self, state=None) -> None:
        """The run state in its colour for the current theme (None: the shown state, recoloured)."""
        label = self.widgets["stateLabel"]
        if state is not None:
            label.setText(str(state))
        label.setStyleSheet(f"color: {theme.text_colour(label.text() or 'ready')}; font-weight: bold;")


class Dashboard:
    """The panels, laid out in splitters, and the lesson tabs (prediction, chain rule, help)."""

    def __init__(self, phase_label: QLabel, steps_of=lambda: None):
        """``steps_of()``: the session model's StepHistory of run A (the timeline's data)."""
        self.bars, self.loss, self.heatmap = BarsPanel(), LossPanel(), HeatmapPanel()
        self.timeline = TimelinePanel(steps_of)
        self.updates, self.boundary, self.chain = UpdatesPanel(), BoundaryPanel(), ChainPanel()
        self.status = StatusPanel()
        self.panels: list[Panel] = [self.bars, self.loss, self.heatmap, self.updates, self.boundary, self.chain,
                                    PhasePanel(phase_label), self.status, self.timeline]
        self._add_inside()   # issue 12
        self.helpView = named(QTextBrowser(), "helpView", "What each plot shows and why gradients vanish or explode.")
        self.helpView.setHtml(HELP_HTML)
        self.lessonTabs = named(QTabWidget(), "lessonTabs", "The prediction, the chain rule of the latest batch, help.")
        self.lessonTabs.setUsesScrollButtons(True)   # in a narrow window the tab bar scrolls, the plots keep room
        self.lessonTabs.addTab(self.boundary.widget, "Prediction")
        self.lessonTabs.addTab(self.chain.widget, "Chain rule")
        self.lessonTabs.addTab(self.helpView, "Help")
        self.topSplitter = QSplitter(Qt.Horizontal)
        self.topSplitter.addWidget(self.bars.widget)
        self.topSplitter.addWidget(self.heatmap.widget)
        self.topSplitter.addWidget(self.timeline.widget)
        self.topSplitter.setSizes([360, 300, 300])
        self.bottomSplitter = QSplitter(Qt.Horizontal)
        for w in (self.loss.widget, self.updates.widget, self.lessonTabs):
            self.bottomSplitter.addWidget(w)
        self.bottomSplitter.setSizes([360, 290, 310])   # the loss has two axes and a legend
        self.plotSplitter = QSplitter(Qt.Vertical)
        self.plotSplitter.addWidget(self.topSplitter)
        self.plotSplitter.addWidget(self.bottomSplitter)
        self.time = TimeViews(self.lessonTabs, self.boundary.widget)   # recurrent models and sequence tasks
        self.panels += self.time.panels
        self.plotSplitter.insertWidget(0, self.time.row)
        # two pages, each readable at 1024x700: the gradients as they flow, and inside the network
        self.pages = named(QTabWidget(), "plotPages", "Gradients: how the gradient flows and what it does. "
                                                      "Inside: forward signal, distributions, the network, rewind.")
        self.pages.addTab(self.plotSplitter, "Gradients")
        inside = QWidget()
        v = QVBoxLayout(inside)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.insideSplitter, 1)
        v.addWidget(self.inside.widget)
        self.pages.addTab(inside, "Inside the network")
        self.theory = False
        self._last_stats = None
        self._clearing = False
        for widget in self.plot_widgets.values():
            cache_axes(widget)
        self.watcher = ShowWatcher(self.draw_shown, self.pages)   # a page, tab or pane shown: draw it first
        for p in self.panels:
            for w in p.views():
                self.watcher.watch(w)
        for tabs in (self.pages, self.lessonTabs):   # also in a window not shown yet (no Show events there)
            tabs.currentChanged.connect(lambda _: self.draw_shown())

    def _add_inside(self) -> None:
        """Issue 12: the forward signal beside the gradient bars; distributions and the network picture in a
        third row; the rewind slider under them. One panel (InsidePanel) feeds all three."""
        self.distribution, self.activation, self.diagram = DistributionPlot(), ActivationPlot(), NetworkDiagram()
        self.inside = InsidePanel(self.distribution, self.activation, self.diagram)
        self.panels.append(self.inside)
        self.inside_plots = {v.widget.objectName(): v for v in (self.distribution, self.activation, self.diagram)}
        self.insideSplitter = named(QSplitter(Qt.Vertical), "insideSplitter",
                                    "The forward signal and the distributions; the network as a picture.")
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self.activation.box)    # the forward signal: why the exploding story's dL/dW bars are level
        top.addWidget(self.distribution.box)
        top.setSizes([380, 560])
        self.insideSplitter.addWidget(top)
        self.insideSplitter.addWidget(self.diagram.box)

    @property
    def plot_widgets(self) -> dict:
        """Object name -> pyqtgraph PlotWidget, for export and theming."""
        return {**{p.plot.widget.objectName(): p.plot.widget for p in self.panels if hasattr(p, "plot")},
                **{name: v.widget for name, v in self.inside_plots.items()}}

    def show(self, snap, history, history_b) -> None:
        """Draw one snapshot; ``history``/``history_b`` already hold its new epochs."""
        if snap.kind == "rebuilt":
            self._last_stats = None
            self._clearing = True   # a view shown by a clear (the recurrent row) draws nothing of the old run
            try:
                for p in self.panels:
                    p.clear(snap)
                    p.dirty = False
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
        if snap.new_epochs or snap.kind == "rebuilt":
            for p in self.panels:
                p.on_epochs(f)
        self.draw_shown()

    def draw_shown(self, everything: bool = False) -> None:
        """Draw the panels with new data that can be seen (``everything``: all of them, e.g. before an
        export of a plot that is not in front); the others stay marked until they are shown."""
        if self._clearing:
            return
        for p in self.panels:
            if p.dirty and (everything or any(shown(w) for w in p.views())):
                p.dirty = False
                p.draw()

    @staticmethod
    def _choose_stats(f: Frame) -> None:
        """The bars and update ratios show the last epoch's means when one just finished, else the latest
        batch; after a divergence, the last batch whose numbers were all finite (the failing layer outlined)."""
        snap = f.snap
        if snap.divergence is not None and snap.last_finite_batch is not None:
            f.stats, f.caption = snap.last_finite_batch, f"step {snap.last_finite_batch.step}, before divergence"
        elif snap.new_epochs:
            f.stats, f.caption = snap.new_epochs[-1], "last epoch's mean"
        elif snap.last_batch is not None and snap.kind != "rebuilt":
            f.stats, f.caption = snap.last_batch, "latest batch"
        if f.stats is not None and snap.b is not None:
            f.other = snap.b.new_epochs[-1] if snap.b.new_epochs else snap.b.last_batch

    def set_theory(self, on: bool) -> None:
        self.theory = on
        self.bars.set_theory(on)
