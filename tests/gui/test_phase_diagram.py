"""The phase-diagram view on its own: it fills from a real sweep, draws core's theory, picks cells, exports."""
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from core.measure import theory
from core.config import ExperimentConfig
from core.sweep import SWEEP_PRESETS, SerialExecutor, make_plan, measure, metric_grid, run_sweep
from gui.phase_diagram.view import PhaseDiagram, _index, open_phase_diagram

BASE = ExperimentConfig(activation="tanh", init="lecun", bias_std=math.sqrt(0.05), width=8, samples=60,
                        batch_size=16, epochs=1)


@pytest.fixture
def dialog(qtbot):
    picked = []
    d = PhaseDiagram(BASE, on_pick=picked.append, workers=1)
    d.picked = picked
    qtbot.addWidget(d)
    d.show()
    yield d
    d.stop()


def run_and_wait(d, qtbot):
    assert d.start()
    qtbot.waitUntil(lambda: not d.running, timeout=30000)


def test_a_run_fills_every_cell_with_core_numbers(dialog, qtbot):
    dialog.xValues.setText("1:2:3")
    dialog.yValues.setText("2,4")
    dialog.epochsSpin.setValue(0)
    dialog.metricCombo.setCurrentIndex(dialog.metricCombo.findData("grad_gain"))
    run_and_wait(dialog, qtbot)
    assert dialog.status.text() == "Done: 6 of 6 cells."
    shown = dialog.image.image
    assert shown.dtype == np.float32 and shown.shape == (2, 3) and shown.flags.c_contiguous
    cfg = BASE.replace(init_gain=2.0, depth=4)
    assert shown[1, 2] == pytest.approx(math.log10(measure(cfg, init_only=True)["grad_gain"]), rel=1e-6)
    lo, hi = dialog.image.getLevels()
    assert lo == -hi and hi >= np.abs(shown).max()            # symmetric around "keeps its size"
    assert tuple(dialog.colorBar.levels()) == (lo, hi)


def test_a_new_run_clears_the_old_one_and_levels_are_fixed(dialog, qtbot):
    dialog.xValues.setText("1,2")
    dialog.yValues.setText("2,3")
    run_and_wait(dialog, qtbot)
    assert np.isfinite(dialog.image.image).all()
    assert tuple(dialog.image.getLevels()) == (0.0, 1.0)      # accuracy: 0 to 1, whatever the data
    dialog.yValues.setText("2,3,4")
    dialog.stopButton.setEnabled(False)
    dialog.show_plan(dialog.read_plan(), {})                 # what start() shows before the first cell
    assert np.isnan(dialog.image.image).all() and dialog.image.image.shape == (3, 2)


def test_stop_ends_the_thread(dialog, qtbot):
    dialog.xValues.setText("1:2:6")
    dialog.yValues.setText("2:12:6")
    dialog.epochsSpin.setValue(50)  # about 10 s of cells: the stop comes long before the end
    assert dialog.start()
    qtbot.waitUntil(lambda: len(dialog.rows) > 0, timeout=30000)
    dialog.stopButton.click()
    assert not dialog.running and dialog.runButton.isEnabled()
    n = len(dialog.rows)
    assert 0 < n < 36 and dialog.status.text() == f"Stopped: {n} of 36 cells."
    qtbot.wait(100)
    assert len(dialog.rows) == n  # nothing of the stopped run arrives later


def test_bad_axes_show_a_plain_message_and_start_nothing(dialog):
    dialog.xValues.setText("0:2:3")
    assert not dialog.start() and not dialog.running
    assert dialog.status.text() == "sweep: init_gain must be a number greater than 0 and at most 100, got '0'"
    assert dialog.status.textFormat() == Qt.PlainText
    dialog.yField.setCurrentIndex(dialog.yField.findData("init_gain"))
    dialog.xValues.setText("1,2")
    assert not dialog.start()
    assert "the two axes must be different settings" in dialog.status.text()


