"""Issue 21, plots: each claim read from what is drawn (items placed in the scene, rendered pixels), after driving
the window as a student would (a story chosen, an epoch stepped, a theme picked)."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox

from gui.app import theme
from gui.panels.prediction import OUTLINE

from .conftest import chosen_story
from .pixels import contrast_in, low_contrast_texts, rendered


def choose(qtbot, w, name):
    """A story from the picker, as a click would choose it; waits for its network (a new one, unless the
    window already trains exactly that story's settings)."""
    from core.stories.presets import get_preset
    gen, same = w.last_snapshot.generation, w.last_snapshot.config == get_preset(name).config()
    i = w.presetCombo.findData(name)
    w.presetCombo.setCurrentIndex(i)
    w.presetCombo.activated.emit(i)
    config = get_preset(name).config()
    # a new network, or (a setting applied live, as clip_norm from exploding to clipping-fix) the same one
    qtbot.waitUntil(lambda: w.config == config and (same or w.last_snapshot.generation > gen
                                                    or w.last_snapshot.config == config), timeout=10000)
    qtbot.waitUntil(lambda: w.stepBatchButton.isEnabled(), timeout=10000)


@pytest.fixture
def reused_window(shared_window):
    """The module's one window (conftest.shared_window), as a new one starts for what a test looks at: the
    system theme (a test sets its own); ``afresh`` takes a story chosen again back to its start. Hidden after."""
    shared_window.set_theme("system")
    yield shared_window
    shared_window.hide()


def afresh(qtbot, w, name):
    """As ``choose``; if the window had already run this story's settings (it may have diverged), Reset: a new
    run of them."""
    chosen_story(qtbot, w, name)
    if len(w.history) or len(w.model.steps):
        gen = w.last_snapshot.generation
        w.resetButton.click()
        qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and len(w.history) == 0, timeout=10000)
    qtbot.waitUntil(lambda: w.stepBatchButton.isEnabled(), timeout=10000)


def step_epoch(qtbot, w):
    """One epoch (or up to a divergence), drawn."""
    k = len(w.history)
    w.stepEpochButton.click()
    qtbot.waitUntil(lambda: (len(w.history) > k or w.state == "diverged") and w.stepEpochButton.isEnabled()
                    or w.state == "diverged", timeout=120000)
    qtbot.wait(150)


def shown(qtbot, w, size=(1280, 800)):
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)


def scene_rect(item) -> QRectF:
    return item.mapRectToScene(item.boundingRect())


def points_under(plot, box, x, y) -> list:
    """The finite points (x, y) of a curve drawn in ``plot`` that fall inside the scene rectangle ``box``."""
    vb = plot.getPlotItem().vb
    return [(a, b) for a, b in zip(x, y) if np.isfinite(b) and box.contains(vb.mapViewToScene(QPointF(a, b)))]


def bars_under(plot, box, bars, width) -> list:
    vb = plot.getPlotItem().vb
    x, y0, h = (np.asarray(bars.opts[k], dtype=float) for k in ("x", "y0", "height"))
    return [xi for xi, lo, hi in zip(x, y0, h)
            if vb.mapViewToScene(QRectF(xi - width / 2, lo, width, hi)).boundingRect().intersects(box)]


# -- one epoch, accuracy apart, an unfinished epoch ---------------------------------------------------------------
def test_a_single_epoch_is_a_visible_point_and_accuracy_has_its_own_plot(window, qtbot):
    w = window
    shown(qtbot, w)
    choose(qtbot, w, "relu-fix")
    step_epoch(qtbot, w)
    assert len(w.history) == 1
    loss = w.dashboard.loss.plot
    for plot, curve, colour in ((w.lossPlot, loss.train, "#4c78a8"), (loss.accuracy.widget, loss.acc, "#9c6ade")):
        x, y = curve.getData()
        assert len(x) == 1 and np.isfinite(y).all()
        pixels = rendered(plot)
        vb = plot.getPlotItem().vb
        centre = plot.mapFromScene(vb.mapViewToScene(QPointF(x[0], y[0])))
        near = pixels[centre.y() - 5:centre.y() + 6, centre.x() - 5:centre.x() + 6].reshape(-1, 3)
        target = np.array(QColor(colour).getRgb()[:3])
        assert (np.abs(near.astype(int) - target).sum(axis=1) < 40).sum() >= 12, plot.objectName()  # a dot
    acc_plot = loss.accuracy.widget
    assert acc_plot.isVisible() and acc_plot.height() >= 50
    a, b = (p.mapTo(w, p.rect().topLeft()) for p in (w.lossPlot, acc_plot))
    assert a.y() + w.lossPlot.height() <= b.y(), "the accuracy plot is not apart from the loss plot"
    assert not w.lossPlot.getPlotItem().getAxis("right").isVisible()   # no second axis beside the loss
    assert loss.acc.getViewBox() is acc_plot.getPlotItem().vb
    lo, hi = acc_plot.getPlotItem().vb.viewRange()[1]
    assert -0.15 <= lo <= 0 and 1 <= hi <= 1.15
    assert loss.chance not in acc_plot.getPlotItem().items


