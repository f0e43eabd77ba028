"""Issue 21: each story's picture at its lesson point shows its headline.

For every story a window is taken to the lesson point as a student takes it (pick the story, press the
lesson-point button) and the figures its text quotes are read from what is drawn (tests/gui/lesson_pictures.py:
bar floors and heights, curve points, view ranges, the chain-rule and status text), never from core's numbers
(tests/core/test_lessons.py and its neighbours check those). The tolerance is the one the text implies: "below
1e-6" is a bound, "about 0.05" a factor of 2, a figure written with two digits its rounding.

Stories whose lesson point takes more than a few seconds to train (the sequence models' 5 epochs, the
Transformers, clipping-fix's 15 epochs of 200-unit layers) are checked in the default run at what the window
shows at initialisation or after the first step, where their first figures are; with GRADFLOW_SLOW_PICTURES=1
they are also taken to the lesson point itself.
"""
import math
import os

import numpy as np
import pytest

from core.nn.losses import chance_loss
from core.stories.presets import PRESETS, lesson_point
from tests.gui.lesson_pictures import (bars, choose, fits, loss_curves, panel_plot, precision_bars, time_bars,
                                       timeline, to_lesson_point, update_ratios)

GREEN, BLUE, RED = "#54a24b", "#4c78a8", "#e45756"   # healthy, vanishing, exploding (the bars' legend)
LN2 = math.log(2)
SLOW = os.environ.get("GRADFLOW_SLOW_PICTURES") == "1"


def about(value, quoted, factor=2.0):
    return quoted / factor <= value <= quoted * factor


def rounds_to(value, quoted, digits):
    return round(value, digits) == round(quoted, digits)


def shown_as(value, quoted, spec):
    """The drawn value, written as the text writes the quoted one, reads the same."""
    return format(value, spec) == format(quoted, spec)


def sig2(value):
    return float(f"{value:.2g}")


def hidden_spread(v):
    return v[:-1].max() / v[:-1].min()


def loss_at_chance_axis_from_0(w, L):
    """A loss axis starts at 0 (linear) and the chance line is ln 2 for these balanced two-class sets."""
    assert L["log"] or L["yrange"][0] == 0.0
    assert L["chance"] == pytest.approx(LN2, abs=0.01)


# -- the feed-forward stories ---------------------------------------------------------------------------------
def check_vanishing_sigmoid(w, e):
    v, colours, r = bars(w)
    assert v[0] < e["layer1_ratio"] * v[-1]
    shrink = v[1:] / v[:-1]
    assert all(e["shrink"][0] <= s <= e["shrink"][1] for s in shrink), shrink
    assert colours[0] == BLUE and colours[-1] == GREEN and fits(v, r)
    u = update_ratios(w)
    assert e["update_ratio1"][0] <= u[0] <= e["update_ratio1"][1]
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert len(L["train"]) == 20 and all(e["loss_range"][0] <= x <= e["loss_range"][1] for x in L["train"])
    assert rounds_to(L["train"][-1], e["final_loss"], 2)
    assert shown_as(L["accuracy"][-1], e["val_accuracy"], ".0%")


def check_relu_fix(w, e):
    v, colours, r = bars(w)
    assert hidden_spread(v) < e["hidden_spread"] and set(colours) == {GREEN} and fits(v, r)
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert len(L["train"]) == 20 and rounds_to(L["train"][-1], e["final_loss"], 2)
    assert L["train"][-1] < e["final_loss_max"] and L["train"][-1] < L["chance"] - e["margin"]
    assert shown_as(L["accuracy"][-1], e["val_accuracy"], ".0%")


def check_exploding(w, e):
    assert w.gradientQuantityCombo.currentData() == "delta_norms" and len(w.model.steps) == 1
    d, colours, r = bars(w)   # ||dL/dz|| at step 1
    growth = d[:-2] / d[1:-1]   # each hidden layer's against the next one's, toward the input
    assert all(e["per_layer"][0] <= g <= e["per_layer"][1] for g in growth), growth
    assert e["delta_rise"][0] <= d[0] / d[-2] <= e["delta_rise"][1]
    assert colours[0] == RED and fits(d, r)
    steps, loss = timeline(w)["loss"]
    assert list(steps) == [1] and about(loss[0], e["loss_steps"][0], 3)
    w.gradientQuantityCombo.setCurrentIndex(w.gradientQuantityCombo.findData("grad_norm"))
    g, _, r = bars(w)
    assert g.max() / g.min() < e["grad_spread"] and fits(g, r)


