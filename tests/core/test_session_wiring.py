"""The CLI drives core.training.session.Session (one way in) and the Session holds the data file (issue 9, 16)."""
import io

import numpy as np
import pytest

from core import ConfigError, ExperimentConfig
from core.headless import _csv_line, record_line, run_headless
from core.training.compare import Comparison
from core.io.records import csv_header, csv_row
from core.training.session import Change, Session
from core.training.trainer import Trainer
from core.data.userdata import load_for

SMALL = ExperimentConfig(depth=3, width=8, samples=120, epochs=4, seed=7)
# A diverges in epoch 1 (step 3) and B goes on: the CLI's records and stderr lines for both
DIVERGING = ExperimentConfig(depth=10, width=16, samples=120, epochs=4, activation="relu", init_gain=4.0, lr=10.0,
                             optimizer="sgd", seed=3)


def reference_lines(cfg, compare=None, data=None, as_csv=False) -> tuple[str, str]:
    """What the CLI wrote before it drove a Session: each Trainer stepped an epoch at a time, directly."""
    runs = Comparison(cfg, *compare, data=data).runs if compare else {"A": Trainer(cfg, data)}
    tagged, out, err = len(runs) > 1, [], []
    n_layers = max(t.network.n_layers for t in runs.values())
    if as_csv:
        out.append(_csv_line(["run"] * tagged + csv_header(n_layers)))
    for _ in range(cfg.epochs):
        if all(t.diverged for t in runs.values()):
            break
        for name, t in runs.items():
            if t.diverged:
                continue
            stats = t.step_epoch()
            out.append(_csv_line([name] * tagged + csv_row(stats, n_layers, 0)) if as_csv
                       else record_line(stats, name if tagged else None))
            if stats.diverged:
                err.append(f"{'run ' + name + ': ' if tagged else ''}{t.divergence}; training stopped")
    return "".join(l + "\n" for l in out), "".join(l + "\n" for l in err)


def cli_lines(cfg, compare=None, data=None, out_path=None) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_headless(cfg, out_path, True, stdout=stdout, stderr=stderr, compare=compare, data=data) == 0
    return (stdout.getvalue() if out_path is None else open(out_path).read()), stderr.getvalue()


@pytest.mark.parametrize("cfg, compare", [(SMALL, None), (SMALL, ("activation", "relu")),
                                          (DIVERGING, ("init_gain", 1.0)), (DIVERGING, None)])
def test_headless_run_through_the_session_writes_the_same_bytes(cfg, compare):
    (out, err), (want_out, want_err) = cli_lines(cfg, compare), reference_lines(cfg, compare)
    assert out == want_out and err == want_err
    assert out.count("\n") >= (2 if compare else 1)
    if cfg is DIVERGING:
        assert "training stopped" in err


def test_headless_csv_with_data_file_same_bytes(tmp_path):
    path = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    np.savetxt(path, np.c_[X, (X[:, 0] > 0) + (X[:, 1] > 1)], delimiter=",", header="a,b,c,y", comments="")
    cfg = SMALL.replace(epochs=2)
    data = load_for(cfg, str(path))
    got = cli_lines(cfg, ("lr", 0.5), data, str(tmp_path / "out.csv"))
    assert got == reference_lines(cfg, ("lr", 0.5), load_for(cfg, str(path)), as_csv=True)


def csv_file(tmp_path, name="d.csv", n=60):
    path = tmp_path / name
    X = np.random.default_rng(1).normal(size=(n, 3))
    np.savetxt(path, np.c_[X, (X[:, 0] > 0).astype(int)], delimiter=",", header="p,q,r,label", comments="")
    return str(path)


def test_session_holds_the_data_file_through_rebuilds_and_compare(tmp_path):
    cfg = SMALL.replace(epochs=1)
    data = load_for(cfg, csv_file(tmp_path))
    s = Session(cfg, data=data)
    assert s.a.data is data and s.data_source == data.source
    assert s.change(depth=2) is Change.REBUILT and s.a.data is data    # kept through a rebuild
    s.rebuild(compare=("activation", "relu"))
    assert s.a.data is data and s.b.data is data
    assert s.change(lr=0.5) is Change.APPLIED and s.data is data


def test_a_new_split_reads_the_file_again_and_checks_it(tmp_path):
    path = csv_file(tmp_path)
    cfg = SMALL.replace(epochs=1)
    s = Session(cfg, data=load_for(cfg, path))
    s.change(seed=8)   # a new split of the same file
    assert s.data is not None and s.a.data.source["sha256"] == s.data_source["sha256"]
    np.testing.assert_array_equal(s.a.data.X_train, load_for(cfg.replace(seed=8), path).X_train)
    with open(path, "a") as fh:
        fh.write("0,0,0,1\n")   # the file changed under the session: refused, the networks stay
    before = s.a
    with pytest.raises(ConfigError, match="has changed"):
        s.change(val_fraction=0.3)
    assert s.a is before and s.config.val_fraction == cfg.val_fraction


def test_choosing_a_built_in_data_set_leaves_the_file(tmp_path):
    cfg = SMALL.replace(epochs=1)
    s = Session(cfg, data=load_for(cfg, csv_file(tmp_path)))
    s.change(dataset="xor")
    assert s.data is None and s.data_source is None and s.a.data.name == "xor"


def test_the_data_entry_is_read_by_the_one_reader(tmp_path):
    from core.data.userdata import source_of_experiment
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)   # json.load would raise RecursionError
    assert source_of_experiment(str(deep)) is None
    good = tmp_path / "e.json"
    good.write_text('{"format": "gradient-flow-experiment", "version": 1, "config": {}, '
                    '"data": {"path": "x.csv", "sha256": "ab"}}')
    assert source_of_experiment(str(good)) == {"path": "x.csv", "sha256": "ab"}


def test_a_recurrent_model_refuses_a_data_file_and_the_session_keeps_its_networks(tmp_path):
    cfg = SMALL.replace(epochs=1)
    data = load_for(cfg, csv_file(tmp_path))
    s = Session(cfg)
    before = s.a
    with pytest.raises(ConfigError, match="model lstm needs a sequence task"):
        s.rebuild(cfg.replace(model="lstm", dataset="recall", depth=1), data=data)
    assert s.a is before and s.data is None
    with pytest.raises(ConfigError, match="model gru needs a sequence task"):
        Trainer(cfg.replace(model="gru", dataset="adding", depth=1), data)


@pytest.mark.parametrize("path, why", [("/dev/zero", "not a regular file"), ("/", "a folder"), ("", "empty")])
def test_a_data_file_that_is_not_a_regular_file_is_refused_before_reading(path, why):
    with pytest.raises(ConfigError, match=why):
        load_for(SMALL, path)


def test_a_rebuild_with_a_new_built_in_data_set_leaves_the_file(tmp_path):
    cfg = SMALL.replace(epochs=1)
    s = Session(cfg, data=load_for(cfg, csv_file(tmp_path)))
    s.rebuild(cfg.replace(dataset="moons"))   # how the window's coalesced commands arrive
    assert s.data is None and s.a.data.name == "moons"
