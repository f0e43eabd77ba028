"""The chain rule with the real numbers of one batch.

Going down from the loss, the back-propagated gradient delta_l = dL/dz_l changes by a
factor at each layer: the backward gain ||delta_l|| / ||delta_{l+1}||. Their product is
||delta_1|| / ||delta_out||: how much of the output's gradient reaches layer 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChainLink:
    layer: int            # 1-based
    deriv_abs_mean: float  # mean |phi'(z)| in this layer (1 for the linear output layer)
    delta_norm: float      # ||dL/dz_l|| on this batch
    gain: float            # ||delta_l|| / ||delta_{l+1}||; 1 for the output layer
    product: float         # running product of the gains from the output down to this layer


@dataclass(frozen=True)
class ChainRule:
    links: list  # output layer first, layer 1 last

    @property
    def total(self) -> float:
        """Product of all gains = ||delta_1|| / ||delta_out||."""
        return self.links[-1].product

    def text(self) -> str:
        gains = [f"{l.gain:.2g}" for l in self.links[1:]]
        if len(gains) > 12:
            gains = gains[:5] + ["..."] + gains[-5:]
        return f"dL/dz1 = dL/dz_out x {' x '.join(gains)} = {self.total:.2g} x dL/dz_out"


# Issue 24: the formats a training run can be in, smallest positive number first checked
FORMATS = ("float64", "float32", "bfloat16", "float16")


def format_floors(chain: ChainRule) -> dict:
    """Per format, the smallest running product it can hold for this batch: below SMALLEST[fmt] / ||dL/dz_out||
    the error signal's norm, and so every one of its entries, is below the format's smallest positive number:
    all of dL/dz underflows to 0. Empty when the output's error signal is 0 or not finite."""
    from core.nn.precision import SMALLEST
    out = chain.links[0].delta_norm if chain.links else 0.0
    if not (out > 0 and np.isfinite(out)):
        return {}
    return {fmt: SMALLEST[fmt] / out for fmt in FORMATS}


def chain_rule(network, X, y) -> ChainRule:
    """The chain rule for the batch (X, y) with the network's current weights (nothing is updated)."""
    with np.errstate(all="ignore"):
        r = network.backward(X, y)
        derivs = np.abs(r.derivs.reshape(len(r.derivs), -1)).mean(axis=1).tolist() + [1.0]
    return chain_from_step(r.delta_norms, derivs)


def chain_from_step(delta_norms, deriv_abs_mean) -> ChainRule:
    """The chain rule from numbers a step measured: ||dL/dz_l|| and mean |phi'(z_l)| per layer, input side
    first (the output layer's phi' is 1). A training step's BatchStats carries both, so drawing the chain rule
    needs no pass of its own."""
    norms, derivs = delta_norms, [float(d) for d in deriv_abs_mean]
    links, product = [], 1.0
    for k in range(len(norms) - 1, -1, -1):
        gain = 1.0 if k == len(norms) - 1 else _ratio(norms[k], norms[k + 1])
        product *= gain
        links.append(ChainLink(k + 1, derivs[k], float(norms[k]), gain, product))
    return ChainRule(links)


def _ratio(a: float, b: float) -> float:
    with np.errstate(all="ignore"):
        return float(np.divide(a, b)) if b != 0 else (0.0 if a == 0 else float("inf"))


@dataclass(frozen=True)
class TimeLink:
    step: int          # t, 1-based
    grad_norm: float   # ||dL/dh_t|| of the top recurrent layer
    factor: float      # ||dL/dh_t|| / ||dL/dh_{t+1}||; 1 for t = T
    product: float     # running product from T down to t: ||dL/dh_t|| / ||dL/dh_T||


@dataclass(frozen=True)
class TimeChain:
    links: list  # t = T first, t = 1 last

    @property
    def total(self) -> float:
        """||dL/dh_1|| / ||dL/dh_T||: how much of the last step's gradient reaches the first."""
        return self.links[-1].product


def chain_through_time(time_grad_norm) -> TimeChain | None:
    """The per-step factors of the gradient going back through time, from measured ||dL/dh_t||."""
    g = np.asarray(time_grad_norm, dtype=float)
    if not len(g):
        return None
    links, product = [], 1.0
    for t in range(len(g) - 1, -1, -1):
        factor = 1.0 if t == len(g) - 1 else _ratio(g[t], g[t + 1])
        product *= factor
        links.append(TimeLink(t + 1, float(g[t]), factor, product))
    return TimeChain(links)
