"""Inside a sequence model, step by step (issue 21): recurrent networks (RNN, LSTM, GRU) and the Transformer.

For every training step ``SequenceInsideRecorder.measure`` takes, from the pass the trainer already made (the
network's ``Backward``), per layer (a recurrent layer or a Transformer block) l:

- through time, one value per time step / position t (arrays (layers, T)):
  ``signal``      the standard deviation at t over all (sample, unit) entries of the layer's output h_t
                  (recurrent) or of the residual stream x_{l-1}[:, t] entering block l (Transformer: block 1's row
                  is the embedded input x_0; the last block's output feeds only the read-out position);
  ``grad_t``      ||dL/dh_t|| (recurrent, as the time-step bars) or ||dL/dx_{l-1}[:, t]|| (Transformer; block 1's
                  row is the position plot's ||dL/dx_0[:, t]||), over the batch and the units;
  ``saturation``  the share of saturated units at t: recurrent, the layer's tanh/phi (the RNN's phi, the LSTM's
                  candidate g, the GRU's n), Transformer the MLP's phi units; tanh by makemore's |tanh(u)| > 0.97
                  (phi'(u) < 1 - 0.97^2), other activations phi'(u) <= 5% of the largest phi';
  ``gate_saturation`` (LSTM, GRU) the share of gate units (LSTM i, f, o; GRU r, z) with sigma'(z) <= 5% of
                  its largest value 1/4 (sigma within about 0.05 of 0 or 1);
  ``attn_signal``, ``mlp_signal`` (Transformer) the std of the attention output Attn(.) and the MLP output
                  MLP(.) at t (before their branch scale).
- distributions, percentile bands of |value| (min, 2.3%, 15.9%, median, 84.1%, 97.7%, max, as
  core.measure.distributions.QUANTILES; np.percentile's linear rule) over all time steps of a fixed sample of
  SAMPLES entries per layer (all entries when a layer has fewer), arrays (layers, 7): ``grad`` dL/dh_t (dL/dx_{l-1}),
  ``act`` h_t (x_{l-1}), recurrent ``pre`` what enters the tanh/phi, Transformer ``attn`` and ``mlp``.

Every step is recorded (a step of these networks is a Python loop over time or a stack of attention blocks; the
measurement is a few reductions per layer). Stored as float32 in a core.measure.distributions.InsideHistory, so
the Inside page, its rewind and the snapshots' deltas treat them as the MLP's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.measure.distributions import QUANTILES, SAMPLES, TANH_SATURATED, InsideHistory, InsideView

SIGMOID_MAX_DERIV = 0.25
GATE_SATURATED = 0.05 * SIGMOID_MAX_DERIV   # sigma'(z) at or below this: sigma within ~0.05 of 0 or 1


@dataclass
class SequenceLayout:
    """What a sequence model's records hold, for drawing, rewind and export. ``sequence`` tells the Inside page."""

    model: str                  # "rnn", "lstm", "gru" or "transformer"
    n_layers: int
    steps: int                  # T: time steps or positions
    layer_name: str             # "layer" or "block"
    time_name: str              # "time step" or "position"
    dist: tuple                 # ((field, label), ...) of the (layers, 7) band fields
    time: tuple                 # ((field, label), ...) of the (layers, T) fields
    saturation_rule: str
    samples: int = SAMPLES
    attention: bool = False     # a Transformer (blocks x positions), else a recurrent network (layers x steps)
    note: str = ""              # what the captions add (the Transformer: which x the rows are)
    every: int = 1
    sequence: bool = True

    @property
    def fields(self) -> tuple:
        return tuple(f for f, _ in self.dist) + tuple(f for f, _ in self.time)

    def label(self, name: str) -> str:
        return dict(self.dist + self.time)[name]


def make_sequence_layout(net, steps: int) -> SequenceLayout:
    """The layout of a recurrent network's or a Transformer's records on sequences of ``steps`` positions."""
    tanh = net.activation.name == "tanh"
    rule = "|tanh(u)| > 0.97 (makemore)" if tanh else "phi'(u) <= 5% of its largest value"
    attention = not hasattr(net, "n_gates")   # a Transformer's blocks, else recurrent layers (with their cells)
    if attention:
        dist = (("grad", "gradient dL/dx_{l-1}"), ("act", "residual stream x_{l-1}"),
                ("attn", "attention output"), ("mlp", "MLP output"))
        time = (("signal", "std of x_{l-1}[:, t]"), ("grad_t", "||dL/dx_{l-1}[:, t]||"),
                ("attn_signal", "std of Attn output"), ("mlp_signal", "std of MLP output"),
                ("saturation", "saturated share (MLP units)"))
        return SequenceLayout("transformer", net.depth, steps, "block", "position", dist, time, rule, attention=True,
                              note="x_{l-1} is block l's input (block 1: the embedded input x_0).")
    dist = (("grad", "gradient dL/dh_t"), ("act", "hidden state h_t"),
            ("pre", "pre-activation (what enters tanh)" if net.n_gates > 1 else "pre-activation z_t"))
    time = (("signal", "std of h_t"), ("grad_t", "||dL/dh_t||"),
            ("saturation", "saturated share (candidate)" if net.n_gates > 1 else "saturated share (phi units)"))
    if net.n_gates > 1:
        time += (("gate_saturation", "saturated share (gates)"),)
    return SequenceLayout(net.kind, net.depth, steps, "layer", "time step", dist, time, rule)


