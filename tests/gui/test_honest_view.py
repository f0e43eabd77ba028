"""Issue 10, the window: each claim checked on the window's own plot items after driving it as a user
would (controls, session-model signals, File actions), never through private methods."""
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from core import Trainer
from core.nn.losses import chance_loss
from core.measure.regimes import EXPLODING_ABOVE, EXPLODING_RISE, VANISHING_RATIO, classify_layers
from gui.app import theme
from gui.panels.gradient_bars import COLOURS, ZERO_STUB

from .conftest import SMALL

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rebuilt_with(qtbot, w, config):
    """Train with ``config`` (rebuilt, or applied live) and wait until the worker uses it."""
    w.set_config(config)
    qtbot.waitUntil(lambda: w.last_snapshot.config == config and w.stepBatchButton.isEnabled(), timeout=10000)


def step_epochs(qtbot, w, n):
    for _ in range(n):
        k = len(w.history)
        w.stepEpochButton.click()
        qtbot.waitUntil(lambda: len(w.history) == k + 1 and w.stepEpochButton.isEnabled(), timeout=10000)


def step_batch(qtbot, w):
    k = w.last_snapshot.step
    w.stepBatchButton.click()
    qtbot.waitUntil(lambda: w.last_snapshot.step == k + 1 and w.stepBatchButton.isEnabled(), timeout=10000)


def y_range(plot):
    return plot.getPlotItem().viewRange()[1]


def brush_names(bars):
    by_colour = {QColor(c).name(): k for k, c in COLOURS.items()}
    return [by_colour[b.color().name()] for b in bars.opts["brushes"]]


# -- the loss plot ------------------------------------------------------------------------
def test_loss_axis_starts_at_zero_with_the_chance_line_and_fit_to_data_zooms(dashboard):
    w = dashboard.replay("small-2-epochs")
    y = w.loss.train.getData()[1]
    np.testing.assert_allclose(y, w.history.scalar("train_loss"))
    lo, hi = y_range(w.lossPlot)
    assert lo == 0 and hi > max(y)
    d = w.last_snapshot
    assert w.loss.chance.isVisible() and w.loss.chance.value() == pytest.approx(d.chance_loss)
    data = Trainer(d.config).data   # the labels the run trains on, made again from its seed (same data)
    assert d.chance_loss == chance_loss(data.task, data.y_train) == pytest.approx(math.log(2), abs=0.01)
    assert "chance loss" in [label.text for _, label in w.loss.legend.items]
    w.lossFitCheck.setChecked(True)
    lo2, hi2 = y_range(w.lossPlot)
    shown = np.concatenate([y, w.loss.val.getData()[1], [d.chance_loss]])
    assert lo2 > 0 and lo2 <= shown.min() and hi2 >= shown.max() and (hi2 - lo2) < (hi - lo)
    w.lossFitCheck.setChecked(False)
    assert y_range(w.lossPlot)[0] == 0


def test_log_scale_draws_log10_with_decade_ticks(dashboard):
    w = dashboard.replay("small-2-epochs")
    w.lossLogCheck.setChecked(True)
    np.testing.assert_allclose(w.loss.train.getData()[1], np.log10(w.history.scalar("train_loss")))
    assert w.loss.chance.value() == pytest.approx(math.log10(w.last_snapshot.chance_loss))
    ticks = w.lossPlot.getPlotItem().getAxis("left")._tickLevels[0]
    assert ticks and all(float(p).is_integer() and label in ("1", f"1e{int(p)}") for p, label in ticks)
    lo, hi = y_range(w.lossPlot)
    assert lo <= np.log10(w.history.scalar("train_loss")).min() and hi >= math.log10(w.last_snapshot.chance_loss)


def test_validation_accuracy_has_its_own_zero_to_one_axis(dashboard):
    w = dashboard.replay("small-2-epochs")
    x, acc = w.loss.acc.getData()
    np.testing.assert_allclose(acc, w.history.scalar("val_accuracy"))
    lo, hi = w.loss.acc_view.viewRange()[1]
    assert -0.15 <= lo <= 0 and hi >= 1   # 0 to 1, with room for the 0 and 1 tick labels
    assert w.loss.acc.getViewBox() is w.loss.acc_view is not w.lossPlot.getPlotItem().vb


