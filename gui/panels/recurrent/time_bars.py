"""The time-step plot: one bar per time step t = 1..T of ||dL/dh_t||, the recurrent half of the problem.

A BarGraphItem ignores a log axis, so each bar is drawn from a floor to log10 of its value and the
left axis is labelled in powers of ten. Colours follow the relative rule of ``core.measure.regimes`` with
the last step (t = T, nearest the loss) in the place of the output layer. While comparing, run B's
values are a line over A's bars.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from core.nn.kinds import kind_of
from core.measure.regimes import EXPLODING_ABOVE, EXPLODING_RISE, VANISHING_RATIO, classify_layers

from gui.panels.plotting import _log10, _plot, hover_label, hover_text, power_label, power_ticks
from gui.panels.gradient_bars import COLOURS
from gui.panels.panel import Panel, Rewinds

REGIME_COLOURS = COLOURS   # the same colour for a regime as on the layer bars
BAR_REGIMES = ("vanishing", "healthy", "exploding", "nonfinite")   # exactly 0 has no bar: a cross on the floor


def legend_rows(last: str = "step T") -> tuple:
    """The colour rule's rows; ``last``: what the exploding rule compares with (the bar nearest the loss)."""
    return ((("vanishing", f"vanishing: &lt; {VANISHING_RATIO:g} × largest"), ("healthy", "healthy"),
             ("exploding", f"exploding: ≥ {EXPLODING_RISE:g} × {last} or > {power_label(EXPLODING_ABOVE)}")),
            (("zero", "exactly 0"), ("nonfinite", "NaN / inf")))


LEGEND = legend_rows()


@dataclass(frozen=True)
class Wording:
    """What the bars are called: the time-step plot's words by default; a Transformer's position plot and its
    per-block bars (gui/panels/transformer) use the same drawing with their own."""
    title: str = "Time-step plot: ‖dL/dh_t‖"
    left: str = "‖dL/dh_t‖ (log scale)"
    bottom: str = "time step t (1 = first input, T = nearest the loss)"
    tip: str = ("One bar per time step: log10 of the norm of dL/dh_t, the gradient reaching the top recurrent "
                "layer's state at step t. Colour: relative to this network's own steps (see the legend). Hover a "
                "bar for its value.")
    symbol: str = "‖dL/dh_t‖"   # in the hover text
    index: str = "t"            # the bar's index in the hover text
    last: str = "step T"        # the bar nearest the loss, in the legend's exploding rule


TIME_STEPS = Wording()


def legend_html(run_labels=None, wording: Wording = TIME_STEPS) -> str:
    """The colour rule in two short lines under the title (a legend inside the plot would cover the tallest
    bars, whichever end they are at); while comparing, which run is which."""
    lines = ["&nbsp;&nbsp;".join(f"<span style='color:{REGIME_COLOURS[k]}'>■</span>&nbsp;{text}" for k, text in row)
             for row in legend_rows(wording.last)]
    if run_labels is not None:
        lines.append(f"bars: {html.escape(run_labels[0])}; line: {html.escape(run_labels[1])}")
    return f"<span style='font-size:8pt'>{'<br>'.join(lines)}</span>"


MAX_SYMBOLS = 200
TITLE_HEIGHT, LEGEND_LINE = 50, 13   # pixels: the title with two legend lines; one more line while comparing   # B's line carries a marker per step up to this many steps


def step_ticks(n: int) -> list[tuple[float, str]]:
    """Ticks for steps 1..n: 1, n and multiples of 1, 2 or 5 x 10^k, at most about 10 of them, none crowding n."""
    if n <= 0:
        return []
    step = next(m * 10 ** k for k in range(12) for m in (1, 2, 5) if n / (m * 10 ** k) <= 10)
    ticks = [1] + [k for k in range(step, n, step) if k > 1 and n - k > step / 2] + ([n] if n > 1 else [])
    return [(k, str(k)) for k in ticks]


