"""The window follows the model-kind registry: editors of unused fields disabled, a change of kind resets them,
the mean-field label reads a phase only where the theory holds."""
import pytest

from core.config import ExperimentConfig
from core.nn.kinds import KINDS
from core.stories.presets import PRESETS
from tests.gui.conftest import rebuilt_with_config


def load_story(w, qtbot, name):
    gen = w.last_snapshot.generation
    w.presetCombo.setCurrentIndex(w.presetCombo.findData(name))
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)


@pytest.fixture
def reused_window(shared_window):
    """The module's one window for the parametrized tests (conftest.shared_window), with the theory overlay off
    and the first gradient quantity, as a new window starts: each test sets its own story or network."""
    shared_window.theoryCheck.setChecked(False)
    shared_window.gradientQuantityCombo.setCurrentIndex(0)
    return shared_window


@pytest.mark.parametrize("story,expected", [
    ("rnn-exploding", "Mean-field phase: does not apply to an RNN (the theory is for feed-forward networks without "
                      "residual connections or normalisation)"),
    ("residual-fix", "Mean-field phase: does not apply with residual connections"),
    ("vanishing-sigmoid", "Mean-field phase: ordered: gradients vanish"),
])
def test_the_phase_label_reads_a_phase_only_where_the_theory_holds(reused_window, qtbot, story, expected):
    load_story(reused_window, qtbot, story)
    text = reused_window.phaseLabel.text()
    assert text.startswith(expected)
    assert ("chi_1 =" in text) == (story == "vanishing-sigmoid")


def test_editors_of_fields_the_kind_does_not_use_are_disabled_with_the_reason(window, qtbot):
    w = window
    rebuilt_with_config(w, qtbot, ExperimentConfig(model="rnn", dataset="adding", depth=2, width=8, samples=64))
    assert not w.normCombo.isEnabled() and not w.residualCheck.isEnabled() and not w.biasStdSpin.isEnabled()
    assert not w.forgetBiasSpin.isEnabled() and w.activationCombo.isEnabled() and w.recurrentGainSpin.isEnabled()
    assert "Does not apply to model rnn: it has no normalisation layers." in w.normCombo.toolTip()
    rebuilt_with_config(w, qtbot, ExperimentConfig(model="gru", dataset="adding", depth=2, width=8, samples=64))
    assert not w.activationCombo.isEnabled() and w.forgetBiasSpin.isEnabled()
    rebuilt_with_config(w, qtbot, ExperimentConfig(dataset="adding", depth=2, width=8, samples=64))
    assert w.normCombo.isEnabled() and w.activationCombo.isEnabled() and not w.recurrentGainSpin.isEnabled()
    assert "Does not apply" not in w.normCombo.toolTip()
    clip_box = w.clipSpin   # an editor's own disabling (no clipping: no value) is left alone
    assert clip_box.isEnabled() == (w.config.clip_norm is not None)


def test_every_kind_disables_exactly_the_editors_of_its_unused_fields(window, qtbot):
    w = window
    for kind in KINDS.values():
        w.controls.show_config(ExperimentConfig(model=kind.name, dataset="recall"))
        for field, editor in w.controls.editors.items():
            if field == "clip_norm":
                continue
            assert all(x.isEnabled() == kind.uses(field) for x in editor.widgets()), (kind.name, field)


def test_changing_the_model_resets_the_unused_fields_and_says_so(window, qtbot):
    w = window
    rebuilt_with_config(w, qtbot, ExperimentConfig(dataset="recall", norm="batch", depth=2, width=8, samples=64))
    gen = w.last_snapshot.generation
    w.modelCombo.setCurrentIndex(w.modelCombo.findData("rnn"))
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    assert w.config.model == "rnn" and w.config.norm == "none"
    assert w.normCombo.currentData() == "none" and not w.normCombo.isEnabled()
    qtbot.waitUntil(lambda: "norm reset to the default: model rnn does not use it" in w.messageLabel.text(),
                    timeout=5000)
    assert "Mean-field phase: does not apply to an RNN" in w.phaseLabel.text()


@pytest.mark.parametrize("config,drawn", [
    (ExperimentConfig(model="rnn", dataset="adding", depth=2, width=8, samples=64, seq_len=5), False),
    (ExperimentConfig(depth=3, width=8, samples=64, residual=True), False),
    (ExperimentConfig(depth=3, width=8, samples=64, norm="layer"), False),
    (ExperimentConfig(depth=3, width=8, samples=64), True),
])
def test_the_theory_overlay_is_drawn_only_where_mean_field_theory_holds(reused_window, qtbot, config, drawn):
    w = reused_window
    rebuilt_with_config(w, qtbot, config)
    step = w.last_snapshot.step
    w.step_batch()
    qtbot.waitUntil(lambda: w.last_snapshot.step > step and not w.model._step_pending, timeout=10000)
    w.gradientQuantityCombo.setCurrentIndex(1)   # ‖dL/dz‖, the quantity the theory predicts
    w.theoryCheck.setChecked(True)
    assert w.gradients.theory.isVisible() == drawn
    assert w.gradients.theory_label == ("theory: predicted ‖dL/dz‖" if drawn else "theory: none for this network")
