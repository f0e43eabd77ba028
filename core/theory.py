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

from .activations import get_activation
from .initializers import expected_std

# An even number of nodes: none at 0, where ReLU-like derivatives jump, so E[1{z > 0}] is 1/2 exactly.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(200)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)  # E[f(z)] = sum w_i f(x_i) for z ~ N(0, 1)
EDGE_TOLERANCE = 0.02
NOT_RANDOM = ("zeros", "constant")  # initialisers the theory (i.i.d. random weights) does not describe
OUTSIDE = "outside the theory"      # Phase.name for them
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
    name: str       # "ordered", "chaotic", "edge of chaos" or OUTSIDE (chi1 and factor NaN)

    def __str__(self) -> str:
        if self.name == "ordered":
            return f"ordered: gradients vanish, x{self.factor:.2f} per layer"
        if self.name == "chaotic":
            return f"chaotic: gradients explode, x{self.factor:.2f} per layer"
        if self.name == OUTSIDE:
            return "outside this theory: the weights are not random"
        return f"near the edge of chaos: x{self.factor:.2f} per layer"


def phase(config) -> Phase:
    if config.init in NOT_RANDOM:  # i.i.d. random weights are the theory's premise
        return Phase(math.nan, math.nan, OUTSIDE)
    c = chi1(config.activation, sigma_w2_of(config))
    f = math.sqrt(c)
    name = "ordered" if c < 1 - EDGE_TOLERANCE else "chaotic" if c > 1 + EDGE_TOLERANCE else "edge of chaos"
    return Phase(c, f, name)


# The quantity the mean-field profile predicts: the back-propagated error signal ||dL/dz_l||
# (BatchStats.delta_norms, StepHistory.delta_norms), not the weight gradient ||dL/dW_l||, which is
# also scaled by the forward signal a_{l-1} (dL/dW_l = a_{l-1}^T delta_l).
PREDICTED_QUANTITY = "delta_norms"
PREDICTED_LABEL = "||dL/dz|| error signal"


def predicted_delta_norms(config, measured_delta_norms, factor: float | None = None) -> np.ndarray:
    """Predicted ||dL/dz_l|| for the hidden layers, anchored at the last hidden layer's measured value.

    Layer l gets measured[depth] * sqrt(chi_1)^(depth - l); the output layer has no prediction (NaN).
    Residual connections, normalisation layers and weights that are not random (zeros, constant) are
    outside this theory:
    the result is all NaN for them. Pass ``factor`` (``phase(config).factor``) to skip recomputing it.
    """
    d = np.asarray(measured_delta_norms, dtype=float)
    out = np.full(len(d), np.nan)
    depth = len(d) - 1
    if config.residual or config.norm != "none" or config.init in NOT_RANDOM or depth < 1 or not np.isfinite(d[depth - 1]):
        return out
    f = phase(config).factor if factor is None else factor
    out[:depth] = d[depth - 1] * f ** (depth - 1 - np.arange(depth))
    return out


def predicted_profile(config, measured, factor: float | None = None) -> np.ndarray:
    """Former name of predicted_delta_norms, kept for callers; pass ||dL/dz|| (PREDICTED_QUANTITY)."""
    return predicted_delta_norms(config, measured, factor)
