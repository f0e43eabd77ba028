"""Issue 21: rewind drives every plot on both pages, runs A and B. Each panel is read back from its plot items
after rewinding to a recorded step s: it shows the statistics core recorded at s (not the live ones), and Live
makes it follow training again."""
import numpy as np
import pytest

from core import ExperimentConfig
from gui.panels.transformer.common import block_values

from .conftest import epochs_stepped, rebuilt_with_config

TANH = ExperimentConfig(depth=3, width=12, samples=1000, batch_size=10, epochs=6, activation="tanh",
                        init="normal", lr=0.01)
RNN = ExperimentConfig(model="rnn", activation="tanh", dataset="recall", seq_len=12, width=8, depth=1, samples=120,
                       batch_size=32, epochs=6)
TRANSFORMER = ExperimentConfig(model="transformer", dataset="recall", seq_len=8, width=16, depth=2, heads=2,
                               samples=120, batch_size=32, epochs=6)


def _tops(bars) -> np.ndarray:
    """Bar tops (log10 of the values drawn), read from a BarGraphItem."""
    return np.asarray(bars.opts["y0"], dtype=float) + np.asarray(bars.opts["height"], dtype=float)


def _compared(w, qtbot, config, field, value):
    rebuilt_with_config(w, qtbot, config)
    gen = w.last_snapshot.generation
    assert w.start_compare(field, value)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and w.last_snapshot.b is not None, timeout=10000)
    epochs_stepped(w, qtbot, 3)


def _rewind_to(d, i):
    d.rewind.widget.slider.setValue(i)
    return d.rewind.at


@pytest.mark.wiring
def test_mlp_every_panel_shows_the_rewound_step_for_a_and_b_then_follows_again(window, qtbot):
    w, d = window, window.dashboard
    w.lessonTabs.setCurrentWidget(w.chainView)
    _compared(w, qtbot, TANH, "activation", "relu")
    h = w.last_snapshot.rewind
    assert d.rewind.widget.slider.maximum() == len(h) - 1 and d.rewind.widget.label.text().startswith("live: ")
    assert d.rewind.widget.label.text() == f"live: step {w.last_snapshot.step} (epoch 3)"
    at = _rewind_to(d, 0)   # the end of epoch 1: that epoch's means, as the bars showed then
    p, pb = at.point, at.point_b
    assert p.epoch_stats is not None and pb is not None and pb.step == p.step
    live = w.history[len(w.history) - 1]
    # gradient bars, A and B
    np.testing.assert_allclose(_tops(d.bars.plot.bars), np.log10(p.stats.grad_norm), rtol=1e-9)
    np.testing.assert_allclose(_tops(d.bars.plot.bars_b), np.log10(pb.stats.grad_norm), rtol=1e-9)
    assert not np.allclose(_tops(d.bars.plot.bars), np.log10(live.grad_norm), rtol=1e-3)
    assert "rewound" in d.bars.plot.widget.getAxis("bottom").labelText
    assert "not rewound" in d.boundary.plot.widget.getPlotItem().titleLabel.text
    # update ratios, A and B
    np.testing.assert_allclose(d.updates.plot.curve.getData()[1], np.log10(p.stats.update_ratio), rtol=1e-9)
    np.testing.assert_allclose(d.updates.plot.curve_b.getData()[1], np.log10(pb.stats.update_ratio), rtol=1e-9)
    assert not np.allclose(d.updates.plot.curve.getData()[1], np.log10(live.update_ratio), rtol=1e-3)
    # chain rule of that step
    assert f"{p.chain().links[-1].product:.3g}" in w.chainView.toPlainText() and "rewound" in w.chainView.toPlainText()
    # heatmap: the epochs done at that point, and a cursor at its end; loss and timeline: a cursor there
    img = d.heatmap.plot.image.image
    assert img.shape == (w.last_snapshot.n_layers, 1) and np.allclose(img[:, 0], np.log10(w.history.layer("grad_norm")[0]), rtol=1e-6)
    assert d.heatmap.cursor.isVisible() and d.heatmap.cursor.value() == 1.5
    assert d.loss.cursor.isVisible() and d.loss.cursor.value() == 1.0
    assert d.timeline.cursor.isVisible() and d.timeline.cursor.value() == p.step
    assert f"step {p.step}" in d.loss.cursor.toolTip()
    # it stays there while training goes on
    epochs_stepped(w, qtbot, 1)
    assert d.rewind.at.point is p and d.rewind.widget.slider.value() == 0
    np.testing.assert_allclose(_tops(d.bars.plot.bars), np.log10(p.stats.grad_norm), rtol=1e-9)
    # the Inside page shows the same step
    w.plotPages.setCurrentIndex(1)
    rec = w.last_snapshot.inside.point(w.last_snapshot.inside.find(p.step))[0]
    np.testing.assert_allclose(_tops(d.activation.bars), np.log10(rec["act_std"]), rtol=1e-6)
    assert d.rewind.widget.isVisible() or not w.isVisible()   # the control is in the pages' tab bar
    # Live: everything follows training again
    w.plotPages.setCurrentIndex(0)
    d.rewind.widget.liveButton.click()
    snap = w.last_snapshot
    newest = w.history[len(w.history) - 1]
    np.testing.assert_allclose(_tops(d.bars.plot.bars), np.log10(newest.grad_norm), rtol=1e-9)
    assert not d.heatmap.cursor.isVisible() and not d.loss.cursor.isVisible() and not d.timeline.cursor.isVisible()
    assert d.boundary.plot.widget.getPlotItem().titleLabel.text == "Prediction"
    assert d.heatmap.plot.image.image.shape[1] == len(w.history) and d.rewind.widget.slider.value() == d.rewind.positions - 1
    epochs_stepped(w, qtbot, 1)
    assert d.rewind.widget.slider.value() == d.rewind.positions - 1


