"""What one Transformer pass measures, beside the model interface's ``Backward``."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.nn.model import Backward

# sub-layer -> the parameters whose gradient norm it reports (per block)
SUBLAYERS = {"Wq": ("Wq",), "Wk": ("Wk",), "Wv": ("Wv",), "Wo": ("Wo",), "W1": ("W1",), "W2": ("W2",),
             "ln1": ("ln1.gamma", "ln1.beta"), "ln2": ("ln2.gamma", "ln2.beta")}


@dataclass
class TransformerPass:
    """Statistics of one forward and backward pass (batch and features reduced as stated).

    sublayer_grad_norm: name (SUBLAYERS) -> (depth,) ||dL/dW|| of that sub-layer in each block (a LN: its
        gamma and beta together)
    residual_grad_norm: (depth + 1,) ||dL/dx_l|| of the residual stream, x_0 the embedded input and x_l
        block l's output
    position_grad_norm: (depth + 1, T) the same per position t
    time_grad_norm: (T,) ||dL/dx_0[:, t]||, the embedded input at each position (position_grad_norm[0])
    attention_entropy: (depth, heads) -sum_j A_tj log A_tj, averaged over samples and query positions
    token_similarity: (depth,) mean cosine similarity between distinct positions' x_l (rank collapse: 1)
    last_attention: (depth, heads, T) the last position's attention weights over the keys, batch mean
    """

    sublayer_grad_norm: dict
    residual_grad_norm: np.ndarray
    position_grad_norm: np.ndarray
    attention_entropy: np.ndarray
    token_similarity: np.ndarray
    last_attention: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0)))

    @property
    def time_grad_norm(self) -> np.ndarray:
        return self.position_grad_norm[0]


@dataclass
class TransformerBackward(Backward):
    """``Backward`` with the Transformer's own statistics (``transformer``)."""

    transformer: TransformerPass | None = field(default=None)
    embedded: np.ndarray | None = field(default=None)   # x_0, the embedded input (issue 21: the Inside page)


def sublayer_norms(blocks: list[dict]) -> dict:
    """name -> (depth,) Euclidean norm of each block's sub-layer, over the views in ``blocks`` (a gradient,
    an update or the weights themselves: update ratios are sublayer_norms(update) / sublayer_norms(weights))."""
    out = {}
    for name, parts in SUBLAYERS.items():
        out[name] = np.array([math.sqrt(sum(float(np.vdot(b[p], b[p])) for p in parts)) for b in blocks])
    return out


def position_norms(dx: np.ndarray) -> np.ndarray:
    """||dx[:, t]|| over the batch and the features, for each position t."""
    return np.sqrt(np.einsum("btd,btd->t", dx, dx))
