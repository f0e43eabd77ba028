"""The recurrent models' views, and the one place that decides which of them apply.

``TimeViews`` makes the time-step plot with the spectral-norm readout under it and the time x
epoch map (one row of the dashboard), the 'Through time' tab of the inspector and the sequence
version of the Prediction tab. Its own panel, first in the list, shows them for the networks and
data they apply to and hides them otherwise: an MLP's window has no trace of them, and a sequence
task's Prediction tab says there is no picture rather than showing an empty one.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from core.nn.kinds import kind_of

from gui.panels.recurrent.sequence_prediction import SequencePredictionPanel
from gui.panels.recurrent.spectral_readout import SpectralReadoutPanel
from gui.panels.recurrent.time_bars import TimeBarsPanel
from gui.panels.recurrent.time_chain import TimeChainPanel
from gui.panels.recurrent.time_heatmap import TimeHeatmapPanel
from gui.panels.panel import Panel


class TimeViews:
    def __init__(self, tabs: QTabWidget, prediction_page: QWidget):
        self.bars, self.heatmap, self.readout = TimeBarsPanel(), TimeHeatmapPanel(), SpectralReadoutPanel()
        self.chain, self.sequence = TimeChainPanel(), SequencePredictionPanel()
        left = QWidget()
        v = QVBoxLayout(left)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(self.bars.widget, 1)
        v.addWidget(self.readout.widget, 0)
        self.row = QSplitter(Qt.Horizontal)
        self.row.setObjectName("timeSplitter")
        self.row.addWidget(left)
        self.row.addWidget(self.heatmap.widget)
        self.row.setSizes([560, 400])
        self.tabs, self.prediction_page = tabs, prediction_page
        tabs.insertTab(tabs.indexOf(prediction_page) + 1, self.sequence.widget, "Prediction")
        tabs.insertTab(tabs.count() - 1, self.chain.widget, "Through time")   # before Help
        self.visibility = _Visibility(self)
        self.panels = [self.visibility, self.bars, self.heatmap, self.readout, self.chain, self.sequence]

    def show_for(self, snap) -> None:
        recurrent = "time_steps" in kind_of(snap.config).views
        sequence = self.sequence.applies(snap)
        self.row.setVisible(recurrent)
        tabs = self.tabs
        current = tabs.currentWidget()
        chain = "time_chain" in kind_of(snap.config).views   # not a Transformer's: it has no recurrence
        tabs.setTabVisible(tabs.indexOf(self.chain.widget), chain)
        tabs.setTabVisible(tabs.indexOf(self.sequence.widget), sequence)
        tabs.setTabVisible(tabs.indexOf(self.prediction_page), not sequence)
        swap = {self.prediction_page: self.sequence.widget, self.sequence.widget: self.prediction_page}
        if current in swap and not tabs.isTabVisible(tabs.indexOf(current)):
            tabs.setCurrentWidget(swap[current])   # the Prediction tab stays the one in front
        elif current is self.chain.widget and not chain:
            tabs.setCurrentWidget(self.prediction_page if not sequence else self.sequence.widget)


class _Visibility(Panel):
    """The panel that shows or hides the recurrent views when a new network is built."""

    def __init__(self, views: TimeViews):
        self.time_views = views

    def views(self) -> list:
        return []

    def clear(self, snap) -> None:
        self.time_views.show_for(snap)
