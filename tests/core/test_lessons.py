"""The presets' claims, the chain-rule identity, mean-field theory values and lockstep comparison."""
import json
import math

import numpy as np
import pytest

from core import ConfigError, ExperimentConfig, Trainer
from core.cli import main
from core.compare import Comparison
from core.presets import PRESETS, get_preset
from core.theory import chi1, fixed_point, phase, predicted_profile, sigma_w2_of


def run(name, **overrides):
    t = Trainer(get_preset(name).config(**overrides))
    batches = []
    while t.epoch < t.config.epochs and not t.diverged:
        batches.append(t.step_batch())
    return t, batches


def mean_grad(t):
    return t.history.layer("grad_norm").mean(axis=0)


def test_vanishing_sigmoid_layer1_gets_under_a_thousandth_and_the_loss_plateaus():
    cfg = get_preset("vanishing-sigmoid").config()
    assert cfg.depth >= 8 and cfg.activation == "sigmoid" and cfg.lr == 0.001 and cfg.epochs == 20
    t, _ = run("vanishing-sigmoid")
    g = mean_grad(t)
    assert g[0] < 1e-3 * g[-1]
    losses = t.history.scalar("train_loss")
    assert abs(losses[-5:].mean() - losses[-10:-5].mean()) < 0.01  # flat over the last 10 epochs
    assert t.history.scalar("val_accuracy")[-1] < 0.7


def test_relu_fix_keeps_hidden_gradients_within_10x_and_learns_more():
    t, _ = run("relu-fix")
    hidden = mean_grad(t)[:-1]
    assert hidden.max() / hidden.min() < 10
    sig, _ = run("vanishing-sigmoid")
    assert t.history.scalar("train_loss")[-1] < sig.history.scalar("train_loss")[-1] - 0.05


def test_exploding_reaches_1e3_and_diverges():
    t, batches = run("exploding")
    finite = [b.grad_norm for b in batches if np.isfinite(b.grad_norm).all()]
    assert max(np.max(g) for g in finite) >= 1e3
    assert t.diverged


def test_clipping_fix_stays_finite_with_the_same_huge_gradients():
    t, batches = run("clipping-fix")
    assert not t.diverged and t.epoch == 20
    assert np.isfinite(t.network.flat).all()
    assert max(b.grad_norm_total for b in batches) >= 1e3 and all(b.clipped for b in batches[:5])


def test_residual_fix_reaches_layer_1():
    t, _ = run("residual-fix")
    g = mean_grad(t)
    assert g[0] > g[-1] / 100


def test_glorot_standard_shrinks_backpropagated_gradients_and_xavier_does_not():
    def hidden_gain(name):
        links = Trainer(get_preset(name).config()).chain_rule().links[2:-1]
        return float(np.exp(np.mean(np.log([l.gain for l in links]))))
    assert hidden_gain("glorot-standard") == pytest.approx(math.sqrt(1 / 3), rel=0.15)
    assert hidden_gain("xavier-tanh") > 0.85
    std, _ = run("glorot-standard", epochs=2)
    xav, _ = run("xavier-tanh", epochs=2)
    assert mean_grad(std)[0] < 0.1 * mean_grad(xav)[0]  # layer 1 learns far slower


def test_adam_masks_vanishing_gradients_in_the_update():
    t, _ = run("adam-masks", epochs=3)
    e = t.history[-1]
    assert e.grad_norm[0] < 1e-3 * e.grad_norm[-1]          # the gradient still vanishes
    hidden_updates = e.update_ratio[:-1]
    assert hidden_updates.max() / hidden_updates.min() < 100  # the updates do not


def test_zero_init_keeps_the_units_of_a_layer_identical():
    t, _ = run("zero-init", epochs=5)
    for W, b in t.network.params[1:-1]:
        assert np.ptp(W, axis=1).max() < 1e-12 and np.ptp(b) < 1e-12


def test_edge_of_chaos_preset_is_critical():
    assert phase(get_preset("edge-of-chaos").config()).name == "edge of chaos"


