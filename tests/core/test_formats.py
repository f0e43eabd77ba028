"""The format registry (core/io/formats.py): each extension's writer and reader round-trip, each file role takes
its formats and refuses others with the message the command line prints, and the CLI's --out follows it."""
import json
import math

import numpy as np
import pytest

import core.cli as cli
from core import ExperimentConfig
from core.io import formats
from core.io.formats import (CONFIG, CSV, GIF, JSON, JSONL, OUT, PHASE, PLOT, PNG, RECORD, SCREENSHOT, SVG,
                             FormatError)
from core.io.records import experiment_json, load_experiment
from core.training.trainer import Trainer

SMALL = ExperimentConfig(depth=3, width=8, samples=100, batch_size=32, epochs=3)


@pytest.fixture(scope="module")
def history():
    t = Trainer(SMALL)
    t.run()
    assert len(t.history) == 3
    return t.history


def same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-15))


def test_every_extension_is_one_format_with_a_filter():
    assert set(formats.FORMATS) == {".csv", ".jsonl", ".json", ".png", ".svg", ".gif", ".mp4"}
    for ext, fmt in formats.FORMATS.items():
        assert fmt.ext == ext and fmt.filter == f"{fmt.description} (*{ext})"
    assert formats.ending("a/b.PNG") == PNG.ending and formats.ending("x.svg") == b"</svg>"
    assert formats.ending("x.csv") is None


@pytest.mark.parametrize("fmt", [CSV, JSONL])
def test_statistics_round_trip(history, fmt):
    records = formats.read_statistics(formats.write_statistics(history, fmt), fmt)
    assert len(records) == len(history)
    for stats, rec in zip(history, records):
        if fmt is JSONL:
            assert rec == json.loads(json.dumps(stats.to_record()))
        else:
            assert rec["epoch"] == stats.epoch and same(rec["train_loss"], stats.train_loss)
            for i, g in enumerate(stats.grad_norm, 1):
                assert same(rec[f"grad_norm_{i}"], float(g))


def test_experiment_json_round_trips(tmp_path, history):
    path = tmp_path / "e.json"
    assert CONFIG.choose(str(path)) is JSON
    path.write_text(experiment_json(SMALL, history))
    config, back = load_experiment(str(path))
    assert config == SMALL and len(back) == len(history)
    np.testing.assert_array_equal(back.layer("grad_norm"), history.layer("grad_norm"))


def test_gif_round_trips_its_frames():
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, size=(6, 3), dtype=np.uint8)   # few colours: the GIF palette keeps them exactly
    frames = [palette[rng.integers(0, 6, size=(20, 30))] for _ in range(3)]
    back = formats.read_animation(formats.write_animation(frames, GIF, 200))
    assert len(back) == 3
    for a, b in zip(frames, back):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("role, path, fmt", [
    (OUT, "run.csv", CSV), (OUT, "RUN.CSV", CSV), (OUT, "run.jsonl", JSONL), (OUT, "run.txt", JSONL), (OUT, "run", JSONL),
    (RECORD, "a.GIF", GIF), (SCREENSHOT, "s.png", PNG), (PLOT, "p.svg", SVG), (PLOT, "p.jpg", PNG),
    (PHASE, "p.csv", CSV)])
def test_a_role_chooses_by_extension(role, path, fmt):
    assert role.choose(path) is fmt


@pytest.mark.parametrize("role, path, message", [
    (RECORD, "x.avi", "record: the file name must end in .gif or .mp4, got 'x.avi'"),
    (SCREENSHOT, "x.jpg", "screenshot: the file name must end in .png, got 'x.jpg'"),
    (PHASE, "p.txt", "export: the file name must end in .png, .svg or .csv, got 'p.txt'")])
def test_a_role_refuses_other_names_naming_the_field(role, path, message):
    with pytest.raises(FormatError) as e:
        role.choose(path)
    assert str(e.value) == message


def test_dialog_filters_come_from_the_formats():
    assert RECORD.filters() == "GIF animation (*.gif);;MP4 video (*.mp4)"
    assert CONFIG.filters(any_file=True) == "JSON (*.json);;All files (*)"
    assert PLOT.default is PNG


def test_the_cli_writes_out_in_the_format_the_registry_chooses(tmp_path):
    argv = ["--headless", "--depth", "2", "--width", "8", "--samples", "100", "--epochs", "2", "--quiet"]
    outs = {}
    for name in ("run.csv", "run.jsonl", "run.log"):
        assert cli.main(argv + ["--out", str(tmp_path / name)]) == 0
        fmt = OUT.choose(name)
        outs[name] = formats.read_statistics((tmp_path / name).read_text(), fmt)
    assert len(outs["run.csv"]) == len(outs["run.jsonl"]) == 2 and outs["run.log"] == outs["run.jsonl"]
    for row, rec in zip(outs["run.csv"], outs["run.jsonl"]):
        assert same(row["train_loss"], rec["train_loss"]) and row["epoch"] == rec["epoch"]
