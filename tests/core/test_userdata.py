"""Your own data from a CSV file: tasks, standardisation, refusals naming line and column, checksums."""
import json

import numpy as np
import pytest

from core import ConfigError, ExperimentConfig, Trainer
from core.cli import main
from core.data.userdata import CHUNK_BYTES, load_csv, load_source, read_table


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(p)


def table_text(rows, header=None):
    lines = ([",".join(header)] if header else []) + [",".join(repr(float(v)) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


def rows(n, labels, seed=0, n_features=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features)) * [1.0, 10.0, 100.0][:n_features] + 5.0
    return np.column_stack([X, rng.choice(labels, n)])


@pytest.mark.parametrize("labels, task, k", [([3.0, 7.0], "classification", 2), ([0, 1, 2, 5], "multiclass", 4),
                                             (np.linspace(0, 1, 50), "regression", 0)])
def test_the_label_column_decides_the_task(tmp_path, labels, task, k):
    data = load_csv(write(tmp_path, table_text(rows(200, labels), ["a", "b", "c", "target"])), 0.25, seed=3)
    assert data.task == task and data.n_classes == k
    assert data.feature_names == ("a", "b", "c")
    assert len(data.y_train) == 150 and len(data.y_val) == 50
    if task != "regression":
        assert set(np.unique(np.concatenate([data.y_train, data.y_val]))) == set(range(k))
        assert data.class_names == tuple(f"{v:g}" for v in sorted(labels))
    t = Trainer(ExperimentConfig(depth=2, width=4, samples=200, epochs=1), data)
    assert t.network.n_out == (k if task == "multiclass" else 1)
    t.step_epoch()


def test_features_are_standardised_with_training_statistics_only(tmp_path):
    table = rows(100, [0, 1])
    table[0, 0] = 1e6  # an outlier: standardising with it would shift the mean far from the training split's
    data = load_csv(write(tmp_path, table_text(table)), 0.2, seed=0)
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1.0, rtol=1e-12)
    # the raw rows of the training split, standardised by hand, are what the data set holds
    order = np.random.default_rng(np.random.SeedSequence(0).spawn(3)[0]).permutation(100)
    raw = table[order, :-1]
    train = raw[20:]
    np.testing.assert_allclose(data.X_val, (raw[:20] - train.mean(0)) / train.std(0), rtol=1e-10)


def test_without_header_columns_are_numbered_and_boundary_label_says_which_features(tmp_path):
    data = load_csv(write(tmp_path, table_text(rows(40, [0, 1], n_features=3))), 0.2)
    assert data.feature_names == () and data.n_features == 3
    assert data.boundary_label.startswith("x1 vs x2: the first 2 of 3 features")
    t = Trainer(ExperimentConfig(depth=1, width=4, samples=40), data)
    xs, ys, P = t.prediction_grid(resolution=5)
    assert P.shape == (5, 5) and ((P >= 0) & (P <= 1)).all()


@pytest.mark.parametrize("text, where", [
    ("a,b,y\n1,2,0\n3,x,1\n", "line 3, column 2 ('b'): 'x' is not a number"),
    ("1,2,0\n3,4,1\n5,6\n", "line 3: 2 columns, expected 3"),
    ("1,2,0\n\n3,4,1\n5,nan,0\n", "line 4, column 2: 'nan' is not a finite number"),
    ("1,2,0\n3,4,1\n# comment\n", "line 3: 1 column, expected 3 like the first row"),
    ("1,2,0\n3,4,1\n#,comment,1\n", "line 3, column 1: '#' is not a number"),
    ("a,b,y\n", "has no rows of numbers"),
    ("1\n2\n3\n", "needs at least 2 columns"),
    ("1,2,0\n3,4,1\n", "2 rows leave no training or no validation row at val_fraction 0.2"),
    ("1,2,4\n3,4,4\n5,6,4\n", "the label column (the last) has one value, 4"),
    (b"1,2,0\n3,\xff,1\n", "line 2: not UTF-8 text"),
])
def test_malformed_files_are_refused_naming_line_and_column(tmp_path, text, where):
    with pytest.raises(ConfigError) as e:
        load_csv(write(tmp_path, text))
    assert where in str(e.value) and e.value.field == "data"


def test_an_error_in_a_later_block_names_its_true_line(tmp_path, monkeypatch):
    monkeypatch.setattr("core.data.userdata.CHUNK_BYTES", 64)  # many blocks from a small file
    body = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(1, 60))
    path = write(tmp_path, "u,v,y\n" + body + "7,bad,1\n")
    with pytest.raises(ConfigError, match=r"line 61, column 2 \('v'\): 'bad'"):
        read_table(path)
    table, names, _ = read_table(write(tmp_path, "u,v,y\r\n" + body, "ok.csv"))  # and a good one reads whole
    assert table.shape == (59, 3) and names == ["u", "v", "y"] and table[-1, 0] == 59
    assert CHUNK_BYTES >= 1 << 20


def test_the_checksum_is_checked_on_opening(tmp_path):
    path = write(tmp_path, table_text(rows(30, [0, 1])))
    data = load_csv(path)
    cfg = ExperimentConfig(samples=30)
    assert load_source(data.source, cfg).source == data.source
    with open(path, "a") as fh:
        fh.write("1,2,3,1\n")
    with pytest.raises(ConfigError, match="has changed since the experiment was saved"):
        load_source(data.source, cfg)
    with pytest.raises(ConfigError, match="cannot read"):
        load_source({"path": str(tmp_path / "gone.csv"), "sha256": "0" * 64}, cfg)


def test_cli_data_flag_trains_and_save_config_records_path_and_checksum(tmp_path, capsys):
    path = write(tmp_path, table_text(rows(60, [0, 1, 2]), ["a", "b", "c", "y"]))
    exp = tmp_path / "exp.json"
    argv = ["--headless", "--data", path, "--depth", "2", "--width", "4", "--epochs", "2", "--quiet"]
    assert main(argv + ["--save-config", str(exp)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and json.loads(out[-1])["val_accuracy"] is not None
    doc = json.loads(exp.read_text())
    assert doc["data"]["path"] == path and len(doc["data"]["sha256"]) == 64
    assert main(["--headless", "--config", str(exp), "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == out  # the same data, split and run
    with open(path, "a") as fh:
        fh.write("0,0,0,1\n")
    assert main(["--headless", "--config", str(exp), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has changed" in err


def test_cli_refuses_a_malformed_file_with_one_line(tmp_path, capsys):
    path = write(tmp_path, "1,2,0\n1,2\n")
    assert main(["--headless", "--data", path]) == 2
    err = capsys.readouterr().err
    assert err == "main.py: error: data: line 2: 2 columns, expected 3 like the first row\n"


def test_data_set_flags_that_the_file_replaces_are_refused(tmp_path, capsys):
    path = write(tmp_path, table_text(rows(30, [0, 1])))
    assert main(["--headless", "--data", path, "--samples", "500"]) == 2
    assert capsys.readouterr().err == "main.py: error: data: --samples does not apply with --data: the file is the data set\n"
