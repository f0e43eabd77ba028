"""What the step timeline draws of a long run: each curve's envelope, kept up to date as steps arrive.

A run of 10^6 steps cannot be drawn point by point at 30 frames a second: handing pyqtgraph every point each frame
(which then thins them to the plot's width by its "peak" downsampling) cost the timeline 3 ms a frame at 2 * 10^5
steps and 10 ms at 10^6, growing without end. ``LogCache`` keeps the logs of every step, as before, and
for each curve an ``Envelope``: the lowest and highest value of each block of consecutive steps, with at most
``2 * BLOCKS`` blocks (the block doubles as the run grows), drawn as a vertical stroke per block, which is what
peak downsampling draws per pixel column. Up to ``2 * BLOCKS`` steps every step is drawn itself. A block whose
steps are all NaN (training stopped) is a gap; an exact zero (log -inf) is drawn on the floor.
"""
from __future__ import annotations

import math

import numpy as np

from gui.panels.plotting import _log10


class Envelope:
    """The (lowest, highest) of each block of ``size`` consecutive values of ``values[:n]``, updated as n grows."""

    BLOCKS = 2048

    def __init__(self):
        self.size, self.nb = 1, 0
        self.lo, self.hi = np.empty(0), np.empty(0)

    def update(self, values: np.ndarray, n: int) -> None:
        """``values[:n]``: the whole series so far (its first values unchanged since the last call)."""
        size = self.size
        while n // size > 2 * self.BLOCKS:
            size *= 2
        if size != self.size:   # coarser blocks: made again from the values (rare: once per doubling of the run)
            self.size, self.nb = size, 0
        nb = n // size
        if nb > len(self.lo):
            cap = max(256, 2 * len(self.lo), nb)
            self.lo = np.concatenate([self.lo[:self.nb], np.empty(cap - self.nb)])
            self.hi = np.concatenate([self.hi[:self.nb], np.empty(cap - self.nb)])
        if nb > self.nb:
            blocks = values[self.nb * size:nb * size].reshape(nb - self.nb, size)
            self.lo[self.nb:nb] = np.fmin.reduce(blocks, axis=1)   # NaN only where the whole block is NaN
            self.hi[self.nb:nb] = np.fmax.reduce(blocks, axis=1)
            self.nb = nb

    def points(self, x: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) to draw: every value while blocks are single steps, else two per block (its lowest and highest,
        at its first step's x) and likewise for the steps after the last whole block."""
        size = self.size
        if size == 1:
            return x[:n], values[:n]
        nb, tail = self.nb, values[self.nb * size:n]
        lo, hi, xs = self.lo[:nb], self.hi[:nb], x[0:nb * size:size]
        if len(tail):
            lo, hi = np.append(lo, np.fmin.reduce(tail)), np.append(hi, np.fmax.reduce(tail))
            xs = np.append(xs, x[nb * size])
        return np.repeat(xs, 2), np.column_stack([lo, hi]).ravel()


class LogCache:
    """log10 of each of ``KEYS`` (the loss, the norm, the loss scale), taken once per step as steps arrive, with
    each curve's envelope, the lowest and highest finite log, whether any value was exactly 0, and the x of the
    clipped and the skipped steps."""

    KEYS = ("loss", "grad_norm_total", "loss_scale")

    def __init__(self):
        self.n, self.x = 0, np.empty(0)
        self.logs = [np.empty(0) for _ in self.KEYS]
        self.envelopes = [Envelope() for _ in self.KEYS]
        self.lows, self.highs = [math.inf] * len(self.KEYS), [-math.inf] * len(self.KEYS)
        self.zero = [False] * len(self.KEYS)      # per curve: some value was exactly 0
        self.scaled = False                        # some step's loss scale was not 1
        self.clipped_x, self.skipped_x = np.empty(0), np.empty(0)

    @property
    def lo(self) -> float:
        return min(self.lows[:2])

    @property
    def hi(self) -> float:
        return max(self.highs[:2])

    def has_log(self, k: int) -> bool:
        """Curve k has a value with a finite log."""
        return self.lows[k] <= self.highs[k]

    def update(self, steps) -> None:
        n = len(steps)
        if n < self.n:   # a new run's history
            self.__init__()
        if n > len(self.x):
            cap = max(256, 2 * len(self.x), n)
            self.x = np.concatenate([self.x[:self.n], np.full(cap - self.n, np.nan)])
            self.logs = [np.concatenate([y[:self.n], np.full(cap - self.n, np.nan)]) for y in self.logs]
        new = slice(self.n, n)
        x = self.x[new] = steps.scalar("step")[new]
        for k, key in enumerate(self.KEYS):
            v = np.asarray(steps.scalar(key)[new], dtype=float)
            y = _log10(np.where(v > 0, v, np.nan))
            y = np.where(np.isfinite(y), y, np.nan)   # NaN/inf: no log, a gap
            zero = v == 0
            if zero.any():
                y[zero] = -np.inf                     # an exact zero: the floor
                self.zero[k] = True
            self.logs[k][new] = y
            finite = y[np.isfinite(y)]
            if finite.size:
                self.lows[k], self.highs[k] = min(self.lows[k], float(finite.min())), max(self.highs[k], float(finite.max()))
            self.envelopes[k].update(self.logs[k], n)
        self.scaled = self.scaled or bool(np.any(np.nan_to_num(self.logs[2][new]) != 0))
        clipped = steps.clipped[new]
        if clipped.any():
            self.clipped_x = np.concatenate([self.clipped_x, x[clipped]])
        skipped = steps.scalar("skipped")[new] == 1
        if skipped.any():
            self.skipped_x = np.concatenate([self.skipped_x, x[skipped]])
        self.n = n

    def curve(self, k: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of curve k as drawn: its envelope, an exact zero at ``floor``."""
        x, y = self.envelopes[k].points(self.x, self.logs[k], self.n)
        return x, np.where(y == -np.inf, floor, y) if self.zero[k] else y


def thinned(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a curve as drawn: itself up to ``2 * Envelope.BLOCKS`` points, else its envelope (each block's
    lowest and highest y, NaN only for an all-NaN block). For a curve given whole at each frame, e.g. one value per
    epoch: the work stays O(n) in NumPy, the painting bounded (the loss plot of 2e4 epochs took 2.3 ms a frame to
    paint, growing with the run)."""
    n = len(y)
    if n <= 2 * Envelope.BLOCKS:
        return x, y
    e = Envelope()
    e.update(y, n)
    return e.points(x, y, n)
