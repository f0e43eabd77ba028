"""Issue 21 part A: the story panel beside the plots, stale stories, the wheel, what fits at 1280x800."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyleOptionComboBox

from core.stories.claims import RunSoFar, claims
from core.stories.presets import PRESETS, STORY_VIEW, lesson_point_text

from .conftest import chosen_story


def choose(w, name):
    """As a click on the picker's entry: the index (if it changed), then ``activated``."""
    i = w.presetCombo.findData(name)
    w.presetCombo.setCurrentIndex(i)
    w.presetCombo.activated.emit(i)


def rebuilt(qtbot, w, act):
    gen = w.last_snapshot.generation
    act()
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)


def wheel(widget, notches=1):
    """A real wheel event over ``widget``'s centre, through QApplication (so it propagates as Qt's would)."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, -120 * notches),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_setting_scrolls_the_column_and_changes_nothing(window, qtbot):
    w = window
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    noise = w.controls.editors["noise"].widgets()[0]
    w.controlPanel.ensureWidgetVisible(noise)
    bar = w.controlPanel.verticalScrollBar()
    bar.setValue(bar.value() - 40)   # room to scroll down
    assert noise.focusPolicy() == Qt.StrongFocus and not noise.hasFocus()
    config, gen, top = w.config, w.last_snapshot.generation, bar.value()
    wheel(noise)
    qtbot.wait(200)
    assert w.config == config and noise.value() == config.noise
    assert w.last_snapshot.generation == gen, "the run was rebuilt"
    assert bar.value() > top, "the settings column did not scroll"
    qtbot.mouseClick(noise.lineEdit(), Qt.LeftButton)   # clicked into: now the wheel edits it
    assert noise.hasFocus()
    wheel(noise)
    qtbot.waitUntil(lambda: w.config.noise != config.noise, timeout=5000)
    assert w.config.noise == pytest.approx(noise.value())


def _unguarded(root):
    from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QScrollBar
    editors = [e for k in (QAbstractSpinBox, QComboBox, QAbstractSlider) for e in root.findChildren(k)
               if not isinstance(e, QScrollBar)]   # a scroll bar's wheel scrolls, as it should
    return editors, [e.objectName() for e in editors if e.focusPolicy() != Qt.StrongFocus]


def test_every_spin_combo_and_slider_is_guarded(window):
    editors, unguarded = _unguarded(window)
    assert len(editors) > 20 and unguarded == []
    dialog = window.open_phase_diagram()
    try:
        editors, unguarded = _unguarded(dialog)
        assert editors and unguarded == []
    finally:
        dialog.close()


def test_a_story_is_marked_the_moment_a_setting_departs_and_restored_when_chosen_again(small_window, qtbot,
                                                                                        tmp_path):
    w = small_window
    rebuilt(qtbot, w, lambda: choose(w, "relu-fix"))
    assert w.model.story == "relu-fix" and not w.model.story_stale and w.storyStaleLabel.isHidden()
    assert w.presetCombo.currentText() == "relu-fix" and w.lessonPointButton.isEnabled()
    assert w.storyTitle.text().startswith("relu-fix:") and "Watch" in w.lessonLabel.text()
    w.lrSpin.setValue(0.01)   # an edit in the settings column
    assert w.model.story_stale and not w.storyStaleLabel.isHidden()
    assert "lr = 0.01" in w.storyStaleLabel.text() and "settings changed" in w.storyStaleLabel.text()
    assert w.presetCombo.currentText() == "relu-fix (settings changed)" and not w.lessonPointButton.isEnabled()
    assert w.storyPanel.claims_shown() == [] and w.storyPanel.claimsBox.isHidden()   # not judged on other settings
    choose(w, "relu-fix")   # chosen again: its settings and an unmarked text
    assert w.config == PRESETS["relu-fix"].config() and not w.model.story_stale
    assert w.presetCombo.currentText() == "relu-fix" and w.storyStaleLabel.isHidden()
    w.set_config(w.config.replace(init_gain=2.0))   # what a phase-diagram cell does (open_phase_diagram)
    assert w.model.story_stale and "init_gain = 2.0" in w.model.story_why
    choose(w, "relu-fix")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    path = tmp_path / "d.csv"
    np.savetxt(path, np.c_[X, X[:, 0] > 0], delimiter=",", header="a,b,label", comments="", fmt="%.17g")
    assert w.open_data(str(path))
    assert w.model.story_stale and w.model.story_why == "a data file is open"
    assert w.presetCombo.currentText().endswith("(settings changed)")


def test_a_story_sets_its_whole_view_and_the_rest_goes_back_to_defaults(small_window, qtbot):
    w = small_window
    choose(w, "edge-of-chaos")
    assert w.gradientQuantityCombo.currentData() == "delta_norms" and w.theoryCheck.isChecked()
    choose(w, "clipping-fix")
    assert w.gradientQuantityCombo.currentData() == STORY_VIEW["quantity"] and not w.theoryCheck.isChecked()
    assert w.lossLogCheck.isChecked() and w.speedSpin.value() == 0
    choose(w, "exploding")
    assert w.speedSpin.value() == 2.0 and w.model.pace == 2.0 and not w.lossLogCheck.isChecked()
    choose(w, "glorot-standard")
    assert w.lessonTabs.tabText(w.lessonTabs.currentIndex()) == "Chain rule"
    w.plotPages.setCurrentIndex(1)
    choose(w, "vanishing-sigmoid")
    assert w.plotPages.currentIndex() == 0 and w.speedSpin.value() == 0 and w.model.pace == 0
    assert w.lessonTabs.tabText(w.lessonTabs.currentIndex()) == "Prediction"
    assert w.gradientQuantityCombo.currentData() == "grad_norm" and not w.theoryCheck.isChecked()


def test_the_lesson_point_button_takes_the_run_there_and_the_claims_read_live(small_window, qtbot):
    w = small_window
    rebuilt(qtbot, w, lambda: choose(w, "exploding"))
    assert w.lessonPointButton.text() == lesson_point_text(PRESETS["exploding"]) == "Step batch once"
    assert [m for _, _, m in w.storyPanel.claims_shown()] == ["… not yet"] * 4
    w.lessonPointButton.click()
    qtbot.waitUntil(lambda: len(w.model.steps) == 1 and w.model.first_batch is not None, timeout=10000)
    qtbot.waitUntil(lambda: w.storyPanel.claims_shown()[0][2] == "✓ holds", timeout=5000)
    shown = w.storyPanel.claims_shown()
    expected = claims(PRESETS["exploding"], RunSoFar(w.history, w.model.steps, w.model.first_batch,
                                                     w.last_snapshot.last_batch, w.last_snapshot.divergence))
    assert shown == [(c.label, c.value, {True: "✓ holds", False: "✗ not now", None: "… not yet"}[c.holds] if c.judged else "")
                     for c in expected]
    assert [m for _, _, m in shown] == ["✓ holds"] * 3 + ["… not yet"]   # the divergence: not yet (step 5)
    lo, hi = (float(x) for x in shown[0][1].split(" to "))
    d = w.model.first_batch.delta_norms
    assert lo == pytest.approx((d[:-2] / d[1:-1]).min(), rel=1e-2) and 9 <= lo <= hi <= 11
    gen = w.last_snapshot.generation
    w.lessonPointButton.click()   # at it: nothing happens but a word
    assert "lesson point" in w.messageLabel.text() and w.last_snapshot.generation == gen
    w.step_batch()
    qtbot.waitUntil(lambda: len(w.model.steps) == 2 and w.stepBatchButton.isEnabled(), timeout=10000)
    rebuilt(qtbot, w, w.lessonPointButton.click)   # past it: from the seed, again at step 1
    qtbot.waitUntil(lambda: len(w.model.steps) == 1 and w.model.first_batch is not None, timeout=10000)
    assert w.model.first_batch.step == 1


def test_the_claims_follow_the_run_to_an_epoch_point(small_window, qtbot):
    w = small_window
    rebuilt(qtbot, w, lambda: choose(w, "rnn-clipping"))
    assert w.lessonPointButton.text() == "Run to epoch 3"
    w.lessonPointButton.click()
    qtbot.waitUntil(lambda: len(w.history) == 3 and w.state != "running", timeout=120000)
    qtbot.waitUntil(lambda: w.storyPanel.claims_shown()[0][2] == "✓ holds", timeout=5000)
    assert w.storyPanel.claims_shown()[0][1] == "3"


def _fully_visible(widget) -> bool:
    region = widget.visibleRegion().boundingRect()
    return widget.isVisible() and region == widget.rect()


def _combo_fits(combo: QComboBox) -> bool:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.CC_ComboBox, option, QStyle.SC_ComboBoxEditField, combo)
    return field.width() >= combo.fontMetrics().horizontalAdvance(combo.currentText())


@pytest.mark.parametrize("name", list(PRESETS))
def test_at_1280x800_every_button_of_a_story_is_in_view_and_combos_show_their_text(shared_window, qtbot, name):
    """One window for every story, each chosen in turn (a story sets its whole view: the test above)."""
    w = shared_window
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    chosen_story(qtbot, w, name)
    qtbot.wait(50)
    for button in ("storyStepBatchButton", "storyStepEpochButton", "storyRunButton", "storyResetButton",
                   "lessonPointButton"):
        assert _fully_visible(getattr(w, button)), (name, button)
    combos = [c for c in w.findChildren(QComboBox) if c.isVisible() and c.visibleRegion().boundingRect() == c.rect()]
    assert w.gradientQuantityCombo in combos or w.plotPages.currentIndex() != 0
    assert [c.objectName() for c in combos if not _combo_fits(c)] == []


def test_a_claim_on_the_chain_rule_keeps_its_value_between_snapshots_that_do_not_carry_it(small_window, qtbot):
    w = small_window
    rebuilt(qtbot, w, lambda: choose(w, "glorot-standard"))
    w.step_batch()
    qtbot.waitUntil(lambda: len(w.model.steps) == 1 and w.stepBatchButton.isEnabled(), timeout=10000)
    qtbot.waitUntil(lambda: w.storyPanel.claims_shown()[0][2] == "✓ holds", timeout=5000)
    label, value, _ = w.storyPanel.claims_shown()[0]
    assert "chain rule" in label and abs(float(value) - 0.58) <= 0.15 * 0.58
    w.story.show_claims()   # as a snapshot without a chain rule would: the value stays
    assert w.storyPanel.claims_shown()[0][1] == value


def test_a_story_without_checks_shows_its_numbers_without_a_mark(window, qtbot):
    """A story with no checks of its own (e.g. a Transformer story) shows the loss and accuracy for orientation,
    with no mark: "… not yet" would claim a judgement is coming."""
    w = window
    choose(w, "transformer-warmup")
    from core.stories.claims import checks_of
    from core.stories.presets import get_preset
    assert checks_of(get_preset("transformer-warmup")) == ()
    qtbot.waitUntil(lambda: len(w.storyPanel.claims_shown()) == 2, timeout=10000)
    assert [m for _, _, m in w.storyPanel.claims_shown()] == ["", ""]