def test_mid_epoch_step_shows_the_steps_own_numbers(window, qtbot):
    w, d = window, window.dashboard
    rebuilt_with_config(w, qtbot, RNN)
    epochs_stepped(w, qtbot, 2)
    for _ in range(2):
        s = w.last_snapshot.step
        w.step_batch()
        qtbot.waitUntil(lambda: w.last_snapshot.step > s and not w.model._step_pending, timeout=10000)
    h = w.last_snapshot.rewind
    i = len(h) - 2   # the first step of epoch 3
    at = _rewind_to(d, i)
    assert at.point.epoch_stats is None and at.point.step == 2 * w.last_snapshot.batches_per_epoch + 1
    x, tops, _ = d.time.bars.plot.drawn()
    np.testing.assert_allclose(tops, np.log10(at.point.batch.time_grad_norm), rtol=1e-9)
    np.testing.assert_allclose(_tops(d.bars.plot.bars), np.log10(at.point.batch.grad_norm), rtol=1e-9)
    assert d.loss.cursor.value() == at.point.step / w.last_snapshot.batches_per_epoch


@pytest.mark.wiring
def test_rnn_time_step_views_rewind_for_a_and_b(window, qtbot):
    w, d = window, window.dashboard
    w.lessonTabs.setCurrentWidget(d.time.chain.widget)
    _compared(w, qtbot, RNN, "lr", 0.3)
    at = _rewind_to(d, 0)
    p, pb = at.point, at.point_b
    x, tops, _ = d.time.bars.plot.drawn()
    np.testing.assert_allclose(tops, np.log10(p.stats.time_grad_norm), rtol=1e-9)
    np.testing.assert_allclose(d.time.bars.plot.values_b, pb.stats.time_grad_norm)
    live = w.history.series("time_grad_norm")[-1]
    assert not np.allclose(tops, np.log10(live), rtol=1e-3)
    img = d.time.heatmap.plot.image.image
    assert img.shape == (RNN.seq_len, 1) and d.time.heatmap.cursor.isVisible()
    chain = p.through_time().chain
    assert "rewound" in d.time.chain.widget.toPlainText()
    assert f"{chain.links[0].product:.3g}" in d.time.chain.widget.toPlainText()
    assert d.time.readout.widget.text().startswith(f"rewound: step {p.step}")
    d.rewind.widget.liveButton.click()
    x, tops, _ = d.time.bars.plot.drawn()
    np.testing.assert_allclose(tops, np.log10(live), rtol=1e-9)
    assert not d.time.heatmap.cursor.isVisible()


def test_transformer_block_views_rewind(window, qtbot):
    w, d = window, window.dashboard
    rebuilt_with_config(w, qtbot, TRANSFORMER)
    epochs_stepped(w, qtbot, 3)
    views = d.transformer
    at = _rewind_to(d, 0)
    want = block_values(at.point.stats.transformer, views.blocks.choice)
    x, tops, _ = views.blocks.plot.drawn()
    np.testing.assert_allclose(tops, np.log10(want), rtol=1e-9)
    live = block_values(w.history[len(w.history) - 1].transformer, views.blocks.choice)
    assert not np.allclose(tops, np.log10(live), rtol=1e-3)
    w.lessonTabs.setCurrentWidget(views.similarity.widget)   # the similarity meter, a lesson tab
    np.testing.assert_allclose(views.similarity.plot.drawn()[1], at.point.stats.transformer.token_similarity)
    x, tops, _ = d.time.bars.plot.drawn()   # the positions' ||dL/dx_t||
    np.testing.assert_allclose(tops, np.log10(at.point.stats.time_grad_norm), rtol=1e-9)
    d.rewind.widget.liveButton.click()
    x, tops, _ = views.blocks.plot.drawn()
    np.testing.assert_allclose(tops, np.log10(live), rtol=1e-9)


