"""Per-layer statistics of one batch and of one epoch.

Layer statistics are kept as arrays (one entry per weight layer, output layer last);
``.layers`` turns them into ``LayerStats`` records. Definitions:

- grad_norm: Frobenius norm of dL/dW (for an epoch, the mean over its batches)
- grad_mean_abs: mean |dL/dW| (epoch: mean over batches)
- grad_max_abs: largest |dL/dW| (epoch: largest over its batches)
- weight_norm: Frobenius norm of W after the step (epoch: at its end)
- update_ratio: ||W_after - W_before|| / ||W_before|| (epoch: mean over batches)
- act_deriv_mean: mean phi'(z) over the layer's units and samples (the linear output layer: 1)
- saturation: share of (sample, unit) pairs with phi'(z) <= 5% of the activation's largest phi'
  (epoch: act_deriv_mean and saturation over all the epoch's samples)

With a normalisation layer, ``NormStats`` holds the same kind of statistics for each hidden
layer's gamma and beta (one entry per hidden layer): the norm of dL/dgamma (epoch: mean over
batches), ||gamma|| after the step (epoch: at its end), ||update|| / ||gamma before|| (epoch:
mean over batches), and likewise for beta.

Recurrent networks add, per batch (epoch: the mean over its batches unless said otherwise):

- time_grad_norm: ||dL/dh_t|| of the top recurrent layer for t = 1..T, over the batch and the units
  (dL/dh_t counts every path from h_t to the loss: the layer above, or the head, and step t+1)
- layer_time_grad_norm: the same for every recurrent layer, (layers, T), input side first
- gate_saturation: per gate (LSTM i, f, o; GRU r, z) and recurrent layer, the share of (step, sample,
  unit) triples whose sigma'(z) <= 5% of sigma's largest (0.25): the gate is stuck open or shut
  (epoch: weighted by samples)
- spectral_norm: ||W_h||_2 of each recurrent layer after the step (epoch: at its end)
- vanishing_bound: 1/gamma, gamma = max phi' (Pascanu et al. 2013): a vanilla RNN layer whose
  spectral_norm is below it makes the gradient vanish back through time (NaN for LSTM and GRU)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.training.precision_stats import (PRECISION_FIELDS, PrecisionSteps, finite_or_none,  # noqa: F401  (issue 24)
                                           precision_record)
from core.training.transformer_stats import TransformerStats, TransformerSum   # issue 22

LAYER_FIELDS = ("grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm",
                "update_ratio", "act_deriv_mean", "saturation")
SATURATION_THRESHOLD = 0.05


@dataclass(frozen=True)
class LayerStats:
    layer: int  # 1-based, input side first; the output layer is last
    grad_norm: float
    grad_mean_abs: float
    grad_max_abs: float
    weight_norm: float
    update_ratio: float
    act_deriv_mean: float
    saturation: float


NORM_FIELDS = ("gamma_grad_norm", "gamma_norm", "gamma_update_ratio",
               "beta_grad_norm", "beta_norm", "beta_update_ratio")


@dataclass
class NormStats:
    gamma_grad_norm: np.ndarray
    gamma_norm: np.ndarray
    gamma_update_ratio: np.ndarray
    beta_grad_norm: np.ndarray
    beta_norm: np.ndarray
    beta_update_ratio: np.ndarray

    def to_record(self) -> list[dict]:
        cols = [getattr(self, f).tolist() for f in NORM_FIELDS]
        return [{"layer": i + 1, **{f: finite_or_none(v) for f, v in zip(NORM_FIELDS, row)}}
                for i, row in enumerate(zip(*cols))]


@dataclass(frozen=True)
class Divergence:
    epoch: int
    step: int
    layer: int
    quantity: str  # "loss", "gradient", "weights" or "validation loss"

    def __str__(self):
        return (f"diverged at epoch {self.epoch}, step {self.step}: "
                f"non-finite {self.quantity} in layer {self.layer}")


@dataclass
class _PerLayer:
    grad_norm: np.ndarray
    grad_mean_abs: np.ndarray
    grad_max_abs: np.ndarray
    weight_norm: np.ndarray
    update_ratio: np.ndarray
    act_deriv_mean: np.ndarray
    saturation: np.ndarray

    @property
    def n_layers(self) -> int:
        return len(self.grad_norm)

    def __reduce__(self):
        """Pickled with its per-layer float64 arrays as the rows of one array: a trainer process sends tens of
        these a frame, and pickling each small array on its own cost ~4 us (BatchStats: 57 -> ~15 us)."""
        d, n = self.__dict__, len(self.grad_norm)
        names = tuple(k for k, v in d.items() if type(v) is np.ndarray and v.dtype == np.float64 and v.shape == (n,))
        return _unpack, (type(self), names, np.array([d[k] for k in names]).reshape(len(names), n),
                         {k: v for k, v in d.items() if k not in names})

    @property
    def layers(self) -> list[LayerStats]:
        cols = [getattr(self, f).tolist() for f in LAYER_FIELDS]
        return [LayerStats(i + 1, *row) for i, row in enumerate(zip(*cols))]


def _unpack(cls, names, block, rest):
    """The inverse of ``_PerLayer.__reduce__``: each named array a row of ``block`` (rows never overlap)."""
    obj = cls.__new__(cls)
    obj.__dict__.update(rest)
    obj.__dict__.update(zip(names, block))
    return obj


def _no_steps():
    return np.empty(0)


def _no_map():
    return np.empty((0, 0))


@dataclass
class BatchStats(_PerLayer):
    epoch: int = 0          # the epoch this batch belongs to (1-based)
    step: int = 0           # batches done since the start, this one included
    loss: float = math.nan  # training loss on this batch, before the update
    batch_size: int = 0
    diverged: bool = False
    divergence: Divergence | None = None
    grad_norm_total: float = math.nan  # global norm over every parameter, before clipping
    clipped: bool = False
    delta_norms: np.ndarray = field(default_factory=lambda: np.empty(0))  # ||dL/dz_l||
    act_deriv_abs_mean: np.ndarray = field(default_factory=lambda: np.empty(0))  # mean |phi'|, for the chain rule
    epoch_stats: "EpochStats | None" = None  # set when this batch completed an epoch
    norm: NormStats | None = None  # gamma and beta of each hidden layer, with a normalisation layer
    time_grad_norm: np.ndarray = field(default_factory=_no_steps)         # (T,); empty for an MLP
    layer_time_grad_norm: np.ndarray = field(default_factory=_no_map)     # (recurrent layers, T)
    gate_saturation: dict = field(default_factory=dict)                   # gate -> (recurrent layers,)
    spectral_norm: np.ndarray = field(default_factory=_no_steps)          # (recurrent layers,)
    vanishing_bound: float = math.nan
    transformer: TransformerStats | None = None   # a transformer's own statistics (core.training.transformer_stats)
    # issue 24 (core/training/precision_step.py): per weight layer; the loss scale this step used
    underflow: np.ndarray = field(default_factory=_no_steps)
    overflow: np.ndarray = field(default_factory=_no_steps)
    lost_updates: np.ndarray = field(default_factory=_no_steps)
    loss_scale: float = 1.0
    skipped: bool = False   # dynamic loss scaling skipped this step (its gradient was not finite)


@dataclass
class EpochStats(_PerLayer):
    epoch: int = 0
    step: int = 0
    train_loss: float = math.nan
    val_loss: float = math.nan
    val_accuracy: float | None = None
    diverged: bool = False
    divergence: Divergence | None = None
    norm: NormStats | None = None

    time_grad_norm: np.ndarray = field(default_factory=_no_steps)
    layer_time_grad_norm: np.ndarray = field(default_factory=_no_map)
    gate_saturation: dict = field(default_factory=dict)
    spectral_norm: np.ndarray = field(default_factory=_no_steps)
    vanishing_bound: float = math.nan
    transformer: TransformerStats | None = None   # issue 22: the mean of the epoch's batches'
    # issue 24: means over the epoch's steps (lost_updates: over the steps that applied an update), the scale
    # at the end, the steps skipped, and every step's values (PrecisionSteps)
    underflow: np.ndarray = field(default_factory=_no_steps)
    overflow: np.ndarray = field(default_factory=_no_steps)
    lost_updates: np.ndarray = field(default_factory=_no_steps)
    loss_scale: float = 1.0
    skipped_steps: int = 0
    precision_steps: "PrecisionSteps | None" = None

    @property
    def recurrent(self) -> bool:
        return len(self.time_grad_norm) > 0

    def to_record(self) -> dict:
        """The JSON record: non-finite numbers become None (null); recurrent runs add their time statistics."""
        extra = {} if self.norm is None else {"norm_layers": self.norm.to_record()}
        record = {
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": finite_or_none(self.train_loss),
            "val_loss": finite_or_none(self.val_loss),
            "val_accuracy": finite_or_none(self.val_accuracy),
            "diverged": self.diverged,
            "layers": [{"layer": s.layer, **{f: finite_or_none(getattr(s, f)) for f in LAYER_FIELDS}}
                       for s in self.layers],
            **extra,
        }
        if self.recurrent:
            record["time_grad_norm"] = [finite_or_none(v) for v in self.time_grad_norm]
            record["spectral_norm"] = [finite_or_none(v) for v in self.spectral_norm]
            record["vanishing_bound"] = finite_or_none(self.vanishing_bound)
            record["gate_saturation"] = {k: [finite_or_none(v) for v in a] for k, a in self.gate_saturation.items()}
        if self.transformer is not None:
            record["transformer"] = self.transformer.to_record()
        if len(self.lost_updates):
            record["precision"] = precision_record(self)
        return record


class Segments:
    """Per-segment reductions of a flat array (one segment per layer's W).

    Consecutive segments of equal size (the hidden-to-hidden layers) are viewed as the
    rows of one 2-D block, so a per-layer statistic costs one NumPy call per block, not
    one per layer. Norms are one batched product per block (BLAS dot products of each row with
    itself), or below ``SMALL`` values one ``reduceat`` of the squares. Segments that tile their
    span take |value|'s sum and maximum in one ``reduceat`` call for all of them (at 10 layers of
    32 units a third of the blocks' cost, at 10 layers of 256 still 10-20% less).
    """

    SMALL = 1 << 15   # values: up to here one reduceat of the squares is cheaper than a call per block

    def __init__(self, offsets, sizes):
        self.offsets, self.sizes = np.asarray(offsets), np.asarray(sizes)
        groups: list[list[int]] = []  # [start, count, size]
        for o, n in zip(self.offsets.tolist(), self.sizes.tolist()):
            last = groups[-1] if groups else None
            if last and last[2] == n and last[0] + last[1] * n == o:
                last[1] += 1
            else:
                groups.append([o, 1, n])
        self.groups = [tuple(g) for g in groups]
        self.end = int(self.offsets[-1] + self.sizes[-1]) if len(self.sizes) else 0
        tiled = len(self.sizes) > 0 and self.offsets[0] == 0 and bool(
            np.all(self.offsets[1:] == self.offsets[:-1] + self.sizes[:-1]))
        self.tiled = tiled and bool(np.all(self.sizes > 0))
        self.small = self.tiled and self.end <= self.SMALL

    def blocks(self, values):
        return [values[s:s + c * n].reshape(c, n) for s, c, n in self.groups]

    def norms(self, values) -> np.ndarray:
        """Euclidean norm of each segment, exact even where squares overflow: per block of equal segments, their
        squared norms as one batched product (rows (1 x n) @ (n x 1): BLAS dot products, no temporary of the
        squares: 1.7x the reduceat of the squares at 20 layers of 64 x 64, 3-4x at 100 layers of 128 x 128)."""
        with np.errstate(over="ignore"):   # overflowed squares are redone by _fix_overflow
            if self.small:   # a few thousand values: one reduceat of the squares beats a call per block
                v = values[:self.end]
                sq = np.add.reduceat(v * v, self.offsets)
            else:
                sq = np.concatenate([np.matmul(B[:, None, :], B[:, :, None]).reshape(-1) for B in self.blocks(values)])
        return _fix_overflow(np.sqrt(sq), values, self.offsets, self.sizes)

    def abs_mean_and_max(self, values, scratch) -> tuple[np.ndarray, np.ndarray]:
        """Mean and largest |value| of each segment; ``scratch`` holds |values| meanwhile."""
        A = np.abs(values[:self.end], out=scratch[:self.end])
        if self.tiled:
            return np.add.reduceat(A, self.offsets) / self.sizes, np.maximum.reduceat(A, self.offsets)
        blocks = self.blocks(A)
        total = np.concatenate([np.add.reduce(B, axis=1) for B in blocks])
        peak = np.concatenate([np.maximum.reduce(B, axis=1) for B in blocks])
        return total / self.sizes, peak


def segment_norms(values: np.ndarray, offsets, sizes) -> np.ndarray:
    """Euclidean norm of each segment of a flat array, exact even where squares overflow."""
    sq = np.array([np.vdot(values[o:o + n], values[o:o + n]) for o, n in zip(offsets, sizes)])
    return _fix_overflow(np.sqrt(sq), values, offsets, sizes)


def _fix_overflow(norms, values, offsets, sizes):
    if math.isfinite(float(np.add.reduce(norms))):  # the common case, in one call
        return norms
    for i in np.flatnonzero(~np.isfinite(norms)):
        seg = values[offsets[i]:offsets[i] + sizes[i]]
        peak = np.max(np.abs(seg))
        if np.isfinite(peak) and peak > 0:  # finite values whose squares overflowed: rescale
            norms[i] = peak * np.linalg.norm(seg / peak)
    return norms


def combined_norm(norms: np.ndarray) -> float:
    """sqrt(sum(norms^2)) without overflow."""
    peak = float(np.max(norms)) if len(norms) else 0.0
    if not math.isfinite(peak) or peak == 0.0:
        return peak
    return peak * math.sqrt(float(np.sum((norms / peak) ** 2)))


class EpochAccumulator:
    """Folds batch statistics into the epoch's: means, maxima and sample-weighted shares."""

    def __init__(self, n_layers: int):
        z = lambda: np.zeros(n_layers)
        self.n_batches = 0
        self.n_samples = 0
        self.loss_sum = 0.0
        self.grad_norm, self.grad_mean_abs, self.update_ratio = z(), z(), z()
        self.grad_max_abs = np.full(n_layers, -np.inf)
        self.act_deriv_mean, self.saturation = z(), z()
        self.weight_norm = z()
        self.norm: dict | None = None  # sums of the NormStats means, the latest norms
        self.time_grad_norm, self.layer_time_grad_norm = _no_steps(), _no_map()  # sums, shaped by the first batch
        self.gate_saturation: dict = {}
        self.spectral_norm, self.vanishing_bound = _no_steps(), math.nan
        self.transformer = TransformerSum()
        self.precision = PrecisionSteps()
        self.keep_precision_steps = True

    def add(self, b: BatchStats):
        n = b.batch_size
        self.n_batches += 1
        self.n_samples += n
        self.loss_sum += b.loss * n
        self.grad_norm += b.grad_norm
        self.grad_mean_abs += b.grad_mean_abs
        self.update_ratio += b.update_ratio
        np.maximum(self.grad_max_abs, b.grad_max_abs, out=self.grad_max_abs)  # NaN propagates
        self.act_deriv_mean += b.act_deriv_mean * n
        self.saturation += b.saturation * n
        self.weight_norm = b.weight_norm
        if b.norm is not None:
            self._add_norm(b.norm)
        if b.transformer is not None:
            self.transformer.add(b.transformer)
        if len(b.lost_updates):
            self.precision.add(b)

        if len(b.time_grad_norm):  # a recurrent network's
            if not len(self.time_grad_norm):
                self.time_grad_norm = np.zeros_like(b.time_grad_norm)
                self.layer_time_grad_norm = np.zeros_like(b.layer_time_grad_norm)
            self.time_grad_norm += b.time_grad_norm
            self.layer_time_grad_norm += b.layer_time_grad_norm
            for k, v in b.gate_saturation.items():
                self.gate_saturation[k] = self.gate_saturation.get(k, 0.0) + v * n
            self.spectral_norm, self.vanishing_bound = b.spectral_norm, b.vanishing_bound

    def _add_norm(self, ns: NormStats):
        if self.norm is None:
            self.norm = {f: np.zeros_like(getattr(ns, f)) for f in NORM_FIELDS}
        for f in ("gamma_grad_norm", "gamma_update_ratio", "beta_grad_norm", "beta_update_ratio"):
            self.norm[f] += getattr(ns, f)
        self.norm["gamma_norm"], self.norm["beta_norm"] = ns.gamma_norm, ns.beta_norm

    def _finish_norm(self, nb: int) -> NormStats | None:
        if self.norm is None:
            return None
        at_end = ("gamma_norm", "beta_norm")  # the others are means over the batches
        return NormStats(**{f: v.copy() if f in at_end else v / nb for f, v in self.norm.items()})

    def finish(self, epoch: int, step: int, val_loss: float, val_accuracy, divergence) -> EpochStats:
        nb, ns = max(self.n_batches, 1), max(self.n_samples, 1)
        return EpochStats(
            time_grad_norm=self.time_grad_norm / nb, layer_time_grad_norm=self.layer_time_grad_norm / nb,
            gate_saturation={k: v / ns for k, v in self.gate_saturation.items()},
            spectral_norm=self.spectral_norm.copy(), vanishing_bound=self.vanishing_bound,
            grad_norm=self.grad_norm / nb, grad_mean_abs=self.grad_mean_abs / nb,
            grad_max_abs=self.grad_max_abs.copy(), weight_norm=self.weight_norm.copy(),
            update_ratio=self.update_ratio / nb, act_deriv_mean=self.act_deriv_mean / ns,
            saturation=self.saturation / ns, epoch=epoch, step=step,
            train_loss=self.loss_sum / ns, val_loss=val_loss, val_accuracy=val_accuracy,
            diverged=divergence is not None, divergence=divergence, norm=self._finish_norm(nb),
            transformer=self.transformer.finish(nb), **self.precision.finish(self.keep_precision_steps))
