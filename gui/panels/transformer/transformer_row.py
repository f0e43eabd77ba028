"""The Transformer's views, and the one place that shows or hides them (as gui/panels/recurrent/time_row.py
does for the recurrent views).

``TransformerViews`` makes a row of the dashboard (the gradient per block beside the attention map of a chosen
block) and the 'Token similarity' tab of the lesson tabs, put in front when a Transformer is built (three plots
side by side would not fit a 1280-pixel window with their legends). Its first panel shows them for a kind whose
registry entry lists these views (core.nn.kinds: ``attention_map`` in ``views``) and hides them otherwise: an
MLP's or an RNN's window has no trace of them.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget

from core.nn.kinds import kind_of

from gui.panels.panel import Panel
from gui.panels.transformer.attention_map import AttentionMapPanel
from gui.panels.transformer.block_bars import BlockBarsPanel
from gui.panels.transformer.similarity import SimilarityPanel


class TransformerViews:
    attribute = "transformer"   # the dashboard's attribute for this group (tests and scripts)

    def __init__(self, tabs: QTabWidget, before):
        self.blocks, self.similarity, self.attention = BlockBarsPanel(), SimilarityPanel(), AttentionMapPanel()
        self.row = QSplitter(Qt.Horizontal)
        self.row.setObjectName("transformerSplitter")
        self.row.addWidget(self.blocks.widget)
        self.row.addWidget(self.attention.widget)
        self.row.setSizes([540, 420])
        self.row.setVisible(False)
        self.tabs = tabs
        index = tabs.insertTab(tabs.indexOf(before), self.similarity.widget, "Token similarity")
        tabs.setTabVisible(index, False)
        self.panels = [_Visibility(self), self.blocks, self.similarity, self.attention]

    def show_for(self, snap) -> None:
        shown = "attention_map" in kind_of(snap.config).views
        self.row.setVisible(shown)
        tabs, index = self.tabs, self.tabs.indexOf(self.similarity.widget)
        if shown and not tabs.isTabVisible(index):
            tabs.setTabVisible(index, True)
            tabs.setCurrentIndex(index)   # the rank-collapse meter in front when a Transformer is built
        elif not shown:
            if tabs.currentIndex() == index:
                tabs.setCurrentIndex(index + 1)
            tabs.setTabVisible(index, False)


class _Visibility(Panel):
    """The panel that shows or hides the Transformer's views when a new network is built."""

    def __init__(self, views: TransformerViews):
        self.transformer_views = views

    def views(self) -> list:
        return []

    def clear(self, snap) -> None:
        self.transformer_views.show_for(snap)
