"""The Transformer in the window (issue 22): its settings group, the gradient per block, the position plot, the
attention map and the token-similarity meter, read back from what is drawn and compared with the snapshot."""
import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from core import ExperimentConfig
from core.config import TRANSFORMER_GROUP
from gui.panels.transformer.common import RESIDUAL, SUBLAYER_LABELS, block_values

SMALL_TRANSFORMER = ExperimentConfig(model="transformer", dataset="recall", seq_len=6, depth=3, width=8, heads=2,
                                     activation="relu", samples=96, batch_size=32, epochs=2)


def shown_stats(w):
    """The TransformerStats the views must show: those of the statistics the layer bars show (the dashboard's
    choice of latest batch or last epoch's mean), or the snapshot's at initialisation before any."""
    last = w.dashboard._last_stats
    return last.transformer if last is not None else w.last_snapshot.initial_transformer


def rebuilt(qtbot, w, config):
    gen = w.last_snapshot.generation
    w.set_config(config)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and w.last_snapshot.kind == "rebuilt", timeout=10000)


def step_epoch(qtbot, w):
    k = len(w.history)
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == k + 1 and w.last_snapshot.state != "running", timeout=20000)
    qtbot.wait(50)


def shown(w) -> bool:
    t, tabs = w.dashboard.transformer, w.lessonTabs
    return (not t.row.isHidden() and tabs.isTabVisible(tabs.indexOf(t.similarity.widget))
            and not w.controls.groups[TRANSFORMER_GROUP].isHidden())


def drawn_block_logs(w):
    x, tops, _ = w.dashboard.transformer.blocks.plot.drawn()
    assert np.array_equal(x, np.arange(1, len(x) + 1))
    return tops


def test_the_views_and_settings_show_only_for_a_transformer_and_nothing_old_stays(window, qtbot):
    w = window
    assert not shown(w) and w.dashboard.transformer.row.isHidden()   # the default MLP
    rebuilt(qtbot, w, SMALL_TRANSFORMER)
    assert shown(w)
    tabs = w.lessonTabs
    assert tabs.currentWidget() is w.dashboard.transformer.similarity.widget   # the meter in front
    assert not tabs.isTabVisible(tabs.indexOf(w.dashboard.time.chain.widget))   # no chain through time
    assert "Position plot" in w.timeGradientPlot.getPlotItem().titleLabel.text
    assert w.timeGradientPlot.getAxis("bottom").labelText.startswith("position t")
    assert w.blockGradientPlot is w.dashboard.transformer.blocks.plot.widget
    assert len(drawn_block_logs(w)) == 3   # at initialisation, before any step
    rebuilt(qtbot, w, ExperimentConfig(samples=64))   # an MLP again: no trace
    assert not shown(w) and w.dashboard.transformer.row.isHidden()
    assert len(drawn_block_logs(w)) == 0
    assert w.dashboard.transformer.attention.plot.image.image is None
    assert len(w.dashboard.transformer.similarity.plot.drawn()[0]) == 0
    assert tabs.currentWidget() is not w.dashboard.transformer.similarity.widget
    rebuilt(qtbot, w, ExperimentConfig(model="rnn", dataset="recall", seq_len=6, width=8, samples=64))
    assert not shown(w) and "Time-step plot" in w.timeGradientPlot.getPlotItem().titleLabel.text
    assert tabs.isTabVisible(tabs.indexOf(w.dashboard.time.chain.widget))


def test_block_bars_are_log10_of_the_chosen_sublayer_of_the_snapshot(window, qtbot):
    w = window
    rebuilt(qtbot, w, SMALL_TRANSFORMER)
    step_epoch(qtbot, w)
    combo = w.dashboard.transformer.blocks.sublayerCombo
    assert [combo.itemData(i) for i in range(combo.count())] == list(SUBLAYER_LABELS) + [RESIDUAL]
    view = shown_stats(w)
    assert view is w.history[-1].transformer or view is w.last_snapshot.last_batch.transformer
    for i in range(combo.count()):
        combo.setCurrentIndex(i)
        name = combo.itemData(i)
        np.testing.assert_allclose(drawn_block_logs(w), np.log10(block_values(view, name)), rtol=1e-12)
        assert SUBLAYER_LABELS.get(name, "residual") in w.blockGradientPlot.getPlotItem().titleLabel.text
    ticks = [label for _, label in w.blockGradientPlot.getAxis("left")._tickLevels[0]]
    assert all(t == "1" or t.startswith("1e") for t in ticks)


