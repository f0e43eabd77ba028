"""The input-output Jacobian of the hidden stack and its singular values (dynamical isometry).

``jacobian_spectrum(trainer, X)``: for each row x of X, the singular values of J = dh_L/dh_1, the last hidden
layer by the first (a width x width matrix), exactly: the product of the layers' Jacobians,

    plain:     dh_l/dh_{l-1} = W_l diag(phi'(u_l))            (row-vector convention: dh_l = dh_{l-1} M_l)
    residual:  dh_l/dh_{l-1} = I + W_l diag(phi'(u_l))
    norm:      W_l N_l diag(phi'(u_l)), N_l = du_l/dz_l of the normalisation layer.

Batch norm is taken in evaluation mode (its running mean and variance): then each row is a function of that row
alone and N_l = diag(gamma / sqrt(running_var + eps)); in training mode every row's output depends on the whole
batch and "the Jacobian at a row" has no meaning. Layer norm is per row by definition:
N_l = diag(gamma) (I - 11^T/n - z_hat z_hat^T/n) / std (Jacobian of (z - mean)/std, biased variance).

Reference (Pennington, Schoenholz & Ganguli 2017): linear network, Gaussian weights of variance 1/N: the
eigenvalues of JJ^T have mean 1 and variance L (L weight layers, in the wide limit); orthogonal weights: all 1.
``predicted_moments`` gives the free-probability mean and variance of those eigenvalues for the current
sigma_w^2 and activation; ``fuss_catalan_density`` the full density for the linear Gaussian case.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.nn.mlp import NORM_EPS

ISOMETRY_BAND = (0.5, 2.0)   # a singular value in this band neither shrinks nor grows a signal much


def layer_jacobians(network, x: np.ndarray) -> list[np.ndarray]:
    """dh_l/dh_{l-1} for hidden layers l = 2..depth at each row of x: arrays (N, width, width), row convention."""
    h = np.asarray(x, dtype=np.float64)
    act = network.activation
    out = []
    for k in range(network.n_layers - 1):
        W, b = network.params[k]
        z = h @ W + b
        N = None
        if network.norm != "none":
            z, N = _norm_forward_and_jacobian(network, k, z)
        a = act.f(z)
        d = act.df(z, a)
        if k > 0:
            M = W[None, :, :] * d[:, None, :] if N is None else np.matmul(W[None], N) * d[:, None, :]
            if network._is_skip(k):
                M = M + np.eye(W.shape[0])[None]
            out.append(M)
        h = h + a if network._is_skip(k) else a
    return out


def _norm_forward_and_jacobian(network, k: int, z: np.ndarray):
    """The normalised u = gamma z_hat + beta and du/dz per row, (N, width, width)."""
    gamma, beta = network.norm_params[k]
    n_rows, n = z.shape
    if network.norm == "batch":
        scale = gamma / np.sqrt(network.running_var[k] + NORM_EPS)
        u = (z - network.running_mean[k]) * scale + beta
        return u, np.broadcast_to(np.diag(scale), (n_rows, n, n))
    mean = z.mean(axis=1, keepdims=True)
    zc = z - mean
    std = np.sqrt((zc * zc).mean(axis=1, keepdims=True) + NORM_EPS)
    z_hat = zc / std
    eye = np.eye(n)[None]
    # d z_hat_j / d z_i = (delta_ij - 1/n - z_hat_i z_hat_j / n) / std (symmetric), then times gamma_j
    dz_hat = (eye - 1.0 / n - z_hat[:, :, None] * z_hat[:, None, :] / n) / std[:, :, None]
    return z_hat * gamma + beta, dz_hat * gamma[None, None, :]


def input_output_jacobian(network, x: np.ndarray) -> np.ndarray:
    """J = dh_L/dh_1 at each row of x: (N, width, width), J[n, i, j] = d h_L[j] / d h_1[i]."""
    mats = layer_jacobians(network, x)
    width = network.sizes[1]
    J = np.broadcast_to(np.eye(width), (len(x), width, width)).copy()
    for M in mats:
        J = np.matmul(J, M)
    return J


def jacobian_spectrum(trainer, X, rows: int | None = None) -> np.ndarray:
    """Singular values of dh_L/dh_1 at each row of X (the first ``rows`` of them), concatenated, in float64.

    ``trainer``: a Trainer (or anything with ``.network``) whose network is an MLP (plain, residual, batch or
    layer norm). Raises ValueError for a recurrent network, whose Jacobian through time is another matter."""
    from core.nn.mlp import MLP
    network = getattr(trainer, "network", trainer)
    if not isinstance(network, MLP):
        raise ValueError("jacobian_spectrum: only for an MLP (dh_L/dh_1 of the hidden stack), got "
                         f"{type(network).__name__}")
    X = np.asarray(X, dtype=np.float64)
    if rows is not None:
        X = X[:rows]
    with np.errstate(all="ignore"):
        J = input_output_jacobian(network, X)
        if not np.isfinite(J).all():
            return np.full(J.shape[0] * J.shape[1], np.nan)
        return np.linalg.svd(J, compute_uv=False).reshape(-1)


def isometry_share(singular_values: np.ndarray, band=ISOMETRY_BAND) -> float:
    """Share of singular values within [band]: 1 is perfect dynamical isometry."""
    s = np.asarray(singular_values, dtype=np.float64)
    if s.size == 0 or not np.isfinite(s).all():
        return math.nan
    return float(np.mean((s >= band[0]) & (s <= band[1])))


def derivative_moments(activation: str, sigma_w2: float, sigma_b2: float = 0.0) -> tuple[float, float]:
    """mu_1 = E[phi'(h)^2] and mu_2 = E[phi'(h)^4], h ~ N(0, q*) at the length map's fixed point."""
    from core.measure.theory import Q_HUGE, Q_TINY, fixed_point, gaussian_mean
    from core.nn.activations import get_activation
    act = get_activation(activation)
    q = min(max(fixed_point(activation, sigma_w2, sigma_b2), Q_TINY), Q_HUGE)
    d2 = lambda x: act.df(x, act.f(x)) ** 2
    return gaussian_mean(d2, q), gaussian_mean(lambda x: d2(x) ** 2, q)