def check_residual_fix(w, e):
    v, colours, r = bars(w)
    assert v[0] > e["layer1_ratio"] * v[-1] and about(v[0] / v[-1], e["layer1_last"])
    assert set(colours) == {GREEN} and fits(v, r)
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert about(L["train"][0], e["first_loss"], 1.5)
    assert rounds_to(L["train"][-1], e["final_loss"], 2) and L["train"][-1] < e["final_loss_max"]
    assert shown_as(L["accuracy"][-1], e["val_accuracy"], ".0%")


def check_batchnorm_fix(w, e):
    v, colours, r = bars(w)
    assert sig2(v[0] / v[-1]) == e["layer1_last"] and sig2(hidden_spread(v)) == e["hidden_spread_last"]
    assert set(colours) == {GREEN} and fits(v, r)
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert rounds_to(L["train"][0], e["first_loss"], 2) and rounds_to(L["train"][-1], e["final_loss"], 2)
    assert shown_as(L["accuracy"][-1], e["val_accuracy"], ".2f")


def check_layernorm_fix(w, e):
    v, colours, r = bars(w)
    assert float(f"{v[0] / v[-1]:.1e}") == e["layer1_last"]
    assert (v[-1] / v[0]) ** (1 / (len(v) - 1)) == pytest.approx(e["per_layer"], rel=0.1)   # shrinks per layer
    assert fits(v, r)
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert rounds_to(L["train"][-1], e["final_loss"], 2) and shown_as(L["accuracy"][-1], e["val_accuracy"], ".2f")


def check_glorot_standard(w, e):
    assert w.gradientQuantityCombo.currentData() == "delta_norms"
    assert w.lessonTabs.tabText(w.lessonTabs.currentIndex()) == "Chain rule"
    d, _, r = bars(w)   # ||dL/dz|| of the latest step: shrinking toward the input
    hidden = d[:-1]
    gains = hidden[:-1] / hidden[1:]
    assert np.exp(np.log(gains).mean()) == pytest.approx(e["gain"], rel=e["gain_tolerance"]), gains
    assert d[0] < 0.1 * d[-2] and fits(d, r)   # a 10x fall over the hidden layers, visible on the axis
    text = w.chainView.toPlainText()   # the Chain rule tab: "dL/dz1 = dL/dz_out x g9 x ... x g2 = P x dL/dz_out"
    shown = [float(g) for g in text.split("dL/dz_out x", 1)[1].split("=")[0].split("x")]
    assert len(shown) == len(d) - 1   # one gain per layer below the output
    assert np.exp(np.log(shown).mean()) == pytest.approx(e["gain"], rel=e["gain_tolerance"]), shown
    L = loss_curves(w)
    assert e["final_loss_range"][0] <= L["train"][-1] <= e["final_loss_range"][1]
    assert f"{L['train'][-1]:.3f}" == f"{e['final_loss']:.3f}"


def check_xavier_tanh(w, e):
    v, colours, r = bars(w)
    assert hidden_spread(v) <= e["hidden_spread_last"] * 1.05 and round(hidden_spread(v), 1) == e["hidden_spread_last"]
    assert set(colours) == {GREEN} and fits(v, r)
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert rounds_to(L["train"][-1], e["final_loss"], 2) and L["train"][-1] < e["final_loss_max"]
    assert shown_as(L["accuracy"][-1], e["val_accuracy"], ".0%")


def check_edge_of_chaos(w, e):
    assert w.gradientQuantityCombo.currentData() == "delta_norms" and w.theoryCheck.isChecked()
    d, colours, r = bars(w)
    assert e["delta_ratio"][0] <= d[0] / d[29] <= e["delta_ratio"][1]   # layer 1 against layer 30
    assert set(colours) == {GREEN} and fits(d, r)
    assert w.gradients.theory.isVisible()
    assert "edge of chaos" in w.phaseLabel.text()


def check_adam_masks(w, e):
    v, colours, r = bars(w)   # epoch 10: the gradient still vanishes ...
    assert len(w.history) == e["early_epochs"] and v[0] < e["layer1_ratio"] * v[-1] and colours[0] == BLUE
    u = update_ratios(w)      # ... but the updates do not
    assert u[:-1].max() / u[:-1].min() < e["update_spread"] and u[0] > e["update_ratio1"]
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    assert all(abs(x - L["chance"]) <= e["chance_margin"] for x in L["train"])


