import numpy as np
import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QPushButton, QSpinBox
import pyqtgraph as pg

from core import ExperimentConfig, Trainer

from .conftest import SMALL

WIDGETS = {
    QSpinBox: ["depthSpin", "widthSpin", "batchSpin"],
    QComboBox: ["activationCombo", "initCombo", "optimizerCombo", "datasetCombo"],
    QDoubleSpinBox: ["lrSpin", "initGainSpin", "clipSpin", "seedSpin"],  # the seed goes beyond a C int
    QCheckBox: ["residualCheck", "clipCheck"],
    QPushButton: ["stepBatchButton", "stepEpochButton", "runButton", "resetButton"],
    QLabel: ["epochLabel"],
    pg.PlotWidget: ["gradientPlot", "lossPlot", "heatmapPlot", "updatePlot", "boundaryPlot"],
}


def wait_generation(qtbot, w, gen):
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=5000)


def bar_count(w):
    return len(w.gradients.bars.opts["x"])


def test_widgets_have_the_documented_names_types_and_tooltips(window):
    for cls, names in WIDGETS.items():
        for name in names:
            found = window.findChild(cls, name)
            assert found is not None, name
            assert found.toolTip(), f"{name} has no tooltip"
    assert window.config == ExperimentConfig()
    assert window.epochLabel.text() == "Epoch 0"


def test_every_named_control_and_plot_has_a_tooltip(window):
    from PySide6.QtWidgets import QWidget
    named = [c for c in window.findChildren(QWidget)
             if c.objectName()[:1].islower() and not c.objectName().startswith("qt_")  # ours, not Qt's parts
             and c.objectName().endswith(("Spin", "Combo", "Check", "Button", "Slider", "Plot", "Label", "View",
                                          "Edit"))]
    assert len(named) >= 30
    missing = [c.objectName() for c in named if not c.toolTip()]
    assert not missing


def test_hovering_a_bar_shows_its_exact_value(small_window, qtbot):
    w = small_window
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=5000)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    vb = w.gradientPlot.getPlotItem().vb
    scene_pos = vb.mapViewToScene(pg.Point(2, w.gradients.bars.opts["y0"][1] + 0.5))
    w.gradientPlot.scene().sigMouseMoved.emit(scene_pos)
    expected = f"layer 2: ‖dL/dW‖ = {w.history.layer('grad_norm')[0][1]:.3e}"
    assert w.gradients.hover.toPlainText() == expected


@pytest.mark.wiring
def test_controls_change_the_config(small_window, qtbot):
    w = small_window
    changes = [
        (lambda: w.depthSpin.setValue(5), "depth", 5),
        (lambda: w.widthSpin.setValue(12), "width", 12),
        (lambda: w.activationCombo.setCurrentIndex(w.activationCombo.findData("relu")), "activation", "relu"),
        (lambda: w.initCombo.setCurrentIndex(w.initCombo.findData("he")), "init", "he"),
        (lambda: w.initGainSpin.setValue(1.5), "init_gain", 1.5),
        (lambda: w.residualCheck.setChecked(True), "residual", True),
        (lambda: w.datasetCombo.setCurrentIndex(w.datasetCombo.findData("moons")), "dataset", "moons"),
        (lambda: w.optimizerCombo.setCurrentIndex(w.optimizerCombo.findData("adam")), "optimizer", "adam"),
        (lambda: w.lrSpin.setValue(0.003), "lr", 0.003),
        (lambda: w.batchSpin.setValue(16), "batch_size", 16),
        (lambda: w.seedSpin.setValue(9), "seed", 9),
        (lambda: w.clipSpin.setValue(2.5), "clip_norm", None),  # clipping is off: the threshold waits
        (lambda: w.clipCheck.setChecked(True), "clip_norm", 2.5),
    ]
    for act, field, value in changes:
        act()
        assert getattr(w.config, field) == value, field
    w.lrSlider.setValue(-20)
    assert w.config.lr == pytest.approx(0.01) and w.lrSpin.value() == pytest.approx(0.01)
    # the network follows: depth 5 means 6 weight layers
    qtbot.waitUntil(lambda: w.last_snapshot.config == w.config, timeout=5000)
    assert w.last_snapshot.n_layers == 6


