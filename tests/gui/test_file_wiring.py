"""The File menu's wiring (issues 13 and 16): refused files show a plain-text dialog and the window keeps working,
the settings restore survives a hostile stored value, "Save config only" is what --config reads, File > Open data
trains on a CSV file held by the session, and File > Record writes an animation.

Driven through the menus' QActions (the file dialogs answered by monkeypatching QFileDialog), the run/step
QActions and the session model's signals."""
import json
import os
import random

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox, QTextBrowser, QWidget

from core import ExperimentConfig
from core.cli import build_parser, config_from_args
from core.stories.presets import get_preset
from core.io.records import experiment_json, load_experiment
from core.data.userdata import data_from_args

from .conftest import SMALL

TINY = ExperimentConfig(depth=2, width=4, samples=64, batch_size=32, epochs=2, seed=3)


def menu_action(window, text):
    """The File/View/Help menu's QAction whose text (without '&') is ``text``."""
    for top in window.menuBar().actions():
        stack = [top.menu()]
        while stack:
            for a in stack.pop().actions():
                if a.menu() is not None:
                    stack.append(a.menu())
                elif a.text().replace("&", "") == text:
                    return a
    raise LookupError(text)


def choose(monkeypatch, path, save=False):
    """The next file dialog answers ``path``."""
    name = "getSaveFileName" if save else "getOpenFileName"
    monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: (str(path), "")))


def rebuilt_after(window, qtbot, trigger):
    """The REBUILT snapshot the session model signals after ``trigger()``."""
    with qtbot.waitSignal(window.model.rebuilt, timeout=10000) as blocker:
        trigger()
    return blocker.args[0]


def dialog(window):
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[0] if boxes else None


def step_epoch(window, qtbot):
    before = len(window.history)
    with qtbot.waitSignal(window.model.epochsAdded, timeout=10000):
        window.model.actions["stepEpochButton"].trigger()
    assert len(window.history) == before + 1


def write_csv(path, X, y, header="a,b,label"):
    np.savetxt(path, np.c_[X, y], delimiter=",", header=header, comments="", fmt="%.17g")
    return str(path)


