"""Sweeps: the grid, the executors (same numbers everywhere), resume, and grad_gain against mean-field theory."""
import csv
import re
import io
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from core.sweep import cells as sweep_cells
from core.measure import theory
from core.cli import main
from core.config import ExperimentConfig
from core.sweep import (METRICS, LocalExecutor, SerialExecutor, make_plan, measure, parse_axis, run_sweep)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ExperimentConfig(depth=2, width=8, samples=60, epochs=2, batch_size=16)
AXES = ["depth=1:3:3", "activation=tanh,relu"]


def rows_of(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def run_to(path, executor, plan=None):
    plan = plan or make_plan(TINY, AXES)
    try:
        assert run_sweep(plan, str(path), executor, quiet=True) == 0
    finally:
        executor.close()
    return rows_of(path)


def test_axis_lists_and_inclusive_ranges():
    assert parse_axis("depth=10:150:8").values == (10, 30, 50, 70, 90, 110, 130, 150)
    assert parse_axis("init-gain=1:2:3").values == (1.0, 1.5, 2.0)
    assert parse_axis("activation=tanh,ReLU").values == ("tanh", "relu")
    assert parse_axis("clip_norm=null,1").values == (None, 1.0)
    assert parse_axis("residual=true,false").values == (True, False)
    plan = make_plan(TINY, AXES)
    assert plan.size == 6 and plan.header[:2 + len(METRICS)] == ["depth", "activation", *METRICS]


@pytest.mark.parametrize("spec, message", [
    ("depth=0:4:3", "main.py: error: sweep: depth must be an integer from 1 to 300, got '0'"),
    ("dpth=1,2", "main.py: error: sweep: unknown config field 'dpth'; known fields: depth,"),
    ("activation=tanh,sigmod", "main.py: error: sweep: activation must be one of sigmoid, tanh,"),
    ("activation=1:2:3", "main.py: error: sweep: activation is one of sigmoid,"),
    ("depth=1:3:5", "main.py: error: sweep: depth takes integers: 5 points from 1 to 3 repeat some"),
    ("lr=0.1:1:x", "main.py: error: sweep: lr's COUNT must be an integer from 1 to 1000000, got 'x'"),
    ("depth", "main.py: error: sweep: expected FIELD=V1,V2,... or FIELD=START:STOP:COUNT, got 'depth'"),
    ("depth=1,1", "main.py: error: sweep: depth lists a value twice in '1,1'"),
])
def test_bad_sweep_specs_exit_2_with_one_line(spec, message, capsys):
    assert main(["--sweep", spec, "--epochs", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_bad_sweep_from_the_command_line_has_no_traceback():
    p = subprocess.run([sys.executable, "main.py", "--sweep", "width=0,8", "--epochs", "0"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr == "main.py: error: sweep: width must be an integer from 1 to 1024, got '0'\n"


def test_cells_that_do_not_fit_together_are_refused_before_running(capsys):
    assert main(["--sweep", "samples=10,100", "--val-fraction", "0.05", "--epochs", "0"]) == 2
    assert "sweep: the cell samples=10: samples must leave at least one training" in capsys.readouterr().err


def test_local_processes_and_a_dask_cluster_give_identical_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    from core.sweep import DaskExecutor
    serial = run_to(tmp_path / "serial.csv", SerialExecutor())
    local = run_to(tmp_path / "local.csv", LocalExecutor(2))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        dask = run_to(tmp_path / "dask.csv", DaskExecutor(client))
    assert len(local) == 7 and local == serial == dask
    # every row was trained: two epochs, a finite loss and a gain
    assert all(r[6] == "2" and float(r[2]) > 0 and float(r[7]) > 0 for r in local[1:])


def test_a_torn_interrupted_file_resumes_to_the_uninterrupted_rows(tmp_path, monkeypatch):
    whole = run_to(tmp_path / "whole.csv", SerialExecutor())
    part = tmp_path / "part.csv"
    text = (tmp_path / "whole.csv").read_text()
    lines = text.splitlines(keepends=True)
    # two finished rows in another order, then a row cut off by a kill in mid-write
    part.write_text(lines[0] + lines[4] + lines[2] + lines[5][:17])
    ran = []
    measure_one = sweep_cells.measure
    monkeypatch.setattr(sweep_cells, "measure", lambda config, init_only: ran.append(config) or measure_one(config, init_only))
    assert run_to(part, SerialExecutor()) == whole
    on_file = {(int(r[0]), r[1]) for r in whole[1:] if ",".join(r) + "\n" in (lines[4], lines[2])}
    assert len(on_file) == 2 and len(ran) == 4 and not on_file & {(c.depth, c.activation) for c in ran}  # only the missing cells ran


def test_a_killed_sweep_resumes_to_the_uninterrupted_rows(tmp_path):
    args = ["main.py", "--sweep", "depth=1:4:4", "--sweep", "seed=0:5:6", "--width", "16", "--samples", "400",
            "--epochs", "8", "--workers", "1", "--quiet"]
    killed = tmp_path / "killed.csv"
    proc = subprocess.Popen([sys.executable, *args, "--out", str(killed)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not killed.exists() or killed.read_text().count("\n") < 4):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = killed.read_text()
    assert 4 <= partial.count("\n") < 25, "the sweep should have been killed part way"
    complete = list(csv.reader(io.StringIO(partial[:partial.rfind("\n") + 1])))
    assert all(len(r) == len(complete[0]) for r in complete)  # valid CSV up to any torn last line
    assert main([*args[1:], "--out", str(killed)]) == 0
    assert main([*args[1:], "--out", str(tmp_path / "whole.csv")]) == 0
    assert killed.read_text() == (tmp_path / "whole.csv").read_text()


def test_resume_refuses_a_file_made_with_other_settings(tmp_path, capsys):
    out = str(tmp_path / "s.csv")
    base = ["--sweep", "depth=1,2", "--width", "4", "--samples", "40", "--epochs", "0", "--quiet", "--out", out]
    assert main(base) == 0
    before = open(out).read()
    assert main([*base, "--width", "5"]) == 2
    assert capsys.readouterr().err == (f"main.py: error: out: {out!r} was made with width=4, this sweep has width=5: "
                                       "choose another --out\n")
    assert main(["--sweep", "width=1,2", *base[2:]]) == 2
    assert "this sweep writes width," in capsys.readouterr().err
    assert open(out).read() == before


def test_init_only_sweep_writes_epochs_0_and_measures_at_initialisation(tmp_path):
    out = tmp_path / "s.csv"
    assert main(["--sweep", "init_gain=0.5,2", "--epochs", "0", "--quiet", "--out", str(out)]) == 0
    rows = [dict(zip(r[0], x)) for r in [rows_of(out)] for x in r[1:]]
    assert [r["epochs"] for r in rows] == ["0", "0"] and [r["epoch_reached"] for r in rows] == ["0", "0"]
    t = measure(ExperimentConfig(init_gain=2.0, epochs=3), init_only=True)
    assert float(rows[1]["grad_gain"]) == t["grad_gain"] and float(rows[1]["train_loss"]) == t["train_loss"]


@pytest.mark.parametrize("sigma_w2", [0.5, 2.0, 3.0])
def test_grad_gain_at_initialisation_is_sqrt_chi1(sigma_w2):
    cfg = ExperimentConfig(width=512, depth=30, activation="tanh", init="lecun", init_gain=math.sqrt(sigma_w2))
    gain = measure(cfg, init_only=True)["grad_gain"]
    assert gain == pytest.approx(math.sqrt(theory.chi1("tanh", sigma_w2)), rel=0.03)


def test_bias_std_draws_the_biases_and_enters_the_theory():
    from core.training.trainer import Trainer
    b = [b for _, b in Trainer(ExperimentConfig(width=512, depth=3, bias_std=0.5)).network.params]
    assert all(abs(x.std() - 0.5) < 0.05 for x in b[:-1])
    assert all((x == 0).all() for _, x in Trainer(ExperimentConfig(width=64, depth=3)).network.params)
    assert theory.critical_sigma_w2("tanh", 0.05) == pytest.approx(1.76, abs=0.01)  # Schoenholz et al. 2017
    cfg = ExperimentConfig(activation="tanh", init="lecun", init_gain=math.sqrt(2.0), bias_std=math.sqrt(0.05))
    assert theory.phase(cfg).chi1 == pytest.approx(theory.chi1("tanh", 2.0, 0.05))
    assert theory.phase(cfg).chi1 < theory.chi1("tanh", 2.0, 0.0)


def test_groups_hold_about_a_second_of_work_and_feed_every_worker():
    plan = make_plan(TINY, ["depth=1:40:40", "seed=0:9:10"])
    cells = list(plan.cells())
    unit = 1.0 / sweep_cells.cost(plan.config(cells[0]), False) / 4       # the cheapest cell: a quarter second
    groups = sweep_cells.make_groups(plan, cells, unit, workers=2)
    assert [v for g in groups for v in g] == cells                  # every cell once, in order
    seconds = [sum(sweep_cells.cost(plan.config(v), False) * unit for v in g) for g in groups]
    assert all(1.0 <= s < 1.0 + max(sweep_cells.cost(plan.config(v), False) * unit for v in g)
               for s, g in zip(seconds[:-1], groups[:-1]))
    small = sweep_cells.make_groups(plan, cells[:8], unit, workers=2)      # little work: still two groups a worker
    assert len(small) >= 4


def test_a_file_that_is_not_a_sweep_is_never_overwritten(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, no newline")
    assert main(["--sweep", "depth=1,2", "--epochs", "0", "--quiet", "--out", str(notes)]) == 2
    assert capsys.readouterr().err == f"main.py: error: out: {str(notes)!r} is not a sweep CSV file: choose another --out\n"
    assert notes.read_text() == "my notes, no newline"


def test_progress_on_stderr_and_quiet(tmp_path, capsys):
    args = ["--sweep", "depth=1:4:4", "--epochs", "0", "--out", str(tmp_path / "s.csv")]
    assert main(args) == 0
    last = capsys.readouterr().err.splitlines()[-1]
    assert re.fullmatch(r"sweep: 4/4 cells, [0-9.]+ cells/s, 0 s left", last), last
    assert main(args) == 0
    assert capsys.readouterr().err == f"sweep: {tmp_path / 's.csv'} has 4 cells; running the 0 missing\n"
    assert main([*args, "--quiet"]) == 0 and capsys.readouterr().err == ""


def test_without_out_rows_go_to_stdout(capsys):
    assert main(["--sweep", "depth=1,2", "--epochs", "0", "--quiet", "--width", "4"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:2] == ["depth", "train_loss"] and sorted(r[0] for r in rows[1:]) == ["1", "2"]


@pytest.mark.parametrize("extra, message", [
    (["--workers", "0"], "workers must be an integer from 1 to 1024, got '0'"),
    (["--scheduler", "localhost"], "scheduler must be an address like tcp://HOST:8786, got 'localhost'"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "workers: --workers is for local processes"),
    (["--sweep", "epochs=1,2"], "sweep: epochs cannot be swept when --epochs 0 measures at initialisation only"),
    (["--sweep", "depth=3"], "sweep: depth is swept twice; give each field one --sweep"),
    (["--sweep-preset", "nope"], "sweep-preset must be one of deep-information-propagation, got 'nope'"),
])
def test_bad_sweep_options_exit_2_with_one_line(extra, message, capsys):
    assert main(["--sweep", "depth=1,2", "--epochs", "0", *extra]) == 2
    err = capsys.readouterr().err
    assert err == f"main.py: error: {message}\n" or (err.startswith(f"main.py: error: {message}") and err.count("\n") == 1)


def test_the_deep_information_propagation_preset_is_the_papers_grid():
    from core.sweep import SWEEP_PRESETS
    plan = SWEEP_PRESETS["deep-information-propagation"].plan()
    gains, depths = (a.values for a in plan.axes)
    assert [a.field for a in plan.axes] == ["init_gain", "depth"] and plan.size == 195
    assert [g * g for g in gains] == pytest.approx(list(np.linspace(1.0, 4.0, 13)))
    assert depths == tuple(range(10, 151, 10))
    b = plan.base
    assert (b.activation, b.init) == ("tanh", "lecun") and b.bias_std ** 2 == pytest.approx(0.05)
    assert theory.sigma_w2_of(b.replace(init_gain=gains[-1])) == pytest.approx(4.0)
    bd = theory.trainability_boundary(b, "init_gain", gains)
    assert bd.critical_sigma_w2 == pytest.approx(1.76, abs=0.01) and gains[2] < bd.critical_value < gains[4]


def test_the_sweep_module_imports_neither_qt_nor_dask():
    code = ("import sys, core.sweep; bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', "
            "'distributed', 'dask'))]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
