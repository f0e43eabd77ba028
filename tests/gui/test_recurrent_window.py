"""The window with recurrent models: driven as a user would, checked on the plots' own items."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from core import ExperimentConfig
from core.stories.presets import PRESETS
from core.io.records import load_experiment
from core.measure.regimes import classify_layers
from gui.panels.recurrent.time_bars import REGIME_COLOURS
from tests.gui.conftest import SMALL_RNN

ROOT = Path(__file__).resolve().parents[2]
# a small recurrent run: 12 steps, 96 training sequences (3 batches an epoch)


def rebuilt(qtbot, w, act):
    """Do ``act`` and wait for the network it builds."""
    gen = w.last_snapshot.generation
    act()
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and w.last_snapshot.kind == "rebuilt", timeout=10000)


def pick_story(qtbot, w, name):
    rebuilt(qtbot, w, lambda: w.presetCombo.setCurrentIndex(w.presetCombo.findData(name)))
    assert w.config == PRESETS[name].config()


def step_epochs(qtbot, w, n):
    for _ in range(n):
        k = len(w.history)
        w.step_epoch()
        qtbot.waitUntil(lambda: len(w.history) == k + 1, timeout=20000)


def child(w, name):
    """A widget by its object name, as automation finds it."""
    from PySide6.QtWidgets import QWidget
    found = w.findChild(QWidget, name)
    assert found is not None, name
    return found


def drawn_logs(w) -> np.ndarray:
    """log10 of each time step's value, read back from the bars: their floor plus their height."""
    x, tops, _ = w.dashboard.time.bars.plot.drawn()
    assert np.array_equal(x, np.arange(1, len(x) + 1))   # one bar per step, none missing
    return tops


def drawn_colours(w) -> list[str]:
    return w.dashboard.time.bars.plot.drawn()[2]


def no_line_b(w) -> bool:
    x = w.dashboard.time.bars.plot.line_b.getData()[0]
    return x is None or len(x) == 0


def time_views_shown(w) -> bool:
    tabs = w.lessonTabs
    return (not w.dashboard.time.row.isHidden()
            and tabs.isTabVisible(tabs.indexOf(w.dashboard.time.chain.widget)))


def test_rnn_vanishing_bars_fall_to_the_left_and_lstm_fix_bars_do_not(window, qtbot):
    w = window
    assert not time_views_shown(w)   # the default MLP: no trace of the recurrent views
    pick_story(qtbot, w, "rnn-vanishing")
    assert time_views_shown(w)
    logs = drawn_logs(w)
    assert len(logs) == 100 and w.dashboard.time.bars.plot.widget is w.timeGradientPlot
    assert logs[0] - logs[-1] <= -4, "the bars must fall to the left by at least 1e4"
    np.testing.assert_allclose(logs, np.log10(w.last_snapshot.through_time[0].time_grad_norm), rtol=1e-12)
    colours = drawn_colours(w)
    assert colours[0] == REGIME_COLOURS["vanishing"] and colours[-1] == REGIME_COLOURS["healthy"]
    # the left axis labels powers of ten
    ticks = [label for _, label in w.timeGradientPlot.getAxis("left")._tickLevels[0]]
    assert all(t == "1" or t.startswith("1e") for t in ticks) and len(ticks) >= 3
    step_epochs(qtbot, w, 1)
    logs = drawn_logs(w)
    np.testing.assert_allclose(logs, np.log10(w.history.series("time_grad_norm")[-1]), rtol=1e-12)
    assert logs[0] - logs[-1] <= -4
    pick_story(qtbot, w, "lstm-fix")
    logs = drawn_logs(w)
    assert len(logs) == 100 and logs[0] - logs[-1] > -4, "an LSTM's gradient reaches the first step"
    assert set(drawn_colours(w)) == {REGIME_COLOURS["healthy"]}
    assert "does not apply" in child(w, "spectralLabel").text() and "guaranteed" not in child(w, "spectralLabel").text().replace(
        "guarantees", "")


def test_colours_follow_core_regimes_with_step_t_as_reference(dashboard):
    w = dashboard.replay("rnn-exploding")   # the story's network, as built
    values = w.last_snapshot.through_time[0].time_grad_norm
    expected = [REGIME_COLOURS[r] for r in classify_layers(values)]
    assert drawn_colours(w) == expected and expected[0] == REGIME_COLOURS["exploding"]
    assert drawn_logs(w)[0] - drawn_logs(w)[-1] >= 4   # rising to the left