def three_classes(path, header="a,b,label"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    return write_csv(path, X, np.digitize(X[:, 0], [-0.4, 0.4]) + 1, header)   # labels 1, 2, 3


# -- issue 13: refused files --------------------------------------------------------------
def test_a_refused_file_shows_a_plain_text_dialog_and_the_window_trains_on(small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    choose(monkeypatch, deep)
    menu_action(w, "Open experiment…").trigger()
    box = dialog(w)
    assert box is not None and box.textFormat() == Qt.PlainText
    assert "nests arrays or objects more than" in box.text() and str(deep) in box.text()
    assert w.messageLabel.text() == box.text() and w.config == SMALL
    box.close()
    step_epoch(w, qtbot)


def mutations(base: bytes, rng: random.Random):
    """Seeded hostile variants of a valid experiment file: random bytes, cuts, flipped bytes, other
    encodings, and JSON with values replaced by wrong types, huge numbers, deep nesting or markup."""
    doc = json.loads(base)
    odd = [None, True, "", "<b>x</b>", "<img src='/dev/zero'>", 10 ** 40, -1, 1e308, [], {}, [[[[1]]]], "NaN",
           "x" * 5000, 2 ** 53 + 1, 0.5]
    kinds = ("bytes", "cut", "flip", "utf16", "value", "history", "deep", "token", "dup")
    for i in range(300):
        kind = kinds[i % len(kinds)]
        if kind == "bytes":
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        elif kind == "cut":
            yield base[:rng.randrange(len(base))]
        elif kind == "flip":
            b = bytearray(base)
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            yield bytes(b)
        elif kind == "utf16":
            yield base.decode().encode(rng.choice(["utf-16", "utf-32", "latin-1", "utf-16-be"]))
        elif kind == "value":
            d = json.loads(base)
            d["config"][rng.choice(list(d["config"]))] = rng.choice(odd)
            yield json.dumps(d).encode()
        elif kind == "history":
            d = json.loads(base)
            h = d["history"]
            key = rng.choice(list(h))
            h[key] = rng.choice(odd) if rng.random() < 0.5 else [rng.choice(odd)] * len(doc["history"]["epoch"])
            yield json.dumps(d).encode()
        elif kind == "deep":
            n = rng.choice([33, 1000, 100_000])
            yield ('{"config": ' + "[" * n + "]" * n + "}").encode()
        elif kind == "token":
            yield base.replace(b"0.", rng.choice([b"1e400", b"NaN", b"Infinity", b"9" * 5000 + b"."]), 1)
        else:
            yield base.replace(b'"config": {', b'"config": {"depth": 2, ', 1)


def test_fuzz_open_through_the_menu_no_exception_escapes_and_the_window_still_trains(
        small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    good = tmp_path / "good.json"
    from core.training.trainer import Trainer
    t = Trainer(TINY)
    t.step_epoch()
    t.step_epoch()
    good.write_text(experiment_json(TINY, t.history))
    base = good.read_bytes()
    path = tmp_path / "fuzz.json"
    choose(monkeypatch, path)
    refused = opened = 0
    for data in mutations(base, random.Random(13)):
        path.write_bytes(data)
        box = dialog(w)
        if box is not None:
            box.close()
        menu_action(w, "Open experiment…").trigger()   # an exception in the slot fails the test (pytest-qt)
        box = dialog(w)
        if box is not None:
            assert box.text().startswith(f"Could not open {path}: ") and box.textFormat() == Qt.PlainText
            assert len(box.text()) < 2000   # long values are shortened
            refused += 1
        else:
            assert w.messageLabel.text().startswith(f"Opened {path}")
            opened += 1
        qtbot.wait(1)
    print("fuzz: refused", refused, "opened", opened)
    assert refused > 200 and opened > 0, (refused, opened)   # mostly refused; some mutations are still valid
    dialog(w) and dialog(w).close()
    choose(monkeypatch, good)
    menu_action(w, "Open experiment…").trigger()
    # rebuilds posted by the fuzz may still arrive: wait for the one of the good file
    qtbot.waitUntil(lambda: w.last_snapshot.config == TINY and w.config == TINY, timeout=10000)
    qtbot.waitUntil(lambda: "identical to the recorded history" in w.messageLabel.text(), timeout=10000)
    w.set_config(TINY.replace(epochs=3))
    step_epoch(w, qtbot)


MARK = "MARKUP"


def test_every_label_showing_file_path_or_config_text_is_plain(small_window, qtbot, monkeypatch, tmp_path):
    """HTML in a folder name, config values, a data file's header and cells, and the data path an experiment
    names: every QLabel that shows it is plain text, no rich-text view or tooltip holds it as markup."""
    w = small_window
    folder = tmp_path / f"<b>{MARK}folder<br><img src=x>"   # no "/" in a name
    folder.mkdir()
    bad_config = folder / "config.json"
    bad_config.write_text(json.dumps({"activation": f"<img src='{MARK}1'>", "init": f"<i>{MARK}2</i>"}))
    bad_data_ref = folder / "exp.json"
    bad_data_ref.write_text(json.dumps({"format": "gradient-flow-experiment", "version": 1, "config": {"depth": 2},
                                        "data": {"path": f"<img src='{MARK}3'>.csv", "sha256": "00"}}))
    bad_cells = folder / "cells.csv"
    bad_cells.write_text(f"<u>{MARK}4</u>,b,label\n1,2,0\n<img src='{MARK}5'>,3,1\n")
    good_data = three_classes(folder / "good.csv", header=f"<img src='{MARK}6'>,<b>{MARK}7</b>,label")
    texts = []

    def collect():
        for label in w.findChildren(QLabel):
            if MARK in label.text():
                assert label.textFormat() == Qt.PlainText, (label.objectName(), label.text())
                texts.append(label.text())
        for view in w.findChildren(QTextBrowser):
            assert MARK not in view.toHtml().replace("&lt;", "")   # only escaped, if at all
        for widget in w.findChildren(QWidget):
            assert MARK not in widget.toolTip(), widget.objectName()
        assert MARK not in w.windowTitle()

    for path, item in ((bad_config, "Open experiment…"), (bad_data_ref, "Open experiment…"),
                       (bad_cells, "Open data…")):
        choose(monkeypatch, path)
        menu_action(w, item).trigger()
        assert dialog(w) is not None
        collect()
        dialog(w).close()
    choose(monkeypatch, good_data)
    rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    collect()
    shown = "\n".join(texts)
    for i in (1, 3, 4, 5, 6, 7):   # (2: the message names the first bad field only)
        assert f"{MARK}{i}" in shown, i   # each hostile piece was shown somewhere, as plain text
    assert w.findChild(QLabel, "boundaryLabel").text() == f"Data: the file good.csv. Axes: <img src='{MARK}6'> vs " \
                                                          f"<b>{MARK}7</b>"


# -- issue 13: settings and "Save config only" ---------------------------------------------
@pytest.mark.parametrize("stored, why", [("[" * 100_000 + "]" * 100_000, "nests arrays or objects"),
                                         ('{"depth": 1e400}', "beyond the range of a float"),
                                         ("not json", "not valid JSON"),
                                         ('{"depth": "<b>deep</b>"}', "depth"),
                                         ('[1, 2]', "not a JSON object")])
def test_a_hostile_stored_config_falls_back_to_defaults_with_a_visible_message(qtbot, tmp_path, stored, why):
    from gui.app.main_window import MainWindow
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    settings.setValue("experiment/config", stored)
    problems = []
    assert MainWindow.config_from_settings(settings, problems) is None and why in problems[0]
    w = MainWindow.from_settings(settings, SMALL)
    qtbot.addWidget(w)
    try:
        assert w.config == SMALL
        text = w.messageLabel.text()
        assert "could not be restored" in text and why in text and "default settings" in text
        assert w.messageLabel.textFormat() == Qt.PlainText
    finally:
        assert w.shutdown()


def test_save_config_only_is_what_the_command_line_reads(small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    cfg = SMALL.replace(activation="relu", lr=0.003, seed=4294967295, init_gain=0.001, depth=7)
    rebuilt_after(w, qtbot, lambda: w.set_config(cfg))
    step_epoch(w, qtbot)   # a history exists, and is not saved
    path = tmp_path / "saved.json"
    choose(monkeypatch, path, save=True)
    menu_action(w, "Save config only…").trigger()
    doc = json.loads(path.read_text())
    assert doc["format"] == "gradient-flow-experiment" and doc["version"] == 1 and "history" not in doc
    args = build_parser().parse_args(["--headless", "--config", str(path)])
    assert config_from_args(args) == w.config == cfg
    assert load_experiment(str(path)) == (cfg, None)


# -- issue 16: own data --------------------------------------------------------------------
def test_open_data_trains_on_the_file_and_the_experiment_keeps_and_checks_it(small_window, qtbot, monkeypatch,
                                                                             tmp_path):
    w = small_window
    csv = three_classes(tmp_path / "three.csv")
    choose(monkeypatch, csv)
    snap = rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    assert snap.data_source["path"] == os.path.abspath(csv) and w.model.data_source == snap.data_source
    assert snap.class_names == ("1", "2", "3") and len(snap.data[0]) == 90
    assert w.findChild(QLabel, "boundaryLabel").text() == "Data: the file three.csv. Axes: a vs b"
    legend = [w.findChild(QLabel, f"classLegend{c}") for c in range(3)]
    assert [l.text() for l in legend] == ["class 1", "class 2", "class 3"]
    assert w.findChild(QLabel, "classLegend3") is None or w.findChild(QLabel, "classLegend3").isHidden()
    assert "90 rows, 2 features, 3 classes" in w.messageLabel.text()
    step_epoch(w, qtbot)
    assert 0 <= w.history[-1].val_accuracy <= 1   # classification: accuracy measured
    # the data stays through a rebuild of the network
    snap = rebuilt_after(w, qtbot, lambda: w.depthSpin.setValue(2))
    assert snap.data_source == w.model.data_source and len(snap.data[0]) == 90
    step_epoch(w, qtbot)
    saved = tmp_path / "exp.json"
    choose(monkeypatch, saved, save=True)
    menu_action(w, "Save experiment…").trigger()
    doc = json.loads(saved.read_text())
    assert doc["data"] == snap.data_source and len(doc["history"]["epoch"]) == 1
    # --config reads the experiment's data the same way
    args = build_parser().parse_args(["--headless", "--config", str(saved)])
    assert data_from_args(args, config_from_args(args)).source == snap.data_source
    # opening it replays on the same data, identical
    w.set_config(SMALL.replace(dataset="xor"))   # a built-in data set: the file is left
    qtbot.waitUntil(lambda: w.model.data_source is None, timeout=10000)
    choose(monkeypatch, saved)
    snap = rebuilt_after(w, qtbot, menu_action(w, "Open experiment…").trigger)
    assert snap.data_source == doc["data"]
    qtbot.waitUntil(lambda: "identical to the recorded history" in w.messageLabel.text(), timeout=10000)
    # the data file changed since: refused with a dialog, nothing changes
    with open(csv, "a") as fh:
        fh.write("0,0,1\n")
    gen, config = w.last_snapshot.generation, w.config
    menu_action(w, "Open experiment…").trigger()
    assert "has changed since the experiment was saved" in dialog(w).text()
    qtbot.wait(50)
    assert w.last_snapshot.generation == gen and w.config == config


def test_a_malformed_data_file_is_refused_naming_line_and_column_nothing_loaded(small_window, qtbot, monkeypatch,
                                                                                tmp_path):
    w = small_window
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,label\n0.1,0.2,0\n0.3,oops,1\n0.5,0.6,1\n")
    gen = w.last_snapshot.generation
    choose(monkeypatch, bad)
    menu_action(w, "Open data…").trigger()
    text = dialog(w).text()
    assert "line 3, column 2 ('y'): 'oops' is not a number" in text and dialog(w).textFormat() == Qt.PlainText
    qtbot.wait(50)
    assert w.last_snapshot.generation == gen and w.model.data_source is None and w.config == SMALL
    dialog(w).close()
    step_epoch(w, qtbot)


def test_choosing_a_built_in_data_set_leaves_the_data_file(small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    choose(monkeypatch, three_classes(tmp_path / "three.csv"))
    rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    assert w.model.data_source is not None
    snap = rebuilt_after(w, qtbot, lambda: w.set_config(w.config.replace(dataset="xor")))
    assert snap.data_source is None and w.model.data_source is None and snap.class_names == ("0", "1")
    assert w.findChild(QLabel, "boundaryLabel").text() == "Data: xor (built in). Axes: x1 vs x2"


def test_file_record_writes_an_animation_one_frame_per_epoch(small_window, qtbot, monkeypatch, tmp_path):
    from PIL import Image
    w = small_window
    step_epoch(w, qtbot)   # not at initialisation: the recording starts from the seed again
    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: (2, True)))
    path = tmp_path / "run.gif"
    choose(monkeypatch, path, save=True)
    menu_action(w, "Record…").trigger()
    qtbot.waitUntil(lambda: w.files.recorder.done, timeout=30000)
    assert w.files.recorder.error is None
    with Image.open(path) as gif:
        assert gif.n_frames == 3   # initialisation, epoch 1, epoch 2
    assert len(w.history) == 2 and f"Recorded 3 frames to {path}" in w.messageLabel.text()


def test_a_story_leaves_the_data_file_for_its_own_data_set(small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    choose(monkeypatch, three_classes(tmp_path / "three.csv"))
    rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    assert w.model.data_source is not None
    w.load_preset("vanishing-sigmoid")
    qtbot.waitUntil(lambda: w.model.data_source is None, timeout=10000)
    assert w.last_snapshot.data_source is None and "data file" in w.messageLabel.text()


def test_a_story_over_a_data_file_is_one_rebuild(small_window, qtbot, monkeypatch, tmp_path):
    """The story's config and its data set reach the trainer as one item, which it merges into one Rebuild: as
    a Configure then a Rebuild, the Configure's rebuild ("Network rebuilt (...)") could be reported after the
    window said why the data file was left."""
    from types import SimpleNamespace
    from core.runtime.runner import Rebuild, Runner
    w = small_window
    choose(monkeypatch, three_classes(tmp_path / "three.csv"))
    rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    sent = []
    real = w.worker._link.put
    monkeypatch.setattr(w.worker._link, "put", lambda item: (sent.append(item), real(item)))
    w.load_preset("vanishing-sigmoid")
    qtbot.waitUntil(lambda: len(sent) > 0, timeout=5000)
    qtbot.wait(50)
    assert len(sent) == 1
    nothing_else = SimpleNamespace(channel=SimpleNamespace(get=lambda timeout: None))
    (merged,) = Runner._coalesced(nothing_else, sent[0])   # what the trainer does with it
    assert isinstance(merged, Rebuild) and merged.data is None
    assert merged.config == get_preset("vanishing-sigmoid").config()


def test_fuzz_open_data_through_the_menu(small_window, qtbot, monkeypatch, tmp_path):
    """Seeded mutations of a valid CSV (flipped bytes, cuts, random bytes, odd cells, other encodings): each is
    refused with a dialog naming the file or trained on whole; no exception escapes; the window still trains."""
    w = small_window
    base = open(three_classes(tmp_path / "base.csv"), "rb").read()
    rng = random.Random(16)
    path = tmp_path / "fuzz.csv"
    choose(monkeypatch, path)
    cells = [b"nan", b"inf", b"1e400", b"<b>x</b>", b"", b"9" * 400, b"0x10", b"1,2", b"\x00", b"\xff\xfe"]
    refused = opened = 0
    for i in range(120):
        kind = i % 5
        if kind == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        elif kind == 1:
            data = base[:rng.randrange(len(base))]
        elif kind == 2:
            b = bytearray(base)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            data = bytes(b)
        elif kind == 3:
            lines = base.split(b"\n")
            row = rng.randrange(1, len(lines) - 1)
            parts = lines[row].split(b",")
            parts[rng.randrange(len(parts))] = rng.choice(cells)
            lines[row] = b",".join(parts)
            data = b"\n".join(lines)
        else:
            data = base.decode().encode(rng.choice(["utf-16", "utf-32"]))
        path.write_bytes(data)
        dialog(w) and dialog(w).close()
        menu_action(w, "Open data…").trigger()
        if dialog(w) is not None:
            assert dialog(w).text().startswith(f"Could not open {path}: data: ")
            refused += 1
        else:
            assert w.messageLabel.text().startswith(f"Opened the data {path}: ")
            opened += 1
        qtbot.wait(1)
    print("data fuzz: refused", refused, "opened", opened)
    assert refused > 60 and opened > 0, (refused, opened)
    dialog(w) and dialog(w).close()
    choose(monkeypatch, tmp_path / "base.csv")
    menu_action(w, "Open data…").trigger()
    # rebuilds posted by the fuzz may still arrive: wait for the one on base.csv
    qtbot.waitUntil(lambda: (w.model.data_source or {}).get("path", "").endswith("base.csv"), timeout=10000)
    step_epoch(w, qtbot)


def test_a_data_file_changed_on_disk_refuses_a_new_split_and_the_controls_go_back(small_window, qtbot, monkeypatch,
                                                                                  tmp_path):
    w = small_window
    csv = three_classes(tmp_path / "three.csv")
    choose(monkeypatch, csv)
    rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    with open(csv, "a") as fh:
        fh.write("0,0,1\n")
    before = w.config
    w.seedSpin.setValue(before.seed + 1)   # a new split: the session reads the file again and refuses it
    qtbot.waitUntil(lambda: "has changed since it was opened" in w.messageLabel.text(), timeout=10000)
    assert w.config == before and w.seedSpin.value() == before.seed == w.last_snapshot.config.seed
    step_epoch(w, qtbot)


def test_the_dataset_box_names_the_data_file_while_it_is_trained_on(small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    combo = w.datasetCombo
    built_in = w.config.dataset
    choose(monkeypatch, three_classes(tmp_path / "<b>three.csv"))
    snap = rebuilt_after(w, qtbot, menu_action(w, "Open data…").trigger)
    assert snap.data_source is not None
    # not the config's built-in name, which the session no longer trains on; the name shown as plain text
    assert combo.currentText() == "file: <b>three.csv" and w.config.dataset == built_in
    w.model.set_config(w.config.replace(lr=w.config.lr * 2))   # other settings keep the file and its entry
    qtbot.waitUntil(lambda: w.last_snapshot.config == w.config, timeout=10000)
    assert combo.currentText() == "file: <b>three.csv"
    # choosing the same built-in name the config holds leaves the file: not silently ignored
    snap = rebuilt_after(w, qtbot, lambda: combo.setCurrentIndex(combo.findData(built_in)))
    assert snap.data_source is None and w.model.data_source is None
    assert combo.currentData() == built_in and combo.findText("file: <b>three.csv") < 0
    assert "data file is no longer used" in w.messageLabel.text()
