"""What every plot module shares: the pyqtgraph options, a plot made the same way (``_plot``), log10 for
display, ticks (layers, powers of ten), a sticky axis range, hover labels, empty-plot notes and the class colours.

The plots draw what ``core`` measured; the only arithmetic here is for display
(log10 of values already computed, picking ticks, thinning very long histories).
"""
from __future__ import annotations

import math
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsGridLayout, QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

# No antialiasing: it made painting the main cost of a frame, and frames share the GIL with training.
pg.setConfigOptions(antialias=False, background="w", foreground="k", imageAxisOrder="row-major")

MAX_IMAGE_COLUMNS = 2000   # longer histories are thinned for display


def _log10(values) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.asarray(values, dtype=float))


def layer_ticks(n: int, most: int = 10) -> list[tuple[float, str]]:
    """Layer 1, then multiples of a step of 1, 2, 5, 10, 20 ... so at most about ``most`` labels
    (readable at depth 100 in a narrow plot), and the last layer unless it would crowd its neighbour."""
    step = int(nice_ceiling(n / most)) if n > most else 1
    ticks = [1] + [k for k in range(step, n + 1, step) if k > 1]
    if ticks[-1] != n and n - ticks[-1] >= step / 2:
        ticks.append(n)
    return [(k, str(k)) for k in ticks]


def power_label(x: float) -> str:
    """1e-3 for 0.001, 1e2 for 100: short enough for a legend in a narrow plot."""
    return f"1e{round(math.log10(x))}"