def test_an_mlp_shows_no_time_views_and_switching_clears_the_old_run(window, qtbot):
    w = window
    pick_story(qtbot, w, "rnn-vanishing")
    step_epochs(qtbot, w, 1)
    w.lessonTabs.setCurrentWidget(child(w, "timeChainView"))   # drawn when shown
    assert w.dashboard.time.heatmap.plot.image.image.shape == (100, 1)
    assert child(w, "timeChainView").toPlainText() and child(w, "spectralLabel").text()
    pick_story(qtbot, w, "vanishing-sigmoid")   # an MLP
    assert not time_views_shown(w)
    assert len(drawn_logs(w)) == 0 and no_line_b(w)
    assert child(w, "timeChainView").toPlainText() == "" and child(w, "spectralLabel").text() == ""
    image = w.dashboard.time.heatmap.plot.image.image
    assert image.shape[1] == 1 and np.isnan(image).all()   # no column of the old run
    tabs = w.lessonTabs
    assert tabs.isTabVisible(tabs.indexOf(w.dashboard.boundary.widget))
    assert not tabs.isTabVisible(tabs.indexOf(w.dashboard.time.sequence.widget))
    # recurrent again, another kind: the new network's numbers only
    rebuilt(qtbot, w, lambda: w.set_config(SMALL_RNN.replace(model="gru")))
    assert time_views_shown(w) and len(drawn_logs(w)) == SMALL_RNN.seq_len
    assert w.dashboard.time.heatmap.plot.image.image.shape == (SMALL_RNN.seq_len, 1)


def test_time_heatmap_is_log10_of_each_epoch_with_explicit_levels(dashboard):
    w = dashboard.replay("small-rnn-2-epochs")
    plot = w.dashboard.time.heatmap.plot
    image = plot.image.image
    assert image.dtype == np.float32 and image.flags["C_CONTIGUOUS"]
    expected = np.log10(w.history.series("time_grad_norm")).T   # rows: time steps, columns: epochs
    np.testing.assert_allclose(image, expected, rtol=1e-6)
    lo, hi = plot.image.levels
    assert lo <= image.min() and image.max() <= hi and tuple(plot.colorbar.levels()) == (lo, hi)
    assert w.timeHeatmapPlot is plot.widget


def test_chain_through_time_tab_quotes_the_latest_chain(dashboard):
    w = dashboard.replay("rnn-vanishing")   # the story's network, as built
    chain = w.last_snapshot.through_time[0].chain
    w.lessonTabs.setCurrentWidget(child(w, "timeChainView"))   # drawn when shown
    text = child(w, "timeChainView").toPlainText()
    assert f"= {chain.total:.3g} × ‖dL/dh100‖" in text
    assert "factor" in text and "product" in text and "… 80 steps …" in text
    first = chain.links[1]   # t = 99: the first factor back from T
    assert f"{first.factor:.3g}" in text and f"{chain.links[-1].product:.3g}" in text


def test_spectral_readout_says_guaranteed_only_when_the_bound_does(dashboard):
    w = dashboard.replay("rnn-gain-0.5")   # SMALL_RNN, orthogonal W_h with gain 0.5
    text = child(w, "spectralLabel").text()
    assert "‖W_h‖₂ = 0.5 < 1/γ = 1: vanishing guaranteed" in text
    w.replay("rnn-gain-1.5")
    text = child(w, "spectralLabel").text()
    assert "‖W_h‖₂ = 1.5 ≥ 1/γ = 1: no guarantee" in text and "vanishing guaranteed" not in text
    from PySide6.QtCore import Qt
    assert child(w, "spectralLabel").textFormat() == Qt.PlainText


def test_sequence_prediction_tab_says_there_is_no_picture_and_shows_accuracy(dashboard):
    w = dashboard
    tabs = w.lessonTabs
    tabs.setCurrentWidget(w.dashboard.boundary.widget)
    w.replay("small-rnn-2-epochs", upto=1)   # SMALL_RNN built
    page = w.dashboard.time.sequence
    assert tabs.currentWidget() is page.widget and not tabs.isTabVisible(tabs.indexOf(w.dashboard.boundary.widget))
    assert "no 2-D input plane" in page.note.text()
    w.replay("small-rnn-2-epochs")           # and two epochs
    x, y = page.plot.curve.getData()
    np.testing.assert_array_equal(y, w.history.scalar("val_accuracy"))
    # an MLP on the same sequences (flattened) gets the same tab, not a scatter of two of its inputs
    w.replay("mlp-on-sequences")   # SMALL_RNN with model = mlp
    assert tabs.currentWidget() is page.widget and not time_views_shown(w)
    w.replay("mlp-on-points")      # an MLP on 2-D points
    assert tabs.currentWidget() is w.dashboard.boundary.widget


