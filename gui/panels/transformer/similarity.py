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
BAR_COLOUR_B = "#dd8452"   # run B's bars, beside A's while comparing (issue 22)
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
        self.bars_b = pg.BarGraphItem(x=[], height=[], width=0.35, y0=0, pen=pg.mkPen(None), brush=BAR_COLOUR_B)
        self.widget.addItem(self.bars_b)
        self.collapsed = pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen(COLLAPSED_COLOUR, width=1.5,
                                                                         style=pg.QtCore.Qt.DashLine))
        self.widget.addItem(self.collapsed)
        self.empty = empty_note(self.widget, "not measured yet")
        self.values = np.empty(0)
        self.widget.setMouseEnabled(x=False, y=False)
        self.clear()

    def clear(self) -> None:
        self.values, self.values_b = np.empty(0), None
        self.bars.setOpts(x=[], height=[])
        self.bars_b.setOpts(x=[], height=[])
        self.widget.setYRange(0, 1.05, padding=0)
        self.widget.setXRange(0.4, 1.6, padding=0)
        self.empty.setText("not measured yet")
        self.empty.setPos(1.0, 0.5)
        self.empty.setVisible(True)
        self._title("")

    def update(self, values, text: str, values_b=None) -> None:
        """values: (depth,) mean cosine similarity of each block's output (NaN with one position); values_b: run
        B's while comparing (its bars to the right of A's), or None."""
        v = np.asarray(values, dtype=float)
        vb = None if values_b is None else np.asarray(values_b, dtype=float)
        self.values, self.values_b = v, vb
        finite = np.isfinite(v)
        shift, width = (0.2, 0.35) if vb is not None else (0.0, 0.7)
        x = np.arange(1, len(v) + 1, dtype=float)
        self.bars.setOpts(x=x[finite] - shift, height=v[finite], width=width)
        both = v[finite] if vb is None else np.concatenate([v[finite], vb[np.isfinite(vb)]])
        if vb is not None:
            xb = np.arange(1, len(vb) + 1, dtype=float)
            self.bars_b.setOpts(x=xb[np.isfinite(vb)] + shift, height=vb[np.isfinite(vb)], width=width)
        else:
            self.bars_b.setOpts(x=[], height=[])
        self.empty.setVisible(not both.size)
        self.empty.setText("one position: no pairs to compare")
        lo = min(0.0, math.floor(both.min() * 10) / 10) if both.size else 0.0
        n = max(len(v), 0 if vb is None else len(vb))
        self.widget.setYRange(lo, 1.05, padding=0)
        self.widget.setXRange(0.4, n + 0.6, padding=0)
        self.widget.getAxis("bottom").setTicks([step_ticks(n)])
        last = f"block {len(v)}: {v[-1]:.3f}" if len(v) and finite[-1] else ""
        if vb is not None and len(vb) and np.isfinite(vb[-1]) and last:
            last = (f"block {len(v)}: A {v[-1]:.3f}, B {vb[-1]:.3f}" if len(vb) == len(v) else
                    f"A {last}, B {len(vb)}: {vb[-1]:.3f}")
        self._title(text, last, vb is not None)

    def _title(self, text: str, last: str = "", with_b: bool = False) -> None:
        """Line 1: the meter and the last block's value; line 2: which numbers, the runs' and the collapsed
        line's key."""
        runs = (f"<span style='color:{BAR_COLOUR}'>■</span> A <span style='color:{BAR_COLOUR_B}'>■</span> B; "
                if with_b else "")
        legend = (f"<br><span style='font-size:8pt'>{text}{'; ' if text else ''}{runs}<span style='color:"
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
            self.plot.update(self.stats.token_similarity, self.title_caption(),
                             None if self.stats_b is None else self.stats_b.token_similarity)
