"""Core data for the plots: the step timeline, the chance level, layer regimes, the theory's quantity."""
import math

import numpy as np
import pytest

from core import ExperimentConfig, Trainer
from core.training.history import StepHistory
from core.nn.losses import bce_with_logits, chance_loss, mse
from core.measure.regimes import EXPLODING_ABOVE, EXPLODING_RISE, REGIMES, VANISHING_RATIO, classify_layers
from core.training.statistics import BatchStats
from core.measure.theory import PREDICTED_QUANTITY, phase, predicted_delta_norms


def small(**kw):
    return ExperimentConfig(**{**dict(depth=3, width=8, samples=96, batch_size=16, epochs=2), **kw})


# -- (a) the step timeline ---------------------------------------------------------------------

def test_trainer_records_every_step_as_its_batch_stats_say():
    t = Trainer(small(clip_norm=0.05))
    batches = [t.step_batch() for _ in range(9)]  # past the end of the first epoch (5 batches)
    s = t.steps
    assert len(s) == 9
    np.testing.assert_array_equal(s.scalar("step"), np.arange(1, 10))
    np.testing.assert_array_equal(s.scalar("loss"), [b.loss for b in batches])
    np.testing.assert_array_equal(s.scalar("grad_norm_total"), [b.grad_norm_total for b in batches])
    np.testing.assert_array_equal(s.clipped, [b.clipped for b in batches])
    assert s.clipped.any() and s.delta_norms.shape == (9, 4)
    np.testing.assert_array_equal(s.delta_norms[3], batches[3].delta_norms)
    # the global norm is before clipping: larger than the clip level exactly where clipped
    np.testing.assert_array_equal(s.clipped, s.scalar("grad_norm_total") > 0.05)


def test_step_history_grows_past_its_capacity_and_clears():
    h = StepHistory(2, capacity=2)
    for i in range(5):
        h.append(BatchStats(*[np.zeros(2)] * 7, step=i + 1, loss=float(i), grad_norm_total=2.0 * i,
                            clipped=i % 2 == 0, delta_norms=np.array([i, 10.0 * i])))
    assert len(h) == 5 and h.scalar("loss").tolist() == [0, 1, 2, 3, 4]
    assert h.clipped.tolist() == [True, False, True, False, True]
    assert h.delta_norms[:, 1].tolist() == [0, 10, 20, 30, 40]
    h.clear()
    assert len(h) == 0 and h.delta_norms.shape == (0, 2)
    lean = StepHistory(2, keep_deltas=False)
    lean.append(BatchStats(*[np.zeros(2)] * 7, step=1, loss=1.0, delta_norms=np.ones(2)))
    assert lean.delta_norms.shape == (0, 2) and lean.nbytes < StepHistory(2).nbytes


def test_new_rows_hand_over_as_copies_and_rebuild_the_same_history():
    t = Trainer(small())
    for _ in range(3):
        t.step_batch()
    mirror = StepHistory(t.network.n_layers, capacity=1)
    mirror.extend(t.steps.rows())
    sent = len(t.steps)
    for _ in range(4):
        t.step_batch()
    new = t.steps.rows(sent)
    assert len(new["step"]) == 4 and new["delta_norms"].shape == (4, 4)
    new["loss"][:] = -1.0  # a copy: the trainer's own history is untouched
    assert (t.steps.scalar("loss") > 0).all()
    mirror.extend(t.steps.rows(sent))
    for k in ("step", "loss", "grad_norm_total"):
        np.testing.assert_array_equal(mirror.scalar(k), t.steps.scalar(k))
    np.testing.assert_array_equal(mirror.clipped, t.steps.clipped)
    np.testing.assert_array_equal(mirror.delta_norms, t.steps.delta_norms)


def test_a_diverging_run_ends_its_timeline_at_the_divergence():
    t = Trainer(small(activation="relu", init="normal", width=64, depth=5, lr=10.0))
    while not t.diverged and t.step < 50:
        t.step_batch()
    assert t.diverged and len(t.steps) == t.divergence.step == t.step
    assert np.isfinite(t.steps.scalar("loss")[0])


# -- (b) the chance level -------------------------------------------------------------------------

def test_chance_loss_is_the_best_constant_prediction():
    assert chance_loss("classification", [0, 1, 0, 1]) == pytest.approx(math.log(2), abs=1e-15)
    y = np.array([1.0, 0, 0, 0])
    best = min(bce_with_logits(np.full((4, 1), z), y[:, None])[0] for z in np.linspace(-3, 3, 6001))
    assert chance_loss("classification", y) == pytest.approx(best, abs=1e-6)
    assert chance_loss("classification", [1, 1]) == 0.0
    r = np.array([1.0, 2.0, 4.0, 7.0])
    assert chance_loss("regression", r) == pytest.approx(mse(np.full((4, 1), r.mean()), r[:, None])[0])
    with pytest.raises(ValueError, match="task must be"):
        chance_loss("ranking", r)


def test_an_untrained_network_starts_near_the_chance_level_of_its_data():
    t = Trainer(small(samples=400))
    assert chance_loss("classification", t.data.y_train) == pytest.approx(math.log(2), abs=0.01)


# -- (c) regimes relative to the network ------------------------------------------------------------