def test_the_position_plot_is_the_steps_own_gradient_per_position(window, qtbot):
    w = window
    rebuilt(qtbot, w, SMALL_TRANSFORMER)
    w.step_batch()
    qtbot.waitUntil(lambda: w.last_snapshot.last_batch is not None and w.last_snapshot.state != "running",
                    timeout=10000)
    qtbot.wait(50)
    x, tops, _ = w.dashboard.time.bars.plot.drawn()
    assert np.array_equal(x, np.arange(1, 7))
    np.testing.assert_allclose(tops, np.log10(w.last_snapshot.last_batch.time_grad_norm), rtol=1e-12)


def test_attention_map_is_the_chosen_blocks_weights_on_a_fixed_0_to_1_scale(window, qtbot):
    w = window
    rebuilt(qtbot, w, SMALL_TRANSFORMER)
    step_epoch(qtbot, w)
    panel = w.dashboard.transformer.attention
    view = shown_stats(w)
    assert panel.blockSpin.maximum() == 3
    for block in (3, 1, 2):
        panel.blockSpin.setValue(block)
        image = panel.plot.image.image
        assert image.dtype == np.float32 and image.shape == (2, 6)   # heads x positions
        np.testing.assert_allclose(image, view.last_attention[block - 1], rtol=1e-6)
        assert tuple(panel.plot.image.levels) == (0.0, 1.0) and tuple(panel.plot.colorbar.levels()) == (0.0, 1.0)
        ticks = [label for _, label in w.attentionMapPlot.getAxis("left")._tickLevels[0]]
        assert ticks == [f"{h + 1}: {e:.2f}" for h, e in enumerate(view.attention_entropy[block - 1])]
        assert f"block {block}" in w.attentionMapPlot.getPlotItem().titleLabel.text


def test_the_similarity_meter_is_the_snapshots_and_collapses_without_skips(window, qtbot):
    w = window
    rebuilt(qtbot, w, SMALL_TRANSFORMER.replace(depth=8, width=16, branch_scale="none"))
    x, heights = w.dashboard.transformer.similarity.plot.drawn()
    assert np.array_equal(x, np.arange(1, 9))
    np.testing.assert_allclose(heights, w.last_snapshot.initial_transformer.token_similarity, rtol=1e-12)
    assert heights[-1] > 0.99   # rank collapse at initialisation
    assert f"block 8: {heights[-1]:.3f}" in w.tokenSimilarityPlot.getPlotItem().titleLabel.text
    lo, hi = w.tokenSimilarityPlot.getViewBox().viewRange()[1]
    assert lo <= 0 and 1 < hi < 1.1   # from 0, with the collapsed line at 1 in view


def test_the_block_spin_ignores_the_wheel_unless_focused(window, qtbot):
    w = window
    rebuilt(qtbot, w, SMALL_TRANSFORMER)
    spin = w.dashboard.transformer.attention.blockSpin
    spin.setValue(1)
    spin.clearFocus()
    event = QWheelEvent(QPointF(5, 5), QPointF(5, 5), QPoint(0, 0), QPoint(0, 120), Qt.NoButton, Qt.NoModifier,
                        Qt.ScrollUpdate, False)
    QApplication.sendEvent(spin, event)
    assert spin.value() == 1