def test_a_diverged_epoch_draws_no_point_and_its_note_clears_the_legend(window, qtbot):
    """rnn-exploding diverges in epoch 1: the history has that epoch's row, but nothing of it is drawn."""
    w = window
    shown(qtbot, w)
    choose(qtbot, w, "rnn-exploding")
    step_epoch(qtbot, w)
    assert w.state == "diverged" and len(w.history) == 1 and w.last_snapshot.divergence.epoch == 1
    loss = w.dashboard.loss.plot
    for curve in (loss.train, loss.val, loss.acc):
        y = curve.getData()[1]
        assert y is None or not np.isfinite(y).any()
    score = next(p for p in w.dashboard.panels if type(p).__name__ == "SequencePredictionPanel").plot
    y = score.curve.getData()[1]
    assert y is None or not np.isfinite(y).any()
    assert score.empty.isVisible() and "diverged" in score.empty.textItem.toPlainText()
    assert loss.empty.isVisible() and "diverged" in loss.empty.textItem.toPlainText()
    note, legend = scene_rect(loss.empty), scene_rect(loss.legend)
    assert not (loss.legend.isVisible() and note.intersects(legend)), (note, legend)
    assert loss.legend.isVisible() or "chance loss" in w.lossPlot.getPlotItem().titleLabel.text
    assert w.lossPlot.getPlotItem().vb.sceneBoundingRect().contains(note)


# -- legends ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("story", ["transformer-pre-ln", "lstm-fix", "relu-fix"])
def test_no_legend_covers_a_bar_a_point_or_the_chance_line(reused_window, qtbot, story):
    """The short plots of the Transformer and recurrent layouts included."""
    w = reused_window
    shown(qtbot, w)
    afresh(qtbot, w, story)
    for _ in range(2):
        step_epoch(qtbot, w)
    d = w.dashboard
    bars = d.bars.plot
    if bars.legend.isVisible():
        box = scene_rect(bars.legend)
        assert w.gradientPlot.getPlotItem().vb.sceneBoundingRect().contains(box)
        assert bars_under(w.gradientPlot, box, bars.bars, 0.7) == []
    else:   # too short a plot for it: the legend's rows are under the title, outside the view
        title = w.gradientPlot.getPlotItem().titleLabel
        assert story != "relu-fix" and [t for _, t in bars.entries if t not in title.text] == []
        assert not scene_rect(title).intersects(w.gradientPlot.getPlotItem().vb.sceneBoundingRect())
    loss = d.loss.plot
    vb = w.lossPlot.getPlotItem().vb
    if loss.legend.isVisible():
        box = scene_rect(loss.legend)
        assert vb.sceneBoundingRect().contains(box)
        for curve in (loss.train, loss.val):
            assert points_under(w.lossPlot, box, *curve.getData()) == [], story
        assert vb.mapViewToScene(QPointF(1, loss.chance.value())).y() > box.bottom(), "legend over the chance line"
    else:   # too short a plot for it: the legend's rows are under the title, outside the view
        title = w.lossPlot.getPlotItem().titleLabel
        assert story != "relu-fix" and all(t in title.text for t in ("train", "validation", "chance"))
        assert not scene_rect(title).intersects(vb.sceneBoundingRect())
    assert vb.sceneBoundingRect().height() >= 60, "the loss has too little room to be read"
    box = scene_rect(d.timeline.plot.legend)
    for curve in (d.timeline.plot.loss, d.timeline.plot.norm):
        assert points_under(w.timelinePlot, box, *curve.getData()) == [], story


