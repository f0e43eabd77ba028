"""What a story's window draws at its lesson point, read back from the plot items (issue 21).

Nothing here asks core for a number: the bars' floors and heights, the curves' points, the view ranges and the
text panels are what a student sees. tests/gui/test_lesson_pictures.py checks each story's quoted figures
against them.
"""
from __future__ import annotations

import numpy as np

from gui.panels.recurrent.time_bars import TimeGradientBars


def choose(w, name: str) -> None:
    """As a click on the picker's entry: the index (if it changed), then ``activated``."""
    i = w.presetCombo.findData(name)
    w.presetCombo.setCurrentIndex(i)
    w.presetCombo.activated.emit(i)


def to_lesson_point(w, qtbot, name: str, timeout: int = 60000) -> None:
    """Choose story ``name`` in a shown 1280x800 window and press its lesson-point button; return once the run
    is there and the frame is drawn."""
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    gen = w.last_snapshot.generation
    choose(w, name)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    w.lessonPointButton.click()
    qtbot.waitUntil(w.story.at_lesson_point, timeout=timeout)
    qtbot.wait(300)   # the last frame drawn


def bars(w) -> tuple[np.ndarray, list, tuple]:
    """The gradient bars as drawn: per layer the value (10 ** (floor + height)), the brush colours, and the
    view's y range in log10 units."""
    item = w.gradients.bars
    tops = np.asarray(item.opts["y0"], dtype=float) + np.asarray(item.opts["height"], dtype=float)
    colours = [b.color().name() for b in item.opts["brushes"]]
    return 10.0 ** tops, colours, tuple(w.gradients.widget.getViewBox().viewRange()[1])


def loss_curves(w) -> dict:
    """The loss plot's curves as drawn, in loss units (the log scale undone): train, validation, accuracy,
    chance line, and the y range in the plot's own units."""
    panel = w.dashboard.loss.plot
    log = panel.log_scale

    def values(item):
        x, y = item.getData()
        y = np.asarray([] if y is None else y, dtype=float)
        return 10.0 ** y if log else y

    _, acc = panel.acc.getData()
    chance = panel.chance.value()
    return dict(train=values(panel.train), val=values(panel.val),
                accuracy=np.asarray([] if acc is None else acc, dtype=float),
                chance=10.0 ** chance if log else chance, log=log,
                yrange=tuple(panel.widget.getViewBox().viewRange()[1]))


def update_ratios(w) -> np.ndarray:
    """The update-ratio curve as drawn, per layer (the log scale undone)."""
    _, y = w.dashboard.updates.plot.curve.getData()
    return 10.0 ** np.asarray(y, dtype=float)


def timeline(w) -> dict:
    """The step timeline's loss and global-norm curves as drawn (log10 undone), by step."""
    t = w.dashboard.timeline.plot
    out = {}
    for key, item in (("loss", t.loss), ("norm", t.norm)):
        x, y = item.getData()
        x, y = (np.asarray([] if v is None else v, dtype=float) for v in (x, y))
        keep = np.isfinite(y)
        out[key] = (x[keep], 10.0 ** y[keep])
    return out


def panel_plot(w, kind):
    """The dashboard panel's plot of type ``kind`` (the recurrent or Transformer rows)."""
    found = [p.plot for p in w.dashboard.panels if isinstance(getattr(p, "plot", None), kind)]
    assert found, f"no {kind.__name__} in the window"
    return found[0]


def time_bars(w) -> tuple[np.ndarray, np.ndarray, list, tuple]:
    """The time-step bars as drawn: steps, values (10 ** top), colours, y range (log10 units)."""
    plot = panel_plot(w, TimeGradientBars)
    x, tops, colours = plot.drawn()
    return x, 10.0 ** tops, colours, tuple(plot.widget.getViewBox().viewRange()[1])


def precision_bars(w) -> dict:
    """The Precision panel's bars as drawn, per series: layer -> share."""
    from gui.panels.precision import PrecisionPlot, WIDTH
    plot = panel_plot(w, PrecisionPlot)
    out = {}
    for key, (item, shift) in plot.bars.items():
        x = np.rint(np.asarray(item.opts["x"], dtype=float) - shift).astype(int)
        out[key] = dict(zip(x.tolist(), np.asarray(item.opts["height"], dtype=float).tolist()))
    return out


def fits(values: np.ndarray, yrange: tuple, spare_below: float = 2.1, headroom: float = 0.75) -> bool:
    """A log axis (log10 units) that fits the values: every positive finite value inside, at most
    ``spare_below`` decades below the smallest, and at most ``headroom`` of the height above the largest
    (the legend's room): a 6x shrink takes a visible share of the axis."""
    v = np.log10(values[np.isfinite(values) & (values > 0)])
    lo, hi = yrange
    return bool(v.size) and lo <= v.min() and v.max() <= hi and v.min() - lo <= spare_below and \
        (hi - v.max()) <= headroom * (hi - lo)