def power_ticks(lo: int, hi: int, most: int = 10) -> list[tuple[float, str]]:
    """Tick labels 1e-6, 1e-4 ... for integer log10 positions, at most about ``most`` of them (a short plot
    passes fewer, so its labels do not overlap)."""
    step = max(1, math.ceil((hi - lo) / max(1, most)))
    while True:   # never fewer than two labels where the range spans two powers: one label is no scale
        ticks = [(k, f"1e{k}" if k else "1") for k in range(lo, hi + 1) if k % step == 0]
        if len(ticks) >= 2 or step == 1:
            return ticks
        step = max(1, step // 2)


def nice_ceiling(n: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50 ... that is at least n."""
    if n <= 1:
        return 1.0
    k = 10 ** math.floor(math.log10(n))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= n)


class StickyRange:
    """An axis range that changes only when the data leave it or fill less than a third of it:
    a changed range repaints the axis, which was a fifth of a frame's cost when done every frame."""

    def __init__(self):
        self.range: tuple[float, float] | None = None

    def fit(self, lo: float, hi: float) -> tuple[float, float] | None:
        """The new range for data in [lo, hi], or None to keep the current one."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        if hi - lo < 1e-12 * max(1.0, abs(hi)):
            lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
        r = self.range
        if r is not None and r[0] <= lo and hi <= r[1] and (hi - lo) >= (r[1] - r[0]) / 3:
            return None
        pad = 0.1 * (hi - lo)
        self.range = (lo - pad, hi + pad)
        return self.range

    def reset(self) -> None:
        self.range = None


class FramedAxis(pg.AxisItem):
    """An axis whose bounding rectangle is one pixel larger on every side, so that, kept as a pixmap
    (``cache_axes``), it holds the ends of its line: pyqtgraph's own rectangle ends where the line does and a
    cached axis lost its last pixel."""

    def boundingRect(self):
        return super().boundingRect().adjusted(-1, -1, 1, 1)


def _plot(title: str, left: str, bottom: str, tip: str, name: str) -> pg.PlotWidget:
    w = pg.PlotWidget(axisItems={side: FramedAxis(side) for side in ("left", "bottom")})
    w.setObjectName(name)
    w.setTitle(title, size="10pt")
    w.setLabel("left", left)
    w.setLabel("bottom", bottom)
    w.setToolTip(tip)
    w.showGrid(x=False, y=True, alpha=0.25)
    w.setMenuEnabled(False)
    for side in ("left", "bottom"):
        w.getAxis(side).enableAutoSIPrefix(False)  # "(x0.001)" on a loss axis only confuses
    return w


def set_data(item, x, y, **kw) -> bool:
    """``item.setData(x, y, **kw)`` unless the PlotDataItem already shows exactly these points (NaN equal to
    NaN): setData re-renders the curve and its symbols and recomputes the view's bounds even when nothing
    changed. ``kw`` (e.g. connect) must be the same at every call for an item. True if it was set."""
    old_x, old_y = item.xData, item.yData
    if old_x is None:
        same = len(x) == 0
    else:
        same = len(old_x) == len(x) and np.array_equal(old_x, x) and np.array_equal(old_y, y, equal_nan=True)
    if not same:
        item.setData(x, y, **kw)
    return not same


def cache_axes(widget) -> None:
    """Keep a plot's axes as pixmaps (Qt's DeviceCoordinateCache), copied until the axis changes itself (range,
    ticks, label, size, theme), which it announces by update() as before. Otherwise an axis repaints whenever
    anything under its rectangle does: one with grid lines spans the whole plot, and pyqtgraph's ticks point
    5 px into it, so a curve redrawn each frame repainted both axes, their tick labels rendered anew (measured at
    8/32/32: 1 - 3 ms a frame for each of several axes). Axes without a grid are cached only when they are
    ``FramedAxis`` (every plot made by ``_plot``): otherwise the pixmap would lose the last pixel of the line."""
    for axis in widget.getPlotItem().axes.values():
        item = axis["item"]
        if item.grid is not False or isinstance(item, FramedAxis):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def arrange_legend(legend, columns: int) -> None:
    """Lay ``legend``'s rows out in ``columns`` columns, in a fresh grid: pyqtgraph's setColumnCount leaves the
    old grid's empty rows and columns behind (a QGraphicsGridLayout never shrinks), which then count in its size."""
    key = (columns, tuple(id(sample) for sample, _ in legend.items))
    if getattr(legend, "arranged", None) == key:
        return
    old = legend.layout
    grid = QGraphicsGridLayout()
    grid.setVerticalSpacing(old.verticalSpacing())
    grid.setHorizontalSpacing(old.horizontalSpacing())
    grid.setContentsMargins(*old.getContentsMargins())
    for i in reversed(range(old.count())):
        old.removeAt(i)
    legend.layout = grid
    legend.setLayout(grid)   # Qt deletes the old grid
    legend.columnCount, legend.rowCount = columns, max(1, math.ceil(len(legend.items) / columns))
    for k, (sample, label) in enumerate(legend.items):
        row, col = divmod(k, columns)
        grid.addItem(sample, row, 2 * col, alignment=Qt.AlignmentFlag.AlignVCenter)
        grid.addItem(label, row, 2 * col + 1)
    legend.arranged = key
    legend.updateSize()


def legend_share(widget, legend, estimate: float, most: float = 0.75) -> float:
    """The share of ``widget``'s view height to keep free above the data for ``legend``: its drawn height plus a
    margin once the plot is laid out (``estimate`` before), at most ``most``. In a short plot the legend's rows
    are set side by side, as many columns as its width allows, so it needs less height (issue 21: a fixed share
    put the Transformer layout's legends over the data)."""
    vb = widget.getPlotItem().vb
    if vb.height() < 1 or not legend.items:   # not laid out yet
        return min(most, estimate)
    if vb.height() <= 50:   # no room for a legend at all (an estimate here made a legend under the title, which
        return most         # took the view's height, come back into the view, and go again, without end)
    columns = 1
    if vb.height() < 200:
        columns = len(legend.items)
        while columns > 1:
            arrange_legend(legend, columns)
            if legend.boundingRect().width() <= vb.width() - 10:
                break
            columns -= 1
    arrange_legend(legend, columns)
    return min(most, max(estimate if vb.height() >= 200 else 0.0,
                         (legend.boundingRect().height() + 12) / vb.height()))


TITLE_LEGEND_ABOVE = 0.5   # a legend that needs more of the view than this goes under the title


def legend_cell(colour: str, glyph: str, text: str) -> str:
    """One legend row written under a title: a coloured glyph (■ a bar's colour, ━ a line, ╌ a dashed line)."""
    return f"<span style='color:{colour}'>{glyph}</span>&nbsp;{text}"


def title_legend(widget, legend, title: str, cells) -> None:
    """``cells`` None: ``title`` alone, the legend in the view. Otherwise the legend hidden and its rows
    (``legend_cell``) under the title, as many a line as the plot's width holds, outside the data's view: for
    plots too short to give the legend room above the data."""
    legend.setVisible(cells is None)
    item = widget.getPlotItem()
    if cells is None:
        item.setTitle(title, size="10pt")
        return
    font = QFont(widget.font())
    font.setPointSize(8)
    metrics, room = QFontMetrics(font), max(widget.width() - 40, 150)
    lines, width = [[]], 0
    for cell in cells:
        w = metrics.horizontalAdvance(re.sub(r"<[^>]*>", "", cell).replace("&nbsp;", " ").replace("&lt;", "<")) + 12
        if lines[-1] and width + w > room:
            lines.append([])
            width = 0
        lines[-1].append(cell)
        width += w
    text = "<br>".join("&nbsp;&nbsp;".join(line) for line in lines)
    item.setTitle(f"{title}<br><span style='font-size:8pt'>{text}</span>", size="10pt")
    height = 30 + 13 * len(lines)
    item.titleLabel.setMaximumHeight(height)   # the title and the legend's lines, not setTitle's one
    item.layout.setRowFixedHeight(0, height)


def hover_label(widget: pg.PlotWidget) -> pg.TextItem:
    """A bar plot's hover label: dark text on a white box above the mouse, hidden until it has text."""
    item = pg.TextItem("", anchor=(0.5, 1.2), color="k", fill=pg.mkBrush(255, 255, 255, 220))
    item.setZValue(10)
    item.setVisible(False)
    widget.addItem(item)
    return item


def hover_text(item: pg.TextItem, text: str) -> None:
    """A hover label's text, hidden while empty: an empty TextItem still paints its filled box (a white
    rectangle sat at the time-step plot's first step)."""
    item.setText(text)
    item.setVisible(bool(text))


def empty_note(widget, text: str = "no epoch completed yet") -> pg.TextItem:
    """A grey note in the middle of an empty plot, so empty axes read as 'nothing yet', not as a fault; its grey
    is the theme's 'muted' text (at least 4.5:1 on either background)."""
    from gui.app import theme
    note = pg.TextItem(text, color=theme.role_colour("muted"), anchor=(0.5, 0.5))
    note.theme_role = "muted"
    note.setZValue(10)
    widget.addItem(note, ignoreBounds=True)
    return note


def centre(widget, note) -> None:
    """Put ``note`` in the middle of the plot's current view."""
    (x0, x1), (y0, y1) = widget.getPlotItem().vb.viewRange()
    note.setPos((x0 + x1) / 2, (y0 + y1) / 2)


# One colour per class for multi-class data; the first two are the binary map's ends (class 0 blue, 1 red).
CLASS_COLOURS = ("#2b5fad", "#c4302b", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def class_colour(c: int) -> QColor:
    return QColor(CLASS_COLOURS[c % len(CLASS_COLOURS)])


def with_controls(plot_widget, *controls) -> QWidget:
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