# -- the bars ------------------------------------------------------------------------------
def test_bars_hold_every_finite_value_with_thinned_ticks_at_depth_100(dashboard):
    w = dashboard.replay("depth-100-1-batch")
    for plot, y0 in ((w.gradients, w.gradients.bars.opts["y0"]),):
        g = plot.values
        assert g.min() < 1e-40   # the old axis stopped at 1e-40: layers below it had no bar
        lo, hi = y_range(w.gradientPlot)
        tops = np.asarray(y0) + plot.bars.opts["height"]
        assert (np.asarray(y0) >= lo).all() and (tops <= hi).all()
        np.testing.assert_allclose(tops, np.log10(g))
    for p in (w.gradientPlot, w.updatePlot):
        labels = p.getPlotItem().getAxis("bottom")._tickLevels[0]
        assert len(labels) <= 12 and labels[0][1] == "1" and 91 <= int(labels[-1][1]) <= 101
    # a value of 1e-300 still gets its bar
    w.gradients.update(np.array([1e-300, 1e-5, 1.0]))
    lo, hi = y_range(w.gradientPlot)
    assert lo <= -300 and w.gradients.bars.opts["height"][0] > 0


def test_bars_colour_relative_to_the_network_and_quote_the_rule(dashboard):
    w = dashboard.replay("sigmoid-6-1-epoch")
    g = w.history.layer("grad_norm")[-1]
    assert brush_names(w.gradients.bars) == classify_layers(g)
    legend = [label.text for _, label in w.gradients.legend.items]
    assert "vanishing &lt; 1e-3·largest" in legend and "exploding ≥1e2·out,>1e4" in legend   # core.measure.regimes' rule
    assert VANISHING_RATIO == 1e-3 and EXPLODING_RISE == 1e2 and EXPLODING_ABOVE == 1e4


def test_error_signal_bars_and_theory_overlay(dashboard):
    w = dashboard.replay("small-1-batch")
    combo = w.gradientQuantityCombo
    assert [combo.itemText(i) for i in range(combo.count())] == ["‖dL/dW‖ weight gradient", "‖dL/dz‖ error signal"]
    combo.setCurrentIndex(1)
    delta = w.last_snapshot.last_batch.delta_norms
    bars = w.gradients.bars
    np.testing.assert_allclose(np.asarray(bars.opts["y0"]) + bars.opts["height"], np.log10(delta))
    assert "‖dL/dz‖" in w.gradientPlot.getPlotItem().titleLabel.text
    w.theoryCheck.setChecked(True)
    assert w.gradients.theory.isVisible() and w.gradients.theory_label == "theory: predicted ‖dL/dz‖"
    combo.setCurrentIndex(0)
    assert not w.gradients.theory.isVisible() and w.gradients.theory_label == "theory: shown with ‖dL/dz‖"


def test_exploding_story_shows_the_error_signal_growing_at_step_1(window, qtbot):
    w = window
    gen = w.last_snapshot.generation
    w.presetCombo.setCurrentIndex(w.presetCombo.findData("exploding"))
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    assert w.gradientQuantityCombo.currentData() == "delta_norms"   # the story says to watch it
    step_batch(qtbot, w)
    delta = w.last_snapshot.last_batch.delta_norms
    tops = np.asarray(w.gradients.bars.opts["y0"]) + w.gradients.bars.opts["height"]
    assert tops[0] - tops[-2] >= 3   # layer 1 at least 1e3 times the last hidden layer, as drawn
    np.testing.assert_allclose(tops, np.log10(delta))


def test_exactly_zero_is_drawn_at_the_floor_labelled_0_never_as_nan(dashboard):
    w = dashboard.replay("zeros-1-batch")
    g = w.gradients.values
    zero = g == 0
    assert zero.any() and np.isfinite(g).all()
    names = brush_names(w.gradients.bars)
    assert all(n == "zero" for n, z in zip(names, zero) if z) and "nonfinite" not in names
    h = np.asarray(w.gradients.bars.opts["height"])
    assert np.allclose(h[zero], ZERO_STUB) and (h[~zero] > ZERO_STUB).all()
    floor = w.gradients.bars.opts["y0"][0]
    assert (floor, "0") in w.gradientPlot.getPlotItem().getAxis("left")._tickLevels[0]
    # the update-ratio plot draws layers that did not move at its floor, also labelled 0
    r = w.last_snapshot.last_batch.update_ratio
    x, y = w.updates.curve.getData()
    assert (r == 0).any() and len(x) == len(r)
    ufloor = [p for p, label in w.updatePlot.getPlotItem().getAxis("left")._tickLevels[0] if label == "0"]
    assert ufloor and np.all(y[r == 0] == ufloor[0])


