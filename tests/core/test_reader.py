"""The one reader: hostile files become a ConfigError naming the file and the problem, nothing else escapes."""
import codecs
import json
import os
import random

import numpy as np
import pytest

from core import ConfigError, ExperimentConfig, Trainer
from core.cli import error_line
from core.io.reader import MAX_BYTES, MIN_BYTES, read_json, size_limit
from core.io.records import experiment_json, history_differences, load_experiment, read_document, save_experiment
from core.training.statistics import LAYER_FIELDS


def write(tmp_path, content, name="f.json"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


@pytest.mark.parametrize("content,expected", [
    ("{", "is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    ("", "is not valid JSON: Expecting value at line 1 column 1"),
    ('{"depth": 3}'.encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
    ('{"depth": 3}'.encode("utf-16-le"), "holds NUL bytes (UTF-16 or UTF-32 text, or not text)"),
    ('{"depth": 3}'.encode("utf-32"), "is UTF-32 text"),
    ('{"activation": "r\u00e9lu"}'.encode("latin-1"), "is not UTF-8 text (byte 0xe9 at offset 17)"),
    ('{"seed": ' + "7" * 4301 + "}", "holds an integer of 4301 digits (at most 30 are allowed)"),
    ("[" * 100_000 + "]" * 100_000, "nests arrays or objects more than 32 deep"),
    ("[" * 40 + "]" * 40, "nests arrays or objects more than 32 deep"),
    ('{"lr": 1e400}', "holds the number 1e400, beyond the range of a float"),
    ('{"lr": NaN}', "holds NaN, which is not JSON"),
    ('{"lr": -Infinity}', "holds -Infinity, which is not JSON"),
    ('{"depth": 3, "depth": 4}', "holds the key 'depth' twice in one object"),
])
def test_hostile_content_is_a_config_error_naming_the_file(tmp_path, content, expected):
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        read_json(path, "config")
    assert info.value.field == "config" and expected in str(info.value) and repr(path) in str(info.value)


def test_a_utf8_byte_order_mark_is_allowed(tmp_path):
    assert read_json(write(tmp_path, codecs.BOM_UTF8 + b'{"depth": 3}')) == {"depth": 3}


@pytest.mark.parametrize("make,expected", [
    (lambda t: "", "the file name is empty"),
    (lambda t: str(t / "missing.json"), "cannot be read: No such file or directory"),
    (lambda t: str(t), "is a folder, not a file"),
    (lambda t: "/dev/zero", "is not a regular file"),
    (lambda t: (os.mkfifo(t / "fifo"), str(t / "fifo"))[1], "is not a regular file"),  # would block a plain open()
    (lambda t: "bad\0name", "cannot be read"),
])
def test_things_that_are_not_files_are_refused_without_reading(tmp_path, make, expected):
    with pytest.raises(ConfigError, match=expected):
        read_json(make(tmp_path), "file")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    limit = size_limit()
    assert MIN_BYTES <= limit <= MAX_BYTES
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:  # sparse: no disk used
        fh.truncate(limit + 1)
    with pytest.raises(ConfigError, match=f"is {limit + 1:,} bytes; at most {limit:,} are read"):
        read_json(str(path))
    monkeypatch.setattr("core.runtime.resources.available_memory", lambda: 800 * 2**20)
    assert size_limit() == 100 * 2**20  # half of 800 MiB, 4 bytes of memory per byte of file
    monkeypatch.setattr("core.runtime.resources.available_memory", lambda: 10 * 2**20)
    assert size_limit() == MIN_BYTES
    with pytest.raises(ConfigError, match="is more than 10 bytes"):  # a size of 0 that is not true
        read_json("/proc/self/status", limit=10)


# -- versioned documents ------------------------------------------------------------------

def test_the_windows_saved_config_and_a_plain_config_both_read(tmp_path):
    config = ExperimentConfig(depth=4, activation="relu")
    saved = write(tmp_path, experiment_json(config), "saved.json")  # what "Save config only" writes
    assert load_experiment(saved) == (config, None)
    plain = write(tmp_path, json.dumps(config.to_dict()), "plain.json")
    assert load_experiment(plain) == (config, None)


@pytest.mark.parametrize("doc,expected", [
    ({"format": "gradient-flow-experiment", "version": 999, "config": {}},
     "is gradient-flow-experiment version 999; this program reads version 1"),
    ({"format": "gradient-flow-experiment", "version": "1", "config": {}}, "version '1'"),
    ({"format": "gradient-flow-experiment", "version": True, "config": {}}, "version True"),
    ({"format": "something-else", "version": 1, "config": {}}, "has format 'something-else'"),
    ({"version": 1, "depth": 3}, "has format None"),
    ({"format": "gradient-flow-experiment", "version": 1, "config": {}, "notes": "hi"}, "unknown key 'notes'"),
    ({"format": "gradient-flow-experiment", "version": 1}, "has no config object (got null)"),
    ({"format": "x" * 100_000, "version": 1, "config": {}}, "(100002 characters)"),
    ([1, 2], "config must be a JSON object"),
])
def test_other_formats_and_versions_are_refused_by_name(tmp_path, doc, expected):
    with pytest.raises(ConfigError) as info:
        read_document(write(tmp_path, json.dumps(doc)), "config")
    assert info.value.field == "config" and expected in str(info.value) and len(str(info.value)) < 500


# -- recorded histories -------------------------------------------------------------------

@pytest.fixture(scope="module")
def recorded():
    t = Trainer(ExperimentConfig(depth=2, width=6, samples=60, epochs=3))
    t.run(3)
    return t.config, t.history, json.loads(experiment_json(t.config, t.history))


def edited(doc, change):
    doc = json.loads(json.dumps(doc))
    change(doc["history"])
    return doc


@pytest.mark.parametrize("change,expected", [
    (lambda h: h.update(epoch=5), "epoch must be a list of epoch numbers, got a number"),
    (lambda h: h.update(epoch=[1e300, 2, 3]), "epoch must hold whole numbers"),
    (lambda h: h.update(epoch=[3, 2, 1]), "epoch numbers must increase"),
    (lambda h: h.update(step=[1, 2]), "step has 2 entries, expected 3"),
    (lambda h: h["train_loss"].__setitem__(1, "0.5"), "train_loss holds '0.5', not a number or null"),
    (lambda h: h.pop("val_loss"), "val_loss must be a list, got null"),
    (lambda h: h.update(extra=[]), "unknown key 'extra'"),
    (lambda h: h["layers"].pop("saturation"), "missing statistic 'saturation'"),
    (lambda h: h["layers"]["grad_norm"].__setitem__(0, [1.0]), "grad_norm of epoch 1 has 1 layers, the config has 3"),
    (lambda h: h["layers"]["weight_norm"][2].__setitem__(0, {"a": 1}), "weight_norm of epoch 3 holds {'a': 1}"),
    (lambda h: h["layers"].update(saturation=5), "layers.saturation must be a list of 3 rows"),
    (lambda h: h.update(layers=None), "layers must be an object"),
])
def test_malformed_histories_are_refused_naming_what(tmp_path, recorded, change, expected):
    doc = edited(recorded[2], change)
    with pytest.raises(ConfigError) as info:
        load_experiment(write(tmp_path, json.dumps(doc)))
    assert info.value.field == "history" and expected in str(info.value)


def test_an_epoch_of_1e400_is_refused_by_the_reader(tmp_path, recorded):
    text = json.dumps(recorded[2]).replace('"epoch": [1,', '"epoch": [1e400,')
    with pytest.raises(ConfigError, match="holds the number 1e400"):
        load_experiment(write(tmp_path, text))


@pytest.mark.parametrize("field", ["epoch", "step", "train_loss", "val_loss", "val_accuracy", *LAYER_FIELDS])
def test_the_replay_check_sees_an_edit_to_any_recorded_field(tmp_path, recorded, field):
    config, history, doc = recorded
    path = write(tmp_path, json.dumps(doc))
    assert history_differences(load_experiment(path)[1], history) == []

    def change(h):
        if field in LAYER_FIELDS:
            h["layers"][field][1][0] = h["layers"][field][1][0] * (1 + 1e-6) + 1e-300
        elif field == "epoch":
            h["epoch"][2] = 4
        elif field == "step":
            h["step"][1] += 1
        else:
            h[field][1] = h[field][1] * (1 + 1e-6)
    expected = load_experiment(write(tmp_path, json.dumps(edited(doc, change))))[1]
    diffs = history_differences(expected, history)
    assert [d.split(" ")[0] for d in diffs] == [field], diffs
    assert diffs[0] == f"{field} (from epoch {3 if field == 'epoch' else 2})"


def test_the_replay_check_has_no_absolute_tolerance_and_counts_epochs(recorded):
    _, history, _ = recorded
    tiny = load_history_copy(history)
    tiny._layers["grad_norm"][0, 0] = 1e-12
    other = load_history_copy(history)
    other._layers["grad_norm"][0, 0] = 2e-12
    assert history_differences(tiny, other) == ["grad_norm (from epoch 1)"]
    shorter = load_history_copy(history)
    shorter._n = 2
    assert history_differences(history, shorter) == ["3 epochs recorded, 2 replayed"]


def load_history_copy(history):
    from core.training.history import EpochHistory
    h = EpochHistory(history.n_layers)
    h.extend(history)
    return h


# -- fuzz: no exception but ConfigError, every message one short line ------------------------------

def _random_json(rng, depth=0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, 1, -1, 3, 100, 2**31, 10**25, rng.randrange(-10**6, 10**6)])
    if kind == 2:
        return rng.choice([0.0, -0.5, 1e-300, 1e300, 2.5, rng.uniform(-1e3, 1e3)])
    if kind in (3, 4):
        return rng.choice(["", "relu", "sigmoid", "float32", "gradient-flow-experiment", "\u202e<b>x</b>", "\ud800",
                           "x" * rng.choice([1, 100, 5000])])
    if kind == 5:
        return rng.choice(["depth", "epoch", "layers", "grad_norm", "format", "version", "config", "history"])
    if kind == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["depth", "width", "lr", "activation", "format", "version", "config", "history", "epoch", "step",
            "layers", "grad_norm", "train_loss", "residual", "clip_norm", "seed"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def _mutate(rng, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(5)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.choice([b"[", b"{", b"\"", b",", b"1e400", b"9" * 40, b"NaN", b"\xff", b"\x00", b"\\u"])
        elif op == 2:
            del b[i:i + rng.randrange(1, 20)]
        elif op == 3:
            b = b[:i]
        else:
            b[i:i] = b[i:i + rng.randrange(1, 50)]
    return bytes(b)


def _cases(rng, valid: list[bytes]):
    for _ in range(120):
        yield json.dumps(_random_json(rng), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    for _ in range(200):
        yield _mutate(rng, rng.choice(valid))
    for _ in range(40):
        yield bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
    for enc in ("utf-16", "utf-16-be", "utf-32", "latin-1", "utf-8-sig", "cp1252"):
        yield rng.choice(valid).decode().replace("sigmoid", "sigmo\u00efd").encode(enc)


def test_fuzz_the_reader_only_config_errors_escape(tmp_path, recorded):
    rng = random.Random(2026)
    config, history, doc = recorded
    valid = [experiment_json(config, history).encode(), experiment_json(config).encode(),
             json.dumps(config.to_dict()).encode()]
    path = tmp_path / "fuzz.json"
    outcomes = {"ok": 0, "refused": 0}
    for data in _cases(rng, valid):
        path.write_bytes(data)
        for field, read in (("file", load_experiment), ("config", lambda p, f: read_document(p, f))):
            try:
                read(str(path), field)
                outcomes["ok"] += 1
            except ConfigError as e:
                outcomes["refused"] += 1
                line = error_line(str(e))
                assert "\n" not in line and len(line) <= 1000, line[:200]
                line.encode("utf-8", "backslashreplace")  # printable on any stderr
            except Exception as e:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{type(e).__name__}: {e} escaped for {data[:120]!r}")
    assert outcomes["ok"] > 20 and outcomes["refused"] > 300, outcomes


def test_history_that_reads_back_holds_the_same_numbers(tmp_path, recorded):
    config, history, _ = recorded
    path = tmp_path / "run.json"
    save_experiment(str(path), config, history)
    _, back = load_experiment(str(path))
    for k in LAYER_FIELDS:
        np.testing.assert_array_equal(back.layer(k), history.layer(k))


def test_fuzz_the_command_line_exits_0_or_2_with_one_line(tmp_path, recorded, capsys):
    from core.cli import main
    rng = random.Random(7)
    config, history, _ = recorded
    valid = [experiment_json(config, history).encode(), json.dumps(config.to_dict()).encode()]
    path, saved = tmp_path / "fuzz.json", tmp_path / "saved.json"
    codes = []
    for data in _cases(rng, valid):
        path.write_bytes(data)
        codes.append(main(["--config", str(path), "--save-config", str(saved)]))  # reads, checks, writes; no training
        out, err = capsys.readouterr()
        assert codes[-1] in (0, 2) and out == ""
        assert (err == "") if codes[-1] == 0 else (len(err.splitlines()) == 1 and len(err) < 1100), err[:300]
    assert codes.count(0) > 10 and codes.count(2) > 300
    assert sorted(os.listdir(tmp_path)) == ["fuzz.json", "saved.json"]  # no temporary file left
