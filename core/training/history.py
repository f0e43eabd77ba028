"""Epoch statistics kept in growing arrays, for plotting and for long runs.

A list of per-epoch objects costs far more than the numbers it holds; here each epoch
adds one row to a few arrays, and capacity doubles when full (amortised O(1) appends).
"""
from __future__ import annotations

import numpy as np

from core.training.statistics import LAYER_FIELDS, NORM_FIELDS, EpochStats, NormStats

SCALARS = ("epoch", "step", "train_loss", "val_loss", "val_accuracy", "loss_scale", "skipped_steps")
SERIES = ("time_grad_norm", "spectral_norm",  # recurrent runs: one row per epoch, sized by the first epoch
          "underflow", "overflow", "lost_updates")   # issue 24: every run trained here (a loaded file's may lack them)
PRECISION_SCALARS = ("loss_scale", "skipped_steps")


class EpochHistory:
    RECENT = 64   # the latest epochs whose own EpochStats are kept (see append)

    def __init__(self, n_layers: int, capacity: int = 64):
        self.n_layers = n_layers
        self._n = 0
        self._scalars = {k: np.full(capacity, np.nan) for k in SCALARS}
        self._layers = {k: np.full((capacity, n_layers), np.nan) for k in LAYER_FIELDS}
        self._norm: dict | None = None  # gamma/beta statistics (capacity, hidden layers), with a norm
        self._series: dict[str, np.ndarray] = {}  # only what the epochs carry (nothing for an MLP)
        self.divergence = None
        self._transformer: list = []   # issue 22: a transformer run's TransformerStats, the latest whole
        self._recent: dict = {}   # index -> the EpochStats appended there, for the latest RECENT epochs

    def __len__(self) -> int:
        return self._n

    def clear(self, n_layers: int | None = None) -> None:
        self.__init__(self.n_layers if n_layers is None else n_layers)

    def append(self, s: EpochStats) -> None:
        if self._n == len(self._scalars["epoch"]):
            self._grow()
        i = self._n
        for k in SCALARS:
            v = getattr(s, k)
            self._scalars[k][i] = np.nan if v is None else v
        for k in LAYER_FIELDS:
            self._layers[k][i] = getattr(s, k)
        if s.norm is not None:
            if self._norm is None:
                cap, depth = len(self._scalars["epoch"]), len(s.norm.gamma_norm)
                self._norm = {k: np.full((cap, depth), np.nan) for k in NORM_FIELDS}
            for k in NORM_FIELDS:
                self._norm[k][i] = getattr(s.norm, k)
        for k in SERIES:
            v = getattr(s, k)
            if len(v):
                if k not in self._series:
                    self._series[k] = np.full((len(self._scalars["epoch"]), len(v)), np.nan)
                self._series[k][i] = v
        if s.transformer is not None:
            if self._transformer:
                self._transformer[-1] = self._transformer[-1].compact()
            self._transformer.append(s.transformer)
        self._n += 1
        if s.divergence is not None:
            self.divergence = s.divergence
        # What __getitem__ would rebuild is this very object (unchanged once appended) unless the history keeps
        # less of it (a Transformer's compacted statistics, precision's per-step values): a trainer's snapshot
        # sends these as they are, the rewind points hold the same objects, and a pickle then carries each once.
        self._recent.pop(i - self.RECENT, None)
        if s.transformer is None and s.precision_steps is None:
            self._recent[i] = s

    def extend(self, stats) -> None:
        for s in stats:
            self.append(s)

    def _grow(self) -> None:
        cap = 2 * len(self._scalars["epoch"])
        for d in (self._scalars, self._layers, self._series, self._norm or {}):
            for k, a in d.items():
                bigger = np.full((cap,) + a.shape[1:], np.nan)
                bigger[:len(a)] = a
                d[k] = bigger

    def __getitem__(self, i: int) -> EpochStats:
        """Epoch i's statistics as an EpochStats (rebuilt from the arrays)."""
        i = range(self._n)[i]
        if i in self._recent:
            return self._recent[i]
        sc = {k: float(self._scalars[k][i]) for k in SCALARS}
        acc = sc["val_accuracy"]
        last = i == self._n - 1
        precision = {k: (float(sc[k]) if k == "loss_scale" else int(sc[k])) for k in PRECISION_SCALARS
                     if not np.isnan(sc[k])}
        return EpochStats(**{k: self._layers[k][i].copy() for k in LAYER_FIELDS}, **precision,
                          **{k: a[i].copy() for k, a in self._series.items()},
                          epoch=int(sc["epoch"]), step=int(sc["step"]), train_loss=sc["train_loss"],
                          val_loss=sc["val_loss"], val_accuracy=None if np.isnan(acc) else acc,
                          diverged=last and self.divergence is not None,
                          divergence=self.divergence if last else None,
                          norm=NormStats(**{k: a[i].copy() for k, a in self._norm.items()}) if self._norm else None,
                          transformer=self._transformer[i] if i < len(self._transformer) else None)

    def __iter__(self):
        return (self[i] for i in range(self._n))

    def scalar(self, name: str) -> np.ndarray:
        """One number per recorded epoch (a view; copy before keeping it)."""
        return self._scalars[name][:self._n]

    def layer(self, name: str) -> np.ndarray:
        """Array (epochs, layers) of one layer statistic (a view; copy before keeping it)."""
        return self._layers[name][:self._n]

    def norm_layer(self, name: str) -> np.ndarray | None:
        """Array (epochs, hidden layers) of one gamma/beta statistic (NORM_FIELDS); None without a norm."""
        return None if self._norm is None else self._norm[name][:self._n]

    def series(self, name: str) -> np.ndarray:
        """Array (epochs, T) of ``time_grad_norm`` or (epochs, recurrent layers) of ``spectral_norm``
        (a view; (epochs, 0) when the run has none, as an MLP's)."""
        a = self._series.get(name)
        return a[:self._n] if a is not None else np.empty((self._n, 0))

    def transformer(self, name: str, sublayer: str | None = None) -> np.ndarray:
        """A transformer run's statistic per epoch (core.training.transformer_stats): (epochs, depth) of
        token_similarity, or of sublayer_grad_norm / sublayer_update_ratio with ``sublayer`` (Wq ... ln2);
        (epochs, depth + 1) of residual_grad_norm; (epochs, depth, heads) of attention_entropy.
        (epochs, 0) for another kind's run."""
        if not self._transformer:
            return np.empty((self._n, 0))
        rows = [getattr(s, name) for s in self._transformer]
        return np.array([r[sublayer] for r in rows] if sublayer is not None else rows, dtype=float)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for d in (self._scalars, self._layers, self._series, self._norm or {})
                   for a in d.values())


