import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--headless", "--depth", "2", "--width", "8", "--samples", "100", "--epochs", "3"]


def run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_writes_one_json_record_per_epoch_to_stdout(capsys):
    rc, out, err = run(FAST + ["--quiet"], capsys)
    assert rc == 0 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert list(records[0]) == ["epoch", "step", "train_loss", "val_loss", "val_accuracy", "diverged", "layers",
                                "precision"]   # issue 24: underflow, overflow, lost_updates per layer
    assert [l["layer"] for l in records[0]["layers"]] == [1, 2, 3]
    assert set(records[0]["layers"][0]) == {"layer", "grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm",
                                            "update_ratio", "act_deriv_mean", "saturation"}


def test_progress_goes_to_stderr_unless_quiet(capsys):
    rc, out, err = run(FAST, capsys)
    assert rc == 0 and "epoch 3/3" in err


def test_config_file_with_flag_override_and_out_file(tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"depth": 4, "width": 6, "epochs": 2, "samples": 100, "activation": "relu"}))
    out = tmp_path / "run.jsonl"
    rc, stdout, _ = run(["--headless", "--config", str(cfg), "--depth", "3", "--out", str(out), "--quiet"], capsys)
    assert rc == 0 and stdout == ""
    records = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(records) == 2 and len(records[0]["layers"]) == 4  # 3 hidden + output: the flag won


def test_same_seed_same_bytes(tmp_path):
    outs = []
    for name in ("a.jsonl", "b.jsonl"):
        subprocess.run([sys.executable, "main.py", *FAST, "--seed", "7", "--out", str(tmp_path / name), "--quiet"],
                       cwd=ROOT, check=True)
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1] and len(outs[0]) > 100


def test_divergence_exits_zero_says_where_and_writes_null(capsys):
    rc, out, err = run(["--headless", "--depth", "6", "--width", "64", "--activation", "relu", "--init", "normal",
                        "--init-gain", "4", "--lr", "1", "--epochs", "5", "--quiet"], capsys)
    assert rc == 0
    last = json.loads(out.splitlines()[-1])
    assert last["diverged"] is True
    assert "diverged at epoch" in err and "layer" in err
    assert "NaN" not in out and "Infinity" not in out


@pytest.mark.parametrize("argv,field", [
    (["--depth", "abc"], "depth"),
    (["--depth", "0"], "depth"),
    (["--width", "99999"], "width"),
    (["--activation", "swish"], "activation"),
    (["--init", "glorot"], "init"),
    (["--optimizer", "lbfgs"], "optimizer"),
    (["--lr", "-0.1"], "lr"),
    (["--lr", "inf"], "lr"),
    (["--lr"], "--lr"),
    (["--init-gain", "0"], "init_gain"),
    (["--batch-size", "1.5"], "batch_size"),
    (["--epochs", "0"], "epochs"),
    (["--dataset", "mnist"], "dataset"),
    (["--samples", "3"], "samples"),
    (["--noise", "-1"], "noise"),
    (["--seed", "-3"], "seed"),
    (["--clip-norm", "0"], "clip_norm"),
    (["--dtype", "float8"], "dtype"),
    (["--frobnicate"], "--frobnicate"),
    (["--config", "/no/such/file.json"], "config"),
    (["--out", "/no/such/dir/x.jsonl"], "out"),
])
def test_bad_input_exits_2_with_one_line_naming_the_field(argv, field, capsys):
    rc, out, err = run(["--headless", *argv], capsys)
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("content,field", [
    ("{not json", "config"),
    ("[1, 2]", "config"),
    ('{"depth": "ten"}', "depth"),
    ('{"depth": 500}', "depth"),
    ('{"speed": 1}', "speed"),
    ('{"residual": "yes"}', "residual"),
])
def test_bad_config_files_exit_2_naming_the_field(tmp_path, content, field, capsys):
    path = tmp_path / "bad.json"
    path.write_text(content)
    rc, out, err = run(["--headless", "--config", str(path)], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and field in err


def test_failed_write_keeps_the_existing_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "keep.jsonl"
    out.write_text("precious\n")
    import core.headless as headless   # where the headless run formats its records

    def broken(stats):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(headless, "record_line", lambda s, run=None: "x")
    monkeypatch.setattr(os, "replace", lambda a, b: broken(None))
    rc, _, err = run(FAST + ["--out", str(out), "--quiet"], capsys)
    assert rc == 1 and "No space left" in err  # the run started: a failed run, not bad usage
    assert out.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.jsonl"]  # no temporary left behind


def test_real_entry_point_bad_input_has_no_traceback():
    p = subprocess.run([sys.executable, "main.py", "--headless", "--depth", "-1"], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip() == "main.py: error: depth must be an integer from 1 to 300, got -1"


def test_compare_writes_both_runs_in_lockstep_each_equal_to_its_own_run(tmp_path, capsys):
    argv = ["--headless", "--depth", "3", "--width", "8", "--samples", "100", "--epochs", "3", "--quiet"]
    assert main(argv + ["--compare", "activation=relu"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["run"], r["epoch"]) for r in records] == [("A", 1), ("B", 1), ("A", 2), ("B", 2), ("A", 3), ("B", 3)]
    assert main(argv + ["--activation", "relu"]) == 0  # B alone
    alone = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [{k: v for k, v in r.items() if k != "run"} for r in records if r["run"] == "B"] == alone


def test_compare_csv_pads_the_shorter_run(tmp_path, capsys):
    out = tmp_path / "ab.csv"
    assert main(["--headless", "--depth", "2", "--samples", "100", "--epochs", "2", "--compare", "depth=3",
                 "--out", str(out), "--quiet"]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0][:2] == ["run", "epoch"] and rows[0][-1] == "update_ratio_4"
    assert [r[0] for r in rows[1:]] == ["A", "B", "A", "B"]
    assert rows[1][9] == "" and rows[2][9] != ""  # A has 3 weight layers, B 4


@pytest.mark.parametrize("spec,expected", [
    ("activation", "compare: expected FIELD=VALUE"),
    ("dataset=moons", "compare: the setting must be one of"),
    ("activation=sigmoid", "compare: B must differ from A in activation"),
    ("activation=swish", "activation must be one of"),
    ("speed=3", "unknown config field 'speed'"),
])
def test_bad_compare_specs_exit_2(spec, expected, capsys):
    assert main(["--headless", "--compare", spec]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