@pytest.mark.wiring
def test_config_changes_show_in_the_controls(small_window, qtbot):
    w = small_window
    cfg = ExperimentConfig(depth=7, width=20, activation="tanh", init="orthogonal", init_gain=2.0, residual=True,
                           dataset="spirals", optimizer="rmsprop", lr=0.0005, batch_size=8, seed=3, clip_norm=4.0)
    gen = w.last_snapshot.generation
    w.set_config(cfg)
    assert (w.depthSpin.value(), w.widthSpin.value(), w.batchSpin.value(), w.seedSpin.value()) == (7, 20, 8, 3)
    assert w.activationCombo.currentData() == "tanh" and w.activationCombo.currentText() == "Tanh"
    assert w.initCombo.currentData() == "orthogonal" and w.datasetCombo.currentData() == "spirals"
    assert w.optimizerCombo.currentData() == "rmsprop"
    assert w.lrSpin.value() == pytest.approx(0.0005) and w.initGainSpin.value() == 2.0
    assert w.residualCheck.isChecked() and w.clipCheck.isChecked() and w.clipSpin.value() == 4.0
    wait_generation(qtbot, w, gen)
    assert w.last_snapshot.n_layers == 8 and w.last_snapshot.config == cfg
    assert "rebuilt" in w.messageLabel.text() and "history cleared" in w.messageLabel.text()


@pytest.mark.wiring
def test_step_epoch_updates_bars_loss_and_heatmap(small_window, qtbot):
    w = small_window
    L = SMALL.n_weight_layers
    for epoch in (1, 2):
        qtbot.mouseClick(w.stepEpochButton, Qt.LeftButton)
        qtbot.waitUntil(lambda: w.epochLabel.text() == f"Epoch {epoch}", timeout=5000)
    assert bar_count(w) == L
    assert np.all(np.isfinite(w.gradients.bars.opts["height"]))
    x, y = w.loss.train.getData()
    assert len(x) == 2 and list(x) == [1.0, 2.0]
    assert w.heatmap.image.image.shape == (L, 2)
    assert len(w.history) == 2


@pytest.mark.wiring
def test_step_batch_does_exactly_one_batch(small_window, qtbot):
    w = small_window
    qtbot.mouseClick(w.stepBatchButton, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.stepLabel.text() == "step 1", timeout=5000)
    assert w.epochLabel.text() == "Epoch 0" and bar_count(w) == SMALL.n_weight_layers
    assert w.stepBatchButton.isEnabled()


@pytest.mark.wiring
def test_repeated_clicks_during_a_step_do_not_pile_up(small_window, qtbot):
    w = small_window
    for _ in range(10):
        w.step_epoch()
    qtbot.waitUntil(lambda: w.stepEpochButton.isEnabled(), timeout=5000)
    qtbot.wait(200)
    assert len(w.history) == 1 and w.epochLabel.text() == "Epoch 1"


@pytest.mark.wiring
def test_window_statistics_equal_headless(small_window, qtbot):
    w = small_window
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=5000)
    headless = Trainer(SMALL).step_epoch()
    np.testing.assert_array_equal(w.history.layer("grad_norm")[0], headless.grad_norm)
    assert w.history.scalar("train_loss")[0] == headless.train_loss


@pytest.mark.wiring
def test_run_then_pause(small_window, qtbot):
    w = small_window
    w.set_config(SMALL.replace(epochs=100000))
    qtbot.mouseClick(w.runButton, Qt.LeftButton)
    assert w.runButton.text() == "Pause"
    qtbot.waitUntil(lambda: len(w.history) >= 3, timeout=10000)
    assert w.stateLabel.text() == "running" and not w.stepEpochButton.isEnabled()
    qtbot.mouseClick(w.runButton, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.stateLabel.text() == "paused", timeout=5000)
    qtbot.waitUntil(lambda: w.last_snapshot.kind == "paused", timeout=5000)  # the worker has stopped
    steps = w.last_snapshot.step
    qtbot.wait(300)
    assert w.last_snapshot.step == steps and w.runButton.text() == "Run"
    assert w.stepEpochButton.isEnabled()


@pytest.mark.wiring
def test_run_stops_at_the_set_epoch(small_window, qtbot):
    w = small_window
    qtbot.mouseClick(w.runButton, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.stateLabel.text() == "done", timeout=10000)
    assert len(w.history) == SMALL.epochs == w.last_snapshot.epoch


@pytest.mark.wiring
def test_live_settings_do_not_reset_the_history(small_window, qtbot):
    w = small_window
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=5000)
    gen = w.last_snapshot.generation
    w.lrSpin.setValue(0.02)
    w.optimizerCombo.setCurrentIndex(w.optimizerCombo.findData("momentum"))
    w.clipCheck.setChecked(True)
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 2, timeout=5000)
    assert w.last_snapshot.generation == gen
    assert w.last_snapshot.config.lr == 0.02 and w.last_snapshot.config.optimizer == "momentum"


@pytest.mark.wiring
def test_reset_clears_the_history(small_window, qtbot):
    w = small_window
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=5000)
    gen = w.last_snapshot.generation
    qtbot.mouseClick(w.resetButton, Qt.LeftButton)
    wait_generation(qtbot, w, gen)
    assert len(w.history) == 0 and w.epochLabel.text() == "Epoch 0"
    assert len(w.loss.train.getData()[0] if w.loss.train.getData()[0] is not None else []) == 0
    assert w.stateLabel.text() == "ready"