def test_regimes_are_relative_to_the_network():
    assert set(REGIMES) == {"healthy", "vanishing", "exploding", "zero", "nonfinite"}
    # the same absolute values, judged against different networks
    assert classify_layers([1e-7, 1e-5, 1e-3]) == ["vanishing", "healthy", "healthy"]
    assert classify_layers([1e-7, 1e-6, 1e-6]) == ["healthy"] * 3
    assert classify_layers([5.0, 1e-4, 1.0]) == ["healthy", "vanishing", "healthy"]
    # a growth from the output to the input: the layers far below layer 1 are not called vanishing
    assert classify_layers([1e6, 1e4, 10.0, 1.0]) == ["exploding", "exploding", "healthy", "healthy"]


def test_regime_thresholds_are_the_named_constants():
    top = 1.0
    assert classify_layers([VANISHING_RATIO * top * 0.999, top])[0] == "vanishing"
    assert classify_layers([VANISHING_RATIO * top * 1.001, top])[0] == "healthy"
    assert classify_layers([EXPLODING_RISE * 1.001, 1.0])[0] == "exploding"
    assert classify_layers([EXPLODING_RISE * 0.999, 1.0])[0] == "healthy"
    assert classify_layers([EXPLODING_ABOVE * 1.001, EXPLODING_ABOVE * 0.999]) == ["exploding", "healthy"]


def test_a_network_blown_up_everywhere_is_not_called_healthy():
    # the exploding story's second step: every layer near 1e10, none 100x the output layer's
    values = [8.795e9, 2.929e10, 2.194e10, 2.131e10, 1.988e10, 7.836e9]
    assert classify_layers(values) == ["exploding"] * 6
    # its fourth: layer 1 is 1e3 below the largest, yet at 1e93 it is not vanishing
    assert classify_layers([1.444e93, 2.045e96, 8.963e99, 1.458e98, 1.282e98, 2.706e95]) == ["exploding"] * 6
    # the same shape of values near 1 stays relative: one layer 1e3 below the rest is vanishing
    assert classify_layers([1e-4, 0.2, 0.9, 0.15, 0.13, 0.03])[0] == "vanishing"


def test_zero_and_nonfinite_are_their_own_cases():
    assert classify_layers([0.0, np.nan, np.inf, 1.0]) == ["zero", "nonfinite", "nonfinite", "healthy"]
    assert classify_layers([0.0, 0.0, 0.0]) == ["zero"] * 3
    assert classify_layers([1e-9, 1.0, 0.0]) == ["vanishing", "healthy", "zero"]  # no output value: no rise


# -- (d) what the theory predicts --------------------------------------------------------------------

@pytest.mark.parametrize("sigma_w2", [0.5, 2.0])
def test_the_theory_predicts_the_error_signal_of_a_wide_tanh_network(sigma_w2):
    cfg = ExperimentConfig(depth=12, width=400, activation="tanh", init="lecun", init_gain=math.sqrt(sigma_w2),
                           batch_size=128, samples=512)
    t = Trainer(cfg)
    t.step_batch()
    measured = getattr(t.last_batch, PREDICTED_QUANTITY)
    # the first step's delta_norms are taken before its update, at the initial weights
    predicted = predicted_delta_norms(cfg, measured)
    assert np.isnan(predicted[-1]) and predicted[-2] == measured[-2]
    ratio = predicted[1:-1] / measured[1:-1]  # layer 1 sees the raw 2-D input, outside the wide-layer theory
    assert np.all(np.abs(np.log(ratio)) < math.log(1.3)), ratio
    assert measured[1] / measured[-2] == pytest.approx(phase(cfg).factor ** 10, rel=0.3)


def test_the_theory_says_nothing_about_residual_or_non_random_networks():
    for change in (dict(residual=True), dict(init="constant"), dict(init="zeros")):
        assert np.isnan(predicted_delta_norms(small(**change), [1.0, 1.0, 1.0, 1.0])).all(), change
    assert np.isfinite(predicted_delta_norms(small(), [1.0, 1.0, 1.0, 1.0])[:3]).all()
    for init in ("constant", "zeros"):  # no 'ordered, x0.00 per layer' for weights that are not random
        p = phase(small(init=init))
        assert p.name == "outside the theory" and str(p) == "outside this theory: the weights are not random"


def test_regimes_of_the_stories():
    from core.stories.presets import get_preset
    t = Trainer(get_preset("exploding").config())
    b = t.step_batch()
    assert classify_layers(b.delta_norms) == ["exploding"] * 4 + ["healthy"] * 2
    # the weight gradients look level (within 2x of each other), but at 3e4 each they are exploding
    assert classify_layers(b.grad_norm) == ["exploding"] * 6 and min(b.grad_norm) > EXPLODING_ABOVE
    t = Trainer(get_preset("vanishing-sigmoid").config(epochs=2))
    t.run()
    labels = classify_layers(t.history[-1].grad_norm)
    assert labels[0] == "vanishing" and labels[-1] == "healthy" and "exploding" not in labels
    t = Trainer(get_preset("constant-init").config(init="zeros"))
    assert classify_layers(t.step_batch().grad_norm) == ["zero"] * 5
