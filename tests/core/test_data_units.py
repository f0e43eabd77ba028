"""core.data.units: a data file's own units, the exact inverse of the standardisation the network trains on."""
import numpy as np
import pytest

from core import ExperimentConfig
from core.data.units import feature_units, standardisation
from core.data.userdata import load_csv, standardise


def write_table(path, header, rows):
    path.write_text(((header + "\n") if header else "") + "\n".join(",".join(repr(float(v)) for v in r) for r in rows))


def test_the_units_undo_the_standardisation_column_by_column(tmp_path):
    rng = np.random.default_rng(1)
    temp = rng.uniform(250.0, 320.0, 200)              # kelvin
    pressure = rng.uniform(9.0e4, 1.1e5, 200)          # pascal
    label = (temp > 290).astype(float)
    write_table(tmp_path / "air.csv", "temperature_K,pressure_Pa,hot", np.column_stack([temp, pressure, label]))
    data = load_csv(str(tmp_path / "air.csv"), val_fraction=0.2, seed=0)
    u = data.units
    assert u.names == ("temperature_K", "pressure_Pa") and u.target == "hot"
    X = np.concatenate([data.X_val, data.X_train])
    back = np.column_stack([u.original(c, X[:, c]) for c in range(2)])
    # every row of the file comes back (the file's order is shuffled by the split)
    np.testing.assert_allclose(np.sort(back[:, 0]), np.sort(temp), rtol=1e-12)
    np.testing.assert_allclose(np.sort(back[:, 1]), np.sort(pressure), rtol=1e-12)
    # the training rows' statistics, not the whole file's
    assert u.mean[0] == pytest.approx(u.original(0, data.X_train[:, 0]).mean(), rel=1e-12)
    assert u.std[0] == pytest.approx(u.original(0, data.X_train[:, 0]).std(), rel=1e-12)
    np.testing.assert_allclose(u.standardised(1, u.original(1, X[:, 1])), X[:, 1], atol=1e-9)


def test_a_file_without_header_gets_numbered_columns_and_a_regression_keeps_its_target(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.uniform(-50, 50, 60)
    write_table(tmp_path / "r.csv", "", np.column_stack([x, 3 * x + 7]))
    data = load_csv(str(tmp_path / "r.csv"))
    assert data.task == "regression" and data.units.names == ("x1",) and data.units.target == "y"
    np.testing.assert_allclose(data.y_train, 3 * data.units.original(0, data.X_train[:, 0]) + 7, rtol=1e-10)


@pytest.mark.parametrize("column", [
    np.array([5.0, 5.0, 5.0, 5.0]),                    # constant: standardised to 0
    np.array([1e307, -1e307, 5e306, 1.7e308]),         # the sums would overflow: divided by the largest first
    np.array([1e-300, 3e-300, -2e-300, 0.0]),          # the variance would underflow
])
def test_the_inverse_holds_at_the_edges_standardise_handles(column):
    train = column[:, None]
    z = standardise(train, train)
    mean, std = standardisation(train)
    np.testing.assert_allclose(z * std + mean, train, rtol=1e-9, atol=1e-12 * np.abs(train).max())


def test_a_built_in_data_set_has_no_file_units():
    from core.data.datasets import make_dataset
    assert make_dataset("xor", np.random.default_rng(0), 100, 0.1, 0.2).units is None


def test_the_rebuilt_snapshot_carries_the_files_units_and_pickles(tmp_path):
    import pickle
    from core.data.userdata import load_for
    from core.runtime.runner import Kind, Rebuild, Runner
    from tests.core.test_runner import Recorder, drive
    config = ExperimentConfig(depth=2, width=4, samples=40, epochs=1)
    write_table(tmp_path / "d.csv", "a,b,c", [(float(i), 10.0 * (i % 7), float(i % 2)) for i in range(40)])
    data = load_for(config, str(tmp_path / "d.csv"))
    channel = Recorder()
    runner = Runner(channel, config)
    runner._start()
    drive(runner, channel, Rebuild(config, None, data))
    rebuilt = [s for s in channel.snapshots if s.kind == Kind.REBUILT]
    assert rebuilt[0].units is None                    # the built-in data set first
    assert rebuilt[-1].units == data.units and rebuilt[-1].units.names == ("a", "b")
    assert pickle.loads(pickle.dumps(rebuilt[-1])).units == data.units   # a trainer process sends it whole