def std_per_step(a: np.ndarray, time_axis: int) -> np.ndarray:
    """Standard deviation over every entry but the time axis (float64 sums): one value per step."""
    axes = tuple(i for i in range(a.ndim) if i != time_axis)
    n = np.prod([a.shape[i] for i in axes])
    mean = np.add.reduce(a, axis=axes, dtype=np.float64) / n
    sq = np.add.reduce(np.square(a, dtype=np.float64), axis=axes) / n
    return np.sqrt(np.maximum(sq - mean * mean, 0.0))


def share_per_step(mask: np.ndarray, time_axis: int) -> np.ndarray:
    axes = tuple(i for i in range(mask.ndim) if i != time_axis)
    return np.add.reduce(mask, axis=axes, dtype=np.float64) / np.prod([mask.shape[i] for i in axes])


class SequenceInsideRecorder:
    """Measures and records one step of a recurrent network or a Transformer (see the module)."""

    def __init__(self, net, seed: int, steps: int, samples: int = SAMPLES):
        self.net, self.k = net, samples
        self.rng = np.random.default_rng([int(seed), 21])
        self.layout = make_sequence_layout(net, steps)
        self.transformer = self.layout.attention
        self.tanh = net.activation.name == "tanh"
        self.sat_level = (1.0 - TANH_SATURATED ** 2) if self.tanh else 0.05 * net.activation.max_deriv
        L, T = self.layout.n_layers, steps
        shapes = {f: (L, 7) for f, _ in self.layout.dist}
        shapes.update({f: (L, T) for f, _ in self.layout.time})
        self.history = InsideHistory(shapes, timeline=("grad",))
        self._positions: dict = {}
        self.every = 1
        self.last: dict | None = None

    def recorded(self, step: int) -> bool:
        return True

    def positions(self, size: int) -> np.ndarray:
        """Fixed entries (flat indices) of an array of ``size`` entries: all of them, or SAMPLES drawn once."""
        if size not in self._positions:
            self._positions[size] = np.arange(size) if size <= self.k else \
                np.sort(self.rng.choice(size, self.k, replace=False))
        return self._positions[size]

    def bands(self, arrays) -> np.ndarray:
        """(len(arrays), 7) percentiles of |value| of each array's fixed sample."""
        out = np.empty((len(arrays), 7))
        for i, a in enumerate(arrays):
            a = np.asarray(a)
            out[i] = np.percentile(np.abs(np.take(a.reshape(-1), self.positions(a.size))), QUANTILES)
        return out

    def _saturated(self, derivs: np.ndarray) -> np.ndarray:
        return np.less(derivs, self.sat_level) if self.tanh else np.less_equal(derivs, self.sat_level)

    def measure(self, r, X, stats, flat=None, update=None, scale: float = 1.0) -> dict:
        """One step's record from the trainer's Backward ``r`` (dL/dh as the pass computed it, before any
        clipping; ``flat``, ``update`` and ``scale`` are the MLP recorder's and not needed here)."""
        with np.errstate(all="ignore"):
            rec = self._transformer(r) if self.transformer else self._recurrent(r)
        self.history.add(stats.step, stats.epoch, rec)
        self.last = rec
        return rec

    def _recurrent(self, r) -> dict:
        """Arrays are time-major: h_t, dL/dh_t and the pre-activations (T, N, n), phi' (layers, T, N, n)."""
        rec = {"grad": self.bands(r.hidden_grads), "act": self.bands(r.activations),
               "pre": self.bands(r.pre_activations),
               "signal": np.array([std_per_step(h, 0) for h in r.activations]),
               "grad_t": np.asarray(r.layer_time_grad_norm, dtype=np.float64),
               "saturation": np.array([share_per_step(self._saturated(d), 0) for d in r.derivs])}
        if "gate_saturation" in dict(self.layout.time):
            rec["gate_saturation"] = np.array([
                share_per_step(np.stack([np.less_equal(g[l], GATE_SATURATED) for g in r.gate_derivs.values()]), 1)
                for l in range(self.layout.n_layers)])
        return rec

    def _transformer(self, r) -> dict:
        """Arrays are batch first: each block's input x_{l-1} and dL/dx_{l-1}, its Attn and MLP outputs (N, T, d),
        phi' (blocks, N, T, 4d)."""
        attn = [a for a, _ in r.branch_outputs]
        mlp = [m for _, m in r.branch_outputs]
        inputs = [r.embedded] + list(r.activations[:-1])
        return {"grad": self.bands(r.hidden_grads), "act": self.bands(inputs),
                "attn": self.bands(attn), "mlp": self.bands(mlp),
                "signal": np.array([std_per_step(x, 1) for x in inputs]),
                "grad_t": np.asarray(r.transformer.position_grad_norm[:-1], dtype=np.float64),
                "attn_signal": np.array([std_per_step(a, 1) for a in attn]),
                "mlp_signal": np.array([std_per_step(m, 1) for m in mlp]),
                "saturation": np.array([share_per_step(self._saturated(d), 1) for d in r.derivs])}

    def view(self) -> InsideView:
        return self.history.view(self.layout)
