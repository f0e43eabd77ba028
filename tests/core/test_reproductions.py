"""The gallery: each reproduction's measuring code on a reduced size (the full run is measured once, in
docs/REPRODUCTIONS.md), the registry, the table, the exit codes and the command line."""
import csv
import io
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core import ExperimentConfig
from core.stories.reproductions import (CSV_COLUMNS, REPRODUCTIONS, Check, get_reproductions, run_reproduction)
from core.stories.reproductions import deep_linear, recurrent, signals, spectra, transformers
from core.stories.reproductions.gallery import csv_text, progress_bar, run_gallery
from core.sweep.executors import SerialExecutor

ROOT = Path(__file__).resolve().parents[2]
ISSUE_NAMES = ("glorot-2010", "he-2015", "saxe-2014", "schoenholz-2017", "pennington-2017", "pascanu-2013",
               "bengio-1994", "hochreiter-1991", "le-2015", "hanin-2018", "de-2020", "xiong-2020", "noci-2022",
               "sequence-length")


def test_registry_has_the_issues_names_and_sane_checks():
    assert set(ISSUE_NAMES) <= set(REPRODUCTIONS)
    for r in REPRODUCTIONS.values():
        assert r.paper and r.setup and r.checks
        for c in r.checks:
            assert c.low <= c.high
        ExperimentConfig.from_dict(dict(r.story))   # each row's setup opens as a story in the window


def test_small_glorot_he_de():
    standard, xavier = signals.glorot("small")
    assert 0.5 < standard < 0.62 and 0.9 < xavier < 1.1
    x, h = signals.he("small")
    assert 1e-5 < x < 1e-4 and 0.6 < h < 1.6
    growth, bn = signals.residual_growth("small")
    assert 1.7 < growth < 2.3 and 0.8 < bn < 1.2


def test_small_spectra():
    mean_g, var_g, orth_dev, relu, tanh = spectra.pennington("small")
    assert 0.8 < mean_g < 1.2 and 6 < var_g < 11
    assert orth_dev < 1e-12
    assert 0.6 < relu < 1.4 and tanh < 0.02          # ReLU does not concentrate, tanh does
    (crit,) = spectra.critical_point("small")
    assert 1.6 < crit < 1.95


def test_recurrent_and_latch():
    h, gain, ten = recurrent.bengio("small")
    assert h == pytest.approx(0.9575, abs=5e-5) and gain == pytest.approx(0.1664, abs=5e-5)
    assert ten == pytest.approx(gain ** 10)
    top, factor = recurrent.hochreiter("small")
    assert top == pytest.approx(0.25, abs=1e-12) and factor < 0.975
    tanh, sig = recurrent.pascanu("small")
    assert 0 < tanh <= 0.9 and 0 < sig <= 0.9
    # the bound is tight enough to matter: above 1/gamma the same measurement grows
    assert recurrent.through_time_gain("tanh", 3.0, 16, 20, 0) > 1.0


def test_small_training_reproductions():
    orth, gauss = deep_linear.saxe("small")
    assert math.isfinite(orth) and orth > 0 and gauss > orth
    irnn, tanh = recurrent.le("small")
    assert irnn >= 0 and tanh >= 0 and math.isfinite(irnn)


def test_small_transformers():
    pre, post = transformers.xiong("small")
    assert 0 < pre < post   # Pre-LN's last-layer gradient shrinks with depth more than Post-LN's
    collapsed, kept = transformers.noci("small")
    assert collapsed > 0.99 and kept < collapsed


def test_small_hanin_line():
    slope, r2 = signals.hanin("small")
    assert 3 < slope < 12 and r2 > 0.5


def test_run_reproduction_rows_and_failure_reported():
    rows = run_reproduction(REPRODUCTIONS["bengio-1994"])
    assert [r.passed for r in rows] == [True, True, True]
    broken = replace(REPRODUCTIONS["bengio-1994"], checks=(Check("fixed point h*", 0.5, 0.4, 0.6),) +
                     REPRODUCTIONS["bengio-1994"].checks[1:])
    rows = run_reproduction(broken)
    assert not rows[0].passed and rows[0].measured == pytest.approx(0.9575, abs=1e-4)


def test_gallery_exit_codes_and_csv(tmp_path, monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "t.csv"
    reps = get_reproductions("bengio-1994,hochreiter-1991")
    assert run_gallery(reps, SerialExecutor(), str(path), stdout=out, stderr=err) == 0
    table = list(csv.reader(path.open()))
    assert tuple(table[0]) == CSV_COLUMNS and len(table) == 1 + 5
    assert all(row[7] == "pass" for row in table[1:])
    assert "[###" in err.getvalue() and "5/5 checks pass" in err.getvalue()
    bad = replace(REPRODUCTIONS["bengio-1994"], checks=(Check("fixed point h*", 0.5, 0.4, 0.6),) +
                  REPRODUCTIONS["bengio-1994"].checks[1:])
    monkeypatch.setitem(REPRODUCTIONS, "bengio-1994", bad)
    out = io.StringIO()
    assert run_gallery([bad], SerialExecutor(), None, stdout=out, stderr=io.StringIO()) == 1
    assert "FAIL  bengio-1994" in out.getvalue() and "measured 0.9575" in out.getvalue()


def test_names_and_helpers():
    assert [r.name for r in get_reproductions("all")] == list(REPRODUCTIONS)
    with pytest.raises(ValueError, match="unknown reproduction 'x'"):
        get_reproductions("bengio-1994,x")
    assert progress_bar(1, 2, 3.0, width=4) == "[##..] 1/2 reproductions, 3 s"
    assert csv_text([]).strip() == ",".join(CSV_COLUMNS)


def _main(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_list_reproduce_and_errors(tmp_path):
    r = _main("--list-reproductions")
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith("glorot-2010 ")
    assert len(r.stdout.splitlines()) == len(REPRODUCTIONS)
    out = tmp_path / "b.csv"
    r = _main("--reproduce", "bengio-1994", "--out", str(out), "--workers", "1", "--quiet")
    assert r.returncode == 0 and r.stderr == "" and out.read_text().startswith("name,paper,quantity")
    for args, words in ((("--reproduce", "nope"), "unknown reproduction 'nope'"),
                        (("--reproduce", "all", "--depth", "3"), "--depth cannot be used with --reproduce"),
                        (("--reproduce", "all", "--workers", "0"), "workers must be an integer"),
                        (("--reproduce", "all", "--out", str(tmp_path / "x.json")), "give a name ending in .csv")):
        r = _main(*args)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