STEP_SCALARS = ("step", "loss", "grad_norm_total", "loss_scale", "skipped")   # issue 24: the last two
STEP_DEFAULTS = {"loss_scale": 1.0, "skipped": 0.0}


class StepHistory:
    """One row per training step (batch), in growing arrays: the step timeline.

    - step: batches done since the start, this one included
    - loss: training loss on the batch, before its update
    - grad_norm_total: global ||dL/dw|| over every parameter, before clipping
    - clipped: whether clipping rescaled that step's gradient
    - loss_scale: the loss scale the step's backward pass used (1: none); skipped: 1.0 where dynamic loss
      scaling skipped the step (its gradient was not finite), else 0.0
    - delta_norms (when ``keep_deltas``): ||dL/dz_l|| per layer, input side first, output layer last

    A step that diverged is recorded too (its loss or norm is then NaN or inf), so a timeline
    ends where training stopped. Arrays are views of the first len(self) rows: copy before keeping.
    """

    def __init__(self, n_layers: int, keep_deltas: bool = True, capacity: int = 256):
        self.n_layers = n_layers
        self.keep_deltas = keep_deltas
        self._n = 0
        self._scalars = {k: np.full(capacity, np.nan) for k in STEP_SCALARS}
        self._clipped = np.zeros(capacity, dtype=bool)
        self._deltas = np.full((capacity if keep_deltas else 0, n_layers), np.nan)

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self.__init__(self.n_layers, self.keep_deltas)

    def append(self, b) -> None:
        """Record one BatchStats."""
        if self._n == len(self._clipped):
            self._grow()
        i = self._n
        self._scalars["step"][i] = b.step
        self._scalars["loss"][i] = b.loss
        self._scalars["grad_norm_total"][i] = b.grad_norm_total
        self._scalars["loss_scale"][i] = b.loss_scale
        self._scalars["skipped"][i] = float(b.skipped)
        self._clipped[i] = b.clipped
        if self.keep_deltas and len(b.delta_norms) == self.n_layers:
            self._deltas[i] = b.delta_norms
        self._n += 1

    def rows(self, start: int = 0, deltas: bool = True) -> dict:
        """Fresh copies of the rows from ``start`` on (for handing new steps to another thread):
        step, loss, grad_norm_total, clipped and, when kept and ``deltas``, delta_norms."""
        out = {k: self.scalar(k)[start:].copy() for k in STEP_SCALARS}
        out["clipped"] = self.clipped[start:].copy()
        if self.keep_deltas and deltas:
            out["delta_norms"] = self.delta_norms[start:].copy()
        return out

    def extend(self, rows: dict) -> None:
        """Append rows as returned by ``rows()`` (of a history with the same number of layers)."""
        n = len(rows["step"])
        while self._n + n > len(self._clipped):
            self._grow()
        i = slice(self._n, self._n + n)
        for k in STEP_SCALARS:   # rows without issue 24's columns: no loss scale (1), nothing skipped
            self._scalars[k][i] = rows[k] if k in rows else STEP_DEFAULTS[k]
        self._clipped[i] = rows["clipped"]
        if self.keep_deltas and "delta_norms" in rows:
            self._deltas[i] = rows["delta_norms"]
        self._n += n

    def _grow(self) -> None:
        cap = 2 * len(self._clipped)
        for k, a in self._scalars.items():
            self._scalars[k] = np.concatenate([a, np.full(len(a), np.nan)])
        self._clipped = np.concatenate([self._clipped, np.zeros(len(self._clipped), dtype=bool)])
        if self.keep_deltas:
            bigger = np.full((cap, self.n_layers), np.nan)
            bigger[:len(self._deltas)] = self._deltas
            self._deltas = bigger

    def scalar(self, name: str) -> np.ndarray:
        """'step', 'loss', 'grad_norm_total', 'loss_scale' or 'skipped', one value per recorded step."""
        return self._scalars[name][:self._n]

    @property
    def clipped(self) -> np.ndarray:
        """Boolean per recorded step: was its gradient clipped?"""
        return self._clipped[:self._n]

    @property
    def delta_norms(self) -> np.ndarray:
        """Array (steps, layers) of ||dL/dz_l||; (0, layers) when deltas are not kept."""
        if not self.keep_deltas:
            return self._deltas[:0]
        return self._deltas[:self._n]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._scalars.values()) + self._clipped.nbytes + self._deltas.nbytes
