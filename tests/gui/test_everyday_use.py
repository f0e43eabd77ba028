import csv
import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from core.io.records import load_experiment

from .conftest import SMALL, rebuilt_with_config


def epochs(qtbot, w, n):
    for _ in range(n):
        k = len(w.history)
        w.step_epoch()
        qtbot.waitUntil(lambda: len(w.history) == k + 1, timeout=5000)


def test_save_and_open_an_experiment_replays_it(small_window, qtbot, tmp_path):
    w = small_window
    epochs(qtbot, w, 3)
    path = tmp_path / "exp.json"
    assert w.save_experiment(str(path))
    config, history = load_experiment(str(path))
    assert config == SMALL and len(history) == 3
    gen = w.last_snapshot.generation
    w.reset()
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen and len(w.history) == 0, timeout=5000)
    assert w.open_experiment(str(path))
    qtbot.waitUntil(lambda: "identical to the recorded history" in w.messageLabel.text(), timeout=10000)
    assert len(w.history) == 3 and w.last_snapshot.epoch == 3
    np.testing.assert_array_equal(w.history.layer("grad_norm"), history.layer("grad_norm"))
    assert len(w.loss.train.getData()[0]) == 3


def test_open_reports_an_edited_recording(small_window, qtbot, tmp_path):
    w = small_window
    epochs(qtbot, w, 2)
    path = tmp_path / "exp.json"
    w.save_experiment(str(path))
    doc = json.loads(path.read_text())
    doc["history"]["train_loss"][1] = 123.0
    path.write_text(json.dumps(doc))
    w.open_experiment(str(path))
    qtbot.waitUntil(lambda: "differ from the recorded history" in w.messageLabel.text(), timeout=10000)


@pytest.mark.parametrize("content,expected", [
    ('{"depth": 500}', "depth must be an integer from 1 to 300, got 500"),
    ('{"depth": "ten"}', "depth must be an integer from 1 to 300, got 'ten'"),
    ('{"detph": 3}', "unknown config field 'detph'"),
    ('{"depth": 3,', "is not valid JSON"),
    ('[1, 2]', "config must be a JSON object"),
    ('{"format": "gradient-flow-experiment", "config": {}, "history": {"epoch": [1]}}', "history: malformed"),
])
def test_opening_a_bad_file_shows_a_message_and_keeps_the_run(shared_window, qtbot, tmp_path, content, expected):
    """The six files refused by one window (the module's shared one, training SMALL): none may change its run."""
    w = shared_window
    if w.config != SMALL:
        rebuilt_with_config(w, qtbot, SMALL)
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = w.config
    assert not w.open_experiment(str(path))
    assert f"Could not open {path}" in w.messageLabel.text() and expected in w.messageLabel.text()
    assert w.config == before


def test_export_csv_plots_and_screenshot(small_window, qtbot, tmp_path):
    w = small_window
    epochs(qtbot, w, 2)
    assert w.export_csv(str(tmp_path / "s.csv"))
    rows = list(csv.reader((tmp_path / "s.csv").open()))
    assert len(rows) == 3 and rows[0][5] == "grad_norm_1"
    assert w.export_plot("gradientPlot", str(tmp_path / "bars.png"))
    assert (tmp_path / "bars.png").read_bytes()[:4] == b"\x89PNG"
    assert w.export_plot("lossPlot", str(tmp_path / "loss.svg"))
    assert "<svg" in (tmp_path / "loss.svg").read_text()
    assert w.save_screenshot(str(tmp_path / "win.png"))
    assert (tmp_path / "win.png").stat().st_size > 10000
    assert not w.export_csv(str(tmp_path / "missing" / "s.csv"))
    assert "Could not write" in w.messageLabel.text()


def test_settings_persist_geometry_theme_and_config(qtbot, tmp_path):
    from gui.app.main_window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    w = MainWindow(SMALL, settings)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    w.set_theme("dark")
    w.resize(790, 500)  # within the offscreen screen, which a restore clamps to
    w.show()            # laid out at that size: the plots need ~370 px (three per row)
    qtbot.waitExposed(w)
    w.splitter.setSizes([380, 410])
    w.set_config(SMALL.replace(depth=5))
    w.close()
    settings2 = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    assert MainWindow.config_from_settings(settings2) == SMALL.replace(depth=5)
    w2 = MainWindow(MainWindow.config_from_settings(settings2), settings2)
    qtbot.addWidget(w2)
    assert w2.theme_name == "dark" and w2.theme_mode == "dark"
    assert (w2.size().width(), w2.size().height()) == (790, 500) and w2.depthSpin.value() == 5
    assert abs(w2.splitter.sizes()[0] - 380) <= 10
    w2.set_theme("light")
    assert w2.theme_mode == "light"
    w2.shutdown()


def test_help_panel_and_progress_bar(small_window, qtbot):
    w = small_window
    w.show_help()
    text = w.helpView.toPlainText()
    assert "w_new = w_old − lr · dL/dw_old" in text and "0.1 · 0.1 · 0.1 · 0.1 = 0.0001" in text
    assert "0.25" in text and "10 · 10 · 10 · 10 = 10000" in text
    w.set_config(SMALL.replace(epochs=2000))
    w.toggle_run()
    qtbot.waitUntil(lambda: not w.progressBar.isHidden() and w.progressBar.value() >= 1, timeout=10000)
    assert w.progressBar.maximum() == 2000
    w.toggle_run()
    qtbot.waitUntil(lambda: w.progressBar.isHidden(), timeout=5000)


def test_menus_have_the_standard_shortcuts(window):
    shortcuts = {a.shortcut().toString() for m in window.menuBar().actions() for a in m.menu().actions()}
    assert {"Ctrl+O", "Ctrl+S", "Ctrl+E", "Ctrl+Q", "F1"} <= shortcuts


def test_every_control_is_reachable_with_tab(small_window, qtbot):
    w = small_window
    with qtbot.waitActive(w):
        w.show()
        w.activateWindow()
    w.depthSpin.setFocus()
    seen = set()
    for _ in range(200):
        widget = w.focusWidget()
        if widget is not None:
            seen.add(widget.objectName() or (widget.parent().objectName() if widget.parent() else ""))
        w.focusNextChild()
    controls = {"depthSpin", "widthSpin", "activationCombo", "initCombo", "initGainSpin", "residualCheck",
                "datasetCombo", "optimizerCombo", "lrSlider", "lrSpin", "batchSpin", "epochsSpin", "seedSpin",
                "clipCheck", "stepBatchButton", "stepEpochButton", "runButton", "resetButton", "presetCombo",
                "theoryCheck", "compareFieldCombo", "compareValueEdit", "compareButton", "lossLogCheck"}
    assert controls - seen == set()


def test_an_exporter_that_fails_silently_leaves_the_old_file_and_says_so(small_window, tmp_path, monkeypatch):
    import gui.files.actions
    w = small_window
    path = tmp_path / "bars.png"
    path.write_bytes(b"old")
    monkeypatch.setattr(gui.files.actions, "render_png", lambda widget, tmp, scale=1: False)   # as pyqtgraph's may
    assert not w.export_plot("gradientPlot", str(path))
    assert path.read_bytes() == b"old" and "Could not write" in w.messageLabel.text()
    assert not w.export_plot("noSuchPlot", str(path)) and "no plot named 'noSuchPlot'" in w.messageLabel.text()