def test_every_preset_builds_and_lists(capsys):
    for p in PRESETS.values():
        assert p.summary and p.watch and p.happens and p.why
        Trainer(p.config(epochs=1, samples=64))
    assert main(["--list-presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [l.split()[0] for l in lines] == list(PRESETS)
    assert all(len(l.split(None, 1)) == 2 for l in lines)


def test_preset_headless_with_flag_override(capsys):
    assert main(["--headless", "--preset", "vanishing-sigmoid", "--epochs", "2", "--depth", "3", "--quiet"]) == 0
    records = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert len(records) == 2 and len(records[0]["layers"]) == 4


def test_unknown_preset_is_bad_input(capsys):
    assert main(["--headless", "--preset", "nope"]) == 2
    err = capsys.readouterr().err
    assert "preset must be one of vanishing-sigmoid" in err and len(err.splitlines()) == 1


# -- the chain-rule inspector --------------------------------------------------------------

@pytest.mark.parametrize("activation,init", [("sigmoid", "xavier"), ("relu", "he"), ("tanh", "normal")])
def test_product_of_gains_is_the_ratio_of_backpropagated_norms(activation, init):
    t = Trainer(ExperimentConfig(depth=8, width=32, activation=activation, init=init))
    t.step_batch()
    cr = t.chain_rule()
    assert [l.layer for l in cr.links] == list(range(9, 0, -1))
    assert cr.links[0].gain == 1.0
    assert cr.total == pytest.approx(cr.links[-1].delta_norm / cr.links[0].delta_norm, rel=1e-12)
    assert math.prod(l.gain for l in cr.links) == pytest.approx(cr.total, rel=1e-12)
    assert "dL/dz1 = dL/dz_out x" in cr.text()


def test_sigmoid_chain_is_a_product_of_small_factors_and_relu_he_about_one():
    sig = Trainer(get_preset("vanishing-sigmoid").config()).chain_rule()
    assert all(l.deriv_abs_mean <= 0.25 for l in sig.links[1:])
    assert all(l.gain < 0.5 for l in sig.links[1:-1]) and sig.total < 1e-4
    relu = Trainer(get_preset("relu-fix").config()).chain_rule()
    hidden = [l.gain for l in relu.links[1:-1]]
    assert 0.5 < np.exp(np.mean(np.log(hidden))) < 2


# -- mean-field theory -------------------------------------------------------------------

def test_known_values():
    assert chi1("relu", 2.0) == pytest.approx(1.0, abs=1e-12)
    assert chi1("relu", 1.0) == pytest.approx(0.5, abs=1e-12)
    assert chi1("tanh", 1.0) == pytest.approx(1.0, abs=1e-9)   # critical at sigma_b^2 = 0
    assert chi1("tanh", 0.5) == pytest.approx(0.5, abs=1e-9)   # ordered: q* = 0, chi_1 = sigma_w^2
    assert chi1("tanh", 1.5) > 1.0                              # chaotic
    assert chi1("linear", 3.0) == pytest.approx(3.0)
    assert fixed_point("tanh", 0.5) < 1e-10
    assert chi1("sigmoid", 1.0) < 0.25 ** 2  # phi' <= 1/4: chi_1 <= sigma_w^2 / 16


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "selu",
                                        "softplus", "softsign", "silu", "linear"])
def test_chi1_is_finite_and_grows_with_the_weight_variance(activation):
    values = [chi1(activation, s) for s in (0.5, 1.0, 2.0, 4.0)]
    assert all(np.isfinite(values)) and all(v >= 0 for v in values)
    assert values == sorted(values)


def test_chi1_by_quadrature_matches_monte_carlo_for_tanh():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(2_000_000)
    q = fixed_point("tanh", 2.0, 0.1)
    assert q == pytest.approx(2.0 * np.mean(np.tanh(np.sqrt(q) * z) ** 2) + 0.1, rel=2e-3)
    mc = 2.0 * np.mean((1 - np.tanh(np.sqrt(q) * z) ** 2) ** 2)
    assert chi1("tanh", 2.0, 0.1) == pytest.approx(mc, rel=2e-3)


@pytest.mark.parametrize("sigma_w2", [0.5, 2.0])
def test_wide_tanh_network_decays_as_predicted_within_5_percent(sigma_w2):
    cfg = ExperimentConfig(depth=20, width=500, activation="tanh", init="lecun", init_gain=math.sqrt(sigma_w2),
                           batch_size=128, samples=512)
    assert sigma_w2_of(cfg) == pytest.approx(sigma_w2)
    gains = np.array([l.gain for l in Trainer(cfg).chain_rule().links[2:-1]])  # hidden-to-hidden steps
    measured = float(np.exp(np.mean(np.log(gains))))
    assert measured == pytest.approx(phase(cfg).factor, rel=0.05)


def test_phase_readout_and_profile():
    assert str(phase(ExperimentConfig(activation="tanh", init="lecun", init_gain=math.sqrt(0.5)))).startswith(
        "ordered: gradients vanish, x0.71 per layer")
    assert phase(ExperimentConfig(activation="relu", init="he")).name == "edge of chaos"
    assert phase(ExperimentConfig(activation="tanh", init="lecun", init_gain=2.0)).name == "chaotic"
    cfg = ExperimentConfig(depth=4, activation="tanh", init="lecun", init_gain=math.sqrt(0.5))
    p = predicted_profile(cfg, [1, 1, 1, 8.0, 3])
    np.testing.assert_allclose(p[:4], 8.0 * np.sqrt(0.5) ** np.array([3, 2, 1, 0]), rtol=1e-9)
    assert np.isnan(p[4])
    assert np.isnan(predicted_profile(cfg.replace(residual=True), [1, 1, 1, 1, 1])).all()


# -- comparison ------------------------------------------------------------------------------

def test_comparison_runs_stay_in_lockstep_on_the_same_data():
    from core.session import Session
    base = ExperimentConfig(depth=6, width=16, samples=200, activation="sigmoid")
    s = Session(base, compare=("activation", "relu"))
    a, b = s.a, s.b
    np.testing.assert_array_equal(a.data.X_train, b.data.X_train)
    for _ in range(7):
        s.step_batch()
        assert a.step == b.step and a.epoch == b.epoch
        np.testing.assert_array_equal(a._last_idx, b._last_idx)  # the very same samples each step
    s.step_epoch()  # 160 training samples in batches of 32: 7 batches were 1 epoch and 2 of the next
    assert a.epoch == b.epoch == 2 and a.step == b.step == 10
    assert s.label("B") == "B: activation = relu"
    # B alone equals a fresh run of its config: stepping together changes nothing
    solo = Trainer(base.replace(activation="relu"))
    for _ in range(b.step):
        solo.step_batch()
    np.testing.assert_array_equal(solo.network.flat, b.network.flat)


def test_comparison_rejects_data_settings_and_no_difference():
    with pytest.raises(ConfigError, match="compare: the setting must be one of"):
        Comparison(ExperimentConfig(), "dataset", "moons")
    with pytest.raises(ConfigError, match="must differ"):
        Comparison(ExperimentConfig(), "activation", "sigmoid")
