"""The factories the view registry names (gui/panels/views.py): each takes the dashboard being built and returns
a Panel, or a group of views made together (``.panels``: the recurrent row and tabs, the inside page)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from gui.widgets import named
from gui.panels.heatmap import HeatmapPanel
from gui.panels.inside.activation_plot import ActivationPlot          # issue 12: the inside views and the rewind slider
from gui.panels.inside.distribution_plot import DistributionPlot
from gui.panels.inside.history_slider import InsidePanel
from gui.panels.inside.network_diagram import NetworkDiagram
from gui.panels.inside.sequence_plots import SequenceDistributionPlot, SequenceSignalPlot   # issue 21
from gui.panels.inside.sequence_switch import DiagramPlace, DistributionPlace, PageSwitch, SignalPlace
from gui.panels.inside.unrolled_network import UnrolledNetwork
from gui.panels.loss import LossPanel
from gui.panels.prediction import BoundaryPanel
from gui.panels.recurrent.time_row import TimeViews
from gui.panels.timeline import TimelinePanel
from gui.panels.update_ratios import UpdatesPanel


def bars(d):
    from gui.panels.dashboard import BarsPanel   # it lives with the theory overlay it draws
    return BarsPanel()


def loss(d):
    return LossPanel()


def heatmap(d):
    return HeatmapPanel()


def updates(d):
    return UpdatesPanel()


def boundary(d):
    return BoundaryPanel()


def timeline(d):
    return TimelinePanel(d.steps_of)


def time_views(d):
    """Recurrent models and sequence tasks: after the Prediction tab is placed (its sequence twin goes next to it)."""
    return TimeViews(d.lessonTabs, d.boundary.widget)


class InsideViews:
    """Issue 12: the forward signal beside the distributions, the network picture under them and the rewind
    slider below. One panel (InsidePanel) feeds all three plots. Issue 21: each place shows the MLP's plot or
    the sequence models' (gui/panels/inside/sequence_switch.py): through time, per layer, unrolled."""

    def __init__(self):
        self.distribution, self.activation, self.diagram = DistributionPlot(), ActivationPlot(), NetworkDiagram()
        self.time_signal, self.time_distribution, self.unrolled = (SequenceSignalPlot(), SequenceDistributionPlot(),
                                                                   UnrolledNetwork())
        dist = DistributionPlace(self.distribution, self.time_distribution)
        places = (dist, SignalPlace(self.activation, self.time_signal, dist),
                  DiagramPlace(self.diagram, self.unrolled))
        self.inside = InsidePanel(*places)
        self.panels = [PageSwitch(places), self.inside]
        self.plots = {v.widget.objectName(): v for v in (self.distribution, self.activation, self.diagram,
                                                          self.time_signal, self.time_distribution, self.unrolled)}
        self.splitter = named(QSplitter(Qt.Vertical), "insideSplitter",
                              "The forward signal and the distributions; the network as a picture.")
        top = QSplitter(Qt.Horizontal)
        top.addWidget(places[1].box)    # the forward signal: why the exploding story's dL/dW bars are level
        top.addWidget(places[0].box)
        top.setSizes([380, 560])
        self.splitter.addWidget(top)
        self.splitter.addWidget(places[2].box)


def inside_views(d):
    return InsideViews()


def jacobian(d):
    from gui.panels.jacobian_spectrum import JacobianPanel   # issue 23: the Jacobian's singular values
    return JacobianPanel()


def transformer_views(d):
    """Issue 22: the Transformer's views (a row of the gradients page and a lesson tab), made together."""
    from gui.panels.transformer.transformer_row import TransformerViews
    return TransformerViews(d.lessonTabs, d.chain.widget)   # its tab after the prediction's


def precision(d):   # issue 24: underflow, overflow and lost updates per layer
    from gui.panels.precision import PrecisionPanel
    return PrecisionPanel(d.steps_of)
