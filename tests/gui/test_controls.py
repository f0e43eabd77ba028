"""The control panel is generated from FIELD_SPECS and shows every valid config exactly."""
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QSpinBox

from core import ExperimentConfig
from core.config import FIELD_SPECS, _choice, _int

from .conftest import SMALL

EXTREMES = [
    dict(lr=50.0, init_gain=0.001, seed=2**32 - 1),
    dict(lr=100.0, init_gain=100.0, seed=0, clip_norm=1e12, noise=10.0, val_fraction=0.5, epochs=1_000_000),
    dict(lr=0.1 + 0.2, init_gain=1e-7, clip_norm=1e-9, noise=0.0, val_fraction=0.05, batch_size=100_000,
         depth=100, width=1024, samples=1_000_000, dtype="float32", residual=True),
    dict(lr=1e-300, init_gain=3.141592653589793, depth=1, width=1, samples=10, batch_size=1),
]


@pytest.mark.parametrize("fields", EXTREMES)
def test_every_field_is_shown_exactly_at_the_spec_bounds(qtbot, fields):
    from gui.controls.control_panel import ControlPanel
    from gui.bridge.session_model import SessionModel
    model = SessionModel(SMALL)
    try:
        panel = ControlPanel(model.actions)
        qtbot.addWidget(panel)
        cfg = ExperimentConfig(**fields)
        panel.show_config(cfg)
        assert panel.shown_values() == cfg.to_dict()
        assert panel.widgets["lrSpin"].text() == repr(cfg.lr).removesuffix(".0")
    finally:
        assert model.shutdown()


def test_main_window_with_a_config_at_the_bounds_trains_with_it_and_shows_it(qtbot):
    from gui.app.main_window import MainWindow
    cfg = SMALL.replace(lr=50.0, init_gain=0.001, seed=2**32 - 1, clip_norm=1e12, noise=10.0)
    w = MainWindow(cfg)
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
        assert w.config == cfg and w.last_snapshot.config == cfg
        assert w.controls.shown_values() == cfg.to_dict()
        assert (w.lrSpin.text(), w.initGainSpin.text(), w.seedSpin.text()) == ("50", "0.001", "4294967295")
    finally:
        assert w.shutdown()


def test_typing_a_value_in_an_exact_spin_box_changes_the_config(small_window, qtbot):
    w = small_window
    w.lrSpin.lineEdit().selectAll()
    qtbot.keyClicks(w.lrSpin.lineEdit(), "0.0123")
    qtbot.keyClick(w.lrSpin.lineEdit(), Qt.Key_Return)
    assert w.config.lr == 0.0123
    w.seedSpin.setValue(4_000_000_000)
    assert w.config.seed == 4_000_000_000


def test_a_new_field_in_the_spec_table_gets_its_editor_without_other_edits(qtbot, monkeypatch):
    from gui.controls.control_panel import ControlPanel
    from gui.bridge.session_model import SessionModel
    specs = dict(FIELD_SPECS, seq_len=_int(1, 500, label="Sequence length", tip="Steps per sequence."),
                 model=_choice({"mlp": "MLP", "rnn": "Recurrent"}, label="Model", group="Network",
                               tip="The kind of network."))
    monkeypatch.setattr("gui.controls.control_panel.FIELD_SPECS", specs)
    model = SessionModel(SMALL)
    try:
        panel = ControlPanel(model.actions)
        qtbot.addWidget(panel)
        spin, combo = panel.findChild(QSpinBox, "seqLenSpin"), panel.findChild(QComboBox, "modelCombo")
        assert spin is not None and (spin.minimum(), spin.maximum()) == (1, 500) and spin.toolTip()
        assert [combo.itemText(i) for i in range(combo.count())] == ["MLP", "Recurrent"]
        edits = []
        panel.fieldEdited.connect(lambda f, v: edits.append((f, v)))
        spin.setValue(40)
        combo.setCurrentIndex(1)
        assert edits == [("seq_len", 40), ("model", "rnn")]
    finally:
        assert model.shutdown()


def test_editor_kinds_follow_the_spec(window):
    kinds = {"int": (QSpinBox, QDoubleSpinBox), "float": (QDoubleSpinBox,), "optional_float": (QDoubleSpinBox,),
             "bool": (QCheckBox,), "choice": (QComboBox,), "loss_scale": (QComboBox,)}   # issue 24: editable
    for field, spec in FIELD_SPECS.items():
        widget = getattr(window, window.controls.editors[field].name)
        assert isinstance(widget, kinds[spec.kind]) and widget.toolTip(), field
    assert window.lrSlider.minimum() == -50 and window.lrSlider.maximum() == 20  # 1e-5 .. 100 from the spec


