"""Inside the network, step by step: distributions, the forward signal and the network as a picture.

For every training step ``InsideRecorder.measure`` takes, from the pass the trainer already made:

- percentile bands of |value| (``QUANTILES``: min, 2.3%, 15.9%, median, 84.1%, 97.7%, max, as
  TensorBoard's distribution view) for each weight layer's gradient entries dL/dW, and for each hidden
  layer's activations h and pre-activations z = h_in W + b (before the norm layer when there is one).
  They are percentiles (np.percentile's linear rule) of a fixed-size subsample: ``SAMPLES`` entries
  per layer, at positions drawn once from a seeded generator (all entries when a layer has fewer).
  Gradient samples are fixed weights; activation samples are fixed (row, unit) positions in the
  first rows of the batch, whose rows are shuffled every epoch.
- the forward signal: the standard deviation of each hidden layer's activations over all its
  (sample, unit) entries, and the share of saturated units. Tanh: makemore's rule |tanh(u)| > 0.97
  (u what enters tanh), read from phi'(u) = 1 - tanh(u)^2 < 1 - 0.97^2; other activations: the
  trainer's rule phi'(u) <= 5% of the largest phi'. ``Layout.saturation_rule`` names it.
- the network picture: units aggregated into at most ``MAX_BANDS`` bands per layer; for each pair of
  bands of adjacent layers (a link) the RMS of the weights, of the gradient and of the update over the
  sampled entries in that block (NaN where no sample falls); for each band of hidden units (a node)
  its saturated share (all units, all samples of the batch).

Steps are recorded every ``record_every`` steps (1 for networks whose matrix products dominate a
step, more for small ones: measuring stays under 10% of training on average) and always at the last
step of an epoch and at a divergence. Everything is stored as float32 (``InsideHistory``): every step's gradient bands, activation std and
saturation; the full record (all of the above) of every step of the current epoch and of the last
step of each completed epoch. The step timeline at the default size costs ~0.3 kB per step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.measure.percentiles import QUANTILES, percentile_rows  # noqa: F401  (re-exported)

BAND_NAMES = ("min", "2.3%", "15.9%", "median", "84.1%", "97.7%", "max")
SAMPLES = 256          # entries per layer the bands are taken from
MAX_BANDS = 8          # units per layer are drawn as at most this many nodes
TANH_SATURATED = 0.97  # makemore: a tanh unit with |tanh(u)| > 0.97 is saturated
KINDS = ("gradients", "activations", "pre-activations")
LINK_KINDS = ("weights", "gradients", "updates")

# The fields of a full record and of a timeline row; shapes are filled in by InsideRecorder.
FULL = ("grad", "act", "pre", "act_std", "saturation", "node_saturation", "w_blocks", "g_blocks", "u_blocks")
TIMELINE = ("grad", "act_std", "saturation")


# Cost model of record_every, fitted on this project's benchmark machine (benchmarks/bench_distributions.py):
# seconds of Python/NumPy overhead per layer of a step and of a measurement, and multiply-adds per second.
_STEP_PER_LAYER, _MEASURE_PER_LAYER, _MADDS_PER_SECOND, _ELEMENTS_PER_SECOND = 30e-6, 33e-6, 2e10, 1e9
BUDGET = 0.10   # a step may slow by at most this share, on average


def record_every(sizes, batch_size: int, samples: int = SAMPLES) -> int:
    """Record every n-th step so that measuring costs at most BUDGET of training on average: 1 for networks
    whose matrix products dominate, more for small ones whose steps are a few hundred microseconds of
    per-layer overhead. Deterministic (from the sizes alone), so a replay records the same steps."""
    L = len(sizes) - 1
    weights = sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))
    step = _STEP_PER_LAYER * L + 6 * batch_size * weights / _MADDS_PER_SECOND
    rows = min(batch_size, -(-samples // max(sizes[1], 1)))
    elements = batch_size * sum(sizes[1:-1])   # activations and phi' the measurement reads
    measure = _MEASURE_PER_LAYER * L + 2 * rows * weights / _MADDS_PER_SECOND + 5 * elements / _ELEMENTS_PER_SECOND
    return max(1, math.ceil(measure / (BUDGET * step)))


def _bands(n_units: int) -> np.ndarray:
    """Edges of the node bands of a layer of n_units: min(n_units, MAX_BANDS) nearly equal ranges."""
    b = min(n_units, MAX_BANDS)
    return np.round(np.linspace(0, n_units, b + 1)).astype(np.intp)


@dataclass
class Layout:
    """How the recorded arrays map onto layers, for drawing and export."""

    sizes: list                 # units per layer, input first
    edges: list                 # unit edges of each layer's node bands (len bands + 1)
    block_offsets: np.ndarray   # where link block matrix l (bands[l] x bands[l+1]) starts in *_blocks
    node_offsets: np.ndarray    # where hidden layer l's node bands start in node_saturation
    saturation_rule: str
    pre_label: str
    samples: int = SAMPLES      # entries per layer the bands are taken from (at most)
    every: int = 1              # steps between recorded steps (each epoch's last step is always recorded)

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def bands(self) -> list:
        return [len(e) - 1 for e in self.edges]

    def links(self, blocks: np.ndarray, layer: int) -> np.ndarray:
        """Layer ``layer``'s (0-based) block matrix (bands in x bands out) out of a *_blocks row."""
        b = self.bands
        o = self.block_offsets[layer]
        return blocks[o:o + b[layer] * b[layer + 1]].reshape(b[layer], b[layer + 1])

    def nodes(self, node_saturation: np.ndarray, hidden: int) -> np.ndarray:
        o = self.node_offsets[hidden]
        return node_saturation[o:o + self.bands[hidden + 1]]


