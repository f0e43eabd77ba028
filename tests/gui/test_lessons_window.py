import pytest
import numpy as np
from PySide6.QtCore import Qt

from core.stories.presets import PRESETS


def wait_generation(qtbot, w, gen):
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)


def test_preset_picker_loads_the_config_and_shows_the_lesson(small_window, qtbot):
    w = small_window
    gen = w.last_snapshot.generation
    w.presetCombo.setCurrentIndex(w.presetCombo.findData("vanishing-sigmoid"))
    p = PRESETS["vanishing-sigmoid"]
    assert w.config == p.config()
    assert w.depthSpin.value() == p.fields["depth"] and w.activationCombo.currentData() == "sigmoid"
    assert "Watch" in w.lessonLabel.text() and "Why" in w.lessonLabel.text()
    wait_generation(qtbot, w, gen)
    assert "ordered" in w.phaseLabel.text()


def test_chain_rule_view_shows_the_product(dashboard):
    w = dashboard.replay("small-1-batch", upto=1)
    w.lessonTabs.setCurrentWidget(w.chainView)   # a tab behind another draws when it is shown
    w.replay("small-1-batch")                    # one batch
    assert "dL/dz1 = dL/dz_out x" in w.chainView.toPlainText()
    text = w.chainView.toPlainText()
    assert "mean |φ′(z)|" in text and "product" in text
    chain = w.last_snapshot.chain
    assert f"{chain.total:.2g}" in text


def test_theory_overlay_draws_one_point_per_hidden_layer(dashboard):
    w = dashboard.replay("small-1-epoch")
    assert len(w.history) == 1
    assert not w.gradients.theory.isVisible()
    w.theoryCheck.setChecked(True)
    # the theory predicts ||dL/dz||: over the ||dL/dW|| bars it is hidden and the legend says where it is
    assert not w.gradients.theory.isVisible() and w.gradients.theory_label == "theory: shown with ‖dL/dz‖"
    w.gradientQuantityCombo.setCurrentIndex(w.gradientQuantityCombo.findData("delta_norms"))
    assert w.gradients.theory.isVisible() and w.gradients.theory_label == "theory: predicted ‖dL/dz‖"
    x, y = w.gradients.theory.getData()
    assert np.isfinite(y).sum() == w.config.depth
    anchor = w.last_snapshot.last_batch.delta_norms[w.config.depth - 1]   # anchored at the last hidden layer
    assert y[w.config.depth - 1] == pytest.approx(np.log10(anchor))


def test_compare_runs_b_in_lockstep_beside_a(small_window, qtbot):
    w = small_window
    gen = w.last_snapshot.generation
    w.compareFieldCombo.setCurrentIndex(w.compareFieldCombo.findData("activation"))
    w.compareValueEdit.setText("relu")
    qtbot.mouseClick(w.compareButton, Qt.LeftButton)
    wait_generation(qtbot, w, gen)
    assert w.comparing and w.last_snapshot.b.config.activation == "relu"
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1 and len(w.history_b) == 1, timeout=5000)
    assert w.last_snapshot.step == w.last_snapshot.b.step
    assert w.gradients.bars_b.isVisible() and len(w.gradients.bars_b.opts["x"]) == w.config.n_weight_layers
    assert len(w.loss.train_b.getData()[0]) == 1
    assert w.gradients.run_labels == ("A: activation = sigmoid", "B: activation = relu")
    # a live change applies to both; the compared setting stays B's own
    w.lrSpin.setValue(0.05)
    qtbot.waitUntil(lambda: w.last_snapshot.b.config.lr == 0.05, timeout=5000)
    gen = w.last_snapshot.generation
    qtbot.mouseClick(w.compareButton, Qt.LeftButton)
    wait_generation(qtbot, w, gen)
    assert not w.comparing and w.last_snapshot.b is None
    w.step_batch()
    qtbot.waitUntil(lambda: not w.gradients.bars_b.isVisible(), timeout=5000)
    assert w.gradients.run_labels is None


def test_compare_with_a_bad_value_says_so(small_window):
    w = small_window
    w.compareFieldCombo.setCurrentIndex(w.compareFieldCombo.findData("activation"))
    w.compareValueEdit.setText("swish3")
    w.compareButton.click()
    assert not w.compareButton.isChecked()
    assert "activation must be one of" in w.messageLabel.text()
    w.compareValueEdit.setText(w.config.activation)
    w.compareButton.click()
    assert not w.compareButton.isChecked() and "must differ" in w.messageLabel.text()