# -- the step timeline ---------------------------------------------------------------------
def test_timeline_shows_every_step_and_marks_clipping(dashboard):
    w = dashboard.replay("clipped-2-epochs")
    steps = w.model.steps
    assert len(steps) == w.last_snapshot.step
    x, y = w.timeline.loss.getData()
    np.testing.assert_array_equal(x, np.arange(1, len(steps) + 1))
    np.testing.assert_allclose(y, np.log10(steps.scalar("loss")))
    np.testing.assert_allclose(w.timeline.norm.getData()[1], np.log10(steps.scalar("grad_norm_total")))
    clipped = steps.clipped
    assert clipped.any()
    np.testing.assert_array_equal(w.timeline.clips.data["x"], x[clipped])
    assert w.timeline.threshold.isVisible() and w.timeline.threshold.value() == pytest.approx(math.log10(0.05))
    lo, hi = y_range(w.timelinePlot)
    assert lo <= np.nanmin(y) and hi >= np.nanmax(w.timeline.norm.getData()[1])


def test_exploding_divergence_is_a_curve_on_the_timeline(dashboard):
    w = dashboard.replay("exploding-diverged")   # the exploding story, run until it diverged
    assert w.last_snapshot.config.depth == 5 and w.last_snapshot.state == "diverged"
    assert len(w.timeline.norm.getData()[1]) == w.last_snapshot.step
    norm = w.timeline.norm.getData()[1]
    finite = norm[np.isfinite(norm)]
    assert len(finite) >= 2 and np.all(np.diff(finite) > 0)   # the norm climbs step after step


# -- pace ------------------------------------------------------------------------------------
@pytest.mark.wiring
def test_pace_slows_running_and_pause_is_instant(small_window, qtbot):
    w = small_window
    rebuilt_with(qtbot, w, SMALL.replace(epochs=200))
    w.speedSpin.setValue(4.0)
    assert w.model.pace == 4.0
    w.runButton.click()
    time.sleep(1.0)
    qtbot.wait(50)
    steps = w.model.worker.trainer_step   # the trainer's count, now (read only, in either mode)
    assert steps <= 7   # at most 4 per second (plus the first, which does not wait)
    w.speedSpin.setValue(0.1)   # one step every 10 s
    qtbot.wait(300)
    started = time.perf_counter()
    w.runButton.click()         # pause: the worker's sleep ends at once and its session says so
    qtbot.waitUntil(lambda: w.last_snapshot.kind == "paused" and w.last_snapshot.state == "paused", timeout=3000)
    assert time.perf_counter() - started < 2.0   # not the 10 s a plain sleep would take
    w.speedSpin.setValue(0.0)
    assert w.speedSpin.text().startswith("as fast")


# -- nothing stale -----------------------------------------------------------------------------
def assert_nothing_of_the_old_run(w):
    assert w.updates.curve.getData()[0] is None or len(w.updates.curve.getData()[0]) == 0
    assert len(w.timeline.loss.getData()[0] or []) == 0 and len(w.timeline.clips.data) == 0
    assert len(w.loss.train.getData()[0] or []) == 0 and len(w.loss.acc.getData()[0] or []) == 0
    assert w.gradients.hover.toPlainText() == ""
    assert "before any step" in w.gradientPlot.getPlotItem().getAxis("bottom").labelText
    assert w.chainView.toPlainText() == "" or "dL/dz1" in w.chainView.toPlainText()
    assert len(w.model.steps) == 0 and len(w.history) == 0


@pytest.mark.parametrize("how", ["reset", "story", "rebuild", "open"])
def test_reset_story_rebuild_and_open_clear_every_plot(small_window, qtbot, tmp_path, how):
    w = small_window
    rebuilt_with(qtbot, w, SMALL.replace(clip_norm=0.05))
    step_epochs(qtbot, w, 1)
    w.gradients.hover.setText("layer 1: old")
    assert len(w.updates.curve.getData()[0]) and len(w.timeline.loss.getData()[0])
    path = tmp_path / "c.json"
    if how == "open":
        assert w.save_experiment(str(path), include_history=False)
    gen = w.last_snapshot.generation
    if how == "reset":
        w.resetButton.click()
    elif how == "story":
        w.presetCombo.setCurrentIndex(w.presetCombo.findData("relu-fix"))
    elif how == "rebuild":
        w.depthSpin.setValue(w.depthSpin.value() + 1)
    else:
        assert w.open_experiment(str(path))
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    assert_nothing_of_the_old_run(w)


