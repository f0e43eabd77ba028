"""What a recurrent network's gradient does back through time, measured for the window.

``from_step(stats, bound)`` reads it from a step's own statistics; ``measure(trainer)`` takes one
forward and backward pass on the latest batch at the current weights (nothing is updated: for a
network no step has trained yet) and returns a ``ThroughTime``: the chain through time (per-step
factor ||dL/dh_t|| / ||dL/dh_{t+1}|| and the running product) and, per recurrent layer, the
spectral norm of W_h read against Pascanu's bound. None for an MLP.

Pascanu, Mikolov & Bengio (2013): for h_t = phi(x_t W_x + h_{t-1} W_h + b) every step back
multiplies the gradient by dh_t/dh_{t-1} = W_h^T diag(phi'), whose norm is at most
||W_h||_2 * gamma with gamma = max phi'. So ||W_h||_2 < 1/gamma guarantees that the gradient
vanishes (a sufficient condition); ||W_h||_2 >= 1/gamma guarantees nothing either way (it is
necessary for exploding). The gated cells (LSTM, GRU) carry the gradient on paths that bypass
W_h, so the bound does not apply to them (``vanishing_bound`` is NaN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.measure.inspector import TimeChain, chain_through_time
from core.nn.kinds import PASCANU, PASCANU_GATED, kind_of

GUARANTEED, NOT_GUARANTEED, NOT_APPLICABLE, NOT_FINITE = (
    "vanishing guaranteed", "not guaranteed", "does not apply", "not finite")


@dataclass(frozen=True)
class SpectralReadout:
    """One recurrent layer's ||W_h||_2 against 1/gamma, and what that says."""
    layer: int      # 1-based, input side first
    norm: float     # ||W_h||_2, the largest singular value
    bound: float    # 1/gamma; NaN where the bound does not apply (LSTM, GRU)
    verdict: str    # GUARANTEED, NOT_GUARANTEED, NOT_APPLICABLE or NOT_FINITE

    def text(self) -> str:
        return describe(f"layer {self.layer}", f"{self.norm:.3g}", self.verdict, self.bound, self.norm)


def describe(layers: str, norms: str, verdict: str, bound: float, largest: float) -> str:
    """The readout's words for one layer or a run of layers with the same verdict (``largest``: their
    largest ||W_h||_2, which the guarantee's factor is quoted from)."""
    if verdict == NOT_FINITE:
        return f"{layers}: ‖W_h‖₂ is not finite (the weights diverged)"
    head = f"{layers}: ‖W_h‖₂ = {norms}"
    if verdict == NOT_APPLICABLE:
        return f"{head}: the bound does not apply ({PASCANU_GATED})"
    if verdict == GUARANTEED:
        return (f"{head} < 1/γ = {bound:.3g}: vanishing guaranteed (each step back through a layer multiplies "
                f"the gradient by at most ‖W_h‖₂·γ = {largest / bound:.3g})")
    return f"{head} ≥ 1/γ = {bound:.3g}: no guarantee (the gradient may still vanish, or explode)"


def spectral_readout(spectral_norm, bound: float) -> tuple[SpectralReadout, ...]:
    """The verdict for each recurrent layer's ||W_h||_2 (``bound``: the network's vanishing_bound)."""
    out = []
    for k, s in enumerate(np.asarray(spectral_norm, dtype=float).tolist()):
        if not math.isfinite(bound):
            verdict = NOT_APPLICABLE
        elif not math.isfinite(s):
            verdict = NOT_FINITE
        else:
            verdict = GUARANTEED if s < bound else NOT_GUARANTEED
        out.append(SpectralReadout(k + 1, s, float(bound), verdict))
    return tuple(out)


def readout_lines(readouts) -> list[str]:
    """One line per run of consecutive layers with the same verdict: a stack of eight layers takes one line,
    not eight (they would push the plot off the window)."""
    groups: list[list[SpectralReadout]] = []
    for r in readouts:
        if groups and groups[-1][-1].verdict == r.verdict:
            groups[-1].append(r)
        else:
            groups.append([r])
    lines = []
    for g in groups:
        if len(g) == 1:
            lines.append(g[0].text())
            continue
        lo, hi = f"{min(r.norm for r in g):.3g}", f"{max(r.norm for r in g):.3g}"
        lines.append(describe(f"layers {g[0].layer}-{g[-1].layer}", lo if lo == hi else f"{lo} to {hi}",
                              g[0].verdict, g[0].bound, max(r.norm for r in g)))
    return lines


@dataclass(frozen=True)
class ThroughTime:
    """The latest batch at the current weights: ||dL/dh_t|| (t = 1..T), its chain, the spectral readout."""
    time_grad_norm: np.ndarray
    chain: TimeChain
    spectral: tuple


def pascanu_bound(config, network) -> float:
    """The network's 1/gamma where the model-kind registry says Pascanu's bound holds (the vanilla RNN), else
    NaN: the readout then says it does not apply."""
    return network.vanishing_bound if kind_of(config).theory_reason(PASCANU) is None else math.nan


def from_step(stats, bound: float) -> ThroughTime | None:
    """The same from a step's own numbers (a BatchStats or an epoch's EpochStats): its ||dL/dh_t|| and its
    ||W_h||_2 after the step, no pass of its own; ``bound``: the network's vanishing_bound. The chain then
    agrees with the time-step bars drawn from the same statistics. None for an MLP."""
    if stats is None or not len(stats.time_grad_norm):
        return None
    g = np.array(stats.time_grad_norm, dtype=float)
    return ThroughTime(g, chain_through_time(g), spectral_readout(stats.spectral_norm, bound))


def measure(trainer) -> ThroughTime | None:
    """One forward and backward pass of ``trainer``'s latest batch (nothing updated); None for an MLP."""
    g = trainer.time_gradient_norms()
    if not len(g):
        return None
    g = np.array(g, dtype=float)   # a copy: the snapshot's own array
    return ThroughTime(g, chain_through_time(g),
                       spectral_readout(trainer.spectral_norms(), pascanu_bound(trainer.config, trainer.network)))
