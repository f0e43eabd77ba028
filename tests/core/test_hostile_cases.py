"""Issue 25: the specific failures a hostile user found, each reproduced (they failed before the fix)."""
import codecs
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from core import ConfigError
from core.data.userdata import load_csv, read_table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = [f"{i / 7:.4f},{(i * 3) % 5 - 2:.1f},{i % 2}" for i in range(50)]


def test_a_byte_order_mark_without_a_header_keeps_all_50_rows(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + ("\n".join(ROWS) + "\n").encode())
    table, names, _ = read_table(str(path))
    assert table.shape == (50, 3) and names == [] and table[0, 0] == 0.0


def test_a_byte_order_mark_stays_out_of_the_first_columns_name(tmp_path):
    path = tmp_path / "bomh.csv"
    path.write_bytes(codecs.BOM_UTF8 + ("x,y,label\n" + "\n".join(ROWS) + "\n").encode())
    data = load_csv(str(path))
    assert data.feature_names == ("x", "y") and len(data.y_train) + len(data.y_val) == 50


def test_blank_lines_between_rows_are_skipped(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("x,y,label\n\n" + "\n\n \n".join(ROWS) + "\n\n")
    table, names, _ = read_table(str(path))
    assert table.shape == (50, 3) and names == ["x", "y", "label"]


def test_features_near_the_float64_limit_are_standardised_without_overflow(tmp_path):
    path = tmp_path / "huge.csv"
    rows = [f"{(1 if i % 3 else -1) * 1.5e308:.6g},{i},{i % 2}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    with np.errstate(all="raise"):   # not even a warning on the way
        data = load_csv(str(path), 0.2, seed=0)
    X = np.concatenate([data.X_train, data.X_val])
    assert np.isfinite(X).all()
    assert abs(data.X_train.mean(axis=0)).max() < 1e-9 and np.allclose(data.X_train.std(axis=0), 1.0)
    # the same as standardising the column divided by its scale: the result does not depend on the units
    small = tmp_path / "small.csv"
    small.write_text("\n".join(f"{(1 if i % 3 else -1) * 1.5:.6g},{i},{i % 2}" for i in range(60)) + "\n")
    reference = load_csv(str(small), 0.2, seed=0)
    assert np.allclose(data.X_train, reference.X_train, atol=1e-12)


def test_a_validation_value_beyond_the_training_spread_is_refused_naming_the_column(tmp_path):
    from core.data.userdata import dataset_from_table
    table = np.array([[1e-300 * i, i % 2] for i in range(20)], dtype=float)
    order = np.random.default_rng(np.random.SeedSequence(0).spawn(3)[0]).permutation(20)   # as the split does
    table[order[0], 0] = 1e300   # a row of the validation split: 1e599 training spreads away
    with pytest.raises(ConfigError, match="column 1: a value is beyond a float's range once standardised"):
        dataset_from_table(table, [], {"path": "t.csv", "sha256": ""}, 0.2, 0)


def _run(args, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADFLOW_SETTINGS_OFF="1")
    started = time.monotonic()
    p = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr, time.monotonic() - started


def test_record_with_an_empty_name_is_refused_at_once():
    code, err, took = _run(["main.py", "--record", "", "--epochs", "1"], timeout=60)
    assert code == 2 and err.strip() == "main.py: error: record: --record was given an empty value"


@pytest.mark.parametrize("make,expected", [
    (lambda t: os.mkfifo(t / "f") or t / "f", "is not a regular file"),
    (lambda t: os.symlink("/dev/zero", t / "z.csv") or t / "z.csv", "is not a regular file"),
])
def test_a_sweep_out_that_is_a_fifo_or_dev_zero_is_refused_not_read(tmp_path, make, expected):
    code, err, took = _run(["main.py", "--sweep", "depth=1,2", "--epochs", "1", "--samples", "20", "--width", "2",
                            "--workers", "1", "--quiet", "--out", str(make(tmp_path))], timeout=60)
    assert code == 2 and expected in err and len(err.splitlines()) == 1 and took < 30