# -- dark theme and exports ----------------------------------------------------------------------
def test_status_text_contrast_and_nan_colour_in_both_themes(small_window, qtbot):
    w = small_window
    for mode in ("light", "dark"):
        w.set_theme(mode)
        window_bg = QApplication.palette().window().color().name()
        for state in ("ready", "running", "paused", "done", "diverged"):
            w.dashboard.status.show_state(state)
            colour = w.stateLabel.styleSheet().split("color:")[1].split(";")[0].strip()
            assert theme.contrast(colour, window_bg) >= 4.5, (mode, state, colour)
        for error in (False, True):
            w.show_message("x", error)
            colour = w.messageLabel.styleSheet().split("color:")[1].split(";")[0].strip()
            assert theme.contrast(colour, window_bg) >= 4.5, (mode, error, colour)
        plot_bg = theme.COLOURS[mode]["bg"]
        assert theme.contrast(COLOURS["nonfinite"], plot_bg) >= 3.0, mode   # graphics: 3:1 (WCAG 1.4.11)


def test_exports_are_light_by_default_and_can_keep_the_theme(small_window, qtbot, tmp_path):
    w = small_window
    w.set_theme("dark")
    light, dark = tmp_path / "light.png", tmp_path / "dark.png"
    assert w.export_plot("lossPlot", str(light))
    assert QImage(str(light)).pixelColor(2, 2).lightness() > 200
    assert w.gradientPlot.backgroundBrush().color().name() == theme.COLOURS["dark"]["bg"]   # window unchanged
    w.files.keepThemeAction.trigger()
    assert w.export_plot("lossPlot", str(dark))
    assert QImage(str(dark)).pixelColor(2, 2).lightness() < 60


# -- layout --------------------------------------------------------------------------------------
def test_every_plot_whole_at_1024x700_with_legends_clear_of_data(small_window, qtbot):
    w = small_window
    w.resize(1024, 700)
    w.show()
    qtbot.waitExposed(w)
    rebuilt_with(qtbot, w, SMALL.replace(clip_norm=0.05))
    step_epochs(qtbot, w, 3)
    qtbot.wait(100)
    for name in ("gradientPlot", "lossPlot", "heatmapPlot", "updatePlot", "timelinePlot"):
        plot = getattr(w, name)
        assert plot.isVisible() and plot.width() >= 150 and plot.height() >= 150, name
        item = plot.getPlotItem()
        assert item.minimumWidth() <= plot.width() + 1, name   # nothing cut off at the right
    for plot, legend in ((w.gradientPlot, w.gradients.legend), (w.lossPlot, w.loss.legend),
                         (w.timelinePlot, w.timeline.legend)):   # each legend wholly inside its plot's view
        view = plot.getPlotItem().vb.sceneBoundingRect()
        if not legend.isVisible():   # a plot too short for it: its rows are under the title (issue 21)
            assert "<br>" in plot.getPlotItem().titleLabel.text, plot.objectName()
            continue
        assert view.contains(legend.mapRectToScene(legend.boundingRect())), plot.objectName()
    vb = w.gradientPlot.getPlotItem().vb
    legend = w.gradients.legend.mapRectToScene(w.gradients.legend.boundingRect())
    x, y0, h = (np.asarray(w.gradients.bars.opts[k], dtype=float) for k in ("x", "y0", "height"))
    for xi, bottom, height in zip(x, y0, h):   # the whole bar, floor to top (a flat rect intersects nothing)
        bar = vb.mapViewToScene(QRectF(xi - 0.35, bottom, 0.7, height)).boundingRect()
        assert bar.height() > 0 and not (w.gradients.legend.isVisible() and bar.intersects(legend)), (xi, bar, legend)
    for plot, legend, curves in ((w.lossPlot, w.loss.legend, (w.loss.train, w.loss.val)),
                                 (w.timelinePlot, w.timeline.legend, (w.timeline.loss, w.timeline.norm))):
        if not legend.isVisible():
            continue
        box = legend.mapRectToScene(legend.boundingRect())
        vb = plot.getPlotItem().vb
        for c in curves:
            cx, cy = c.getData()
            for px, py in zip(cx, cy):
                if np.isfinite(py):
                    assert not box.contains(vb.mapViewToScene(pg_point(px, py))), plot.objectName()


def test_plot_titles_are_the_names_the_help_uses(dashboard):
    from gui.panels.help import HELP_HTML
    window = dashboard
    for name, title in (("gradientPlot", "Gradient bars"), ("heatmapPlot", "Gradient flow"), ("lossPlot", "Loss"),
                        ("updatePlot", "Update ratio"), ("timelinePlot", "Step timeline"), ("boundaryPlot", "Prediction")):
        assert getattr(window, name).getPlotItem().titleLabel.text.startswith(title)
        assert f"<i>{title}</i>" in HELP_HTML


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(float(x), float(y))