def make_layout(sizes, activation: str = "tanh", norm: str = "none") -> Layout:
    """The bands, block and node offsets of a network of ``sizes`` (units per layer, input first)."""
    edges = [_bands(n) for n in sizes]
    nb = [len(e) - 1 for e in edges]
    block_sizes = [nb[l] * nb[l + 1] for l in range(len(sizes) - 1)]
    rule = "|tanh(u)| > 0.97 (makemore)" if activation == "tanh" else "phi'(u) <= 5% of its largest value" + (
        ": inactive units, u <= 0" if activation == "relu" else "")
    return Layout(list(sizes), edges, np.concatenate([[0], np.cumsum(block_sizes)[:-1]]).astype(np.intp),
                  np.concatenate([[0], np.cumsum(nb[1:-1])[:-1]]).astype(np.intp), rule,
                  "z = h W + b" + (" (before the norm layer)" if norm != "none" else ""))


class _Rows:
    """Growing float32 arrays, one row per record (capacity doubles when full). Rows from ``n`` on are never read,
    so they are left unfilled (filling the new half at every doubling was half the cost of a record's storage)."""

    def __init__(self, shapes: dict, capacity: int = 16):
        self.shapes = shapes
        self.n = 0
        self.step = np.zeros(capacity, dtype=np.int64)
        self.epoch = np.zeros(capacity, dtype=np.int32)
        self.a = {k: np.empty((capacity,) + s, dtype=np.float32) for k, s in shapes.items()}

    def append(self, step: int, epoch: int, rec: dict) -> None:
        if self.n == len(self.step):
            cap = 2 * len(self.step)
            self.step = np.resize(self.step, cap)
            self.epoch = np.resize(self.epoch, cap)
            for k, a in self.a.items():
                bigger = np.empty((cap,) + a.shape[1:], dtype=np.float32)
                bigger[:len(a)] = a
                self.a[k] = bigger
        i = self.n
        self.step[i], self.epoch[i] = step, epoch
        for k in self.shapes:
            self.a[k][i] = rec[k]
        self.n += 1

    def copy(self) -> dict:
        """Fresh arrays of the rows so far: the fields, 'step' and 'epoch'."""
        out = {k: a[:self.n].copy() for k, a in self.a.items()}
        out["step"], out["epoch"] = self.step[:self.n].copy(), self.epoch[:self.n].copy()
        return out

    def __len__(self) -> int:
        return self.n

    def last(self) -> dict:
        return {k: a[self.n - 1] for k, a in self.a.items()}

    def keep(self, rows: np.ndarray) -> None:
        """Keep only the rows where ``rows`` (a boolean per row so far) holds, in order."""
        k = int(rows.sum())
        self.step[:k], self.epoch[:k] = self.step[:self.n][rows], self.epoch[:self.n][rows]
        for a in self.a.values():
            a[:k] = a[:self.n][rows]
            a[k:self.n] = np.nan
        self.n = k

    @property
    def nbytes(self) -> int:
        return self.step.nbytes + self.epoch.nbytes + sum(a.nbytes for a in self.a.values())