def predicted_moments(n_layers: int, sigma_w2: float, orthogonal: bool, activation: str | None = None,
                      sigma_b2: float = 0.0) -> tuple[float, float]:
    """Free-probability mean and variance of the eigenvalues of JJ^T over ``n_layers`` weight layers (wide limit).

    Pennington, Schoenholz & Ganguli 2017, eqs. 15-16 generalised off criticality: with m = sigma_w^2 mu_1,
    mean = m^L and variance = m^(2L) L (mu_2/mu_1^2 - 1 - s_1), s_1 = -1 for Gaussian and 0 for orthogonal
    weights. A linear network (``activation`` None) has mu_1 = mu_2 = 1."""
    mu1, mu2 = (1.0, 1.0) if activation is None else derivative_moments(activation, sigma_w2, sigma_b2)
    s1 = 0.0 if orthogonal else -1.0
    mean = (sigma_w2 * mu1) ** n_layers
    return mean, mean * mean * n_layers * (mu2 / (mu1 * mu1) - 1.0 - s1)


def fuss_catalan_density(n_layers: int, points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Density of the eigenvalues of JJ^T for a product of ``n_layers`` Gaussian matrices of variance 1/N
    (N -> infinity): the Fuss-Catalan law, in Biane's / Haagerup-Moller's parametrisation by phi in (0, pi/(L+1)):

        lambda(phi) = sin((L+1) phi)^(L+1) / (sin(phi) sin(L phi)^L),
        rho(lambda) = sin(phi)^2 sin(L phi)^(L-1) / (pi sin((L+1) phi)^L).

    Returns (lambda, rho), lambda increasing, on (0, (L+1)^(L+1) / L^L)."""
    L = n_layers
    phi = np.linspace(1e-6, math.pi / (L + 1) - 1e-6, points)
    lam = np.sin((L + 1) * phi) ** (L + 1) / (np.sin(phi) * np.sin(L * phi) ** L)
    rho = np.sin(phi) ** 2 * np.sin(L * phi) ** (L - 1) / (math.pi * np.sin((L + 1) * phi) ** L)
    order = np.argsort(lam)
    return lam[order], rho[order]


HIST_BINS = 30
ZERO_BELOW = 1e-12   # a singular value below this times the largest is zero up to rounding
LIVE_BUDGET = 2e8   # multiply-adds per live measurement (rows x layers x width^3): a few tens of milliseconds


@dataclass(frozen=True)
class JacobianView:
    """What the window's Jacobian panel shows, all measured or predicted here: the singular values of dh_L/dh_1 at
    ``rows`` training inputs, the share in ISOMETRY_BAND, and the free-probability mean and variance of s^2 (None with
    ``reason`` where the prediction does not hold). ``singular_values`` empty with ``reason`` when not measured."""
    singular_values: np.ndarray
    rows: int
    share: float
    predicted: tuple | None
    reason: str = ""
    log_edges: np.ndarray = field(default_factory=lambda: np.zeros(0))   # histogram of log10 s: bin edges
    shares: np.ndarray = field(default_factory=lambda: np.zeros(0))      # and each bin's share of the values
    moments: tuple = (math.nan, math.nan)                                 # measured mean and variance of s^2
    density: np.ndarray = field(default_factory=lambda: np.zeros(0))     # predicted share per bin at log_edges'
    #   centres (linear network, Gaussian-like weights: the Fuss-Catalan law; tanh, ReLU, ...: the free-probability
    #   density, core.measure.free_density); empty where no law is drawn, ``law`` then says why
    law: str = ""                                                         # the drawn law's name, or why none is
    zero_mass: float = 0.0                                                # the law's share of singular values at 0
    zero_share: float = 0.0      # measured share below ZERO_BELOW x the largest (not in the histogram; its shares
    #                              are of all the values, so they add up to 1 - zero_share)


def measure_view(trainer, budget: float = LIVE_BUDGET) -> JacobianView:
    """The live measurement for the window: as many training rows (1 to 8) as ``budget`` allows."""
    from core.measure.theory import NOT_RANDOM, mean_field_reason, sigma_b2_of, sigma_w2_of
    cfg, net = trainer.config, trainer.network
    empty = np.zeros(0)
    if cfg.depth < 2:
        return JacobianView(empty, 0, math.nan, None, "one hidden layer: dh_L/dh_1 is the identity")
    cost = (cfg.depth - 1) * float(cfg.width) ** 3
    rows = int(min(8, budget // cost))
    if rows < 1:
        return JacobianView(empty, 0, math.nan, None, f"not measured live: width {cfg.width} x depth {cfg.depth} "
                            "costs too much per update (core.jacobian_spectrum measures it from Python)")
    s = jacobian_spectrum(trainer, trainer.data.X_train, rows=rows)
    reason = mean_field_reason(cfg) or ("the weights are not random" if cfg.init in NOT_RANDOM else None)
    predicted = None
    if reason is None:
        predicted = predicted_moments(cfg.depth - 1, sigma_w2_of(cfg), cfg.init == "orthogonal", cfg.activation,
                                      sigma_b2_of(cfg))
    edges, shares, moments = np.zeros(0), np.zeros(0), (math.nan, math.nan)
    zero_share = 0.0
    if s.size and np.isfinite(s).all() and s.max() > 0:
        nonzero = s > ZERO_BELOW * s.max()   # ReLU's exact zeros come out as rounding noise: off the log axis
        zero_share = float(1.0 - nonzero.mean())
        logs = np.log10(s[nonzero])
        lo, hi = float(logs.min()), float(logs.max())
        edges = np.linspace(lo - 0.05, hi + 0.05, HIST_BINS + 1)
        shares = np.histogram(logs, edges)[0] / s.size
        moments = (float(np.mean(s * s)), float(np.var(s * s)))
    density, law, zero_mass = np.zeros(0), "", 0.0
    if predicted is not None and len(edges):
        density, law, zero_mass = predicted_shares(cfg.depth - 1, sigma_w2_of(cfg), cfg.init == "orthogonal",
                                                   cfg.activation, sigma_b2_of(cfg), edges)
    return JacobianView(s, rows, isometry_share(s), predicted,
                        "" if reason is None else f"no free-probability prediction: {reason}", edges, shares, moments,
                        density, law, zero_mass, zero_share)


def predicted_shares(n_layers: int, sigma_w2: float, orthogonal: bool, activation: str, sigma_b2: float,
                     log_edges: np.ndarray) -> tuple[np.ndarray, str, float]:
    """(share per bin of log10 s, the law's name or why none is drawn, its share of singular values at 0).
    Linear with Gaussian weights: the Fuss-Catalan law (closed form); linear orthogonal: every s is sigma_w^L (a
    point, no density); otherwise the free-probability density solved numerically, drawn only where the solver
    converged everywhere with a density >= 0."""
    if activation == "linear":
        if orthogonal:
            point = sigma_w2 ** (n_layers / 2)
            return np.zeros(0), f"every singular value is sigma_w^L = {point:.3g} (no density)", 0.0
        return fuss_catalan_shares(n_layers, sigma_w2, log_edges), "the Fuss-Catalan law", 0.0
    from core.measure.free_density import cached_free_density, log_bin_shares
    fd = cached_free_density(n_layers, sigma_w2, orthogonal, activation, sigma_b2)
    if not fd.ok:
        return (np.zeros(0), "no density drawn: the free-probability equation has no closed form here and its "
                "numerical solution did not converge", fd.zero_mass)
    return log_bin_shares(fd, log_edges), "the free-probability density (solved numerically)", fd.zero_mass


def fuss_catalan_shares(n_layers: int, sigma_w2: float, log_edges: np.ndarray) -> np.ndarray:
    """The Fuss-Catalan law of s^2 (scaled by sigma_w^(2L)) as the share of singular values expected in each bin of
    log10 s: the density of u = log10 s is rho(lambda) dlambda/du = rho(lambda) 2 lambda ln 10, times the bin width."""
    lam, rho = fuss_catalan_density(n_layers, 4000)
    scale = sigma_w2 ** n_layers
    u = 0.5 * np.log10(lam * scale)
    p_u = rho * lam * 2.0 * math.log(10.0)          # the scale cancels: rho_scaled(s^2) d(s^2)/du is the same
    centres = 0.5 * (log_edges[1:] + log_edges[:-1])
    return np.interp(centres, u, p_u, left=0.0, right=0.0) * np.diff(log_edges)
