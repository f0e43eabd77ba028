import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import ConfigError, ExperimentConfig, Trainer
from core.cli import main
from core.io.records import history_csv, load_experiment, save_experiment, write_atomically

ROOT = Path(__file__).resolve().parents[2]


def trained(epochs=3, **kw):
    t = Trainer(ExperimentConfig(**{"depth": 3, "width": 8, "samples": 120, **kw}))
    t.run(epochs)
    return t


def test_experiment_round_trip_with_history(tmp_path):
    t = trained()
    path = tmp_path / "run.json"
    save_experiment(str(path), t.config, t.history)
    config, history = load_experiment(str(path))
    assert config == t.config and len(history) == 3
    for k in ("grad_norm", "update_ratio", "saturation"):
        np.testing.assert_array_equal(history.layer(k), t.history.layer(k))
    assert history[-1].to_record() == t.history[-1].to_record()
    assert json.loads(path.read_text())["format"] == "gradient-flow-experiment"


def test_nonfinite_values_survive_as_null(tmp_path):
    t = Trainer(ExperimentConfig(depth=6, width=64, activation="relu", init="normal", init_gain=4.0, lr=1.0))
    t.run(5)
    assert t.diverged
    path = tmp_path / "div.json"
    save_experiment(str(path), t.config, t.history)
    assert "NaN" not in path.read_text() and "null" in path.read_text()
    _, h = load_experiment(str(path))
    assert np.isnan(h.layer("grad_norm")[-1]).any()


def test_a_plain_config_file_opens_too(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"depth": 4}))
    config, history = load_experiment(str(path))
    assert config.depth == 4 and history is None


@pytest.mark.parametrize("content,field", [
    ("{", "file"), ('{"format": "gradient-flow-experiment", "config": {"depth": 0}}', "depth"),
    ('{"format": "gradient-flow-experiment", "config": {}, "history": {"epoch": [1], "layers": {}}}', "history"),
])
def test_bad_experiment_files_name_the_problem(tmp_path, content, field):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_experiment(str(path))
    assert info.value.field == field


def test_csv_has_one_row_per_epoch_with_per_layer_columns():
    t = trained(epochs=4, dataset="sine")
    rows = list(csv.reader(io.StringIO(history_csv(t.history))))
    assert rows[0] == (["epoch", "step", "train_loss", "val_loss", "val_accuracy"]
                       + [f"grad_norm_{i}" for i in (1, 2, 3, 4)] + [f"update_ratio_{i}" for i in (1, 2, 3, 4)])
    assert len(rows) == 5 and [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert rows[1][4] == ""  # regression: no accuracy
    assert float(rows[2][5]) == t.history[1].grad_norm[0]


def test_cli_writes_csv_when_the_name_ends_in_csv(tmp_path, capsys):
    out = tmp_path / "stats.csv"
    assert main(["--headless", "--depth", "2", "--samples", "100", "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0][:5] == ["epoch", "step", "train_loss", "val_loss", "val_accuracy"] and len(rows) == 4


def test_save_config_reads_back_to_the_identical_run(tmp_path):
    cfg_path, a, b = tmp_path / "cfg.json", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    py = [sys.executable, "main.py"]
    subprocess.run(py + ["--headless", "--preset", "relu-fix", "--epochs", "3", "--seed", "5",
                         "--save-config", str(cfg_path), "--out", str(a), "--quiet"], cwd=ROOT, check=True)
    saved = json.loads(cfg_path.read_text())  # the same versioned format as the window's "Save config only"
    assert saved["format"] == "gradient-flow-experiment" and saved["version"] == 1 and saved["config"]["seed"] == 5
    subprocess.run(py + ["--headless", "--config", str(cfg_path), "--out", str(b), "--quiet"], cwd=ROOT, check=True)
    assert a.read_bytes() == b.read_bytes()
    # without --headless, --save-config only writes the config
    only = tmp_path / "only.json"
    p = subprocess.run(py + ["--depth", "7", "--save-config", str(only)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(only.read_text())["config"]["depth"] == 7


def test_atomic_write_keeps_mode_and_never_truncates(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomically(str(path), "new")
    assert path.read_text() == "new" and (path.stat().st_mode & 0o777) == 0o640

    def fail(*a):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError) as info:
        write_atomically(str(path), "newer")
    assert info.value.filename == str(path)
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_screenshot_runs_in_the_window_and_saves_a_png(tmp_path):
    shot = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "main.py", "--preset", "relu-fix", "--epochs", "2", "--screenshot", str(shot)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000


def test_screenshot_bad_name_is_bad_input():
    p = subprocess.run([sys.executable, "main.py", "--screenshot", "/tmp/x.jpg"], cwd=ROOT, capture_output=True,
                       text=True)
    assert p.returncode == 2 and "screenshot" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_screenshot_with_compare_and_theory(tmp_path):
    shot = tmp_path / "ab.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "main.py", "--preset", "vanishing-sigmoid", "--epochs", "2", "--theory",
                        "--compare", "activation=relu", "--screenshot", str(shot)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# Exporters that fail without raising: tests/core/test_fileio.py (write_with).
