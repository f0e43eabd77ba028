"""How statistics travel from a trainer process to the window (issue 25): pickled compactly, and the epoch history's
latest epochs handed out as the very EpochStats they were recorded from. Both must give the same numbers as before."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from core import ExperimentConfig, Trainer
from core.training.history import EpochHistory
from core.training.statistics import BatchStats, EpochStats


def _same(a, b) -> None:
    """Every field of two statistics objects equal (NaN equal to NaN; nested objects field by field)."""
    assert type(a) is type(b)
    assert set(vars(a)) == set(vars(b))
    for name, x in vars(a).items():
        y = getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, name
            assert np.array_equal(x, y, equal_nan=True), name
        elif isinstance(x, (BatchStats, EpochStats)):
            _same(x, y)
        elif isinstance(x, float) and np.isnan(x):
            assert np.isnan(y), name
        elif hasattr(x, "__dict__") and not isinstance(x, type):
            assert vars(x).keys() == vars(y).keys(), name
        else:
            assert x == y, name


@pytest.mark.parametrize("cfg", [ExperimentConfig(depth=4, width=8, epochs=2, seed=3),
                                 ExperimentConfig(depth=3, width=8, epochs=2, norm="batch", seed=4),
                                 ExperimentConfig(model="lstm", dataset="recall", depth=1, width=8, epochs=1, seed=5)],
                         ids=["mlp", "batchnorm", "lstm"])
def test_statistics_survive_pickling_and_copying_field_for_field(cfg):
    t = Trainer(cfg)
    epoch = t.step_epoch()
    batch = t.step_batch()
    for obj in (batch, epoch):
        for again in (pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)), copy.deepcopy(obj),
                      pickle.loads(pickle.dumps(obj, protocol=2))):
            _same(obj, again)
    back = pickle.loads(pickle.dumps(batch))
    back.grad_norm[0] = -1.0   # the rows of one block: changing one array changes no other
    assert back.grad_mean_abs[0] == batch.grad_mean_abs[0] and back.weight_norm[0] == batch.weight_norm[0]


def test_the_latest_epochs_are_the_recorded_objects_and_equal_to_the_arrays():
    t = Trainer(ExperimentConfig(depth=3, width=8, epochs=80, samples=64, batch_size=32, seed=7))
    recorded = [t.step_epoch() for _ in range(EpochHistory.RECENT + 6)]
    h = t.history
    assert h[-1] is recorded[-1] and h[6] is recorded[6]
    assert h[5] is not recorded[5]              # older than the latest RECENT: rebuilt from the arrays
    for i in (0, 5, 40, len(h) - 1):
        e, r = h[i], recorded[i]
        for name in ("grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm", "update_ratio",
                     "act_deriv_mean", "saturation"):
            np.testing.assert_array_equal(getattr(e, name), getattr(r, name))
        assert (e.epoch, e.step, e.train_loss, e.val_loss, e.val_accuracy) == \
            (r.epoch, r.step, r.train_loss, r.val_loss, r.val_accuracy)
