"""The free-probability density of the eigenvalues of JJ^T for a deep random network (the wide limit).

Pennington, Schoenholz & Ganguli 2017 (Sec. 2-3): for J = prod_l W_l D_l (L weight layers, D_l = diag(phi'(h_l))
at the length map's fixed point q*), freeness gives the S-transform

    S_JJ^T(m) = S_D^2(m)^L S_WW^T(m)^L,   S_WW^T(m) = 1 / (sigma_w^2 (1 + m))  (Gaussian),  1 / sigma_w^2  (orthogonal).

With psi_X(z) = E[z x / (1 - z x)] and chi_X its inverse, S_X(m) = chi_X(m) (1 + m) / m. Writing w = chi_D^2(m), so
m = psi_D^2(w), the eigenvalue z = 1/x of JJ^T's psi satisfies one equation in the one unknown w:

    F(w) = r(w)^L m/(1 + m) - z = 0,   r(w) = w / (sigma_w^2 m)  (Gaussian),  w (1 + m) / (sigma_w^2 m)  (orthogonal),

then m = psi_JJ^T(1/x), the Stieltjes transform G(x) = (1 + m) / x and the density rho(x) = -Im G(x + i eta) / pi.
It is solved by Newton's method at every x of a log grid at once, each followed down from far off the real axis
to x + i eta (eta: a small part of x). D^2's law: phi'(h)^2 for h ~ N(0, q*) on a fine grid (an atom where phi' is
constant, as ReLU's 0 and 1).
An atom of D^2 at 0 (ReLU: mass 1/2) is an atom of JJ^T at 0 of the same mass (free multiplicative convolution
keeps the largest atom at 0): ``FreeDensity.zero_mass``, the continuous part is the rest.

A linear network with Gaussian weights gives the Fuss-Catalan law (core.measure.jacobian.fuss_catalan_density):
a test checks the two agree, and that the density matches a direct Monte Carlo of wide random networks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

GRID = 4000          # points of h for D^2's law
ATOMS = 100          # at most this many values of phi'^2 (binned): the cost of each evaluation of psi_D^2
MASS_TOLERANCE = 0.02  # the verified grid must hold the continuous part's mass within this
ETA = 1e-6           # the imaginary part of x, relative to x


@dataclass(frozen=True)
class FreeDensity:
    """rho(lambda) of JJ^T's eigenvalues on ``lam`` (continuous part; the grid's verified range), the atom at 0, the
    mass on the grid, and whether it is verified (``ok``: converged, rho >= 0, the mass within MASS_TOLERANCE)."""
    lam: np.ndarray
    rho: np.ndarray
    zero_mass: float
    mass: float
    ok: bool


def derivative_law(activation: str | None, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(values, probabilities) of phi'(h)^2, h ~ N(0, q): an even grid of h (no point at 0) with Gaussian weights,
    equal values merged, then at most ATOMS atoms (each the mean of its bin of values, with the bin's probability;
    an atom at 0 kept exactly). ``activation`` None: a linear network (phi' = 1)."""
    if activation is None:
        return np.ones(1), np.ones(1)
    from core.nn.activations import get_activation
    act = get_activation(activation)
    z = np.linspace(-8.0, 8.0, GRID)
    p = np.exp(-0.5 * z * z)
    h = math.sqrt(q) * z
    d2 = act.df(h, act.f(h)) ** 2
    values, inverse = np.unique(np.round(d2, 14), return_inverse=True)
    probs = np.bincount(inverse, weights=p) / p.sum()
    if len(values) <= ATOMS:
        return values, probs
    zero = values == 0
    edges = np.linspace(values[~zero].min(), values.max(), ATOMS)
    k = np.clip(np.searchsorted(edges, values[~zero], side="right") - 1, 0, ATOMS - 2)
    mass = np.bincount(k, weights=probs[~zero], minlength=ATOMS - 1)
    first = np.bincount(k, weights=probs[~zero] * values[~zero], minlength=ATOMS - 1)
    keep = mass > 0
    v, w = first[keep] / mass[keep], mass[keep]
    return (np.r_[0.0, v], np.r_[probs[zero].sum(), w]) if zero.any() else (v, w)


