"""The free-probability density of JJ^T (core.measure.free_density): the Fuss-Catalan law for a linear network, the
predicted moments, and a direct Monte Carlo of random networks (tanh and ReLU, Gaussian and orthogonal weights)."""
import math

import numpy as np
import pytest

from core.measure import free_density as fdm
from core.measure.free_density import derivative_law, free_density, log_bin_shares
from core.measure.jacobian import fuss_catalan_density, jacobian_spectrum, predicted_moments, predicted_shares
from core.measure.theory import fixed_point
from core.stories.reproductions.spectra import _spectrum_net

TV_TOLERANCE = 0.06   # total variation between the measured histogram of log10 s and the predicted shares


def test_linear_gaussian_is_the_fuss_catalan_law():
    fd = free_density(8, 1.0, orthogonal=False)
    lam, rho = fuss_catalan_density(8, 20000)
    assert fd.ok and fd.zero_mass == 0.0
    for x in (0.01, 0.1, 1.0, 5.0, 20.0):
        assert np.interp(x, fd.lam, fd.rho) == pytest.approx(np.interp(x, lam, rho), rel=5e-3)


@pytest.mark.parametrize("activation, sw2, sb2, orthogonal", [("tanh", 1.5, 0.05, False), ("relu", 2.0, 0.0, False),
                                                             ("tanh", 1.3, 0.05, True), ("relu", 2.0, 0.0, True)])
def test_density_has_the_predicted_mean(activation, sw2, sb2, orthogonal):
    fd = free_density(4, sw2, orthogonal, activation, sb2)
    mean, _ = predicted_moments(4, sw2, orthogonal, activation, sb2)
    assert fd.ok
    assert np.trapezoid(fd.rho * fd.lam * fd.lam, np.log(fd.lam)) == pytest.approx(mean, rel=0.02)


def test_relu_law_has_half_its_mass_at_zero():
    values, probs = derivative_law("relu", 1.0)
    assert values.tolist() == [0.0, 1.0] and probs == pytest.approx([0.5, 0.5])
    fd = free_density(4, 2.0, False, "relu")
    assert fd.zero_mass == pytest.approx(0.5) and fd.mass == pytest.approx(0.5, abs=0.03)


def _monte_carlo(activation, orthogonal, sw2, sb2, L=4, width=128, seeds=4, rows=4):
    """Singular values of dh_L/dh_1 of random networks at the fixed point q* (inputs scaled to it)."""
    q = fixed_point(activation, sw2, sb2)
    out = []
    for s in range(seeds):
        net = _spectrum_net(activation, "orthogonal" if orthogonal else "lecun", sw2, L + 1, width, s, sb2)
        X = np.random.default_rng(500 + s).standard_normal((rows, width)) * math.sqrt(q / sw2)
        out.append(jacobian_spectrum(net, X))
    return np.concatenate(out)


@pytest.mark.parametrize("activation, sw2, sb2, orthogonal", [("tanh", 1.5, 0.05, False), ("relu", 2.0, 0.0, False),
                                                             ("tanh", 1.3, 0.05, True), ("relu", 2.0, 0.0, True)])
def test_density_matches_monte_carlo(activation, sw2, sb2, orthogonal):
    s = _monte_carlo(activation, orthogonal, sw2, sb2)
    fd = free_density(4, sw2, orthogonal, activation, sb2)
    zero = s < 1e-6 * s.max()                      # ReLU's exact zeros, up to rounding
    assert zero.mean() == pytest.approx(fd.zero_mass, abs=0.08)
    logs = np.log10(s[~zero])
    edges = np.linspace(logs.min() - 0.05, logs.max() + 0.05, 31)
    measured = np.histogram(logs, edges)[0] / s.size
    predicted = log_bin_shares(fd, edges)
    assert 0.5 * np.abs(measured - predicted).sum() < TV_TOLERANCE
    # and the check can fail: the law at another sigma_w^2 does not fit the same histogram
    other = log_bin_shares(free_density(4, 3.0 * sw2, orthogonal, activation, sb2), edges)
    assert 0.5 * np.abs(measured - other).sum() > TV_TOLERANCE


def test_no_curve_where_the_solution_is_not_verified(monkeypatch):
    bad = fdm.FreeDensity(np.geomspace(1e-3, 1, 5), np.ones(5), 0.0, 1.0, False)
    monkeypatch.setattr(fdm, "cached_free_density", lambda *a: bad)
    density, law, _ = predicted_shares(4, 1.5, False, "tanh", 0.05, np.linspace(-2, 1, 31))
    assert len(density) == 0 and "did not converge" in law
    density, law, _ = predicted_shares(4, 1.0, True, "linear", 0.0, np.linspace(-2, 1, 31))
    assert len(density) == 0 and "no density" in law