def test_theory_lines_are_core_boundary_in_cell_coordinates(dialog):
    plan = make_plan(BASE, ["init_gain=" + ",".join(repr(math.sqrt(s)) for s in (1.0, 1.5, 2.0, 2.5)),
                            "depth=10:40:4"], init_only=True)
    dialog.show_plan(plan, {})
    bd = theory.trainability_boundary(BASE, "init_gain", plan.axes[0].values)
    xs, ys = dialog.depthLine.getData()
    assert list(xs) == [0.5, 1.5, 2.5, 3.5]
    # depth 10, 20, 30, 40 sit at cell centres 0.5 .. 3.5: depth d is at 0.5 + (d - 10) / 10
    assert ys == pytest.approx([0.5 + (d - 10) / 10 for d in bd.max_depth])
    assert bd.critical_sigma_w2 == pytest.approx(1.761, abs=1e-3)
    # sigma_w^2 = 1.761 lies between the cells of 1.5 and 2.0
    assert dialog.criticalLine.isVisible()
    assert dialog.criticalLine.value() == pytest.approx(1.5 + (1.761 - 1.5) / 0.5, abs=1e-3)
    assert dialog.plotWidget.getPlotItem().getAxis("bottom").labelText.startswith("σ_w²")
    sigmoid = BASE.replace(activation="sigmoid", bias_std=0.0)
    dialog.show_plan(make_plan(sigmoid, ["init_gain=1,2", "depth=2,4"], init_only=True), {})
    assert not dialog.criticalLine.isVisible()
    assert dialog.legend.getLabel(dialog.criticalLegend).text == "χ₁ = 1 at no σ_w² from 0.01 to 100"
    assert math.isnan(theory.critical_sigma_w2("sigmoid"))
    dialog.show_plan(make_plan(BASE, ["lr=0.1,1", "width=4,8"]), {})
    assert dialog.depthLine.getData()[0] is None or len(dialog.depthLine.getData()[0]) == 0
    assert not dialog.criticalLine.isVisible()


def test_clicking_a_cell_hands_its_config_to_on_pick(dialog, qtbot):
    dialog.show_plan(make_plan(BASE, ["init_gain=1,2,3", "depth=2,4"]), {})
    qtbot.wait(50)
    vb = dialog.plotWidget.getPlotItem().getViewBox()
    scene_pt = vb.mapViewToScene(QPointF(2.5, 0.5))          # the cell init_gain=3, depth=2
    view_pt = dialog.plotWidget.mapFromScene(scene_pt)
    qtbot.mouseClick(dialog.plotWidget.viewport(), Qt.LeftButton, pos=view_pt)
    assert dialog.picked == [BASE.replace(init_gain=3.0, depth=2)]
    assert dialog.pick(5, 0) is None and len(dialog.picked) == 1


def test_exports_and_reading_a_cli_sweep_back(dialog, tmp_path, qtbot):
    plan = make_plan(BASE, ["init_gain=1,2", "depth=2,3"], init_only=True)
    out = tmp_path / "cli.csv"
    run_sweep(plan, str(out), SerialExecutor(), quiet=True)
    assert dialog.load_csv(str(out))
    assert dialog.plan.axes == plan.axes and dialog.plan.init_only
    again = dialog.read_plan()                              # the controls say what is on screen
    assert again.axes == plan.axes and again.init_only
    assert [again.config(v) for v in again.cells()] == [plan.config(v) for v in plan.cells()]
    assert np.array_equal(dialog.image.image, metric_grid(plan, dialog.rows, "val_accuracy"))
    for name in ("p.png", "p.svg", "p.csv"):
        assert dialog.export(str(tmp_path / name)), dialog.status.text()
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "p.svg").read_bytes()
    assert (tmp_path / "p.csv").read_text() == out.read_text()
    assert not dialog.export(str(tmp_path / "missing" / "p.png"))
    assert dialog.status.text().startswith(f"Could not write {tmp_path / 'missing' / 'p.png'}")
    assert not dialog.export(str(tmp_path / "p.txt"))
    assert list(tmp_path.iterdir()) and not any(p.name.startswith(".tmp") for p in tmp_path.iterdir())