@dataclass
class InsideView:
    """What the window draws: fresh copies (float32) of the epoch records and the current epoch's steps.

    ``epochs`` and ``steps``: dicts of FULL fields, each (records, ...) plus 'step' and 'epoch'."""

    layout: Layout
    epochs: dict
    steps: dict

    def __len__(self) -> int:
        return len(self.epochs["step"]) + len(self.steps["step"])

    def series(self, name: str) -> np.ndarray:
        """One field (or 'step', 'epoch') over every slider position, in order."""
        return np.concatenate([self.epochs[name], self.steps[name]])

    def find(self, step: int) -> int | None:
        """The position of the latest record at or before ``step``; None if there is none."""
        i = int(np.searchsorted(self.series("step"), step, side="right")) - 1
        return i if i >= 0 else None

    def point(self, i: int) -> tuple[dict, str]:
        """Record i of the slider's positions: the completed epochs first, then the current epoch's steps
        (the last is the latest step); its fields and a caption saying which point it is."""
        i = range(len(self))[i]
        ne = len(self.epochs["step"])
        src, j = (self.epochs, i) if i < ne else (self.steps, i - ne)
        rec = {k: src[k][j] for k in src if k not in ("step", "epoch")}   # FULL, or a sequence model's fields
        what = (f"end of epoch {src['epoch'][j]} (step {src['step'][j]})" if i < ne
                else f"step {src['step'][j]} (epoch {src['epoch'][j]})")
        return rec, what


class InsideHistory:
    """Timeline (every step), completed epochs' last steps and the current epoch's steps."""

    def __init__(self, full_shapes: dict, timeline: tuple = TIMELINE):
        self.full_shapes = full_shapes
        self.timeline = _Rows({k: full_shapes[k] for k in timeline}, 256)
        self.epochs = _Rows(full_shapes)
        self.current = _Rows(full_shapes)
        self.stride = 1    # the epochs kept: multiples of it (as core.training.rewind.RewindHistory keeps its points)
        self.thinned = 0   # how many times the epochs were thinned (a receiver then takes them all again)

    def add(self, step: int, epoch: int, rec: dict) -> None:
        cur = self.current
        if cur.n and cur.epoch[cur.n - 1] != epoch:   # a new epoch: the last one's final step is its record
            self._add_epoch(cur)
            self.current = cur = _Rows(self.full_shapes)
        cur.append(step, epoch, rec)
        self.timeline.append(step, epoch, rec)

    def _add_epoch(self, cur: _Rows) -> None:
        """Bounded as the rewind points are, by the same rule (so one slider position is still one record of
        both): every epoch's record up to MAX_EPOCH_POINTS, then only the epochs that are multiples of a stride
        that doubles. Kept whole, a run of 8 layers of 32 grew by 8.6 kB an epoch: 6 GB an hour at 190 epochs/s,
        in the trainer and again in the window."""
        from core.training.rewind import MAX_EPOCH_POINTS
        epoch = int(cur.epoch[cur.n - 1])
        if epoch % self.stride == 0:
            self.epochs.append(int(cur.step[cur.n - 1]), epoch, cur.last())
        if self.epochs.n >= MAX_EPOCH_POINTS:
            self.stride *= 2
            self.epochs.keep(self.epochs.epoch[:self.epochs.n] % self.stride == 0)
            self.thinned += 1

    def view(self, layout: Layout) -> InsideView:
        """Records of the epochs before the latest recorded one, then every recorded step of that epoch (in
        progress, or just finished: then its last step, the epoch's record, comes last). Steps increase."""
        return InsideView(layout, self.epochs.copy(), self.current.copy())

    @property
    def nbytes(self) -> int:
        return self.timeline.nbytes + self.epochs.nbytes + self.current.nbytes


