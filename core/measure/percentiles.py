"""The percentile bands of the Inside page: np.percentile's linear rule on rows that are sorted already.

The positions of the quantiles depend only on how many entries each row holds, which stays the same from one
recorded step to the next: they are worked out once per set of counts (issue 25) and each step takes two
gathers and one interpolation.
"""
from __future__ import annotations

import functools

import numpy as np

QUANTILES = np.array([0.0, 2.3, 15.9, 50.0, 84.1, 97.7, 100.0])


def percentile_rows(sorted_rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """QUANTILES of each row's first counts[i] entries (sorted ascending), as np.percentile's default
    (linear) rule: position q/100 (n - 1), interpolated between its neighbours. Shape (rows, 7)."""
    return _percentile_plan(tuple(np.asarray(counts).tolist()), sorted_rows.shape[1]).apply(sorted_rows)


class _PercentilePlan:
    """Where each quantile of each row falls (flat indices of its two neighbours) and how far between them."""

    def __init__(self, counts: tuple, n_cols: int):
        n = np.asarray(counts)[:, None]
        pos = (n - 1) * (QUANTILES[None, :] / 100.0)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, n - 1)
        self.frac = pos - lo
        r = np.arange(len(n))[:, None] * n_cols
        self.lo, self.hi = r + lo, r + hi
        self.between = self.frac > 0

    def apply(self, sorted_rows: np.ndarray) -> np.ndarray:
        a, b = np.take(sorted_rows, self.lo), np.take(sorted_rows, self.hi)
        with np.errstate(invalid="ignore"):
            return np.where(self.between, a + (b - a) * self.frac, a)


@functools.lru_cache(maxsize=16)
def _percentile_plan(counts: tuple, n_cols: int) -> _PercentilePlan:
    return _PercentilePlan(counts, n_cols)