def check_constant_init(w, e):
    L = loss_curves(w)
    loss_at_chance_axis_from_0(w, L)
    plateau = L["train"][e["plateau_epoch"] - 1:]
    assert len(L["train"]) == 100 and all(e["plateau_range"][0] <= x <= e["plateau_range"][1] for x in plateau)
    assert rounds_to(L["train"][-1], e["final_loss"], 2) and shown_as(L["accuracy"][-1], e["val_accuracy"], ".0%")


# -- the precision stories: the Precision tab -----------------------------------------------------------------
def _precision_tab(w):
    assert w.lessonTabs.tabText(w.lessonTabs.currentIndex()) == "Precision"
    return precision_bars(w)


def check_float32_lost_updates(w, e):
    p = _precision_tab(w)
    assert e["lost1"][0] <= p["lost_updates"][1] <= e["lost1"][1]
    assert all(v == 0 for v in p["underflow"].values())
    v, _, r = bars(w)
    assert v[0] > 0 and fits(v, r)


def check_float16_underflow(w, e):
    p = _precision_tab(w)
    assert p["underflow"][1] >= e["underflow12"] and p["underflow"][2] >= e["underflow12"]
    assert e["underflow3_steps"][0] <= p["underflow"][3] <= e["underflow3_steps"][1]   # one step's share
    v, colours, r = bars(w)   # layers 1 and 2: a stub on the floor (exactly 0), not a bar
    assert v[0] == v[1] == v.min() and colours[0] not in (GREEN, BLUE, RED)
    assert sum(m.isVisible() for m in w.gradients.underflow_marks) == 2


def check_loss_scaling_fix(w, e):
    p = _precision_tab(w)
    assert max(p["underflow"].values()) <= e["underflow_max"]
    v, colours, r = bars(w)
    assert v[0] > 0 and colours[0] in (GREEN, BLUE) and fits(v, r)
    assert not any(m.isVisible() for m in w.gradients.underflow_marks)


def check_bfloat16_no_master(w, e):
    p = _precision_tab(w)
    assert all(v == 0 for v in p["underflow"].values())
    assert p["lost_updates"][1] >= e["lost_min"]


def check_float16_exploding(w, e):
    assert w.model.last.divergence is not None and w.model.last.divergence.step == e["f16_step"]
    _, norm = timeline(w)["norm"]
    assert about(norm[0], e["f16_grad"], 3)
    assert f"step {e['f16_step']}" in w.messageLabel.text()


# -- the recurrent stories: the time-step plot ---------------------------------------------------------------
def check_rnn_vanishing(w, e):
    x, v, colours, r = time_bars(w)
    assert len(v) == 100 and v[0] < e["ratio_max"] * v[-1]
    per_step = (v[0] / v[-1]) ** (1 / 99)
    assert e["per_step"][0] <= per_step <= e["per_step"][1]
    assert colours[0] == BLUE and colours[-1] == GREEN and fits(v, r)


def check_rnn_exploding(w, e):
    x, v, colours, r = time_bars(w)
    assert v[0] > e["ratio_min"] * v[-1] and colours[0] == RED and fits(v, r)


def _initial_time_ratio(w):
    """||dL/dh_1|| / ||dL/dh_T|| as the time-step plot shows it right after the story is chosen
    (its caption: at initialisation)."""
    x, v, _, r = time_bars(w)
    assert len(v) == 100 and fits(v, r)
    return v[0] / v[-1]


RNN_VANISHING_RATIO = 2e-21   # rnn-vanishing's, as its own check reads it (below 1e-15)


def check_lstm_fix_start(w, e):
    ratio = _initial_time_ratio(w)
    assert ratio > e["init_ratio_min"] and ratio > e["gain_vs_rnn"] * RNN_VANISHING_RATIO


def check_gru_fix_start(w, e):
    assert _initial_time_ratio(w) > e["gain_vs_rnn"] * RNN_VANISHING_RATIO


def check_irnn_start(w, e):
    assert _initial_time_ratio(w) > e["ratio_min"]


def check_sequence_learns(w, e):
    """lstm-fix, gru-fix, irnn at their lesson point: validation accuracy passes the quoted level in time."""
    L = loss_curves(w)
    assert len(L["accuracy"]) == e["epochs"] and L["accuracy"].max() > e["val_accuracy_min"]


def check_rnn_clipping_start(w, e):
    w.step_batch()
    _wait(w, lambda: len(w.model.steps) == 1)
    _, norm = timeline(w)["norm"]
    assert norm[0] > 1e6   # as large as rnn-exploding's: clipped, not reduced
    assert len(w.dashboard.timeline.plot.clips.data) == 1