def _psi_and_slope(w: np.ndarray, d: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """psi_D^2(w) = E[w d / (1 - w d)] and its derivative E[d / (1 - w d)^2], for each w."""
    inv = 1.0 / (1.0 - w[:, None] * d[None, :])
    # w d / (1 - w d) = 1 / (1 - w d) - 1; sums, not matmul: a threaded BLAS call per step costs more than it saves
    return (inv * p).sum(axis=1) - 1.0, (inv * inv * (d * p)).sum(axis=1)


def _residual(w, z, L: int, sw2: float, orthogonal: bool, d, p):
    """F(w) / z, its derivative in w and m = psi_D^2(w) (module docstring), for each (w, z)."""
    m, dm = _psi_and_slope(w, d, p)
    if orthogonal:
        r = w * (1 + m) / (sw2 * m)
        dr = ((1 + m) / m + w * dm * (1 / m - (1 + m) / (m * m))) / sw2
    else:
        r = w / (sw2 * m)
        dr = (m - w * dm) / (sw2 * m * m)
    g, dg = m / (1 + m), dm / (1 + m) ** 2
    rl = r ** L
    return (rl * g - z) / z, (L * r ** (L - 1) * dr * g + rl * dg) / z, m


def _newton(w, z, L, sw2, orthogonal, d, p, steps: int = 30):
    """Newton's method on every point at once; (w, m, converged per point)."""
    with np.errstate(all="ignore"):
        for _ in range(steps):
            f, df, m = _residual(w, z, L, sw2, orthogonal, d, p)
            step = np.where(np.isfinite(f / df), f / df, 0.0)
            w = w - step
            if np.all(np.abs(step) <= 1e-12 * np.maximum(1.0, np.abs(w))):
                break
        f, _, m = _residual(w, z, L, sw2, orthogonal, d, p)
    return w, m, np.isfinite(f) & (np.abs(f) < 1e-8)


def free_density(n_layers: int, sigma_w2: float, orthogonal: bool, activation: str | None = None,
                 sigma_b2: float = 0.0, points: int = 500) -> FreeDensity:
    """The density of JJ^T's eigenvalues over ``n_layers`` weight layers (wide limit), on a log grid.

    Each point x is reached from far up the complex plane (x + iY, Y from 100 times the top of the grid down to
    ETA x), where psi_JJ^T(1/x) is close to mean / x: psi is analytic off the real axis, so following it down keeps
    the physical root (continuing along the real axis instead can jump to another root at the spectrum's edge)."""
    from core.measure.jacobian import derivative_moments, predicted_moments
    from core.measure.theory import Q_HUGE, Q_TINY, fixed_point
    q = 1.0 if activation is None else min(max(fixed_point(activation, sigma_w2, sigma_b2), Q_TINY), Q_HUGE)
    d, p = derivative_law(activation, q)
    zero_mass = float(p[d == 0].sum())
    mean, var = predicted_moments(n_layers, sigma_w2, orthogonal, activation, sigma_b2)
    mu1 = 1.0 if activation is None else derivative_moments(activation, sigma_w2, sigma_b2)[0]
    top = (mean + 12.0 * math.sqrt(max(var, 0.0))) * (n_layers + 2) / (1.0 - zero_mass) ** n_layers
    lam = np.geomspace(top * 1e-20, top, points)     # s down to 1e-10 of the top: the histogram's left tail
    heights = np.geomspace(100.0 * top, ETA * lam[0], 80)
    x = lam + 1j * heights[0]
    w = (mean / x) / mu1          # far from the axis: psi_JJ^T(z) ~ mean z, psi_D^2(w) ~ mu1 w
    for k, y in enumerate(heights):
        x = lam + 1j * np.maximum(y, ETA * lam)
        steps = 8 if k < len(heights) - 1 else 60
        w, m, converged = _newton(w, 1.0 / x, n_layers, sigma_w2, orthogonal, d, p, steps)
    rho = -((1 + m) / x).imag / math.pi
    return _verified(lam, rho, converged, zero_mass)


def _verified(lam, rho, converged, zero_mass: float) -> FreeDensity:
    """Keep the run of converged points down from the top (far below a spectrum with a gap, where the density is 0,
    Newton's method can lose the root at huge 1/x); it is verified when rho >= 0 there and its mass is the whole
    continuous part, 1 - zero_mass, within MASS_TOLERANCE (so what is left out holds at most that much)."""
    failed = np.nonzero(~converged)[0]
    start = int(failed.max()) + 1 if len(failed) else 0
    lam, rho = lam[start:], rho[start:]
    good = len(lam) > 10 and bool(np.all(np.isfinite(rho))) and bool(np.all(rho > -1e-6 * np.max(np.abs(rho))))
    rho = np.maximum(np.nan_to_num(rho), 0.0)
    mass = float(np.trapezoid(rho * lam, np.log(lam))) if len(lam) > 1 else 0.0
    good = good and abs(mass - (1.0 - zero_mass)) < MASS_TOLERANCE
    return FreeDensity(lam, rho, zero_mass, mass, good)


@lru_cache(maxsize=32)
def cached_free_density(n_layers: int, sigma_w2: float, orthogonal: bool, activation: str | None,
                        sigma_b2: float) -> FreeDensity:
    """``free_density`` kept for the live view: its setting does not change while a network trains."""
    return free_density(n_layers, sigma_w2, orthogonal, activation, sigma_b2)


def log_bin_shares(density: FreeDensity, log_edges: np.ndarray) -> np.ndarray:
    """The continuous part as the share of singular values s (s^2 = lambda) expected in each bin of log10 s: the
    density of u = log10 s is rho(lambda) 2 lambda ln 10; integrated over each bin on a fine sub-grid."""
    u = 0.5 * np.log10(density.lam)
    p_u = density.rho * density.lam * 2.0 * math.log(10.0)
    shares = np.empty(len(log_edges) - 1)
    for k in range(len(shares)):
        sub = np.linspace(log_edges[k], log_edges[k + 1], 33)
        shares[k] = np.trapezoid(np.interp(sub, u, p_u, left=0.0, right=0.0), sub)
    return shares