def test_compare_draws_b_as_a_line_over_a_s_bars(dashboard):
    w = dashboard.replay("rnn-vs-lstm-1-epoch", upto=2)   # SMALL_RNN, then compared with model = lstm
    plot = w.dashboard.time.bars.plot
    x, y = plot.line_b.getData()
    np.testing.assert_allclose(y, np.log10(w.last_snapshot.through_time[1].time_grad_norm), rtol=1e-12)
    assert "bars: A: model = rnn; line: B: model = lstm" in plot.widget.getPlotItem().titleLabel.text
    assert "run A, layer 1: ‖W_h‖₂" in child(w, "spectralLabel").text()
    w.replay("rnn-vs-lstm-1-epoch")   # and one epoch of both
    assert len(w.history_b) == 1
    x, y = plot.line_b.getData()
    np.testing.assert_allclose(y, np.log10(w.history_b.series("time_grad_norm")[-1]), rtol=1e-12)
    np.testing.assert_allclose(drawn_logs(w), np.log10(w.history.series("time_grad_norm")[-1]), rtol=1e-12)
    w.replay("rnn-vs-lstm-1-epoch", upto=1)   # comparing ended: one run again, rebuilt
    assert no_line_b(w)


def test_save_open_replays_a_recurrent_run_and_its_plots(window, qtbot, tmp_path):
    w = window
    rebuilt(qtbot, w, lambda: w.set_config(SMALL_RNN))
    step_epochs(qtbot, w, 2)
    saved = w.history.series("time_grad_norm").copy()
    path = tmp_path / "rnn.json"
    assert w.save_experiment(str(path))
    config, history = load_experiment(str(path))
    assert config == SMALL_RNN and history.series("time_grad_norm").shape == (2, SMALL_RNN.seq_len)
    rebuilt(qtbot, w, lambda: w.set_config(ExperimentConfig(depth=2, width=4, samples=64)))
    assert w.open_experiment(str(path))
    qtbot.waitUntil(lambda: "identical to the recorded history" in w.messageLabel.text(), timeout=20000)
    np.testing.assert_array_equal(w.history.series("time_grad_norm"), saved)
    np.testing.assert_allclose(w.dashboard.time.heatmap.plot.image.image, np.log10(saved).T, rtol=1e-6)
    assert w.export_plot("timeGradientPlot", str(tmp_path / "t.png"))
    assert QImage(str(tmp_path / "t.png")).width() > 100
    assert w.save_screenshot(str(tmp_path / "w.png")) and not QImage(str(tmp_path / "w.png")).isNull()


def test_screenshot_of_a_recurrent_story_from_the_command_line(tmp_path):
    out = tmp_path / "rnn.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "main.py", "--screenshot", str(out), "--preset", "rnn-vanishing",
                        "--epochs", "1", "--samples", "200"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1000


def test_hovering_a_time_step_shows_its_exact_value_and_regime(window, qtbot):
    import pyqtgraph as pg
    w = window
    pick_story(qtbot, w, "rnn-vanishing")
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    plot = w.dashboard.time.bars.plot
    values = w.last_snapshot.through_time[0].time_grad_norm
    vb = w.timeGradientPlot.getPlotItem().vb
    for t in (1, 100):
        w.timeGradientPlot.scene().sigMouseMoved.emit(vb.mapViewToScene(pg.Point(t, drawn_logs(w)[t - 1] - 0.5)))
        regime = "vanishing" if t == 1 else "healthy"
        assert plot.hover.textItem.toPlainText() == f"t = {t}: ‖dL/dh_t‖ = {values[t - 1]:.3e} ({regime})"


def test_exporting_a_time_plot_of_an_mlp_is_refused_with_a_message(window, qtbot, tmp_path):
    w = window
    target = tmp_path / "t.png"
    assert not w.export_plot("timeGradientPlot", str(target))
    assert "timeGradientPlot is not shown for this network" in w.messageLabel.text() and not target.exists()
    w.lessonTabs.setCurrentWidget(w.helpView)   # a plot on a tab behind another is still exported
    assert w.export_plot("boundaryPlot", str(tmp_path / "b.png"))
