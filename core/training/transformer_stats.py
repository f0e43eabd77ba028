"""The Transformer's own statistics of a step and of an epoch (issue 22), beside the per-layer ones.

Per block l = 1..depth (epoch: the mean over its batches, unless said otherwise):

- sublayer_grad_norm[name]: ||dL/dW|| of the sub-layer ``name`` (core.nn.transformer.SUBLAYERS: Wq, Wk, Wv, Wo,
  W1, W2, and ln1, ln2 with gamma and beta together), before clipping
- sublayer_update_ratio[name]: ||update|| / ||weights before the step|| of the same parameters (0 where no update
  was applied)
- residual_grad_norm: (depth + 1,) ||dL/dx_l|| of the residual stream over the batch, the positions and the
  features; x_0 is the embedded input, x_l block l's output
- position_grad_norm: (depth + 1, T) the same per position t (row 0 = ``time_grad_norm``, the embedded input's)
- attention_entropy: (depth, heads) -sum_j A_tj log A_tj in nats, averaged over samples and query positions
  (log(t) at most for query t: uniform attention over the t keys it sees)
- token_similarity: (depth,) mean cosine similarity between distinct positions' x_l (the rank-collapse meter:
  1 when every token points the same way)
- last_attention: (depth, heads, T) the last position's attention over the keys (the row the read-out depends
  on), averaged over the batch: what an attention-map view draws for a chosen block, heads x positions

An epoch keeps position_grad_norm and last_attention only while it is the latest in an EpochHistory (``compact``):
a long run's history holds the small per-block arrays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

import numpy as np

from core.nn.transformer.measures import SUBLAYERS

HEAVY = ("position_grad_norm", "last_attention")


def _finite(x):
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class TransformerStats:
    sublayer_grad_norm: dict
    sublayer_update_ratio: dict
    residual_grad_norm: np.ndarray
    attention_entropy: np.ndarray
    token_similarity: np.ndarray
    position_grad_norm: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    last_attention: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0)))

    @property
    def depth(self) -> int:
        return len(self.token_similarity)

    @property
    def heads(self) -> int:
        return self.attention_entropy.shape[1] if self.attention_entropy.ndim == 2 else 0

    def compact(self) -> "TransformerStats":
        """Without the (blocks x positions) arrays: what an older epoch of a history keeps."""
        return replace(self, position_grad_norm=np.empty((0, 0)), last_attention=np.empty((0, 0, 0)))

    def to_record(self) -> dict:
        """The JSON record (non-finite numbers as null); per-block lists are block 1 first."""
        lists = lambda a: [[_finite(v) for v in row] for row in np.asarray(a)]
        rec = {"sublayer_grad_norm": {k: [_finite(v) for v in a] for k, a in self.sublayer_grad_norm.items()},
               "sublayer_update_ratio": {k: [_finite(v) for v in a] for k, a in self.sublayer_update_ratio.items()},
               "residual_grad_norm": [_finite(v) for v in self.residual_grad_norm],
               "attention_entropy": lists(self.attention_entropy),
               "token_similarity": [_finite(v) for v in self.token_similarity]}
        if self.position_grad_norm.size:
            rec["position_grad_norm"] = lists(self.position_grad_norm)
        return rec

    def csv_cells(self) -> list:
        """The values of ``csv_columns(depth, heads)``, in that order."""
        return ([v for k in SUBLAYERS for v in self.sublayer_grad_norm[k]]
                + [v for k in SUBLAYERS for v in self.sublayer_update_ratio[k]]
                + list(self.residual_grad_norm) + list(self.token_similarity)
                + list(np.asarray(self.attention_entropy).ravel()))


def csv_columns(depth: int, heads: int) -> list[str]:
    """The CSV columns of a transformer run: tf_grad_norm_<sub-layer>_<block>, tf_update_ratio_<sub-layer>_<block>,
    tf_residual_grad_norm_<l> (l = 0 the embedded input .. depth), tf_token_similarity_<block>,
    tf_attention_entropy_<block>_<head>."""
    blocks = range(1, depth + 1)
    return ([f"tf_grad_norm_{k}_{i}" for k in SUBLAYERS for i in blocks]
            + [f"tf_update_ratio_{k}_{i}" for k in SUBLAYERS for i in blocks]
            + [f"tf_residual_grad_norm_{l}" for l in range(depth + 1)]
            + [f"tf_token_similarity_{i}" for i in blocks]
            + [f"tf_attention_entropy_{i}_{h}" for i in blocks for h in range(1, heads + 1)])


def from_pass(network, tpass, update: np.ndarray, applied: bool) -> TransformerStats:
    """A step's statistics from its TransformerPass; ``update`` the step's change to ``network.flat`` (already
    added: the weights before it are flat - update), ``applied`` False when no update was made."""
    ratio = {}
    if applied:
        upd = network.sublayer_norms(update)
        before = network.sublayer_norms(network.flat - update)
        for k in SUBLAYERS:
            ratio[k] = np.divide(upd[k], before[k], out=np.where(upd[k] > 0, np.inf, 0.0), where=before[k] > 0)
    else:
        ratio = {k: np.zeros(network.depth) for k in SUBLAYERS}
    return TransformerStats(sublayer_grad_norm=tpass.sublayer_grad_norm, sublayer_update_ratio=ratio,
                            residual_grad_norm=tpass.residual_grad_norm, attention_entropy=tpass.attention_entropy,
                            token_similarity=tpass.token_similarity, position_grad_norm=tpass.position_grad_norm,
                            last_attention=tpass.last_attention)


class TransformerSum:
    """Sums an epoch's TransformerStats; ``finish(n)`` gives their mean over n batches."""

    def __init__(self):
        self.sum: TransformerStats | None = None

    def add(self, s: TransformerStats) -> None:
        if self.sum is None:
            self.sum = _map(s, lambda a: np.array(a, dtype=float))
            return
        for f in fields(TransformerStats):
            mine, theirs = getattr(self.sum, f.name), getattr(s, f.name)
            if isinstance(mine, dict):
                for k in mine:
                    mine[k] = mine[k] + theirs[k]
            elif mine.shape == np.shape(theirs):
                setattr(self.sum, f.name, mine + theirs)

    def finish(self, n: int) -> TransformerStats | None:
        return None if self.sum is None else _map(self.sum, lambda a: np.asarray(a, dtype=float) / max(n, 1))


def _map(s: TransformerStats, f) -> TransformerStats:
    out = {}
    for fl in fields(TransformerStats):
        v = getattr(s, fl.name)
        out[fl.name] = {k: f(a) for k, a in v.items()} if isinstance(v, dict) else f(v)
    return TransformerStats(**out)


def widest_transformer(config, value: float) -> TransformerStats | None:
    """A transformer config's statistics with every number ``value`` (the CLI's bound on a record's length),
    None for another kind's config."""
    from core.nn.kinds import kind_of
    if not kind_of(config).uses("heads"):
        return None
    L, H, T = config.depth, config.heads, config.seq_len
    full = lambda *shape: np.full(shape, value)
    return TransformerStats({k: full(L) for k in SUBLAYERS}, {k: full(L) for k in SUBLAYERS}, full(L + 1),
                            full(L, H), full(L), full(L + 1, T), full(L, H, T))
