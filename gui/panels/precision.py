"""Issue 24: what rounding did in the latest step, per layer: underflow, overflow and lost updates (shares, 0 to 1).

The numbers are core's (``BatchStats.underflow``, ``overflow``, ``lost_updates``; definitions in
core/training/precision_step.py); the caption names the format, its smallest and largest numbers, the loss
scale the step used and the steps dynamic loss scaling skipped so far (``StepHistory``'s ``skipped``).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.nn.precision import LARGEST, SMALLEST

from gui.panels.plotting import _plot, empty_note, centre, layer_ticks
from gui.panels.panel import Panel

SERIES = (("underflow", "#4c78a8", "underflow (→ 0)"),
          ("overflow", "#e45756", "overflow (→ inf)"),
          ("lost_updates", "#f2a900", "lost updates (w + Δw = w)"))
WIDTH = 0.26


class PrecisionPlot:
    def __init__(self):
        self.widget = _plot("Precision", "share of the layer's weights", "layer",
                            "Per layer, for the latest step: underflow (share of dL/dW entries that are non-zero in "
                            "the same pass without rounding and 0 in the format), overflow (finite there, inf in "
                            "the format) and lost updates (among weights with a non-zero gradient, the share whose "
                            "stored value did not change: w + Δw rounded back to w). 0 is a bar of no height; a "
                            "step that applied no update has no lost-updates bar.", "precisionPlot")
        self.legend = self.widget.addLegend(offset=(5, 5), labelTextSize="8pt", verSpacing=-6,
                                            brush=pg.mkBrush(255, 255, 255, 200), pen=pg.mkPen("#cccccc"))
        self.bars = {}
        for i, (key, colour, label) in enumerate(SERIES):
            bar = pg.BarGraphItem(x=[1], height=[0], width=WIDTH, y0=0, brush=colour, pen=None)
            self.widget.addItem(bar)
            self.legend.addItem(pg.ScatterPlotItem(symbol="s", size=10, brush=colour, pen=None), label)
            self.bars[key] = (bar, (i - 1) * WIDTH)
        self.note = empty_note(self.widget, "no step yet")
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.setYRange(0, 1.45, padding=0)   # room above 1 for the legend
        self.widget.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1)], []])
        self.caption = ""
        self.rewound = False   # issue 21: the panel shows the latest step whatever step is rewound to

    def update(self, stats, caption: str) -> None:
        n = 0 if stats is None else len(stats.lost_updates)
        self.note.setVisible(n == 0)
        for key, (bar, shift) in self.bars.items():
            v = np.zeros(0) if n == 0 else np.asarray(getattr(stats, key), dtype=float)
            shown = np.isfinite(v)   # NaN lost_updates: the step applied no update, so no bar
            bar.setOpts(x=np.arange(1, n + 1)[shown] + shift, height=v[shown], width=WIDTH, y0=0)
        self.widget.setXRange(0.4, max(n, 1) + 0.6, padding=0)
        self.widget.getAxis("bottom").setTicks([layer_ticks(max(n, 1)), []])
        if n == 0:
            centre(self.widget, self.note)
        if caption != self.caption:   # two short lines: the tab is narrow
            self._title(caption)

    def _title(self, caption: str) -> None:
        self.caption = caption
        head, *rest = caption.split("\n")
        if self.rewound and rest:   # under the plot, where its step is named: the narrow tab keeps its title
            rest[0] += " · now, not rewound"
        self.widget.setTitle(f"Precision: {head}", size="10pt")
        self.widget.setLabel("bottom", "<br>".join(rest))

    def mark_rewound(self, rewound: bool) -> None:
        """Rewound, the title says the panel shows the latest step (its numbers are not recorded per step)."""
        if rewound != self.rewound:
            self.rewound = rewound
            if self.caption:
                self._title(self.caption)


def precision_caption(config, stats, skipped: int) -> str:
    """The format, its range, the scale the step used and the steps skipped so far."""
    fmt = config.dtype
    head = fmt + (", no master weights" if fmt in ("float16", "bfloat16") and not config.master_weights else "")
    lines = ["layer" + (f" · step {stats.step}" if stats is not None else ""),
             f"holds {SMALLEST[fmt]:.2g} to {LARGEST[fmt]:.3g}"]
    if config.loss_scale != "none":
        kind = "dynamic" if config.loss_scale == "dynamic" else "static"
        scale = f" {stats.loss_scale:g}" if stats is not None else ""
        lines.append(f"scale{scale} ({kind}), {skipped} skipped")
    if stats is not None and stats.skipped:
        lines.append(f"step {stats.step} skipped")
    return "\n".join([head] + lines)


class PrecisionPanel(Panel):
    def __init__(self, steps_of):
        self.plot = PrecisionPlot()
        self.widget = self.plot.widget
        self.steps_of = steps_of
        self.snap = None

    def clear(self, snap) -> None:
        self.snap = snap
        self.plot.update(None, precision_caption(snap.config, None, 0))

    def on_batch(self, f) -> None:
        self.snap = f.snap
        self.changed()

    def mark_at(self, at) -> None:   # issue 21
        self.plot.mark_rewound(at is not None)

    def draw(self) -> None:
        snap = self.snap
        if snap is None:
            return
        stats = snap.last_batch
        steps = self.steps_of()
        skipped = int(np.nansum(steps.scalar("skipped"))) if steps is not None and len(steps) else 0
        self.plot.update(stats, precision_caption(snap.config, stats, skipped))