class InsideRecorder:
    """Measures and records one step's distributions from the trainer's forward/backward pass (see module)."""

    def __init__(self, net, seed: int, batch_size: int = 32, batches_per_epoch: int = 1, samples: int = SAMPLES):
        rng = np.random.default_rng([int(seed), 12])
        self.net, self.k = net, samples
        sizes = list(net.sizes)
        L, H = net.n_layers, net.n_layers - 1
        self.tanh = net.activation.name == "tanh"
        self.sat_level = (1.0 - TANH_SATURATED ** 2) if self.tanh else 0.05 * net.activation.max_deriv
        self.layout = make_layout(sizes, net.activation.name, net.norm)
        edges = self.layout.edges
        nb = self.layout.bands
        block_sizes = [nb[l] * nb[l + 1] for l in range(L)]
        bpe = self.batches_per_epoch = max(1, batches_per_epoch)
        need = record_every(net.sizes, batch_size, samples)
        # Counted back from each epoch's last step, which is always recorded: floor(bpe / need) records per
        # epoch, evenly spaced, so the share stays at most 1 / need; with fewer batches per epoch than need,
        # the last step of every m-th epoch only.
        every = need if need == 1 or need >= bpe else math.ceil(bpe / (bpe // need))
        self.every = self.layout.every = every if every < bpe else bpe * math.ceil(need / bpe)
        self.layout.samples = samples
        self._grad_sample(rng, sizes, edges, sum(block_sizes))
        self._act_rng = rng
        self._act_pos: dict = {}
        self._node_starts = edges[1][:-1] if H else None
        self._node_counts = np.diff(edges[1]) if H else None
        self.shapes = {"grad": (L, 7), "act": (H, 7), "pre": (H, 7), "act_std": (H,), "saturation": (H,),
                       "node_saturation": (H * (nb[1] if H else 0),), "w_blocks": (sum(block_sizes),),
                       "g_blocks": (sum(block_sizes),), "u_blocks": (sum(block_sizes),)}
        self.history = InsideHistory(self.shapes)
        self._rows = np.empty((L + 2 * H, samples), dtype=np.float64)
        self.last: dict | None = None

    def _grad_sample(self, rng, sizes, edges, n_blocks: int) -> None:
        """Fixed entries of each W: all of a small layer, else SAMPLES drawn once without replacement."""
        k, L = self.k, len(sizes) - 1
        idx = np.zeros((L, k), dtype=np.intp)
        block = np.full((L, k), n_blocks, dtype=np.intp)   # padding goes to a spare block
        self.grad_counts = np.zeros(L, dtype=np.intp)
        offset = 0
        for l in range(L):
            fan_in, fan_out = sizes[l], sizes[l + 1]
            n = fan_in * fan_out
            chosen = np.arange(n) if n <= k else np.sort(rng.choice(n, k, replace=False))
            c = len(chosen)
            idx[l, :c], idx[l, c:] = self.net.w_offsets[l] + chosen, self.net.w_offsets[l]
            rows, cols = np.divmod(chosen, fan_out)
            bi = np.searchsorted(edges[l], rows, side="right") - 1
            bj = np.searchsorted(edges[l + 1], cols, side="right") - 1
            block[l, :c] = offset + bi * (len(edges[l + 1]) - 1) + bj
            offset += (len(edges[l]) - 1) * (len(edges[l + 1]) - 1)
            self.grad_counts[l] = c
        self.grad_idx, self.block_id, self.n_blocks = idx.ravel(), block.ravel(), n_blocks
        self.block_count = np.bincount(self.block_id, minlength=n_blocks + 1)[:n_blocks]
        self._block_ids3 = np.concatenate([self.block_id + i * (n_blocks + 1) for i in range(3)])
        self._block_den = np.where(self.block_count > 0, self.block_count, np.nan)   # no sample: NaN
        self.pad = (np.arange(k)[None, :] >= self.grad_counts[:, None])

    def _positions(self, n_rows: int, width: int):
        """Rows of the batch the activation sample reads and its positions in them (fixed per batch size)."""
        rows = min(n_rows, -(-self.k // width))
        if rows not in self._act_pos:
            n = rows * width
            pos = np.arange(n) if n <= self.k else np.sort(self._act_rng.choice(n, self.k, replace=False))
            self._act_pos[rows] = (rows, pos)
        return self._act_pos[rows]

    def measure(self, r, X, stats, flat: np.ndarray, update: np.ndarray, scale: float = 1.0) -> dict:
        """One step's record from the trainer's Backward ``r`` on batch X and its BatchStats: weights ``flat``
        after the step, the update buffer, ``scale`` the clipping factor already applied to r.grad_flat
        (the bands are of dL/dW before clipping, like the other gradient statistics). Recorded and returned."""
        if not (self.recorded(stats.step) or stats.diverged):
            return None
        L, H, k = self.net.n_layers, self.net.n_layers - 1, self.k
        d = stats.divergence
        applied = d is None or d.quantity == "weights"
        rows = self._rows
        g = np.take(r.grad_flat, self.grad_idx).reshape(L, k)
        if scale != 1.0:
            g /= scale
        rows[:L] = g
        rec = self._forward_signal(r, rows[L:])      # depth >= 1: there is a hidden layer
        counts = np.concatenate([self.grad_counts, np.full(2 * H, self._n_act)])
        np.abs(rows, out=rows)
        rows[:L][self.pad] = np.inf
        rows[L:, self._n_act:] = np.inf
        rows.sort(axis=1)
        bands = percentile_rows(rows, counts)
        rec["grad"], rec["act"], rec["pre"] = bands[:L], bands[L:L + H], bands[L + H:]
        rec["w_blocks"], rec["g_blocks"], rec["u_blocks"] = self._block_rms(flat, g, update if applied else None)
        self.history.add(stats.step, stats.epoch, rec)
        self.last = rec
        return rec

    def _block_rms(self, flat, g, update) -> np.ndarray:
        """RMS of the sampled weights, gradients and updates (None: no update) in each block of the picture (NaN
        where no sample falls): one weighted bincount of the squares (beat a reduceat over ~1,200 short segments)."""
        v = np.empty((3, self.grad_idx.size))
        v[0], v[1] = flat[self.grad_idx], g.ravel()
        v[2] = update[self.grad_idx] if update is not None else 0.0
        nb = self.n_blocks + 1
        with np.errstate(all="ignore"):
            sq = np.bincount(self._block_ids3, weights=(v * v).ravel(), minlength=3 * nb).reshape(3, nb)[:, :-1]
            return np.sqrt(sq / self._block_den)

    def recorded(self, step: int) -> bool:
        """Whether ``step`` (1-based) is recorded: every-th step counted back from its epoch's last."""
        bpe = self.batches_per_epoch
        if self.every >= bpe:
            return step % self.every == 0
        return (bpe - ((step - 1) % bpe + 1)) % self.every == 0

    # Up to this many activation entries (all hidden layers) are stacked into one array for the std (two calls
    # in all); larger networks take it layer by layer unless the pass gives them stacked already (issue 25).
    STACK_LIMIT = 1 << 16

    def _forward_signal(self, r, out: np.ndarray) -> dict:
        """Activation and pre-activation samples into ``out`` (2H rows), activation std, saturation.
        The pre-activations are the pass's own z = h_in W + b (the weights before the step's update)."""
        H = self.net.n_layers - 1
        acts, S = r.activations, getattr(r, "stacked_activations", None)
        n, width = acts[0].shape
        n_rows, pos = self._positions(n, width)
        self._n_act = c = len(pos)
        m = n * width
        first = S[:, :n_rows] if S is not None else np.stack([h[:n_rows] for h in acts])
        out[:H, :c] = np.take(first.reshape(H, -1), pos, axis=1)
        out[H:, :c] = np.take(np.asarray(r.pre_activations)[:, :n_rows].reshape(H, -1), pos, axis=1)
        mean, sq = self._moments(acts, S, m)
        std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
        D = r.derivs                                     # (H, N, width): phi'(u)
        below = np.less(D, self.sat_level) if self.tanh else np.less_equal(D, self.sat_level)
        per_unit = np.add.reduce(below.view(np.uint8), axis=1, dtype=np.uint32)   # batches < 2^32 samples
        node = np.add.reduceat(per_unit, self._node_starts, axis=1) / (n * self._node_counts)
        sat = per_unit.sum(axis=1) / (n * width)
        return {"act_std": std, "saturation": sat, "node_saturation": node.ravel()}

    def _moments(self, acts: list, stacked, m: int):
        """Mean and mean square of each hidden layer's activations (``stacked``: the same as one array, or None)."""
        H = len(acts)
        if H * m <= self.STACK_LIMIT:
            S = (np.stack(acts) if stacked is None else stacked).reshape(H, m)
            return (np.add.reduce(S, axis=1, dtype=np.float64) / m,
                    np.einsum("ij,ij->i", S, S, dtype=np.float64) / m)
        if stacked is not None and stacked.dtype == np.float64:   # the per-layer sums and BLAS dots, in two calls
            S = stacked.reshape(H, m)
            return np.add.reduce(S, axis=1) / m, np.matmul(S[:, None, :], S[:, :, None]).reshape(H) / m
        return (np.array([np.add.reduce(h, axis=None, dtype=np.float64) for h in acts]) / m,
                np.array([float(np.vdot(h, h)) for h in acts]) / m)

    def view(self) -> InsideView:
        return self.history.view(self.layout)