def check_rnn_clipping(w, e):
    L = loss_curves(w)
    assert len(L["train"]) == e["epochs"] and np.isfinite(L["train"]).all()


def check_clipping_fix_start(w, e):
    w.step_batch()
    _wait(w, lambda: len(w.model.steps) == 1)
    _, norm = timeline(w)["norm"]
    assert about(norm[0], e["grad_norm_step1"], 3) and len(w.dashboard.timeline.plot.clips.data) == 1


def check_clipping_fix(w, e):
    L = loss_curves(w)
    assert L["log"] and len(L["train"]) == e["below_chance_epoch"]
    assert L["train"][-1] < L["chance"] == pytest.approx(LN2, abs=1e-3)   # below the drawn chance line
    assert about(L["train"][0], e["first_loss"], 3)
    lo, hi = L["yrange"]   # the log axis (log10 units) holds 5e4 and ln 2, not 0 to 90000
    top, bottom = math.log10(L["train"].max()), math.log10(L["train"].min())
    assert lo <= bottom and top <= hi and (top - bottom) >= 0.4 * (hi - lo)   # the data fill the axis, the legend
    assert lo <= math.log10(L["chance"]) <= hi                               # above them


# -- the Transformer stories: the per-block bars and the similarity meter at initialisation -------------------
def _block_bars(w, sublayer):
    from gui.panels.recurrent.time_bars import TimeGradientBars
    combo = w.findChild(type(w.presetCombo), "blockSublayerCombo")
    combo.setCurrentIndex(combo.findData(sublayer))
    plots = [p.plot for p in w.dashboard.panels if isinstance(getattr(p, "plot", None), TimeGradientBars)
             and p.plot.widget.objectName() == "blockGradientPlot"]
    x, tops, _ = plots[0].drawn()
    return 10.0 ** tops


def check_transformer_post_ln_start(w, e):
    v = _block_bars(w, "W2")
    assert round(v[-1] / v[0], 1) == e["last_over_first"]


def check_transformer_pre_ln_start(w, e):
    v = _block_bars(w, "W2")
    assert round(v[-1] / v[0], 2) == e["last_over_first"]


def _similarity(w):
    from gui.panels.transformer.similarity import SimilarityPlot
    return panel_plot(w, SimilarityPlot).drawn()[1]


def check_transformer_warmup_start(w, e):
    """'the same Post-LN Transformer': at initialisation its per-block bars are transformer-post-ln's."""
    check_transformer_post_ln_start(w, PRESETS["transformer-post-ln"].expect)


def check_transformer_rank_collapse_start(w, e):
    assert _similarity(w)[-1] > e["similarity_min"]


def check_transformer_skips_start(w, e):
    assert shown_as(_similarity(w)[-1], e["similarity"], ".3f")


def check_attention_vs_rnn_start(w, e):
    w.step_batch()   # step 1 measures the gradient at the initial weights
    _wait(w, lambda: len(w.model.steps) == 1)
    x, v, _, r = time_bars(w)   # the position plot
    assert len(v) == 100 and shown_as(v[0] / v[-1], e["ratio"], ".2f") and fits(v, r)


def check_learns(w, e):
    L = loss_curves(w)
    assert L["accuracy"].max() >= e.get("val_accuracy", 0.99)


def check_stays_at_chance(w, e):
    L = loss_curves(w)
    assert L["train"].min() >= e["chance_loss_min"]


def _wait(w, condition, timeout=20000):
    from PySide6.QtCore import QCoreApplication, QElapsedTimer
    clock = QElapsedTimer()
    clock.start()
    while not condition() or not w.stepBatchButton.isEnabled():
        QCoreApplication.processEvents()
        assert clock.elapsed() < timeout, "timed out"
    for _ in range(20):
        QCoreApplication.processEvents()


# story -> (check at the lesson point, check at the start for a story too slow for the default run)
FAST = {"vanishing-sigmoid": check_vanishing_sigmoid, "relu-fix": check_relu_fix, "exploding": check_exploding,
        "residual-fix": check_residual_fix, "batchnorm-fix": check_batchnorm_fix,
        "layernorm-fix": check_layernorm_fix, "glorot-standard": check_glorot_standard,
        "xavier-tanh": check_xavier_tanh, "edge-of-chaos": check_edge_of_chaos, "adam-masks": check_adam_masks,
        "constant-init": check_constant_init, "float32-lost-updates": check_float32_lost_updates,
        "float16-underflow": check_float16_underflow, "loss-scaling-fix": check_loss_scaling_fix,
        "bfloat16-no-master": check_bfloat16_no_master, "float16-exploding": check_float16_exploding,
        "rnn-vanishing": check_rnn_vanishing, "rnn-exploding": check_rnn_exploding}
