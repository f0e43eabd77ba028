import numpy as np
import pytest

from core import ACTIVATIONS, INITIALIZERS, get_activation
from core.nn.initializers import expected_std, init_weights

# Points away from 0, where ReLU-like activations have a kink.
Z = np.concatenate([np.linspace(-6, -0.01, 300), np.linspace(0.01, 6, 300)])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_central_differences(name):
    act = get_activation(name)
    eps = 1e-6
    numeric = (act.f(Z + eps) - act.f(Z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.df(Z, act.f(Z)), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_max_deriv_is_the_largest_derivative(name):
    act = get_activation(name)
    z = np.linspace(-12, 12, 240_001)
    d = act.df(z, act.f(z))
    assert d.max() <= act.max_deriv * (1 + 1e-9)
    assert d.max() >= act.max_deriv * (1 - 1e-3)   # SELU's is a supremum at 0-


def test_known_derivative_values():
    sig, tanh, relu = (get_activation(n) for n in ("sigmoid", "tanh", "relu"))
    zero = np.array([0.0])
    assert sig.df(zero, sig.f(zero))[0] == 0.25 == sig.max_deriv
    assert tanh.df(zero, tanh.f(zero))[0] == 1.0
    z = np.linspace(-3, 3, 61)
    assert set(np.unique(relu.df(z, relu.f(z)))) <= {0.0, 1.0}
    assert get_activation("leaky_relu").df(np.array([-1.0]), None)[0] == 0.01


def test_activations_never_overflow_for_extreme_inputs():
    z = np.array([-1e300, -800.0, 0.0, 800.0, 1e300])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        for name in ("sigmoid", "tanh", "softplus", "softsign", "relu"):
            act = get_activation(name)
            assert np.isfinite(act.df(z, act.f(z))).all(), name


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_initialiser_std_matches_its_formula(name, gain):
    fan_in, fan_out = 400, 300
    W = init_weights(name, np.random.default_rng(0), fan_in, fan_out, gain)
    assert W.shape == (fan_in, fan_out)
    expected = expected_std(name, fan_in, fan_out, gain)
    if name == "constant":  # no spread: every weight is gain / fan_in
        assert expected == 0 and (W == gain / fan_in).all()
    elif expected == 0:
        assert not W.any()
    else:
        assert W.std() == pytest.approx(expected, rel=0.02)
        assert abs(W.mean()) < 0.02 * expected


def test_uniform_respects_its_bounds_and_orthogonal_is_orthogonal():
    W = init_weights("uniform", np.random.default_rng(0), 100, 50, 1.0)
    assert np.abs(W).max() <= 0.1
    Q = init_weights("orthogonal", np.random.default_rng(0), 64, 32, 2.0)
    np.testing.assert_allclose(Q.T @ Q, 4.0 * np.eye(32), atol=1e-12)
    Q = init_weights("orthogonal", np.random.default_rng(0), 32, 64, 1.0)
    np.testing.assert_allclose(Q @ Q.T, np.eye(32), atol=1e-12)
