"""Issue 14, cheap frames: a panel that cannot be seen (a page or lesson tab behind another, a collapsed
splitter pane) is not drawn per frame, and shows the latest data the moment it is shown; items are not
set again with the same data; an axis does not jump with every frame. Behaviour only: timing lives in
benchmarks/bench_gui.py."""
import numpy as np
import pyqtgraph as pg

from core import ExperimentConfig
from gui.panels.plotting import set_data
from gui.panels.update_ratios import UpdateRatios

from .conftest import epochs_stepped, rebuilt_with_config

SMALL = ExperimentConfig(depth=3, width=12, samples=1000, batch_size=10, epochs=50, activation="tanh",
                         init="normal", lr=0.01)


def _rebuilt(w, qtbot, config=SMALL):
    rebuilt_with_config(w, qtbot, config)


def _count_calls(monkeypatch, obj, name) -> list:
    calls = []
    orig = getattr(obj, name)

    def counted(*a, **k):
        calls.append(1)
        return orig(*a, **k)
    monkeypatch.setattr(obj, name, counted)
    return calls


def _loss_points(d) -> int:
    x = d.loss.plot.train.getData()[0]
    return 0 if x is None else len(x)


def test_the_inside_page_is_drawn_only_while_in_front_and_shows_the_latest_step_when_chosen(
        window, qtbot, monkeypatch):
    w, d = window, window.dashboard
    _rebuilt(w, qtbot)
    assert w.plotPages.currentIndex() == 0   # the gradients page in front
    drawn = {name: _count_calls(monkeypatch, view, "show")
             for name, view in (("act", d.activation), ("dist", d.distribution), ("diagram", d.diagram))}
    epochs_stepped(w, qtbot, 2)
    assert all(len(c) == 0 for c in drawn.values()) and d.inside.dirty
    assert _loss_points(d) == len(w.history) == 2   # the page in front is drawn
    # switching to the page draws the latest record before it paints
    w.plotPages.setCurrentIndex(1)
    assert all(len(c) == 1 for c in drawn.values()) and not d.inside.dirty
    view = w.last_snapshot.inside
    rec, what = view.point(len(view) - 1)
    opts = d.activation.bars.opts
    np.testing.assert_allclose(np.asarray(opts["y0"]) + np.asarray(opts["height"]), np.log10(rec["act_std"]),
                               rtol=1e-6)
    assert d.inside.widget.label.text() == "live: " + what
    # in front, it follows every frame; the gradients page, now behind, waits
    epochs_stepped(w, qtbot, 1)
    assert all(len(c) >= 2 for c in drawn.values())
    assert _loss_points(d) == 2 and d.loss.dirty
    w.plotPages.setCurrentIndex(0)
    assert _loss_points(d) == len(w.history) == 3 and not d.loss.dirty


def test_a_lesson_tab_behind_another_is_filled_when_chosen(dashboard):
    w = dashboard
    assert w.lessonTabs.currentWidget() is not w.chainView
    w.replay("small-2-batches")   # a new network, then two batches
    assert w.last_snapshot.step == 2
    assert w.chainView.toPlainText() == "" and w.dashboard.chain.dirty
    w.lessonTabs.setCurrentWidget(w.chainView)
    assert f"{w.last_snapshot.chain.total:.2g}" in w.chainView.toPlainText()


def test_a_collapsed_splitter_pane_is_drawn_when_opened(window, qtbot):
    w, d = window, window.dashboard
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    _rebuilt(w, qtbot)
    sizes = d.bottomSplitter.sizes()
    d.bottomSplitter.setSizes([0] + sizes[1:])   # the loss pane collapsed
    qtbot.waitUntil(lambda: d.loss.widget.width() == 0, timeout=2000)
    epochs_stepped(w, qtbot, 2)
    assert _loss_points(d) == 0 and d.loss.dirty
    d.bottomSplitter.setSizes(sizes)
    qtbot.waitUntil(lambda: _loss_points(d) == len(w.history) == 2, timeout=2000)
    assert not d.loss.dirty


def test_exporting_a_plot_behind_another_page_exports_the_latest_numbers(window, qtbot, tmp_path):
    w, d = window, window.dashboard
    _rebuilt(w, qtbot)
    epochs_stepped(w, qtbot, 2)
    assert d.inside.dirty   # never drawn: the inside page is behind
    path = tmp_path / "dist.csv"
    assert w.files.export_plot("distributionPlot", str(path))
    rows = path.read_text().strip().splitlines()[1:]
    view = w.last_snapshot.inside
    assert len(rows) == len(view) * view.series("grad").shape[1]


def test_set_data_skips_the_same_points_and_sets_new_ones(qtbot, monkeypatch):
    item = pg.PlotDataItem()
    calls = _count_calls(monkeypatch, item, "setData")
    assert not set_data(item, [], [])                    # empty stays empty: nothing to do
    assert set_data(item, np.arange(3.0), np.array([1.0, np.nan, 2.0]), connect="finite")
    assert not set_data(item, np.arange(3.0), np.array([1.0, np.nan, 2.0]), connect="finite")   # NaN == NaN
    assert set_data(item, np.arange(3.0), np.array([1.0, np.nan, 3.0]), connect="finite")
    assert set_data(item, np.arange(4.0), np.array([1.0, np.nan, 3.0, 4.0]), connect="finite")
    assert set_data(item, [], [])
    assert len(calls) == 4
    np.testing.assert_array_equal(item.getData()[0] if item.getData()[0] is not None else [], [])


def test_the_update_ratio_axis_keeps_its_decades_while_running_and_every_value_stays_inside(qtbot):
    plot = UpdateRatios()
    ratios = np.array([1e-15, 1e-3, 1e-2])
    plot.update(ratios, sticky=True)
    assert plot.view[:2] == (-15, -2)
    plot.update(np.array([1e-16, 1e-3, 1e-1]), sticky=True)   # the data widen the view
    assert plot.view[:2] == (-16, -1)
    plot.update(ratios, sticky=True)              # back: the wider view still holds them, 2 decades to spare
    assert plot.view[:2] == (-16, -1)
    y = plot.curve.getData()[1]
    lo, hi = plot.widget.getPlotItem().vb.viewRange()[1]
    assert lo <= y.min() and y.max() <= hi
    plot.update(ratios)                           # paused or done: the data's own view, as without history
    assert plot.view[:2] == (-15, -2)
    plot.update(np.array([1e-16, 1e-3, 1e-1]), sticky=True)
    plot.update(np.array([1e-6, 1e-3, 1e-2]), sticky=True)   # far more room than needed: fits them again
    assert plot.view[:2] == (-6, -2)
    plot.update(np.array([0.0, 1e-3, 1e-2]), sticky=True)    # an exact zero: its floor, labelled 0, below all
    assert plot.view[3] is True and plot.curve.getData()[1][0] == plot.view[0]
