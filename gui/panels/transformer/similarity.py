"""The token-similarity meter: per block, the mean cosine similarity between the token representations of
distinct positions (core.nn.transformer.layers.token_similarity). 1 means every position holds the same
direction: rank collapse, which attention without skip connections drives towards with depth."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from gui.panels.plotting import _plot, empty_note
from gui.panels.recurrent.time_bars import step_ticks
from gui.panels.transformer.common import TransformerPanel

TITLE = "Token similarity"
BAR_COLOUR = "#4c72b0"
COLLAPSED_COLOUR = "#c44e52"
TITLE_HEIGHT = 36   # pixels: the title and the legend's line


class SimilarityPlot:
    def __init__(self):
        self.widget = _plot(TITLE, "mean cos(x_s, x_t), s ≠ t", "block l (1 = next to the input)",
                            "One bar per block: the mean cosine similarity between the representations of distinct "
                            "positions at the block's output (the step or epoch the layer bars show). 0: unrelated directions; 1 (the "
                            "red line): every token points the same way, the rank collapse of attention without "
                            "skip connections.", "tokenSimilarityPlot")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, y0=0, pen=pg.mkPen(None), brush=BAR_COLOUR)
        self.widget.addItem(self.bars)
        self.collapsed = pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen(COLLAPSED_COLOUR, width=1.5,
                                                                         style=pg.QtCore.Qt.DashLine))
        self.widget.addItem(self.collapsed)
        self.empty = empty_note(self.widget, "not measured yet")
        self.values = np.empty(0)
        self.widget.setMouseEnabled(x=False, y=False)
        self.clear()

    def clear(self) -> None:
        self.values = np.empty(0)
        self.bars.setOpts(x=[], height=[])
        self.widget.setYRange(0, 1.05, padding=0)
        self.widget.setXRange(0.4, 1.6, padding=0)
        self.empty.setText("not measured yet")
        self.empty.setPos(1.0, 0.5)
        self.empty.setVisible(True)
        self._title("")

    def update(self, values, text: str) -> None:
        """values: (depth,) mean cosine similarity of each block's output (NaN with one position)."""
        v = np.asarray(values, dtype=float)
        self.values = v
        finite = np.isfinite(v)
        x = np.arange(1, len(v) + 1, dtype=float)
        self.bars.setOpts(x=x[finite], height=v[finite])
        self.empty.setVisible(not finite.any())
        self.empty.setText("one position: no pairs to compare")
        lo = min(0.0, math.floor(v[finite].min() * 10) / 10) if finite.any() else 0.0
        self.widget.setYRange(lo, 1.05, padding=0)
        self.widget.setXRange(0.4, len(v) + 0.6, padding=0)
        self.widget.getAxis("bottom").setTicks([step_ticks(len(v))])
        last = f"block {len(v)}: {v[-1]:.3f}" if len(v) and finite[-1] else ""
        self._title(text, last)

    def _title(self, text: str, last: str = "") -> None:
        """Line 1: the meter and the last block's value; line 2: which numbers, and the collapsed line's key."""
        legend = (f"<br><span style='font-size:8pt'>{text}{'; ' if text else ''}<span style='color:"
                  f"{COLLAPSED_COLOUR}'>- -</span> 1: all alike</span>")
        self.widget.setTitle(f"{TITLE}{f', {last}' if last else ''}{legend}", size="10pt")
        item = self.widget.getPlotItem()
        item.titleLabel.setMaximumHeight(TITLE_HEIGHT)   # two lines, not setTitle's one
        item.layout.setRowFixedHeight(0, TITLE_HEIGHT)

    def drawn(self) -> tuple[np.ndarray, np.ndarray]:
        """Blocks and bar heights, read back from the item."""
        return np.asarray(self.bars.opts["x"], dtype=float), np.asarray(self.bars.opts["height"], dtype=float)


class SimilarityPanel(TransformerPanel):
    def __init__(self):
        self.plot = SimilarityPlot()
        self.widget = self.plot.widget

    def draw(self) -> None:
        if self.stats is not None:
            self.plot.update(self.stats.token_similarity, self.title_caption())
