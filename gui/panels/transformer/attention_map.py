"""The attention map: for a chosen block, how much attention each head pays from the read-out position (the
last, whose output the head reads) to each position t: heads x positions, weights 0..1, each row summing to 1.

The weights are core's ``TransformerStats.last_attention`` (gui/panels/transformer/common.py says which step or
epoch): softmax rows averaged over the batch (an epoch: over its batches too). The colour scale is fixed at 0..1 (a colour bar says so), so a colour
means the same weight in every block and at every step.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QSpinBox

from gui.panels.plotting import _plot, empty_note, with_controls
from gui.panels.recurrent.time_bars import step_ticks
from gui.panels.transformer.common import TransformerPanel, wheel_only_when_focused
from gui.widgets import named

TITLE = "Attention from position T"
LEVELS = (0.0, 1.0)
TITLE_HEIGHT = 36   # pixels: the title and its second line


class AttentionMap:
    def __init__(self):
        self.widget = _plot(TITLE, "head: entropy", "position t (1 = first token, T = the one read out)",
                            "Each row a head, each column a position: the attention weight the last position (the "
                            "one the output reads) gives position t in the chosen block, averaged over the batch "
                            "(an epoch's mean: over its batches too). Colour 0 to 1 (the colour bar); a row sums to 1. Beside each head's number: its "
                            "attention entropy in this block (nats, over all query positions; ln T: uniform, 0: one "
                            "position).", "attentionMapPlot")
        self.widget.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.widget.addItem(self.image)
        self.cmap = pg.colormap.get("viridis")
        self.image.setColorMap(self.cmap)
        self.colorbar = pg.ColorBarItem(values=LEVELS, colorMap=self.cmap, interactive=False, width=12,
                                        label="attention weight")
        self.colorbar.setImageItem(self.image, insert_in=self.widget.getPlotItem())
        self.empty = empty_note(self.widget, "not measured yet")
        self.weights = self.drawn_weights = np.empty((0, 0))
        self.widget.setMouseEnabled(x=False, y=False)

    def clear(self) -> None:
        self.weights = self.drawn_weights = np.empty((0, 0))
        self.image.clear()
        self.empty.setPos(1.0, 1.0)
        self.empty.setVisible(True)
        self.widget.setXRange(0.5, 1.5, padding=0)
        self.widget.setYRange(0.5, 1.5, padding=0)
        self.widget.setTitle(TITLE, size="10pt")

    def update(self, weights, entropy, block: int, text: str, weights_b=None, entropy_b=None) -> None:
        """weights: (heads, T) of block ``block`` (1-based); entropy: (heads,) that block's attention entropy.
        weights_b, entropy_b: run B's of the same block while comparing (issue 22): its rows above A's, a blank
        row between."""
        a = np.asarray(weights, dtype=np.float32)
        self.weights = a
        heads_a, T = a.shape
        labels = [(h + 1, f"{h + 1}: {e:.2f}") for h, e in enumerate(np.asarray(entropy, dtype=float))]
        w = a
        if weights_b is not None:
            b = np.asarray(weights_b, dtype=np.float32)
            w = np.concatenate([a, np.full((1, T), np.nan, dtype=np.float32), b[:, :T]])
            labels = [(k, f"A {text_}") for k, text_ in labels] + [
                (heads_a + 2 + h, f"B {h + 1}: {e:.2f}") for h, e in enumerate(np.asarray(entropy_b, dtype=float))]
        self.drawn_weights = w = np.ascontiguousarray(w)
        heads = len(w)
        self.empty.setVisible(False)
        self.image.setImage(w, autoLevels=False, levels=LEVELS)
        self.image.setRect(QRectF(0.5, 0.5, T, heads))
        self.widget.setXRange(0.5, T + 0.5, padding=0)
        self.widget.setYRange(0.5, heads + 0.5, padding=0)
        self.widget.getAxis("bottom").setTicks([step_ticks(T)])
        # each head's attention entropy (nats) beside its number: ln T is uniform attention, 0 one position
        self.widget.getAxis("left").setTicks([labels])
        rows = "; rows A below, B above" if weights_b is not None else ""
        self.widget.setTitle(f"{TITLE}, block {block}<br><span style='font-size:8pt'>{text}{rows}; "
                             f"uniform: ln {T} = {np.log(T):.2f}</span>", size="10pt")
        item = self.widget.getPlotItem()
        item.titleLabel.setMaximumHeight(TITLE_HEIGHT)   # two lines, not setTitle's one
        item.layout.setRowFixedHeight(0, TITLE_HEIGHT)


class AttentionMapPanel(TransformerPanel):
    REWINDS = False   # issue 21: the recorded points keep no attention weights; its caption names its step
    def __init__(self):
        self.plot = AttentionMap()
        self.blockSpin = wheel_only_when_focused(named(QSpinBox(), "attentionBlockSpin",
                                                       "The block whose attention the map shows (1 = next to the "
                                                       "input)."))
        self.blockSpin.setRange(1, 1)
        self.blockSpin.valueChanged.connect(lambda _: self.draw())
        self.widget = with_controls(self.plot.widget, QLabel("Block:"), self.blockSpin)

    def clear_plot(self) -> None:
        self.plot.clear()
        if self.stats is not None:
            self.blockSpin.blockSignals(True)
            self.blockSpin.setRange(1, self.stats.depth)
            self.blockSpin.blockSignals(False)

    def draw(self) -> None:
        s = self.stats
        if s is None or not s.last_attention.size:
            return
        block = min(self.blockSpin.value(), s.depth)
        b = self.stats_b
        same = b is not None and b.last_attention.size and block <= b.depth and \
            b.last_attention.shape[-1] == s.last_attention.shape[-1]   # B's block, on A's positions
        self.plot.update(s.last_attention[block - 1], s.attention_entropy[block - 1], block, self.title_caption(),
                         b.last_attention[block - 1] if same else None, b.attention_entropy[block - 1] if same else None)