def test_screenshot_theme_flag(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "main.py", "--theme", "blue", "--screenshot", str(tmp_path / "s.png")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "theme" in p.stderr and "'blue'" in p.stderr


def test_flow_heatmap_draws_exact_zero_grey_and_nan_purple_not_on_the_scale(qtbot):
    from gui.panels.heatmap import SPECIAL_RGBA, FlowHeatmap

    h = FlowHeatmap()
    qtbot.addWidget(h.widget)
    h.clear(3)
    history = np.array([[1e-3, 1e-2, 1e-1], [0.0, 1e-2, np.nan]])   # epoch 2: layer 1 exactly 0, layer 3 NaN
    h.update(history)
    img, special = h.image.image, h.special.image                   # (layers, epochs)
    assert img[0, 0] == pytest.approx(-3.0) and np.isnan(img[0, 1]) and np.isnan(img[2, 1])
    assert tuple(special[0, 1]) == SPECIAL_RGBA["zero"] and tuple(special[2, 1]) == SPECIAL_RGBA["nonfinite"]
    assert special[1, 1, 3] == 0 and special[0, 0, 3] == 0           # every other cell: the colour scale
    title = h.widget.getPlotItem().titleLabel.text
    assert "grey: exactly 0" in title and "purple: NaN/inf" in title
    h.update(history[:1])
    assert h.widget.getPlotItem().titleLabel.text == "Gradient flow"


def test_empty_loss_and_flow_plots_say_no_epoch_completed_yet(dashboard):
    w = dashboard.replay("small-1-epoch", upto=1)
    d = w.dashboard
    assert d.loss.plot.empty.isVisible() and d.heatmap.plot.empty.isVisible()   # a new network
    assert "no epoch completed yet" in d.loss.plot.empty.textItem.toPlainText()
    w.replay("small-1-epoch")
    assert len(w.model.history) >= 1
    assert not d.loss.plot.empty.isVisible() and not d.heatmap.plot.empty.isVisible()
    w.replay("small-1-epoch", upto=1)   # reset: the same network again, from its seed
    assert len(w.model.history) == 0 and d.loss.plot.empty.isVisible()


def test_an_empty_hover_label_draws_nothing(dashboard):
    """An empty pg.TextItem with a fill still paints its box: a white rectangle sat on the time-step plot."""
    from gui.panels.recurrent.time_bars import TimeGradientBars
    dashboard.replay("small-1-epoch", upto=1)   # a new network
    for plot in (w_bars := dashboard.gradients, TimeGradientBars()):
        assert plot.hover.toPlainText() == "" and not plot.hover.isVisible()
    dashboard.replay("small-1-epoch")
    vb = w_bars.widget.getPlotItem().vb
    w_bars._on_mouse(vb.mapViewToScene(QPointF(1.0, w_bars.view[0] + 0.5)))
    assert w_bars.hover.toPlainText().startswith("layer 1:") and w_bars.hover.isVisible()
    w_bars._on_mouse(QPointF(-1e6, -1e6))   # the mouse left the plot
    assert w_bars.hover.toPlainText() == "" and not w_bars.hover.isVisible()


def test_the_bars_legend_clears_the_bars_in_the_short_recurrent_layout(small_window, qtbot):
    """With the time-step row above it the bars plot is short: the headroom follows the legend's measured
    height (it covered layer 1's bar in the rnn-exploding screenshot)."""
    w = small_window
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    from core.stories.presets import get_preset
    rebuilt_with(qtbot, w, get_preset("rnn-exploding").config())   # its step 1: layer 1's bar is the tallest
    step_batch(qtbot, w)
    qtbot.wait(100)
    vb = w.gradientPlot.getPlotItem().vb
    legend = w.gradients.legend.mapRectToScene(w.gradients.legend.boundingRect())
    assert vb.sceneBoundingRect().height() < 250   # the short plot this is about
    if not w.gradients.legend.isVisible():   # issue 21: too short for it, the legend's rows are under the title
        title = w.gradientPlot.getPlotItem().titleLabel
        assert [t for _, t in w.gradients.entries if t not in title.text] == []
        assert not title.mapRectToScene(title.boundingRect()).intersects(vb.sceneBoundingRect())
        legend = QRectF()   # nothing in the view to cover a bar
    x, y0, h = (np.asarray(w.gradients.bars.opts[k], dtype=float) for k in ("x", "y0", "height"))
    for xi, bottom, height in zip(x, y0, h):   # the whole bar, floor to top (a flat rect intersects nothing)
        bar = vb.mapViewToScene(QRectF(xi - 0.35, bottom, 0.7, height)).boundingRect()
        assert bar.height() > 0 and not bar.intersects(legend), (xi, bar, legend)