def test_text_from_a_file_is_shown_as_plain_text(window, qtbot, tmp_path):
    path = tmp_path / "markup.json"
    path.write_text(json.dumps({"activation": "<img src='/dev/zero'>"}))
    assert not window.open_experiment(str(path))
    text = window.messageLabel.text()
    assert "<img src='/dev/zero'>" in text and "got" in text
    labels = [l for l in window.findChildren(QLabel) if l.objectName()]
    assert labels and all(l.textFormat() == Qt.PlainText for l in labels), \
        [l.objectName() for l in labels if l.textFormat() != Qt.PlainText]


def _ratios_drawn(w) -> int:
    x, _ = w.updates.curve.getData()
    return 0 if x is None else len(x)


def _stepped(w, qtbot):
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1 and w.stepEpochButton.isEnabled(), timeout=5000)
    w.gradients.hover.setText("layer 2: old value")  # as a hover over the old run's bars leaves it
    assert _ratios_drawn(w) > 0


def test_reset_story_change_and_open_leave_nothing_of_the_old_run(small_window, qtbot, tmp_path):
    w = small_window
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(SMALL.replace(seed=5).to_dict()))
    for act in (w.reset, lambda: w.presetCombo.setCurrentIndex(w.presetCombo.findData("relu-fix")),
                lambda: w.open_experiment(str(path))):
        if w.config.depth > 3:
            w.set_config(SMALL)
            qtbot.waitUntil(lambda: w.last_snapshot.config == SMALL, timeout=10000)
        _stepped(w, qtbot)
        gen = w.last_snapshot.generation
        act()
        qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and w.last_snapshot.kind == "rebuilt",
                        timeout=10000)
        assert _ratios_drawn(w) == 0 and w.gradients.hover.toPlainText() == ""
        assert len(w.history) == 0 and w.loss.train.getData()[0] is None or len(w.loss.train.getData()[0]) == 0
    assert w.lessonLabel.text().startswith("Pick a story") and w.presetCombo.currentIndex() == 0


def test_the_compare_button_follows_the_session_even_after_a_late_rebuild(small_window, qtbot):
    w = small_window
    for depth in (4, 5, 6):     # rebuilds still on their way when the comparison starts
        w.depthSpin.setValue(depth)
    w.compareFieldCombo.setCurrentIndex(w.compareFieldCombo.findData("activation"))
    w.compareValueEdit.setText("relu")
    qtbot.mouseClick(w.compareButton, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.last_snapshot.b is not None, timeout=10000)
    qtbot.wait(200)
    assert w.compareButton.isChecked() and w.comparing and w.last_snapshot.config.depth == 6
    gen = w.last_snapshot.generation
    w.activationCombo.setCurrentIndex(w.activationCombo.findData("relu"))   # B no longer differs: it ends
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    assert not w.comparing and not w.compareButton.isChecked() and "comparison ended" in w.messageLabel.text()


def test_the_hover_text_follows_new_bars_and_a_new_network(small_window, qtbot):
    import pyqtgraph as pg
    w = small_window
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1 and w.stepEpochButton.isEnabled(), timeout=5000)
    vb = w.gradientPlot.getPlotItem().vb
    w.gradientPlot.scene().sigMouseMoved.emit(vb.mapViewToScene(pg.Point(2, w.gradients.bars.opts["y0"][1] + 0.5)))
    assert w.gradients.hover.toPlainText() == f"layer 2: ‖dL/dW‖ = {w.history.layer('grad_norm')[0][1]:.3e}"
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 2 and w.stepEpochButton.isEnabled(), timeout=5000)
    assert w.gradients.hover.toPlainText() == f"layer 2: ‖dL/dW‖ = {w.history.layer('grad_norm')[1][1]:.3e}"
    gen = w.last_snapshot.generation
    w.seedSpin.setValue(77)   # a new network: the hover shows its values at initialisation
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=5000)
    initial = w.last_snapshot.initial_grad_norm[0][1]   # what the new network measured before any step
    assert len(w.history) == 0 and w.gradients.hover.toPlainText() == f"layer 2: ‖dL/dW‖ = {initial:.3e}"


def test_arrow_steps_follow_the_value_and_never_reach_an_open_bound(small_window):
    w = small_window
    w.set_config(SMALL.replace(lr=0.001, init_gain=0.001))
    w.lrSpin.stepUp()
    assert w.config.lr == 0.0011 and w.lrSpin.text() == "0.0011"
    w.initGainSpin.stepDown()   # init_gain must stay > 0: a decade down, not to 0
    assert w.config.init_gain == 0.0001 and "must be" not in w.messageLabel.text()
    w.epochsSpin.stepUp()
    assert w.config.epochs == SMALL.epochs + 1