@pytest.mark.wiring
def test_divergence_stops_shows_where_and_reset_recovers(small_window, qtbot):
    w = small_window
    gen = w.last_snapshot.generation
    w.set_config(ExperimentConfig(depth=6, width=64, activation="relu", init="normal", init_gain=4.0, lr=1.0,
                                  epochs=50))
    wait_generation(qtbot, w, gen)
    w.toggle_run()
    qtbot.waitUntil(lambda: w.stateLabel.text() == "diverged", timeout=10000)
    d = w.last_snapshot.divergence
    assert f"epoch {d.epoch}" in w.messageLabel.text() and f"layer {d.layer}" in w.messageLabel.text()
    assert not w.runButton.isEnabled() and not w.stepEpochButton.isEnabled()
    pens = w.gradients.bars.opts["pens"]
    assert pens[d.layer - 1].width() == 3  # the layer where it happened is outlined
    gen = w.last_snapshot.generation
    w.reset()
    wait_generation(qtbot, w, gen)
    assert w.stateLabel.text() == "ready" and w.runButton.isEnabled()
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=5000)


def test_bad_value_gets_a_visible_message_and_changes_nothing(small_window):
    w = small_window
    before = w.config
    w.model.change("depth", 500)
    assert "depth must be an integer from 1 to 300, got 500" in w.messageLabel.text()
    assert w.config == before and w.depthSpin.value() == before.depth


def test_keyboard_shortcuts(small_window, qtbot):
    w = small_window
    with qtbot.waitActive(w):
        w.show()
        w.activateWindow()
    w.depthSpin.setFocus()  # letters typed into a spin box still reach the shortcuts
    qtbot.keyClick(w.depthSpin, Qt.Key_N)
    qtbot.waitUntil(lambda: w.epochLabel.text() == "Epoch 1", timeout=5000)
    qtbot.keyClick(w, Qt.Key_B)
    qtbot.waitUntil(lambda: w.stepEpochButton.isEnabled(), timeout=5000)
    qtbot.waitUntil(lambda: w.stepLabel.text() == f"step {w.last_snapshot.batches_per_epoch + 1}", timeout=5000)
    gen = w.last_snapshot.generation
    qtbot.keyClick(w, Qt.Key_R)
    wait_generation(qtbot, w, gen)
    assert len(w.history) == 0
    qtbot.keyClick(w, Qt.Key_Space)
    assert w.runButton.text() == "Pause"
    qtbot.keyClick(w, Qt.Key_Space)
    qtbot.waitUntil(lambda: w.stateLabel.text() in ("paused", "done"), timeout=5000)


@pytest.mark.wiring
def test_closing_while_running_stops_the_worker_within_a_second(qtbot):
    from gui.app.main_window import MainWindow
    import time
    w = MainWindow()
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    w.set_config(ExperimentConfig(epochs=100000))
    w.toggle_run()
    qtbot.waitUntil(lambda: w.stateLabel.text() == "running", timeout=5000)
    started = time.monotonic()
    w.close()
    assert not w.thread_.isRunning()
    assert time.monotonic() - started < 1.0


@pytest.mark.wiring
def test_snapshots_are_drawn_on_the_gui_thread(small_window, qtbot):
    w = small_window
    assert w.worker.thread() is w.thread_ and w.thread_ is not QThread.currentThread()
    w.step_batch()
    qtbot.waitUntil(lambda: w.stepLabel.text() == "step 1", timeout=5000)


def test_bars_show_the_gradient_at_initialisation_before_any_step(dashboard):
    w = dashboard.replay("small-1-batch", upto=1)   # a new network: its REBUILT snapshot only
    heights = w.gradients.bars.opts["height"]
    assert len(heights) == SMALL.n_weight_layers and np.isfinite(heights).all() and (heights > 0).all()
    assert "before any step" in w.gradientPlot.getPlotItem().getAxis("bottom").labelText


def test_recurrent_settings_show_only_where_they_act(qtbot):
    from core.config import RECURRENT_GROUP
    from gui.app.main_window import MainWindow

    w = MainWindow(ExperimentConfig(depth=2, width=4, samples=40))
    qtbot.addWidget(w)
    w.show()
    box = w.controls.groups[RECURRENT_GROUP]
    assert not box.isVisible() and not w.seqLenSpin.isVisible()        # an MLP on 2-D points
    w.set_config(ExperimentConfig(model="lstm", dataset="recall", seq_len=7, depth=1, width=4, samples=40))
    assert box.isVisible() and w.seqLenSpin.value() == 7
    w.set_config(ExperimentConfig(dataset="recall", seq_len=5, depth=1, width=4, samples=40))
    assert box.isVisible()                                               # an MLP reads the sequence too
    w.shutdown()
