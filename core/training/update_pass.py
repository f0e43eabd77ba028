"""w_new = w_old + update and the step's weight statistics in one pass over memory (issue 25).

The update, ||W|| per layer after it and ``lost_updates`` (issue 24: among the weights whose gradient is non-zero,
the share whose stored value is the same after the step as before) took five passes over every weight: copy W
(to compare after), add the update, compare, count, and the norms. Once the weights no longer fit in L2 each
pass streams them from L3 or memory; at 10/1024/256 (80 MB of weights) they were a quarter of the time
outside the matrix products. Here each layer goes in chunks of ``CHUNK`` values: the new values are formed in a
scratch that stays in cache, compared with the old ones, counted, squared and summed, and written back. The weights
are bit-identical (the same ``w + update``), the counts exact, ||W|| the same sum of squares in another order.

Used for float64 weights that are not rounded to a smaller format after the step and span more than
``MIN_BYTES``. Smaller ones (any dtype stored as computed) stay in L2 across passes, where fewer NumPy calls win:
they go as one chunk, w + update formed once, the gradient compared with 0 once (the separate passes did it twice),
no copy of the weights kept, per-layer counts and norms in one call per block of equal layers (``Segments``).

Second pass (issue 25): with plain SGD the update -lr g is formed in the scratch and never written to the update
buffer (``SGDUpdate`` reads it where the Inside page samples it), and the gradient is compared with 0 only where
some weight kept its value.
"""
from __future__ import annotations

import numpy as np

from core.training.statistics import Segments, _fix_overflow


class UpdatePass:
    CHUNK = 1 << 15          # values per chunk: 256 kB of float64 scratch, with its two masks, stays in L2
    MIN_BYTES = 1 << 20

    def __init__(self, offsets, sizes, dtype, whole: bool = False):
        self.offsets, self.sizes = np.asarray(offsets), np.asarray(sizes)
        self.whole = whole   # one chunk for all layers (they fit in L2), reductions per block of equal layers
        step = self.CHUNK if not whole else int(self.sizes.sum())
        self.chunks = [(k, a, min(a + step, o + n)) for k, (o, n) in
                       enumerate(zip(self.offsets.tolist(), self.sizes.tolist())) for a in range(o, o + n, step)]
        self.n_weights = int(self.sizes.sum())
        n = self.n_weights if whole else min(self.CHUNK, int(self.sizes.max()))
        self._new, self._same, self._moved = np.empty(n, dtype), np.empty(n, bool), np.empty(n, bool)
        self._segments = Segments(self.offsets, self.sizes) if whole else None

    @classmethod
    def for_network(cls, network, precision) -> "UpdatePass | None":
        """The pass for weights that tile [0, n_weights) and are stored as computed: chunked for float64 weights
        that do not fit in L2 together, whole below that; None for any other network (separate passes)."""
        sizes = np.diff(np.append(network.w_offsets, network.n_weights))
        if not (precision.stores_as_computed and len(sizes) and network.w_offsets[0] == 0 and (sizes > 0).all()):
            return None
        if network.n_weights * network.flat.itemsize <= cls.MIN_BYTES:
            return cls(network.w_offsets, sizes, network.flat.dtype, whole=True)
        return cls(network.w_offsets, sizes, network.flat.dtype) if network.flat.dtype == np.float64 else None

    def apply(self, flat: np.ndarray, update: np.ndarray, grad: np.ndarray, sgd_lr: float | None = None):
        """flat[:n_weights] += update[:n_weights], in place; returns (||W|| after, lost_updates) per layer.
        ``sgd_lr``: plain SGD's rate; the update -lr g is then formed in the scratch, chunk by chunk, and never
        written to ``update[:n_weights]`` (at 10/1024/256 that write was 84 MB to memory): ``write_sgd_update``
        writes it for a reader that needs all of it, ``SGDUpdate`` reads it where asked.

        Which weights have a gradient (the share's denominator) is looked at only where some weight kept its value:
        a layer where none did has lost_updates 0 whatever the denominator (the usual case: two to three passes
        fewer)."""
        if self.whole:
            return self._apply_whole(flat, update, grad, sgd_lr)
        L = len(self.sizes)
        sq, lost = np.zeros(L), np.zeros(L, np.int64)
        for k, a, b in self.chunks:
            n = b - a
            w, new, same, moved = flat[a:b], self._new[:n], self._same[:n], self._moved[:n]
            if sgd_lr is not None:
                np.multiply(grad[a:b], -sgd_lr, out=new)
                np.add(new, w, out=new)                # (-lr g) + w: the same number as w + (-lr g), bit for bit
            else:
                np.add(w, update[a:b], out=new)
            np.equal(new, w, out=same)                 # the stored value did not change
            if np.count_nonzero(same):
                np.not_equal(grad[a:b], 0, out=moved)  # ... and it has a gradient
                same &= moved
                lost[k] += np.count_nonzero(same)
            sq[k] += np.dot(new, new)
            w[...] = new
        norms = _fix_overflow(np.sqrt(sq), flat, self.offsets, self.sizes)
        counted = np.zeros(L, np.int64)
        for k in np.flatnonzero(lost):   # the weights with a gradient, where it matters
            o = self.offsets[k]
            counted[k] = np.count_nonzero(grad[o:o + self.sizes[k]])
        return norms, np.divide(lost, counted, out=np.zeros(L), where=counted > 0)

    def write_sgd_update(self, update: np.ndarray, grad: np.ndarray, sgd_lr: float) -> None:
        """update[:n_weights] = -lr g, as SGD.update writes it (what the pass added to the weights)."""
        n = self.n_weights
        np.multiply(grad[:n], -sgd_lr, out=update[:n])

    def _apply_whole(self, flat, update, grad, sgd_lr):
        n = self.n_weights
        w, new, same, moved = flat[:n], self._new, self._same, self._moved
        if sgd_lr is not None:
            np.multiply(grad[:n], -sgd_lr, out=new)
            np.add(new, w, out=new)   # (-lr g) + w: the same number as w + (-lr g), bit for bit
        else:
            np.add(w, update[:n], out=new)
        np.equal(new, w, out=same)
        np.copyto(w, new)
        if not np.count_nonzero(same):   # no weight kept its value: 0 lost in every layer
            return self._segments.norms(flat), np.zeros(len(self.sizes))
        np.not_equal(grad[:n], 0, out=moved)
        same &= moved
        # counts as uint32 sums of the masks' bytes (2x the speed of int64's; a whole pass holds < 2**32 values)
        counted = np.add.reduceat(moved.view(np.uint8), self.offsets, dtype=np.uint32).astype(np.int64)
        lost = np.add.reduceat(same.view(np.uint8), self.offsets, dtype=np.uint32).astype(np.int64)
        return self._segments.norms(flat), np.divide(lost, counted, out=np.zeros(len(lost)), where=counted > 0)


class SGDUpdate:
    """SGD's update -lr g of the weights, read where asked (``update[idx]``): for a reader of a few entries (the
    Inside page's samples) when the pass did not write the update."""

    def __init__(self, grad: np.ndarray, sgd_lr: float, n_weights: int):
        self.grad, self.lr, self.n_weights = grad, sgd_lr, n_weights

    def __getitem__(self, idx):
        idx = np.asarray(idx)
        if idx.size and int(idx.max()) >= self.n_weights:
            raise IndexError("SGDUpdate holds the update of the weights only")
        return np.multiply(self.grad[idx], -self.lr)   # -lr g at these entries, as SGD.update writes each
