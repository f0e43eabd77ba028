"""jacobian_spectrum: the product of the layers' Jacobians against central finite differences of h_L wrt h_1 (float64),
and the reference figures of Pennington, Schoenholz & Ganguli 2017."""
import math

import numpy as np
import pytest

from core import ExperimentConfig, Trainer, jacobian_spectrum
from core.measure.jacobian import (fuss_catalan_density, input_output_jacobian, isometry_share, predicted_moments)
from core.nn.activations import get_activation
from core.nn.mlp import MLP
from core.stories.reproductions.spectra import LINEAR


def _hidden_last_from_first(net: MLP, h1: np.ndarray) -> np.ndarray:
    """h_L as a function of h_1 (one row), evaluation mode: the forward pass from layer 2 on."""
    h = h1[None, :]
    for k in range(1, net.n_layers - 1):
        W, b = net.params[k]
        z = h @ W + b
        if net.norm != "none":
            z = net._normalise_eval(k, z)
        a = net.activation.f(z)
        h = h + a if net._is_skip(k) else a
    return h[0]


def _first_hidden(net: MLP, x: np.ndarray) -> np.ndarray:
    W, b = net.params[0]
    z = x[None, :] @ W + b
    if net.norm != "none":
        z = net._normalise_eval(0, z)
    return net.activation.f(z)[0]


def _finite_difference_jacobian(net: MLP, h1: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    n = len(h1)
    J = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = eps
        J[i] = (_hidden_last_from_first(net, h1 + e) - _hidden_last_from_first(net, h1 - e)) / (2 * eps)
    return J


@pytest.mark.parametrize("activation,residual,norm", [
    ("tanh", False, "none"), ("sigmoid", True, "none"), ("tanh", False, "layer"), ("tanh", True, "batch"),
    ("elu", False, "batch"), ("gelu", True, "layer")])
def test_jacobian_matches_finite_differences(activation, residual, norm):
    rng = np.random.default_rng(3)
    net = MLP(3, 4, 6, get_activation(activation), init="xavier", init_gain=1.3, residual=residual, rng=rng,
              norm=norm, bias_std=0.2)
    for gamma, beta in net.norm_params:   # not the defaults, so a missing gamma or beta would show
        gamma[...] = rng.uniform(0.5, 1.5, gamma.shape)
        beta[...] = rng.normal(0, 0.3, beta.shape)
    if norm == "batch":
        net.running_mean[...] = rng.normal(0, 0.5, net.running_mean.shape)
        net.running_var[...] = rng.uniform(0.5, 2.0, net.running_var.shape)
    X = rng.normal(size=(3, 3))
    J = input_output_jacobian(net, X)
    for n, x in enumerate(X):
        fd = _finite_difference_jacobian(net, _first_hidden(net, x))
        np.testing.assert_allclose(J[n], fd, rtol=1e-6, atol=1e-8)
    s = jacobian_spectrum(net, X)
    assert s.shape == (3 * 6,)
    np.testing.assert_allclose(np.sort(s[:6]), np.sort(np.linalg.svd(J[0], compute_uv=False)), rtol=1e-12)


def test_linear_gaussian_reference_mean_one_variance_about_L():
    """Width 256, 8 weight layers (h_1 to h_9), Gaussian 1/N: eigenvalues of JJ^T mean 1, variance about L = 8."""
    lam = np.concatenate([jacobian_spectrum(MLP(256, 9, 256, LINEAR, init="lecun", rng=np.random.default_rng(s)),
                                            np.ones((1, 256))) ** 2 for s in range(2)])
    assert abs(lam.mean() - 1.0) < 0.1
    assert 6.5 < lam.var() < 10.0


def test_linear_orthogonal_reference_all_one():
    s = jacobian_spectrum(MLP(64, 9, 64, LINEAR, init="orthogonal", rng=np.random.default_rng(0)), np.ones((2, 64)))
    np.testing.assert_allclose(s, 1.0, atol=1e-12)
    assert isometry_share(s) == 1.0


def test_trainer_and_refusal():
    t = Trainer(ExperimentConfig(depth=4, width=8, activation="tanh"))
    s = jacobian_spectrum(t, t.data.X_train, rows=5)
    assert s.shape == (40,) and np.all(s >= 0)
    assert 0.0 <= isometry_share(s) <= 1.0
    rnn = Trainer(ExperimentConfig(model="rnn", dataset="recall", width=4, seq_len=3))
    with pytest.raises(ValueError, match="only for an MLP"):
        jacobian_spectrum(rnn, rnn.data.X_train)


def test_free_probability_predictions():
    assert predicted_moments(8, 1.0, orthogonal=False) == (1.0, 8.0)
    assert predicted_moments(8, 1.0, orthogonal=True) == (1.0, 0.0)
    mean, var = predicted_moments(8, 2.0, orthogonal=True, activation="relu")
    assert mean == pytest.approx(1.0, abs=1e-9) and var == pytest.approx(8.0, rel=1e-6)   # mu2/mu1^2 = 2
    lam, rho = fuss_catalan_density(3, 20000)
    assert np.trapezoid(rho * lam, lam) == pytest.approx(1.0, abs=1e-6)          # mean 1
    assert np.trapezoid(rho * lam ** 2, lam) == pytest.approx(4.0, abs=1e-5)     # second moment L + 1
    assert lam[-1] == pytest.approx(4 ** 4 / 3 ** 3, rel=1e-3)                   # the edge (L+1)^(L+1)/L^L
    assert not math.isnan(isometry_share(np.array([0.4, 1.0, 2.5, 1.9])))
    assert isometry_share(np.array([0.4, 1.0, 2.5, 1.9])) == 0.5


def test_live_view_draws_the_fuss_catalan_law_for_a_linear_gaussian_net():
    from core.measure.jacobian import measure_view
    t = Trainer(ExperimentConfig(depth=9, width=64, activation="linear", init="lecun"))
    v = measure_view(t)
    assert v.rows >= 1 and len(v.density) == len(v.shares) == 30
    assert abs(v.density.sum() - 1.0) < 0.05          # the law's shares add up to (about) all the values
    assert np.abs(v.density - v.shares).sum() < 0.6    # and follow the measured histogram
    assert v.law == "the Fuss-Catalan law"
    tanh = measure_view(Trainer(ExperimentConfig(depth=9, width=16, activation="tanh")))
    assert len(tanh.density) == 30 and "free-probability density" in tanh.law     # issue 23: tanh, ReLU too
    orth = measure_view(Trainer(ExperimentConfig(depth=9, width=16, activation="linear", init="orthogonal")))
    assert len(orth.density) == 0 and "no density" in orth.law
