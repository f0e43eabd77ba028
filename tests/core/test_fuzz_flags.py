"""Issue 25: every flag of the command line with hostile values, each with its expected outcome, and the
exit-code convention (0 done, 1 a run that failed, 2 bad usage, 128 + signal interrupted)."""
import os

import pytest

from core import ExperimentConfig
from core import cli
from core.cli import build_parser, config_from_args

FAST = ["--headless", "--quiet", "--depth", "1", "--width", "2", "--samples", "20", "--epochs", "1"]
SWITCHES = {"help", "headless", "quiet", "list_presets", "theory", "residual"}
FLAGS = [a for a in build_parser()._actions if a.option_strings and a.dest not in SWITCHES]
CONFIG_FIELDS = {f for f in ExperimentConfig.__dataclass_fields__}
HOSTILE = ["", "   ", "x" * 5000, "nan", "1e400", "-1", "\u202e\u0000"[:1], "0x10"]


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def expected_codes(dest: str, value: str) -> set:
    """What each hostile value may end in: an empty value always bad usage naming the flag; a numeric field
    refuses the non-numbers and the non-finite; nothing ever a traceback or another status."""
    if not value.strip():
        return {2}
    if dest in CONFIG_FIELDS and value in ("nan", "1e400", "x" * 5000, "\u202e"):
        return {2}
    return {0, 2}


@pytest.mark.parametrize("flag", FLAGS, ids=lambda a: a.dest)
def test_every_flag_with_hostile_values(flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for value in HOSTILE:
        argv = FAST + [f"{flag.option_strings[0]}={value}"]
        code, out, err = run(argv, capsys)
        assert code in expected_codes(flag.dest, value), (argv[-1][:80], code, err[:300])
        assert "Traceback" not in err
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and err.startswith("main.py: error: "), err[:300]
        if not value.strip():
            assert f"--{flag.dest.replace('_', '-')}" in err or f"{flag.dest}" in err, err


@pytest.mark.parametrize("flag", ["--data", "--sweep-preset", "--workers", "--scheduler", "--clip-norm", "--record",
                                  "--sweep", "--depth", "--record-plot", "--trainer"])
def test_an_empty_value_is_refused_naming_the_flag_never_taken_as_absent(flag, capsys):
    code, out, err = run(FAST + [f"{flag}="], capsys)
    assert code == 2 and f"{flag} was given an empty value" in err and out == ""


def test_repeated_flags_keep_the_last_value():
    args = build_parser().parse_args(["--depth", "3", "--lr", "0.5", "--depth", "5", "--lr=0.25"])
    config = config_from_args(args)
    assert (config.depth, config.lr) == (5, 0.25)


def test_compare_without_a_field_names_the_flag(capsys):
    for value in ("relu", "=relu"):
        code, _, err = run(FAST + ["--compare", value], capsys)
        assert code == 2 and err.startswith("main.py: error: compare: ") and "FIELD=VALUE" in err, err


def test_a_failed_write_in_the_middle_of_a_run_is_exit_1_not_bad_usage(capsys, tmp_path, monkeypatch):
    from core.io import fileio
    calls = {"n": 0}
    original = fileio.AppendingFile.append

    def full_disk(self, text):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return original(self, text)
    monkeypatch.setattr(fileio.AppendingFile, "append", full_disk)
    path = tmp_path / "run.jsonl"
    code, _, err = run(FAST[:-1] + ["5", "--out", str(path)], capsys)
    assert code == 1 and "No space left on device (it holds the first 1 epochs)" in err
    assert len(path.read_text().splitlines()) == 1


def test_memory_running_out_mid_run_is_exit_1_with_one_line(capsys, monkeypatch):
    from core.training.session import Session

    def no_memory(self):
        raise MemoryError()
    monkeypatch.setattr(Session, "step_each_epoch", no_memory)
    code, _, err = run(FAST, capsys)
    assert code == 1 and err.strip() == "main.py: error: memory ran out during the run: reduce batch_size, width " \
                                        "or depth"


def test_a_non_finite_validation_loss_is_a_divergence_never_diverged_false():
    """lr 100, gain 10, momentum and leaky_relu in float32: the training batches stay finite, the validation
    set overflows. The epoch's record says diverged, at the layer where it overflowed."""
    import numpy as np
    from core.training.trainer import Trainer
    cfg = ExperimentConfig(lr=100.0, init_gain=10.0, optimizer="momentum", activation="leaky_relu", depth=1, seed=1,
                           dataset="gaussians", epochs=3, dtype="float32")
    t = Trainer(cfg)
    records = t.run()
    assert all(np.isfinite(r.val_loss) or r.diverged for r in records)
    assert not np.isfinite(records[-1].val_loss) and records[-1].diverged
    assert t.divergence.quantity == "validation loss" and "non-finite validation loss" in str(t.divergence)


@pytest.mark.parametrize("address", ["tcp://localhost:abc", "tcp://localhost", "/tmp/x", "tls://localhost:1",
                                     "foo://bar:1", "tcp://:8786", "tcp://h:99999"])
def test_a_bad_scheduler_address_is_one_line_before_any_connection(address, capsys):
    code, out, err = run(["--sweep", "depth=1,2", "--epochs", "1", "--samples", "20", "--width", "2", "--quiet",
                          "--scheduler", address], capsys)
    assert code == 2 and "scheduler must be an address like tcp://HOST:8786" in err and len(err.splitlines()) == 1


def test_exit_codes_are_documented_in_the_readme():
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md"), encoding="utf-8").read()
    section = text[text.index("## Exit codes and bad input"):]
    for line in ("| 0 |", "| 1 |", "| 2 |", "| 130 |", "| 143 |", "last one wins"):
        assert line in section, line
