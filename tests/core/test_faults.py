"""NaN and inf are this tool's everyday input: every optimiser and activation must catch them."""
import warnings

import numpy as np
import pytest

from core import ACTIVATIONS, OPTIMIZERS, ExperimentConfig, Trainer


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_the_first_nonfinite_value_is_caught_and_the_state_kept(optimizer, activation, poison):
    t = Trainer(ExperimentConfig(depth=4, width=8, samples=100, activation=activation, optimizer=optimizer,
                                 lr=0.01))
    t.step_batch()
    t.step_batch()
    t.network.params[2][0][1, 1] = poison  # layer 3 goes bad, as an overflow would make it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = t.step_batch()
    assert b.diverged and t.diverged and t.divergence.step == 3
    assert 1 <= t.divergence.layer <= 5 and t.divergence.quantity in ("loss", "gradient", "weights")
    state = t.network.flat.copy()
    assert t.step_batch() is b and t.step_epoch().diverged
    np.testing.assert_array_equal(t.network.flat, state)  # nothing more was applied
    assert np.count_nonzero(~np.isfinite(state)) == 1  # only the poisoned weight: no update spread it
    # the optimiser's state did not take the poison either: a fresh trainer recovers (Reset)
    fresh = Trainer(t.config)
    assert not fresh.step_epoch().diverged


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_overflow_in_the_forward_pass_is_caught_at_the_first_step(optimizer):
    # 60 linear layers of 256 units at gain 100: the output overflows float64 before any update.
    t = Trainer(ExperimentConfig(depth=60, width=256, samples=50, activation="linear", init="normal", init_gain=100.0,
                                 optimizer=optimizer, dataset="sine"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = t.step_epoch()
    assert e.diverged and t.divergence.step == 1 and t.divergence.quantity == "loss"
    assert 1 <= t.divergence.layer <= 61
    assert e.to_record()["train_loss"] is None


def test_float32_overflow_is_caught_too():
    t = Trainer(ExperimentConfig(depth=12, width=16, samples=50, activation="relu", init="normal", init_gain=40.0,
                                 dtype="float32", dataset="sine"))
    t.run(3)
    assert t.diverged