class TimeGradientBars:
    TITLE = TIME_STEPS.title

    def __init__(self, wording: Wording = TIME_STEPS, name: str = "timeGradientPlot"):
        self.wording, self.TITLE = wording, wording.title
        self.widget = _plot(wording.title, wording.left, wording.bottom, wording.tip, name)
        # one item per colour: a single-brush BarGraphItem paints all its bars in one call (drawRects), a
        # multi-brush one loops over them in Python on every repaint
        self.groups = {r: pg.BarGraphItem(x=[], height=[], width=0.8, y0=0, pen=pg.mkPen(None),
                                          brush=REGIME_COLOURS[r]) for r in BAR_REGIMES}
        for item in self.groups.values():
            self.widget.addItem(item)
        self.zeros = pg.ScatterPlotItem(symbol="x", size=8, pen=pg.mkPen(REGIME_COLOURS["zero"], width=2))
        self.widget.addItem(self.zeros)
        self.line_b = pg.PlotDataItem([], [], pen=pg.mkPen("#333333", width=1), connect="finite")
        self.widget.addItem(self.line_b)
        self.run_labels = None
        self.hover = hover_label(self.widget)
        self._brushes = {k: pg.mkBrush(c) for k, c in REGIME_COLOURS.items()}
        self.values, self.values_b = np.empty(0), None
        self.regimes: list[str] = []
        self._view, self._caption, self._title_key, self._mouse = None, "", None, None
        self.widget.scene().sigMouseMoved.connect(self._on_mouse)
        self.widget.setMouseEnabled(x=False, y=False)

    def set_wording(self, wording: Wording) -> None:
        """Call the bars something else (a Transformer's positions): title, axes, tooltip, hover and legend."""
        if wording == self.wording:
            return
        self.wording, self.TITLE, self._title_key = wording, wording.title, None
        self.widget.setLabel("left", wording.left)
        self.widget.setLabel("bottom", wording.bottom)
        self.widget.setToolTip(wording.tip)
        self._set_caption(self._caption)

    def set_run_labels(self, labels) -> None:
        """(label A, label B) while comparing, None otherwise: named under the title."""
        self.run_labels = labels
        self._set_caption(self._caption or "")

    def clear(self) -> None:
        """Nothing of a previous network: no bars, no line, no hover text."""
        self.values, self.values_b, self.regimes = np.empty(0), None, []
        for item in self.groups.values():
            item.setOpts(x=[], height=[], y0=[])
        self._view = None
        self.zeros.setData([], [])
        self.line_b.setData([], [])
        hover_text(self.hover, "")
        self._set_caption("")

    def update(self, values, caption: str = "", values_b=None) -> None:
        """A's ||dL/dh_t|| as bars (t = 1..T); B's, when given, as a line."""
        g = np.asarray(values, dtype=float)
        gb = None if values_b is None or not len(values_b) else np.asarray(values_b, dtype=float)
        self.values, self.values_b = g, gb
        self.regimes = classify_layers(g)
        lo, hi = self._range(g if gb is None else np.concatenate([g, gb]))
        logs = _log10(g)
        top = np.where(np.isfinite(logs), logs, np.where(g == 0, lo, hi))   # NaN / inf: a full-height bar in the NaN colour
        x = np.arange(1, len(g) + 1, dtype=float)
        labels = np.array(self.regimes, dtype=object)
        for regime, item in self.groups.items():
            mine = labels == regime
            item.setOpts(x=x[mine], height=(top - lo)[mine], y0=np.full(int(mine.sum()), lo))
        zero = g == 0   # exactly 0: no bar (log10 0 is -inf), a grey cross on the floor
        self.zeros.setData(x[zero], np.full(int(zero.sum()), lo + 0.04 * (hi - lo)))
        self._draw_b(gb, lo, hi)
        if self._view != (lo, hi, len(g)):   # axes repaint only when their range changes
            self._view = (lo, hi, len(g))
            self.widget.setYRange(lo, hi, padding=0)
            margin = 0.6 + 0.05 * len(g)   # room for the first and last tick labels (pyqtgraph hides a cut one)
            self.widget.setXRange(1 - margin, max(len(g), 1) + margin, padding=0)
            # one label per 22 px of the axis at most, three at least (the Transformer's rows are short: 10 labels overlapped)
            room = int(self.widget.getAxis("left").height() // 22) or 10   # 0 before the first layout
            self.widget.getAxis("left").setTicks([power_ticks(lo, hi, min(10, max(3, room)))])
            self.widget.getAxis("bottom").setTicks([step_ticks(len(g))])
        self._set_caption(caption)
        self.refresh_hover()

    def drawn(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """What the bars show, read back from the items: time steps, log10 values (floor + height) and colours."""
        parts = [(np.asarray(i.opts["x"], dtype=float), np.asarray(i.opts["y0"], dtype=float)
                  + np.asarray(i.opts["height"], dtype=float), REGIME_COLOURS[r]) for r, i in self.groups.items()]
        x = np.concatenate([p[0] for p in parts])
        order = np.argsort(x, kind="stable")
        tops = np.concatenate([p[1] for p in parts])[order]
        colours = [c for p in parts for c in [p[2]] * len(p[0])]
        return x[order], tops, [colours[i] for i in order]

    def _range(self, values) -> tuple[int, int]:
        """Whole decades around the finite positive values. The range holds while the values stay inside and
        fill more than half of it: a changed range repaints the axes and moves every bar's floor."""
        logs = _log10(values[np.isfinite(values) & (values > 0)])
        if not logs.size:
            return (-8, 2) if self._view is None else self._view[:2]
        lo, hi = math.floor(logs.min()) - 1, math.ceil(logs.max()) + 1
        if self._view is not None:
            old_lo, old_hi = self._view[:2]
            if old_lo < logs.min() and logs.max() < old_hi and hi - lo > (old_hi - old_lo) / 2:
                return old_lo, old_hi
        return max(lo, -330), min(hi, 320)

    def _draw_b(self, gb, lo: float, hi: float) -> None:
        if gb is None:
            self.line_b.setData([], [])
            return
        logs = _log10(gb)
        y = np.where(np.isfinite(logs), logs, np.where(gb == 0, lo, hi))
        x = np.arange(1, len(gb) + 1, dtype=float)
        if len(gb) <= MAX_SYMBOLS:
            brushes = [self._brushes[r] for r in classify_layers(gb)]
            self.line_b.setData(x, y, symbol="o", symbolSize=6, symbolBrush=brushes, symbolPen=pg.mkPen("#333333"))
        else:
            self.line_b.setData(x, y, symbol=None)

    def _set_caption(self, caption: str) -> None:
        if (caption, self.run_labels) != self._title_key:
            self._caption, self._title_key = caption, (caption, self.run_labels)
            title = f"{self.TITLE}  ({caption})" if caption else self.TITLE
            item = self.widget.getPlotItem()
            item.setTitle(f"{title}<br>{legend_html(self.run_labels, self.wording)}", size="10pt")
            height = TITLE_HEIGHT + (LEGEND_LINE if self.run_labels is not None else 0)
            item.titleLabel.setMaximumHeight(height)   # the title and the legend's lines, not setTitle's one
            item.layout.setRowFixedHeight(0, height)

    def refresh_hover(self) -> None:
        if self._mouse is not None:
            self._on_mouse(self._mouse)

    def _on_mouse(self, pos) -> None:
        self._mouse = pos
        n = max(len(self.values), 0 if self.values_b is None else len(self.values_b))
        p = self.widget.getPlotItem().vb.mapSceneToView(pos)
        t = int(round(p.x()))
        if not self.widget.sceneBoundingRect().contains(pos) or not 1 <= t <= n:
            hover_text(self.hover, "")
            return
        parts, w = [], self.wording
        if t <= len(self.values):
            parts.append(f"{'A ' if self.values_b is not None else ''}{w.index} = {t}: {w.symbol} = "
                         f"{self.values[t - 1]:.3e} ({self.regimes[t - 1]})")
        if self.values_b is not None and t <= len(self.values_b):
            parts.append(f"B {w.index} = {t}: {w.symbol} = {self.values_b[t - 1]:.3e}")
        hover_text(self.hover, "\n".join(parts))
        self.hover.setPos(t, p.y())


# issue 22: a Transformer's gradient per position, ||dL/dx_0[:, t]|| of the embedded input (no recurrence)
POSITIONS = Wording(
    title="Position plot: ‖dL/dx_t‖", left="‖dL/dx_t‖ (log scale)",
    bottom="position t (1 = first token, T = the one read out)",
    tip="One bar per position: log10 of the norm of dL/dx_t, the gradient reaching the embedded input at position "
        "t (attention reaches every earlier position in one step). Colour: relative to this network's own "
        "positions (see the legend). Hover a bar for its value.", symbol="‖dL/dx_t‖", last="position T")


class TimeBarsPanel(Rewinds, Panel):
    """The dashboard's panel (clear / on_batch / on_epochs) for the time-step plot; nothing for an MLP."""

    def __init__(self):
        self.plot = TimeGradientBars()
        self.widget = self.plot.widget

    def clear(self, snap) -> None:
        self.plot.clear()
        self.plot.set_wording(POSITIONS if "attention_map" in kind_of(snap.config).views else TIME_STEPS)
        self.plot.set_run_labels((snap.b.label_a, snap.b.label) if snap.b is not None else None)
        if "time_steps" in kind_of(snap.config).views and snap.through_time is not None:
            a, b = snap.through_time
            self.plot.update(a.time_grad_norm, "at initialisation, before any step",
                             b.time_grad_norm if b is not None else None)

    def on_batch(self, f) -> None:
        if f.stats is None or not len(f.stats.time_grad_norm):
            return
        other = f.other.time_grad_norm if f.other is not None else None
        self.values = (f.stats.time_grad_norm, f.caption, other)
        self.changed()

    def draw(self) -> None:
        at = self.at
        if at is not None and len(at.point.stats.time_grad_norm):   # issue 21: the rewound point's
            b = at.point_b
            self.plot.update(at.point.stats.time_grad_norm, at.caption,
                             b.stats.time_grad_norm if b is not None and len(b.stats.time_grad_norm) else None)
            return
        if hasattr(self, "values"):
            self.plot.update(*self.values)

