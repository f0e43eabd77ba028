"""Issue 25: every reader against generated hostile inputs (tests/hostile_inputs.py), each with its expected
outcome: read (and what was read), or refused with a ConfigError whose one-line message says why. Nothing
else may escape, nothing may hang (FIFOs, /dev/zero) and nothing may read without a bound (a 2 GiB file)."""
import time

import pytest

from core import ConfigError, ExperimentConfig
from core.data.userdata import load_csv
from core.io.records import load_experiment
from core.sweep import SerialExecutor, make_plan, plan_from_csv, read_existing, run_sweep
from tests.hostile_inputs import MUTATIONS, SPECIAL, make_inputs

READ = "read"
# The special files: the same refusal for every reader
SPECIAL_REFUSED = {"folder": "folder", "fifo": "not a regular file", "dev_zero_link": "not a regular file",
                   "dev_null": "not a regular file", "dangling_link": "cannot", "link_loop": "cannot",
                   "missing": "cannot", "sparse_huge": "bytes"}

CONFIG_VALID = b'{"depth": 2, "width": 8, "lr": 0.1}\n'
CONFIG_EXPECTED = {
    "valid": READ, "utf8_bom": READ, "crlf": READ, "first_line_only": READ,
    "utf16": "is UTF-16 text", "utf32": "is UTF-32 text", "latin1_byte": "is not UTF-8 text",
    "nul_bytes": "is not valid JSON", "empty": "is not valid JSON", "whitespace": "is not valid JSON",
    "cut_in_half": "is not valid JSON", "random_bytes": "config: ", "deep_json": "more than 32 deep",
    "long_line": "holds an integer of 3145728 digits", "nan_text": "is not valid JSON",
    "inf_text": "is not valid JSON", "huge_number": "beyond the range of a float",
    "sparse_huge": "at most",
}

DATA_VALID = ("a,b,label\n" + "".join(f"{i / 10:.1f},{(i % 7) / 3:.3f},{i % 2}\n" for i in range(20))).encode()
DATA_EXPECTED = {
    "valid": READ, "utf8_bom": READ, "crlf": READ,
    "utf16": "line 1: not UTF-8 text", "utf32": "line 1: not UTF-8 text", "latin1_byte": "line 1: not UTF-8",
    "nul_bytes": "is not a number", "empty": "has no rows of numbers", "whitespace": "has no rows of numbers",
    "cut_in_half": "line 11: 2 columns, expected 3", "first_line_only": "has no rows of numbers",
    "random_bytes": "data: ", "deep_json": "has no rows of numbers",
    "long_line": "line 1, column 1: '99999...(3145728 characters)...99999' is not a finite",   # quoted short
    "nan_text": "line 3, column 1 ('a'): 'nan' is not a finite number",
    "inf_text": "line 3, column 1 ('a'): 'inf' is not a finite number",
    "huge_number": "line 3, column 1 ('a'): '1e400' is not a finite number",
    "sparse_huge": "line 1 is longer than 8 MiB",
}


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    """A real sweep CSV of 4 cells, and its plan."""
    folder = tmp_path_factory.mktemp("sweep")
    plan = make_plan(ExperimentConfig(depth=2, width=4, samples=40, epochs=1), ["depth=1,2", "init_gain=1,2"])
    path = folder / "sweep.csv"
    assert run_sweep(plan, str(path), SerialExecutor(), quiet=True) == 0
    return plan, path.read_bytes()


# Generic mutations of a sweep CSV. "first 0.1" of the data reader has no fixed place here: those three are
# replaced by the sweep's own corruptions below.
SWEEP_RESUME_EXPECTED = {
    "valid": 4, "crlf": 4, "empty": 0, "first_line_only": 0, "cut_in_half": 1,
    "utf8_bom": "has the columns", "utf16": "not a sweep CSV file", "utf32": "not a sweep CSV file",
    "latin1_byte": "not a sweep CSV file", "whitespace": "has the columns", "random_bytes": "out: ",
    "deep_json": "not a sweep CSV file", "long_line": "not a sweep CSV file",
    "nul_bytes": 3,   # the NUL lands in a metric cell of the second row: that row is left out, its cell runs again
    "dangling_link": 0, "link_loop": 0, "missing": 0,   # nothing to resume: a new sweep
    "sparse_huge": "at most",
}
PHASE_EXPECTED = {
    "valid": 4, "crlf": 4, "utf8_bom": 4, "cut_in_half": 1,
    "empty": "no train_loss column", "whitespace": "no train_loss",
    "first_line_only": "no train_loss column",   # the header without its line end: no complete line at all
    "utf16": "not a sweep CSV file", "utf32": "not a sweep CSV file", "latin1_byte": "not a sweep CSV file",
    "random_bytes": "file: ", "deep_json": "no train_loss column", "long_line": "no train_loss column",
    "nul_bytes": 3, "sparse_huge": "at most",
}