# -- the prediction map -------------------------------------------------------------------------------------------
def test_prediction_map_is_smooth_paler_than_the_points_and_the_points_are_outlined(window, qtbot):
    w = window
    shown(qtbot, w)
    choose(qtbot, w, "relu-fix")
    step_epoch(qtbot, w)
    panel = next(p for p in w.dashboard.panels if type(p).__name__ == "BoundaryPanel")
    view = panel.plot
    w.dashboard.lessonTabs.setCurrentWidget(panel.widget)
    qtbot.wait(100)
    xs = w.last_snapshot.boundary[0] if w.last_snapshot.boundary is not None else None
    grid_columns = len(xs) if xs is not None else 80
    plot = view.widget
    fills = {QColor(b.color()).name() for b in view.points.data["brush"]}
    view.points.setVisible(False)
    try:
        pixels = rendered(plot)
    finally:
        view.points.setVisible(True)
    r = plot.mapFromScene(scene_rect(view.image)).boundingRect().intersected(
        plot.mapFromScene(plot.getPlotItem().vb.sceneBoundingRect()).boundingRect())
    region = pixels[r.top() + 8:r.bottom() - 8, r.left() + 8:r.right() - 8]   # inside the axes' inner ticks
    row = region[region.shape[0] // 2]
    distinct = len(np.unique(row, axis=0))
    assert distinct > grid_columns, f"{distinct} colours along a row of a {grid_columns}-column grid: blocky"
    colours = np.unique(region.reshape(-1, 3), axis=0).astype(int)
    for fill in fills:   # no part of the map is painted in a point's own colour
        rgb = np.array(QColor(fill).getRgb()[:3])
        assert np.abs(colours - rgb).sum(axis=1).min() > 90, fill
    outline = np.array(QColor(OUTLINE).getRgb()[:3])
    assert QColor(view.points.opts["pen"].color()).name() == OUTLINE
    worst = min(contrast_in(np.array([[c, outline]], dtype=np.uint8)) for c in colours[::7])
    assert worst >= 3.0, worst   # the outline stands out on every colour of the map (WCAG 1.4.11)


# -- contrast, read on the pixels ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("story", ["relu-fix", "rnn-exploding", "transformer-pre-ln", "float16-underflow"])
def test_every_text_in_every_plot_is_at_least_4_5_to_1_on_its_pixels(reused_window, qtbot, story, mode):
    w = reused_window
    shown(qtbot, w)
    w.set_theme(mode)
    afresh(qtbot, w, story)
    step_epoch(qtbot, w)
    bad, seen = [], 0
    for page in range(w.plotPages.count()):   # the Gradients page, then Inside the network (the network picture)
        w.plotPages.setCurrentIndex(page)
        qtbot.wait(200)
        for name, plot in w.dashboard.plot_widgets.items():
            if plot.isVisible() and plot.height() > 40 and plot.width() > 40:
                seen += 1
                bad += low_contrast_texts(plot)
    w.plotPages.setCurrentIndex(0)
    assert seen >= 6 and bad == [], bad


def test_the_pixel_reading_sees_black_on_black(qtbot):
    """The measure itself: black tick labels on a black colour bar measure 1:1, grey #808080 on white 3.9:1."""
    import pyqtgraph as pg
    from .pixels import text_rects
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    plot.setBackground("#000000")
    for side in ("left", "bottom"):
        plot.getAxis(side).setTextPen("#000000")
    note = pg.TextItem("grey note", color="#808080", fill=pg.mkBrush("#ffffff"))
    plot.addItem(note)
    plot.show()
    qtbot.waitExposed(plot)
    found = dict((t, c) for _, t, c in low_contrast_texts(plot))
    assert found["grey note"] == pytest.approx(3.95, abs=0.1)
    assert any(c == 1.0 for t, c in found.items() if t != "grey note")
    assert len(text_rects(plot)) >= 3


# -- combo boxes --------------------------------------------------------------------------------------------------
def _field_width(combo) -> int:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return combo.style().subControlRect(QStyle.CC_ComboBox, option, QStyle.SC_ComboBoxEditField, combo).width()


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_every_plot_combo_shows_each_of_its_choices_whole(reused_window, qtbot, size):
    w = reused_window
    shown(qtbot, w, size)
    short = []
    for story in ("transformer-pre-ln",):   # its pages hold every plot combo an MLP's do, and its own
        choose(qtbot, w, story)
        for page in range(w.plotPages.count()):
            w.plotPages.setCurrentIndex(page)
            qtbot.wait(100)
            for combo in w.plotPages.findChildren(QComboBox):
                if not combo.isVisible():
                    continue
                was = combo.currentIndex()
                for k in range(combo.count()):
                    combo.setCurrentIndex(k)
                    qtbot.wait(5)
                    if _field_width(combo) < combo.fontMetrics().horizontalAdvance(combo.currentText()):
                        short.append((story, combo.objectName(), combo.currentText()))
                combo.setCurrentIndex(was)
        w.plotPages.setCurrentIndex(0)
    assert short == []


# -- 1280 x 800 ---------------------------------------------------------------------------------------------------
def test_at_1280x800_every_button_of_every_story_and_of_its_plots_is_in_view(window, qtbot):
    """All 29 stories (the Transformer and low-precision ones included), one after the other in one window: the
    story's buttons and every button and check box of the plots page it opens are wholly in view, none scrolled
    away or cut."""
    from PySide6.QtWidgets import QAbstractButton
    from core.stories.presets import PRESETS
    w = window
    shown(qtbot, w)
    cut = []
    for name in PRESETS:
        choose(qtbot, w, name)
        qtbot.wait(50)
        buttons = [getattr(w, b) for b in ("storyStepBatchButton", "storyStepEpochButton", "storyRunButton",
                                           "storyResetButton", "lessonPointButton")]
        page = w.plotPages.currentWidget()
        buttons += [b for b in page.findChildren(QAbstractButton) if b.isVisible() and b.text()]
        assert w.lossFitCheck in buttons and w.lossLogCheck in buttons, name   # the page's own controls counted
        for b in buttons:
            if not (b.isVisible() and b.visibleRegion().boundingRect() == b.rect()):
                cut.append((name, b.objectName() or b.text()))
    assert len(PRESETS) >= 29 and cut == []
