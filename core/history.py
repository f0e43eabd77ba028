"""Epoch statistics kept in growing arrays, for plotting and for long runs.

A list of per-epoch objects costs far more than the numbers it holds; here each epoch
adds one row to a few arrays, and capacity doubles when full (amortised O(1) appends).
"""
from __future__ import annotations

import numpy as np

from .statistics import LAYER_FIELDS, EpochStats

SCALARS = ("epoch", "step", "train_loss", "val_loss", "val_accuracy")
SERIES = ("time_grad_norm", "spectral_norm")  # recurrent runs: one row per epoch, sized by the first epoch


class EpochHistory:
    def __init__(self, n_layers: int, capacity: int = 64):
        self.n_layers = n_layers
        self._n = 0
        self._scalars = {k: np.full(capacity, np.nan) for k in SCALARS}
        self._layers = {k: np.full((capacity, n_layers), np.nan) for k in LAYER_FIELDS}
        self._series: dict[str, np.ndarray] = {}  # only what the epochs carry (nothing for an MLP)
        self.divergence = None

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
        for k in SERIES:
            v = getattr(s, k)
            if len(v):
                if k not in self._series:
                    self._series[k] = np.full((len(self._scalars["epoch"]), len(v)), np.nan)
                self._series[k][i] = v
        self._n += 1
        if s.divergence is not None:
            self.divergence = s.divergence

    def extend(self, stats) -> None:
        for s in stats:
            self.append(s)

    def _grow(self) -> None:
        cap = 2 * len(self._scalars["epoch"])
        for d in (self._scalars, self._layers, self._series):
            for k, a in d.items():
                bigger = np.full((cap,) + a.shape[1:], np.nan)
                bigger[:len(a)] = a
                d[k] = bigger

    def __getitem__(self, i: int) -> EpochStats:
        """Epoch i's statistics as an EpochStats (rebuilt from the arrays)."""
        i = range(self._n)[i]
        sc = {k: float(self._scalars[k][i]) for k in SCALARS}
        acc = sc["val_accuracy"]
        last = i == self._n - 1
        return EpochStats(**{k: self._layers[k][i].copy() for k in LAYER_FIELDS},
                          **{k: a[i].copy() for k, a in self._series.items()},
                          epoch=int(sc["epoch"]), step=int(sc["step"]), train_loss=sc["train_loss"],
                          val_loss=sc["val_loss"], val_accuracy=None if np.isnan(acc) else acc,
                          diverged=last and self.divergence is not None,
                          divergence=self.divergence if last else None)

    def __iter__(self):
        return (self[i] for i in range(self._n))

    def scalar(self, name: str) -> np.ndarray:
        """One number per recorded epoch (a view; copy before keeping it)."""
        return self._scalars[name][:self._n]

    def layer(self, name: str) -> np.ndarray:
        """Array (epochs, layers) of one layer statistic (a view; copy before keeping it)."""
        return self._layers[name][:self._n]

    def series(self, name: str) -> np.ndarray:
        """Array (epochs, T) of ``time_grad_norm`` or (epochs, recurrent layers) of ``spectral_norm``
        (a view; (epochs, 0) when the run has none, as an MLP's)."""
        a = self._series.get(name)
        return a[:self._n] if a is not None else np.empty((self._n, 0))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for d in (self._scalars, self._layers, self._series) for a in d.values())
