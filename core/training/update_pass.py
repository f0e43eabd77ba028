"""w_new = w_old + update and the step's weight statistics in one pass over memory (issue 25).

The update, ||W|| per layer after it and ``lost_updates`` (issue 24: among the weights whose gradient is non-zero,
the share whose stored value is the same after the step as before) took five passes over every weight: copy W
(to compare after), add the update, compare, count, and the norms. Once the weights no longer fit in L2 each
pass streams them from L3 or memory; at 10/1024/256 (80 MB of weights) they were a quarter of the time
outside the matrix products. Here each layer goes in chunks of ``CHUNK`` values: the new values are formed in a
scratch that stays in cache, compared with the old ones, counted, squared and summed, and written back. The weights
are bit-identical (the same ``w + update``), the counts exact, ||W|| the same sum of squares in another order.

Used for float64 weights that are not rounded to a smaller format after the step and span more than
``MIN_BYTES`` (smaller ones stay in L2 across passes, where fewer NumPy calls win).
"""
from __future__ import annotations

import numpy as np

from core.training.statistics import _fix_overflow


class UpdatePass:
    CHUNK = 1 << 15          # values per chunk: 256 kB of float64 scratch, with its two masks, stays in L2
    MIN_BYTES = 1 << 20

    def __init__(self, offsets, sizes, dtype):
        self.offsets, self.sizes = np.asarray(offsets), np.asarray(sizes)
        self.chunks = [(k, a, min(a + self.CHUNK, o + n)) for k, (o, n) in
                       enumerate(zip(self.offsets.tolist(), self.sizes.tolist())) for a in range(o, o + n, self.CHUNK)]
        n = min(self.CHUNK, int(self.sizes.max()))
        self._new, self._same, self._moved = np.empty(n, dtype), np.empty(n, bool), np.empty(n, bool)

    @classmethod
    def for_network(cls, network, precision) -> "UpdatePass | None":
        """The pass for float64 weights that tile [0, n_weights), are stored as computed and do not fit in L2
        together; None for any other network (the trainer's separate passes)."""
        sizes = np.diff(np.append(network.w_offsets, network.n_weights))
        suits = (network.flat.dtype == np.float64 and precision.stores_as_computed and len(sizes)
                 and network.w_offsets[0] == 0 and (sizes > 0).all()
                 and network.n_weights * network.flat.itemsize > cls.MIN_BYTES)
        return cls(network.w_offsets, sizes, network.flat.dtype) if suits else None

    def apply(self, flat: np.ndarray, update: np.ndarray, grad: np.ndarray, sgd_lr: float | None = None):
        """flat[:n_weights] += update[:n_weights], in place; returns (||W|| after, lost_updates) per layer.
        ``sgd_lr``: plain SGD's rate; the update (-lr g, as ``SGD.update`` writes it) is then written into ``update``
        chunk by chunk here, while the chunk is in cache, instead of in a pass of its own before."""
        L = len(self.sizes)
        sq, lost, counted = np.zeros(L), np.zeros(L, np.int64), np.zeros(L, np.int64)
        for k, a, b in self.chunks:
            n = b - a
            w, new, same, moved = flat[a:b], self._new[:n], self._same[:n], self._moved[:n]
            if sgd_lr is not None:
                np.multiply(grad[a:b], -sgd_lr, out=update[a:b])
            np.add(w, update[a:b], out=new)
            np.not_equal(grad[a:b], 0, out=moved)     # has a gradient
            counted[k] += np.count_nonzero(moved)
            np.equal(new, w, out=same)
            same &= moved                              # ... and the stored value did not change
            lost[k] += np.count_nonzero(same)
            sq[k] += np.dot(new, new)
            w[...] = new
        norms = _fix_overflow(np.sqrt(sq), flat, self.offsets, self.sizes)
        return norms, np.divide(lost, counted, out=np.zeros(L), where=counted > 0)