def test_each_transformer_view_exports_a_png_of_its_plot(window, qtbot, tmp_path):
    from PIL import Image
    from gui.panels import views
    w = window
    w.show()
    qtbot.waitExposed(w)
    rebuilt(qtbot, w, SMALL_TRANSFORMER)
    step_epoch(qtbot, w)
    mine = [v for v in views.VIEWS if v.kinds in ("transformer_blocks", "attention_map", "token_similarity")]
    assert [v.name for v in mine] == ["block-gradients", "similarity", "attention"]
    w.lessonTabs.setCurrentWidget(w.dashboard.transformer.similarity.widget)
    for v in mine:
        path = tmp_path / f"{v.name}.png"
        assert w.export_plot(v.name, str(path)), w.messageLabel.text()
        widget = w.dashboard.plot_widgets[v.object_name]
        with Image.open(path) as im:
            assert im.size == (2 * widget.width(), 2 * widget.height()), v.name   # issue 21: 2x
    rebuilt(qtbot, w, ExperimentConfig(samples=64))
    assert not w.export_plot("attention", str(tmp_path / "no.png"))   # not shown for an MLP


def test_while_comparing_the_views_draw_run_b_labelled(window, qtbot):
    """Issue 22: run B's Transformer views are drawn beside A's (B's line on the block bars, B's rows of the
    attention map, B's bars of the token similarity), from B's own numbers, and the titles say both runs."""
    w = window
    rebuilt(qtbot, w, SMALL_TRANSFORMER.replace(init_gain=2.0))
    gen = w.last_snapshot.generation
    assert w.start_compare("init_gain", 0.5), w.messageLabel.text()
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and w.last_snapshot.b is not None, timeout=10000)
    for plot in (w.blockGradientPlot, w.attentionMapPlot, w.tokenSimilarityPlot):
        assert "runs A and B, initialisation" in plot.getPlotItem().titleLabel.text
    snap, t = w.last_snapshot, w.dashboard.transformer
    a, b = snap.initial_transformer, snap.b.initial_transformer
    np.testing.assert_allclose(t.blocks.plot.values_b, b.sublayer_grad_norm["Wq"])
    assert not np.allclose(t.blocks.plot.values, t.blocks.plot.values_b)   # two different runs drawn
    assert "line: B: init_gain = 0.5" in w.blockGradientPlot.getPlotItem().titleLabel.text
    np.testing.assert_allclose(t.similarity.plot.values_b, b.token_similarity)
    np.testing.assert_allclose(t.similarity.plot.values, a.token_similarity)
    heads = a.last_attention.shape[1]
    drawn = t.attention.plot.drawn_weights
    assert drawn.shape[0] == 2 * heads + 1 and np.isnan(drawn[heads]).all()
    np.testing.assert_allclose(drawn[heads + 1:], b.last_attention[0], rtol=1e-6)
    np.testing.assert_allclose(drawn[:heads], a.last_attention[0], rtol=1e-6)
    labels = [text for _, text in w.attentionMapPlot.getAxis("left")._tickLevels[0]]
    assert labels[0].startswith("A 1") and labels[-1].startswith(f"B {heads}")
    w.step_epoch()   # after a step: B's own numbers of the step or epoch the layer bars show
    qtbot.waitUntil(lambda: w.last_snapshot.epoch >= 1 and not w.model._step_pending, timeout=10000)
    w.dashboard.draw_shown(everything=True)
    title = w.tokenSimilarityPlot.getPlotItem().titleLabel.text
    assert "runs A and B" in title and "initialisation" not in title
    assert not np.allclose(t.similarity.plot.values_b, b.token_similarity)   # moved on from initialisation
    assert w.last_snapshot.b.last_batch.transformer is not None


def test_power_ticks_thin_out_on_a_short_axis_but_keep_a_scale():
    """A short plot (the Transformer's rows, the recurrent time-step row) gets fewer log labels so they do not
    overlap (ten labels on a 60-pixel axis did), never fewer than two where the range spans two powers."""
    from gui.panels.plotting import power_ticks
    assert len(power_ticks(-20, 0)) <= 11
    few = power_ticks(-12, -5, 3)
    assert 2 <= len(few) <= 4 and all(isinstance(k, int) for k, _ in few)
    assert [label for _, label in power_ticks(-1, 1, 10)] == ["1e-1", "1", "1e1"]
    assert len(power_ticks(-3, -2, 1)) == 2
