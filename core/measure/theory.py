"""Mean-field theory of signal propagation (Poole et al. 2016; Schoenholz et al. 2017).

For a wide network with weights W ~ N(0, sigma_w^2 / N) and biases ~ N(0, sigma_b^2),
the pre-activation variance follows the length map

    q_{l+1} = sigma_w^2 E[phi(sqrt(q_l) z)^2] + sigma_b^2,   z ~ N(0, 1),

to a fixed point q*. Back-propagated gradients then scale per layer by sqrt(chi_1), with

    chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2].

chi_1 < 1: ordered phase, gradients vanish; chi_1 > 1: chaotic, they explode; chi_1 = 1:
the edge of chaos. Expectations over z use Gauss-Hermite quadrature.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.nn.activations import get_activation
from core.nn.initializers import expected_std
from core.nn.kinds import MEAN_FIELD, kind_of

# An even number of nodes: none at 0, where ReLU-like derivatives jump, so E[1{z > 0}] is 1/2 exactly.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(200)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)  # E[f(z)] = sum w_i f(x_i) for z ~ N(0, 1)
EDGE_TOLERANCE = 0.02
NOT_RANDOM = ("zeros", "constant")  # initialisers the theory (i.i.d. random weights) does not describe
OUTSIDE = "outside the theory"      # Phase.name for them
DOES_NOT_APPLY = "does not apply"   # Phase.name where the kind (or residual, norm) is outside it: see its reason
Q_TINY, Q_HUGE = 1e-12, 1e12  # q -> 0 and q -> infinity are evaluated as limits at these


def gaussian_mean(f, q: float) -> float:
    """E[f(sqrt(q) z)] for z ~ N(0, 1)."""
    with np.errstate(all="ignore"):
        return float(_WEIGHTS @ f(math.sqrt(max(q, 0.0)) * _NODES))


def fixed_point(activation: str, sigma_w2: float, sigma_b2: float = 0.0,
                q0: float = 1.0, iterations: int = 5000) -> float:
    """q* of the length map, by iteration from q0: 0 when the signal dies out, inf when it grows without bound."""
    phi = get_activation(activation).f
    q = q0
    for _ in range(iterations):
        new = sigma_w2 * gaussian_mean(lambda x: phi(x) ** 2, q) + sigma_b2
        if not new < Q_HUGE:
            return math.inf
        if abs(new - q) <= 1e-13 * max(1.0, q):
            return new
        q = new
    if sigma_b2 == 0.0 and q < 1e-3:
        # q -> 0 only polynomially when the map's slope at 0 is 1 (tanh at sigma_w^2 = 1):
        # the limit is 0 whenever phi(0) = 0 and that slope, sigma_w^2 phi'(0)^2, is at most 1.
        act = get_activation(activation)
        zero = np.zeros(1)
        if float(act.f(zero)[0]) == 0.0 and sigma_w2 * float(act.df(zero, act.f(zero))[0]) ** 2 <= 1.0:
            return 0.0
    return q


def chi1(activation: str, sigma_w2: float, sigma_b2: float = 0.0) -> float:
    """The mean-field slope chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]."""
    act = get_activation(activation)
    q = min(max(fixed_point(activation, sigma_w2, sigma_b2), Q_TINY), Q_HUGE)  # limits as q -> 0 or inf
    return sigma_w2 * gaussian_mean(lambda x: act.df(x, act.f(x)) ** 2, q)


def sigma_w2_of(config) -> float:
    """sigma_w^2 = fan_in * Var(W) of the hidden-to-hidden layers of a config."""
    n = config.width
    return expected_std(config.init, n, n, config.init_gain) ** 2 * n


@dataclass(frozen=True)
class Phase:
    chi1: float
    factor: float   # sqrt(chi_1): the predicted gradient change per layer
    name: str       # "ordered", "chaotic", "edge of chaos", OUTSIDE or DOES_NOT_APPLY (chi1 and factor NaN)
    reason: str = ""   # DOES_NOT_APPLY: why, in one line

    def __str__(self) -> str:
        if self.name == DOES_NOT_APPLY:
            return self.reason
        if self.name == "ordered":
            return f"ordered: gradients vanish, x{self.factor:.2f} per layer"
        if self.name == "chaotic":
            return f"chaotic: gradients explode, x{self.factor:.2f} per layer"
        if self.name == OUTSIDE:
            return "outside this theory: the weights are not random"
        return f"near the edge of chaos: x{self.factor:.2f} per layer"


def sigma_b2_of(config) -> float:
    """sigma_b^2: the variance of the initial biases."""
    return float(config.bias_std) ** 2


def phase(config) -> Phase:
    if config.init in NOT_RANDOM:  # i.i.d. random weights are the theory's premise
        return Phase(math.nan, math.nan, OUTSIDE)
    c = chi1(config.activation, sigma_w2_of(config), sigma_b2_of(config))
    f = math.sqrt(c)
    name = "ordered" if c < 1 - EDGE_TOLERANCE else "chaotic" if c > 1 + EDGE_TOLERANCE else "edge of chaos"
    return Phase(c, f, name)


def mean_field_reason(config) -> str | None:
    """None where mean-field theory holds for ``config`` (its kind's registry entry decides), else why not."""
    return kind_of(config).theory_reason(MEAN_FIELD, config)


def readout_phase(config) -> Phase:
    """What a readout may say: ``phase(config)`` where the theory holds, else a DOES_NOT_APPLY Phase with
    the reason (an RNN, residual connections, normalisation layers)."""
    reason = mean_field_reason(config)
    return phase(config) if reason is None else Phase(math.nan, math.nan, DOES_NOT_APPLY, reason)


# The quantity the mean-field profile predicts: the back-propagated error signal ||dL/dz_l||
# (BatchStats.delta_norms, StepHistory.delta_norms), not the weight gradient ||dL/dW_l||, which is
# also scaled by the forward signal a_{l-1} (dL/dW_l = a_{l-1}^T delta_l).
PREDICTED_QUANTITY = "delta_norms"
PREDICTED_LABEL = "||dL/dz|| error signal"


def predicted_delta_norms(config, measured_delta_norms, factor: float | None = None) -> np.ndarray:
    """Predicted ||dL/dz_l|| for the hidden layers, anchored at the last hidden layer's measured value.

    Layer l gets measured[depth] * sqrt(chi_1)^(depth - l); the output layer has no prediction (NaN).
    Where the theory does not hold (``mean_field_reason``: other kinds than a plain MLP, residual connections,
    normalisation layers) and for weights that are not random (zeros, constant):
    the result is all NaN for them. Pass ``factor`` (``phase(config).factor``) to skip recomputing it.
    """
    d = np.asarray(measured_delta_norms, dtype=float)
    out = np.full(len(d), np.nan)
    depth = len(d) - 1
    if mean_field_reason(config) is not None or config.init in NOT_RANDOM or depth < 1 or not np.isfinite(d[depth - 1]):
        return out
    f = phase(config).factor if factor is None else factor
    out[:depth] = d[depth - 1] * f ** (depth - 1 - np.arange(depth))
    return out


def predicted_profile(config, measured, factor: float | None = None) -> np.ndarray:
    """Former name of predicted_delta_norms, kept for callers; pass ||dL/dz|| (PREDICTED_QUANTITY)."""
    return predicted_delta_norms(config, measured, factor)


# Fewer nodes per dimension for the two-dimensional expectations of the correlation map.
_N2, _W2 = np.polynomial.hermite_e.hermegauss(60)
_W2 = _W2 / math.sqrt(2 * math.pi)
_Z1, _Z2 = np.meshgrid(_N2, _N2, indexing="ij")
_WW = np.outer(_W2, _W2)


def _pair_mean(f, q: float, c: float) -> float:
    """E[f(u1) f(u2)] for (u1, u2) Gaussian with variances q and correlation c."""
    s = math.sqrt(q)
    u1 = s * _Z1
    u2 = s * (c * _Z1 + math.sqrt(max(1.0 - c * c, 0.0)) * _Z2)
    with np.errstate(all="ignore"):
        return float(np.sum(_WW * f(u1) * f(u2)))


def correlation_fixed_point(activation: str, sigma_w2: float, sigma_b2: float = 0.0,
                            iterations: int = 2000) -> float:
    """c* of the correlation map c -> (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*: 1 in the ordered phase."""
    if chi1(activation, sigma_w2, sigma_b2) <= 1.0:
        return 1.0
    q = fixed_point(activation, sigma_w2, sigma_b2)
    if not 0.0 < q < math.inf:
        return math.nan
    phi = get_activation(activation).f
    c = 0.5
    for _ in range(iterations):
        new = min((sigma_w2 * _pair_mean(phi, q, c) + sigma_b2) / q, 1.0)
        if abs(new - c) <= 1e-10:
            return new
        c = new
    return c


def depth_scale(activation: str, sigma_w2: float, sigma_b2: float = 0.0) -> float:
    """xi_c = -1 / ln chi_c*, the depth over which correlations between inputs decay (Schoenholz et al. 2017).

    In the ordered phase c* = 1 and chi_c* = chi_1; in the chaotic phase chi_c* = sigma_w^2 E[phi'(u1) phi'(u2)]
    at c*. Networks train when their depth is below about 6 xi_c; xi_c is infinite at the critical point."""
    c = correlation_fixed_point(activation, sigma_w2, sigma_b2)
    if math.isnan(c):
        return math.nan
    if c >= 1.0:
        chi = chi1(activation, sigma_w2, sigma_b2)
    else:
        act = get_activation(activation)
        q = fixed_point(activation, sigma_w2, sigma_b2)
        chi = sigma_w2 * _pair_mean(lambda x: act.df(x, act.f(x)), q, c)
    if not 0.0 < chi < math.inf:
        return math.nan
    return math.inf if chi == 1.0 else -1.0 / math.log(chi)


def critical_sigma_w2(activation: str, sigma_b2: float = 0.0, lo: float = 0.01, hi: float = 100.0) -> float:
    """The sigma_w^2 where chi_1 = 1 (the edge of chaos), by bisection; NaN when chi_1 does not cross 1 in [lo, hi]."""
    f = lambda s: chi1(activation, s, sigma_b2) - 1.0
    if not f(lo) < 0.0 < f(hi):
        return math.nan
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0.0 else (lo, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Boundary:
    """The theory's trainability boundary along a swept weight-scale axis."""
    axis_values: tuple       # the swept field's values
    sigma_w2: tuple          # sigma_w^2 of each
    max_depth: tuple         # 6 xi_c at each: deeper networks are predicted untrainable
    critical_value: float    # the swept field's value where chi_1 = 1 (NaN when outside the axis)
    critical_sigma_w2: float


def trainability_boundary(config, field: str, values) -> Boundary | None:
    """6 xi_c and the critical point along ``field`` (a setting that changes sigma_w^2, e.g. init_gain), for
    the other settings of ``config``; None when the theory does not apply (residual networks, zero weights)."""
    if mean_field_reason(config) is not None or config.init in NOT_RANDOM:
        return None
    values = list(values)
    sw2 = [sigma_w2_of(config.replace(**{field: v})) for v in values]
    sb2 = [sigma_b2_of(config.replace(**{field: v})) for v in values]
    if len(set(sw2)) < 2 or len(set(sb2)) > 1:
        return None  # the field does not move sigma_w^2 alone
    depth = tuple(6.0 * depth_scale(config.activation, s, sb2[0]) for s in sw2)
    crit = critical_sigma_w2(config.activation, sb2[0])
    order = np.argsort(sw2)
    xs, ys = np.asarray(sw2)[order], np.asarray(values, dtype=float)[order]
    inside = math.isfinite(crit) and xs[0] <= crit <= xs[-1]
    value = float(np.interp(crit, xs, ys)) if inside else math.nan
    return Boundary(tuple(values), tuple(sw2), depth, value, crit)
