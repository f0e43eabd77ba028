"""The window under faults and impatient hands."""
import random
import time

import numpy as np
import pytest

from core import OPTIMIZERS, ExperimentConfig
from core.training.history import StepHistory

from .conftest import SMALL, rebuilt_with_config

OVERFLOWING = ExperimentConfig(depth=60, width=256, samples=50, activation="linear", init="normal", init_gain=100.0,
                               dataset="sine", epochs=5)


# Not a wiring test: each optimizer's overflow is the trainer's numbers; a divergence and the reset after it
# crossing to a trainer process are test_main_window.py's test_divergence_stops_shows_where_and_reset_recovers.
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_divergence_under_every_optimizer_is_shown_and_reset_recovers(shared_window, qtbot, optimizer):
    """The optimizers in turn in one window (conftest.shared_window), on SMALL as small_window's and its message
    line emptied first as a new window's is: the divergence's message must be this test's own."""
    w = shared_window
    if w.config.replace(optimizer=SMALL.optimizer) != SMALL:   # the test before ends on SMALL with its optimizer,
        rebuilt_with_config(w, qtbot, SMALL)                    # unless it failed half-way
    w.show_message("")
    gen = w.last_snapshot.generation
    w.set_config(OVERFLOWING.replace(optimizer=optimizer))
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    w.step_epoch()
    qtbot.waitUntil(lambda: w.stateLabel.text() == "diverged", timeout=10000)
    assert "Diverged at epoch 1, step 1" in w.messageLabel.text()
    gen = w.last_snapshot.generation
    w.set_config(SMALL.replace(optimizer=optimizer))
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=10000)
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1 and w.stateLabel.text() != "diverged", timeout=10000)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 0.0, 1e300, 1e-300])
def test_every_plot_draws_nonfinite_and_extreme_values(dashboard, bad):
    w = dashboard.replay("small-1-batch", upto=1)   # a new network, as a new window shows it
    values = np.array([1e-3, bad, 1.0, bad])
    w.gradients.update(values, marked_layer=2, caption="test", values_b=values[::-1])
    w.gradients.show_theory(values, True)
    w.updates.update(values, values)
    w.loss.set_log(True)
    w.loss.update(np.arange(1, 5), values, values, (np.arange(1, 5), values, values))
    w.loss.set_log(False)
    w.loss.update(np.arange(1, 5), values, values)
    w.heatmap.update(np.tile(values, (3, 1)))
    w.boundary.update((np.linspace(0, 1, 4), np.linspace(0, 1, 4), np.tile(values, (4, 1))))
    w.boundary.update((np.linspace(0, 1, 4), None, values))
    steps = StepHistory(4, keep_deltas=False)
    steps.extend({"step": np.arange(1.0, 5.0), "loss": values, "grad_norm_total": values[::-1],
                  "clipped": np.array([True, False, True, False])})
    w.timeline.update(steps)
    w.grab()  # paint everything once
    for plot in (w.gradientPlot, w.lossPlot, w.heatmapPlot, w.updatePlot, w.timelinePlot):
        (x0, x1), (y0, y1) = plot.getPlotItem().viewRange()
        assert np.isfinite([x0, x1, y0, y1]).all(), plot.objectName()


@pytest.mark.wiring
def test_a_thousand_random_actions_while_training(small_window, qtbot):
    w = small_window
    rng = random.Random(1234)
    spins = {w.depthSpin: (1, 6), w.widthSpin: (1, 24), w.batchSpin: (1, 64), w.seedSpin: (0, 50),
             w.epochsSpin: (1, 400)}
    dspins = {w.lrSpin: (1e-5, 10.0), w.initGainSpin: (0.01, 5.0), w.clipSpin: (0.001, 100.0)}
    combos = [w.activationCombo, w.initCombo, w.optimizerCombo, w.datasetCombo, w.compareFieldCombo]
    checks = [w.residualCheck, w.clipCheck, w.theoryCheck, w.lossLogCheck]
    buttons = [w.stepBatchButton, w.stepEpochButton, w.runButton, w.resetButton, w.runButton, w.runButton]
    values = ["relu", "tanh", "0.01", "he", "3", "bogus", "", "1e9"]
    w.set_config(SMALL.replace(samples=120, epochs=400))
    w.toggle_run()
    for i in range(1000):
        kind = rng.random()
        if kind < 0.3:
            rng.choice(buttons).click()
        elif kind < 0.45:
            spin, (lo, hi) = rng.choice(list(spins.items()))
            spin.setValue(rng.randint(lo, hi))
        elif kind < 0.55:
            spin, (lo, hi) = rng.choice(list(dspins.items()))
            spin.setValue(10 ** rng.uniform(np.log10(lo), np.log10(hi)))
        elif kind < 0.7:
            combo = rng.choice(combos)
            combo.setCurrentIndex(rng.randrange(combo.count()))
        elif kind < 0.8:
            rng.choice(checks).toggle()
        elif kind < 0.85:
            w.lrSlider.setValue(rng.randint(-50, 10))
        elif kind < 0.9:
            w.compareValueEdit.setText(rng.choice(values))
            w.compareButton.click()
        elif kind < 0.93:
            w.presetCombo.setCurrentIndex(rng.randrange(w.presetCombo.count()))
            # keep the run small enough for a unit test (a transformer story's step costs far more than an MLP's
            # of the same depth: 12 blocks of attention, or 100 positions)
            if w.config.width > 64 or w.config.depth > 12 or w.config.model == "transformer":
                w.set_config(SMALL)
        else:
            qtbot.wait(rng.randint(1, 15))
        if i % 50 == 0:
            qtbot.wait(5)
    # Still alive and answering: a fresh small run steps and draws.
    if w.compareButton.isChecked():
        w.compareButton.click()
    if w.state == "running":
        w.toggle_run()
    w.set_config(SMALL.replace(seed=77))
    # commands queued by the random actions are worked off first, in order
    qtbot.waitUntil(lambda: w.last_snapshot.config == w.config and w.last_snapshot.kind == "rebuilt", timeout=30000)
    qtbot.waitUntil(lambda: w.stepEpochButton.isEnabled(), timeout=20000)
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=20000)
    assert w.last_snapshot.config == w.config


@pytest.mark.thread_only("counts the trainers built by patching core.training.session in this process")
def test_a_burst_of_rebuilds_builds_only_the_last_network(small_window, qtbot, monkeypatch):
    w = small_window
    built = []
    import core.training.session as worker_module  # where the session builds its trainers
    real = worker_module.Trainer

    def counting(config, data=None):  # a slow build, as a big network's would be
        built.append(config.depth)
        time.sleep(0.05)
        return real(config, data)
    monkeypatch.setattr(worker_module, "Trainer", counting)
    for depth in range(2, 12):  # ten rebuilds posted faster than one is built
        w.depthSpin.setValue(depth)
    qtbot.waitUntil(lambda: w.last_snapshot.config.depth == 11, timeout=10000)
    assert built[-1] == 11 and len(built) <= 3  # the first, perhaps one more, then only the last


def test_a_network_too_large_for_memory_is_refused_visibly(small_window, monkeypatch):
    import core.runtime.resources
    monkeypatch.setattr(core.runtime.resources, "available_memory", lambda: 64 * 2**20)  # a 64 MiB machine
    w = small_window
    before = w.config
    w.widthSpin.setValue(1024)
    assert "width: this network needs about" in w.messageLabel.text()
    assert w.config == before and w.widthSpin.value() == before.width
