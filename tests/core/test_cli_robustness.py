"""The command line under bad flags, unwritable outputs, full disks and signals."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import core.cli as cli
from core.headless import output_bound
from core import ExperimentConfig
from core.io.fileio import TEMP_PREFIX, AppendingFile
from core.io.records import experiment_json
from core.runtime.resources import check_disk_space
from core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--headless", "--depth", "2", "--width", "8", "--samples", "100", "--epochs", "3", "--quiet"]


def entry(argv):
    """main.py's own main: it routes to the command line or the window."""
    sys.path.insert(0, str(ROOT))
    try:
        import main as entry_point
    finally:
        sys.path.pop(0)
    return entry_point.main(argv)


@pytest.fixture
def no_training(monkeypatch):
    def refuse(self):
        raise AssertionError("training started before the outputs were checked")
    monkeypatch.setattr(Trainer, "step_epoch", refuse)


@pytest.mark.parametrize("argv,expected", [
    (["--headless", "--preset", ""], "preset must be one of"),
    (["--headless", "--compare", ""], "compare: expected FIELD=VALUE"),
    (["--headless", "--config", ""], "config: the file name is empty"),
    (["--list-presets", "--depth", "abc"], "--depth cannot be used with --list-presets"),
    (["--headless", "--screenshot", "x.png"], "--screenshot cannot be used with --headless"),
    (["--headless", "--theory"], "--theory cannot be used with --headless"),
    (["--save-config", "c.json", "--screenshot", "x.png"], "--save-config cannot be used with --screenshot"),
    (["--save-config", "c.json", "--out", "x.jsonl"], "--out cannot be used with --save-config alone"),
    (["--save-config", "c.json", "--compare", "activation=relu"], "--compare cannot be used with --save-config"),
    (["--out", "x.jsonl"], "--out cannot be used in the window"),
    (["--out=x.jsonl", "--theory"], "--out cannot be used in the window"),
    (["--preset", ""], "preset must be one of"),
    (["--screenshot", ""], "screenshot: cannot write '': the file name is empty"),
])
def test_no_flag_is_silently_ignored(argv, expected, capsys, tmp_path, monkeypatch, no_training):
    monkeypatch.chdir(tmp_path)
    assert entry(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and expected in err, err
    assert os.listdir(tmp_path) == []  # nothing written


@pytest.mark.parametrize("make,expected", [
    (lambda t: "", "out: cannot write '': the file name is empty"),
    (lambda t: str(t), "it is a folder, not a file"),
    (lambda t: "/dev/null", "it is not a regular file"),
    (lambda t: (t / "ro.jsonl").write_text("keep") and os.chmod(t / "ro.jsonl", 0o444) or str(t / "ro.jsonl"),
     "the file is read-only"),
    (lambda t: "/proc/run.jsonl", "cannot create a file in '/proc'"),
])
def test_unwritable_outputs_are_refused_before_training_naming_the_target(tmp_path, capsys, make, expected,
                                                                            no_training):
    path = make(tmp_path)
    cfg = tmp_path / "cfg.json"
    assert cli.main(FAST + ["--out", path, "--save-config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert expected in err and repr(path) in err and TEMP_PREFIX not in err and len(err.splitlines()) == 1
    assert not cfg.exists()  # --save-config is not written when --out cannot be


def test_a_read_only_mount_is_refused_before_training(read_only_folder, capsys, no_training):
    path = str(read_only_folder / "keep.txt")
    assert cli.main(FAST + ["--out", path]) == 2
    assert "Read-only file system" in capsys.readouterr().err
    assert cli.main(FAST + ["--save-config", str(read_only_folder / "c.json")]) == 2
    assert (read_only_folder / "keep.txt").read_bytes() == b"precious"


def test_an_output_larger_than_the_free_space_is_refused_before_training(small_disk, capsys, no_training):
    assert cli.main(FAST[:-3] + ["--epochs", "1000", "--out", str(small_disk / "run.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "out: the output needs up to" in err and "MiB is free" in err and "reduce epochs" in err
    assert os.listdir(small_disk) == []


def test_the_size_estimate_bounds_the_real_output_closely(tmp_path):
    for name, extra in (("run.jsonl", []), ("run.csv", []), ("ab.jsonl", ["--compare", "depth=3"])):
        path = tmp_path / name
        assert cli.main(FAST[:-3] + ["--epochs", "20", "--out", str(path), "--quiet"] + extra) == 0
        cfg = ExperimentConfig(depth=2, width=8, samples=100, epochs=20)
        runs = {"A": Trainer(cfg)} if not extra else {"A": Trainer(cfg), "B": Trainer(cfg.replace(depth=3))}
        bound = output_bound(cfg, runs, name.endswith(".csv"))
        size = path.stat().st_size
        assert size <= bound <= 1.6 * size, (name, size, bound)


def test_disk_space_check_counts_the_file_it_replaces(tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_bytes(b"x" * 1000)
    check_disk_space(str(old), 1500, "out", "reduce epochs", free=600)
    with pytest.raises(Exception, match="out: the output needs up to"):
        check_disk_space(str(old), 1700, "out", "reduce epochs", free=600)


def test_out_grows_as_epochs_complete(tmp_path, monkeypatch):
    path = tmp_path / "run.jsonl"
    path.write_text("old\n")
    seen = []
    original = AppendingFile.append

    def spy(self, text):
        seen.append(path.read_text())
        original(self, text)
    monkeypatch.setattr(AppendingFile, "append", spy)
    assert cli.main(FAST[:-3] + ["--epochs", "4", "--out", str(path), "--quiet"]) == 0
    assert seen[0] == "old\n"  # untouched until the first epoch is complete
    assert [len(s.splitlines()) for s in seen[1:]] == [1, 2, 3]  # on disk before the next epoch trains
    assert len(path.read_text().splitlines()) == 4


def test_out_writes_through_a_symlink(tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target.name)
    assert cli.main(FAST + ["--out", str(link)]) == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == 3


@pytest.mark.parametrize("at_epoch,signum", [(1, signal.SIGTERM), (3, signal.SIGTERM), (3, signal.SIGINT)])
def test_a_signal_mid_run_keeps_completed_epochs_and_no_temp(tmp_path, capsys, monkeypatch, at_epoch, signum):
    path = tmp_path / "run.csv"
    path.write_text("old\n")
    original = Trainer.step_epoch

    def step(self):
        if self.epoch + 1 == at_epoch:
            raise cli.Interrupted(signum)
        return original(self)
    monkeypatch.setattr(Trainer, "step_epoch", step)
    assert cli.main(FAST[:-3] + ["--epochs", "5", "--out", str(path)]) == 128 + signum
    err = capsys.readouterr().err.strip().splitlines()
    name = signal.Signals(signum).name
    if at_epoch == 1:
        assert path.read_text() == "old\n" and err[-1].endswith(f"after epoch 0 of 5; {str(path)!r} is unchanged")
    else:
        rows = path.read_text().splitlines()
        assert rows[0].startswith("epoch,step") and [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
        assert err[-1] == (f"main.py: interrupted by {name} after epoch 2 of 5; {str(path)!r} holds the 2 "
                           "completed epochs")
    assert os.listdir(tmp_path) == ["run.csv"]


def _wait_for_lines(path, n, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_real_signal_to_a_headless_run(tmp_path, signum):
    path = tmp_path / "run.jsonl"
    proc = subprocess.Popen([sys.executable, "main.py", "--headless", "--depth", "2", "--width", "8", "--samples",
                             "400", "--epochs", "1000000", "--quiet", "--out", str(path)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_lines(path, 3, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, len(records) + 1))
    assert err.strip() == (f"main.py: interrupted by {signal.Signals(signum).name} after epoch {len(records)} of "
                           f"1000000; {str(path)!r} holds the {len(records)} completed epochs")
    assert os.listdir(tmp_path) == ["run.jsonl"]


def test_config_reads_the_windows_saved_config_and_refuses_other_versions(tmp_path, capsys):
    saved = tmp_path / "saved.json"
    saved.write_text(experiment_json(ExperimentConfig(depth=2, width=8, samples=100, epochs=3)))
    assert cli.main(["--headless", "--quiet", "--config", str(saved)]) == 0
    from_file = capsys.readouterr().out
    assert cli.main(FAST) == 0 and capsys.readouterr().out == from_file
    saved.write_text(json.dumps({"format": "gradient-flow-experiment", "version": 999, "config": {}}))
    assert cli.main(["--headless", "--config", str(saved)]) == 2
    assert "version 999; this program reads version 1" in capsys.readouterr().err


@pytest.mark.parametrize("content", [
    '{"depth": 3}'.encode("utf-16"), b'{"depth": "\xff"}', b'{"seed": ' + b"9" * 5000 + b"}",
    b"[" * 100_000, b'{"depth": 1e400}', b'{"activation": "' + b"x" * 100_000 + b'"}',
])
def test_hostile_config_files_exit_2_with_one_short_line(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    p = subprocess.run([sys.executable, "main.py", "--headless", "--config", str(path)], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and len(p.stderr) < 1100 and "Traceback" not in p.stderr