def test_open_phase_diagram_closes_cleanly_while_running(qtbot):
    d = open_phase_diagram(None, BASE, on_pick=lambda c: None, workers=1)
    qtbot.addWidget(d)
    d.xValues.setText("1:2:8")
    d.yValues.setText("2:20:8")
    assert d.start()
    qtbot.waitUntil(lambda: len(d.rows) > 0, timeout=30000)
    d.close()
    assert not d.running


def test_index_extrapolates_past_the_ends():
    assert _index([10, 20, 30], 20) == 1.5
    assert _index([10, 20, 30], 50) == 4.5 and _index([10, 20, 30], 0) == -0.5
    assert math.isnan(_index([10, 20], math.inf))


def test_a_picked_cell_loads_into_the_main_window(window, qtbot):
    d = open_phase_diagram(window, BASE, on_pick=window.set_config, workers=1)
    qtbot.addWidget(d)
    d.show_plan(make_plan(BASE, ["init_gain=1,2", "depth=2,5"]), {})
    picked = d.pick(1, 1)
    assert picked == BASE.replace(init_gain=2.0, depth=5)
    assert window.config == picked and window.depthSpin.value() == 5
    d.close()


def test_diverged_cells_are_marked_and_a_zero_gain_is_not_blank(dialog):
    plan = make_plan(BASE, ["init_gain=1,2", "depth=2,3"], init_only=True)
    rows = {}
    for n, key in enumerate(plan.cells()):  # (1, 2), (1, 3), (2, 2), (2, 3)
        values = dict(zip(plan.fixed, plan.fixed_text()), init_gain=repr(key[0]), depth=str(key[1]),
                      train_loss="", val_loss="", val_accuracy="0.5", diverged=str(int(n == 3)), epoch_reached="0",
                      grad_gain="0.0" if n == 0 else "1.5")
        rows[key] = [values[h] for h in plan.header]
    dialog.metricCombo.setCurrentIndex(dialog.metricCombo.findData("grad_gain"))
    dialog.show_plan(plan, rows)
    x, y = dialog.divergedMarks.getData()
    assert list(x) == [1.5] and list(y) == [1.5]            # the cell init_gain=2, depth=3
    lo, hi = dialog.image.getLevels()
    assert dialog.image.image[0, 0] == lo and np.isfinite(dialog.image.image).all()


def test_the_papers_grid_fills_the_controls(dialog):
    dialog.presetButton.click()
    plan = dialog.read_plan()
    assert plan == SWEEP_PRESETS["deep-information-propagation"].plan()
    assert dialog.status.text().startswith("deep-information-propagation: 195 cells; press Run.")


def test_a_failing_cell_ends_the_run_with_a_message(dialog, qtbot, monkeypatch):
    import core.sweep.cells

    def broken(config, init_only=False):
        raise FloatingPointError("overflow in a test")
    monkeypatch.setattr(core.sweep.cells, "measure", broken)
    dialog.xValues.setText("1,2")
    dialog.yValues.setText("2,3")
    run_and_wait(dialog, qtbot)
    assert dialog.status.text() == "The sweep failed: FloatingPointError: overflow in a test"
    assert dialog.runButton.isEnabled() and not dialog.rows


def test_the_view_menu_opens_the_phase_diagram_around_the_windows_config(window, qtbot):
    window.phaseDiagramAction.trigger()
    d = window.findChild(PhaseDiagram)  # a child of the window: closed (and deleted) with it
    assert d is not None and d.isVisible()
    d.show_plan(make_plan(window.config, ["init_gain=1,2", "depth=2,5"]), {})
    picked = d.pick(0, 1)  # the cell's config comes back into the window
    assert window.config == picked and window.depthSpin.value() == picked.depth
    d.close()