SLOW_STORIES = {"clipping-fix": (check_clipping_fix_start, check_clipping_fix),
                "lstm-fix": (check_lstm_fix_start, check_sequence_learns),
                "gru-fix": (check_gru_fix_start, check_sequence_learns),
                "irnn": (check_irnn_start, check_sequence_learns),
                "rnn-clipping": (check_rnn_clipping_start, check_rnn_clipping),
                "transformer-post-ln": (check_transformer_post_ln_start, check_stays_at_chance),
                "transformer-pre-ln": (check_transformer_pre_ln_start, check_learns),
                "transformer-warmup": (check_transformer_warmup_start, check_learns),
                "transformer-rank-collapse": (check_transformer_rank_collapse_start, check_stays_at_chance),
                "transformer-skips": (check_transformer_skips_start, check_learns),
                "attention-vs-rnn": (check_attention_vs_rnn_start, check_learns)}


@pytest.fixture(scope="module")
def shared(qapp):
    """One window for the module's stories, created before the per-test thread and process checks start
    counting (a window costs about 2 s to build); every story chosen in it sets its whole view and rebuilds,
    so each test also checks that nothing of the story before stays on screen."""
    from gui.app.main_window import MainWindow
    from core.runtime.runner_process import ENV
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, "thread")
        w = MainWindow()
    w.resize(1280, 800)
    w.show()
    yield w
    assert w.shutdown(), "worker thread did not stop"
    w.close()
    w.deleteLater()


@pytest.fixture
def window(shared, qtbot):
    qtbot.waitUntil(lambda: shared.last_snapshot is not None, timeout=10000)
    return shared


def test_every_story_has_a_picture_check():
    assert set(FAST) | set(SLOW_STORIES) == set(PRESETS) and not set(FAST) & set(SLOW_STORIES)


@pytest.mark.parametrize("name", sorted(FAST))
def test_the_picture_at_the_lesson_point_shows_the_quoted_figures(window, qtbot, name):
    to_lesson_point(window, qtbot, name)
    unit, n = lesson_point(PRESETS[name])
    assert window.story.at_lesson_point() and not window.model.story_stale
    FAST[name](window, PRESETS[name].expect)


@pytest.mark.parametrize("name", sorted(SLOW_STORIES))
def test_a_slow_story_shows_its_first_figures_from_the_start(window, qtbot, name):
    w = window
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    gen = w.last_snapshot.generation
    choose(w, name)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=20000)
    qtbot.wait(300)
    SLOW_STORIES[name][0](w, PRESETS[name].expect)


@pytest.mark.skipif(not SLOW, reason="minutes of training: GRADFLOW_SLOW_PICTURES=1 runs it")
@pytest.mark.parametrize("name", sorted(SLOW_STORIES))
def test_a_slow_story_at_its_lesson_point(window, qtbot, name):
    to_lesson_point(window, qtbot, name, timeout=900000)
    SLOW_STORIES[name][1](window, PRESETS[name].expect)


def test_a_screenshot_of_a_story_is_taken_at_its_lesson_point_in_its_view(qtbot, tmp_path):
    """main.py --preset NAME --screenshot F.png: the story's lesson point (exploding: step 1, not the divergence at
    step 5) and its view (the error signal), as the story panel's button would leave it."""
    from gui.app.main_window import MainWindow
    from gui.app.start import take_screenshot
    from PySide6.QtGui import QImage
    w = MainWindow(PRESETS["exploding"].config())
    qtbot.addWidget(w)
    w.show_lesson("exploding")
    w.resize(1280, 800)
    w.show()
    path = tmp_path / "exploding.png"

    class App:   # the test's own event loop in place of app.exec(): QApplication.quit() would end pytest-qt's too
        def exec(self):
            qtbot.waitUntil(lambda: not w.isVisible(), timeout=60000)

        def quit(self):
            pass

    assert take_screenshot(App(), w, str(path), PRESETS["exploding"].config().epochs) == 0
    assert len(w.model.steps) == 1 and w.model.last.divergence is None and not w.isVisible()
    assert w.gradientQuantityCombo.currentData() == "delta_norms"
    assert QImage(str(path)).width() >= 1000