def test_a_rebuild_while_rewound_leaves_nothing_of_the_old_run(window, qtbot):
    w, d = window, window.dashboard
    rebuilt_with_config(w, qtbot, TANH)
    epochs_stepped(w, qtbot, 3)
    _rewind_to(d, 0)
    assert d.heatmap.cursor.isVisible() and d.loss.cursor.isVisible()
    rebuilt_with_config(w, qtbot, TANH.replace(width=10))
    assert d.rewind.at is None and d.bars.at is None and d.heatmap.at is None
    assert not d.heatmap.cursor.isVisible() and not d.loss.cursor.isVisible() and not d.timeline.cursor.isVisible()
    assert not d.rewind.widget.slider.isEnabled() and "nothing" in d.rewind.widget.label.text()
    epochs_stepped(w, qtbot, 2)
    assert d.rewind.widget.label.text().startswith("live: ")
    np.testing.assert_allclose(_tops(d.bars.plot.bars), np.log10(w.history[1].grad_norm), rtol=1e-9)


def test_the_wheel_does_not_move_the_rewind_slider_unless_clicked_into(window, qtbot):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    w, d = window, window.dashboard
    rebuilt_with_config(w, qtbot, TANH)
    epochs_stepped(w, qtbot, 3)
    s = d.rewind.widget.slider
    before = s.value()
    ev = QWheelEvent(QPointF(5, 5), QPointF(5, 5), QPoint(0, 0), QPoint(0, 120), Qt.NoButton, Qt.NoModifier,
                     Qt.NoScrollPhase, False)
    QApplication.sendEvent(s, ev)
    assert s.value() == before and d.rewind.at is None


def test_a_latest_step_that_was_not_recorded_is_one_more_live_position(window, qtbot):
    """A small MLP records every n-th step (as its Inside views): the label names the step the plots show live,
    and every recorded point, the newest included, can be rewound to."""
    w, d = window, window.dashboard
    rebuilt_with_config(w, qtbot, TANH)
    epochs_stepped(w, qtbot, 1)
    s = w.last_snapshot.step
    w.step_batch()
    qtbot.waitUntil(lambda: w.last_snapshot.step > s and not w.model._step_pending, timeout=10000)
    h, step = w.last_snapshot.rewind, w.last_snapshot.step
    if h.point(-1).step == step:
        pytest.skip("this network records every step")
    assert d.rewind.positions == len(h) + 1 and d.rewind.widget.slider.maximum() == len(h)
    assert d.rewind.widget.label.text() == f"live: step {step} (epoch 2)"
    at = _rewind_to(d, len(h) - 1)
    assert at.point.step == h.point(-1).step < step
    np.testing.assert_allclose(_tops(d.bars.plot.bars), np.log10(at.point.stats.grad_norm), rtol=1e-9)
    _rewind_to(d, len(h))
    assert d.rewind.at is None and d.rewind.widget.label.text().startswith("live: ")


def test_the_views_not_recorded_per_step_say_so_while_rewound(window, qtbot):
    """The prediction picture, the Jacobian's spectrum and the precision bars are not recorded per step: rewound,
    each says it shows the network now (the prediction in its title; in the narrow tabs, the Jacobian's in the text
    under it, the precision bars beside the step they show); Live, they read as before."""
    w, d = window, window.dashboard
    rebuilt_with_config(w, qtbot, TANH)
    epochs_stepped(w, qtbot, 2)
    titles = {"prediction": lambda: d.boundary.plot.widget.getPlotItem().titleLabel.text,
              "jacobian": lambda: d.jacobian.label.text(),
              "precision": lambda: d.precision.plot.widget.getAxis("bottom").labelText}
    before = {k: f() for k, f in titles.items()}
    assert not any("rewound" in t for t in before.values())
    _rewind_to(d, 0)
    for name, title in titles.items():
        assert "not rewound" in title(), name
    d.rewind.widget.liveButton.click()
    after = {k: f() for k, f in titles.items()}
    assert not any("rewound" in t for t in after.values())
    assert after["prediction"] == before["prediction"] and after["precision"] == before["precision"]
    from gui.panels.jacobian_spectrum import gauge_text
    assert after["jacobian"] == gauge_text(d.jacobian.view)   # (a newer spectrum may have come meanwhile)