def outcome(read, path):
    """READ and what was read, or the refusal's message; anything but a ConfigError fails the test."""
    started = time.monotonic()
    try:
        result = (READ, read(path))
    except ConfigError as e:
        message = str(e)
        assert "\n" not in message and len(message) < 1200, message
        result = ("refused", message)
    assert time.monotonic() - started < 10, f"{path}: the reader took too long"
    return result


def check(expected, got, name):
    kind, value = got
    if expected == READ or isinstance(expected, int):
        assert kind == READ, f"{name}: expected it read, got {value}"
    else:
        assert kind == "refused" and expected in value, f"{name}: expected a refusal saying {expected!r}, got {got}"
    return value


@pytest.fixture(scope="module")
def config_inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("config"), CONFIG_VALID)


@pytest.fixture(scope="module")
def data_inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("data"), DATA_VALID)


@pytest.fixture(scope="module")
def sweep_inputs(tmp_path_factory, sweep_file):
    return make_inputs(tmp_path_factory.mktemp("sweep_inputs"), sweep_file[1])


@pytest.mark.parametrize("name", [*MUTATIONS, *SPECIAL])
def test_config_and_experiment_reader(config_inputs, name):
    expected = CONFIG_EXPECTED.get(name) or SPECIAL_REFUSED[name]
    value = check(expected, outcome(lambda p: load_experiment(p, "config"), config_inputs[name]), name)
    if expected == READ:
        config, history = value
        assert (config.depth, config.width, config.lr, history) == (2, 8, 0.1, None)


@pytest.mark.parametrize("name", [*MUTATIONS, *SPECIAL])
def test_data_csv_reader(data_inputs, name):
    expected = DATA_EXPECTED.get(name) or SPECIAL_REFUSED[name]
    data = check(expected, outcome(lambda p: load_csv(p, 0.25), data_inputs[name]), name)
    if expected == READ:   # every row, the header's names without a byte-order mark
        assert len(data.y_train) + len(data.y_val) == 20 and data.feature_names == ("a", "b")


@pytest.mark.parametrize("name", [n for n in (*MUTATIONS, *SPECIAL) if n not in ("nan_text", "inf_text", "huge_number")])
def test_sweep_resume_reader(sweep_inputs, sweep_file, name):
    plan = sweep_file[0]
    expected = SWEEP_RESUME_EXPECTED[name] if name in SWEEP_RESUME_EXPECTED else SPECIAL_REFUSED[name]
    value = check(expected, outcome(lambda p: read_existing(p, plan), sweep_inputs[name]), name)
    if isinstance(expected, int):
        assert len(value[0]) == expected


@pytest.mark.parametrize("name", [n for n in (*MUTATIONS, *SPECIAL) if n not in ("nan_text", "inf_text", "huge_number")])
def test_phase_diagram_reader(sweep_inputs, name):
    expected = PHASE_EXPECTED[name] if name in PHASE_EXPECTED else SPECIAL_REFUSED[name]
    value = check(expected, outcome(plan_from_csv, sweep_inputs[name]), name)
    if isinstance(expected, int):
        assert len(value[1]) == expected


def _corrupt(text: bytes, row: int, column: str, value: str, plan) -> bytes:
    lines = text.decode().split("\n")
    cells = lines[row].split(",")
    cells[plan.header.index(column)] = value
    lines[row] = ",".join(cells)
    return "\n".join(lines).encode()


@pytest.mark.parametrize("column,value", [("train_loss", "xyz"), ("val_loss", "nan"), ("grad_gain", "inf"),
                                          ("diverged", "7"), ("epoch_reached", "-1"), ("val_accuracy", "1e400")])
def test_a_corrupted_metric_is_left_out_so_its_cell_runs_again(tmp_path, sweep_file, column, value):
    plan, text = sweep_file
    path = tmp_path / "bad.csv"
    path.write_bytes(_corrupt(text, 2, column, value, plan))
    dropped = []
    rows, _ = read_existing(str(path), plan, dropped)
    assert len(rows) == 3 and dropped == [(3, f"{column} is {value!r}")]
    dropped = []
    _, rows = plan_from_csv(str(path), dropped)
    assert len(rows) == 3 and dropped == [(3, f"{column} is {value!r}")]


def test_a_phase_diagram_file_whose_first_row_is_cut_short_is_not_a_valid_diagram(tmp_path, sweep_file):
    plan, text = sweep_file
    header, first = text.decode().split("\n")[:2]
    path = tmp_path / "cut.csv"
    path.write_text(header + "\n" + first[:20] + "\n")
    with pytest.raises(ConfigError, match="has no complete rows"):
        plan_from_csv(str(path))


def test_a_changed_fixed_field_is_still_refused(tmp_path, sweep_file):
    plan, text = sweep_file
    path = tmp_path / "other.csv"
    path.write_bytes(_corrupt(text, 1, "lr", "0.5", plan))
    with pytest.raises(ConfigError, match="was made with lr=0.5, this sweep has lr=0.1"):
        read_existing(str(path), plan)
