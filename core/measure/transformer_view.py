"""What the window's Transformer views show (issue 22): one pass on the latest batch at the current weights.

The gradient per block and sub-layer, the residual stream's gradient, the gradient per position, the attention
entropy, the token similarity (rank collapse) and the attention weights the read-out position gives each
earlier position, per block and head. Measured as ``Inspection.measure`` measures (a forward and backward pass
that updates nothing), so every number of one view comes from one pass; spaced by the snapshot maker as the
other extras. Pure NumPy: the window draws these numbers, it computes none.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.nn.kinds import kind_of

# The sub-layers whose ||dL/dW|| the block bars offer, in the order of core.nn.transformer.measures.SUBLAYERS,
# with the words the window uses for them.
SUBLAYER_LABELS = {"Wq": "Q (W_q)", "Wk": "K (W_k)", "Wv": "V (W_v)", "Wo": "O (W_o)", "W1": "MLP W₁",
                   "W2": "MLP W₂", "ln1": "LN₁ (γ, β)", "ln2": "LN₂ (γ, β)"}
RESIDUAL = "residual"   # the residual stream's ||dL/dx_l|| of each block's output, beside the sub-layers


@dataclass
class TransformerView:
    """The numbers of one pass (the batch, positions and features reduced as each field says).

    step: the trainer's step count when measured (the weights after that many updates)
    sublayer_grad_norm: name (SUBLAYER_LABELS) -> (depth,) ||dL/dW|| of that sub-layer in blocks 1..depth
    residual_grad_norm: (depth,) ||dL/dx_l|| of block l's output, l = 1..depth
    time_grad_norm: (T,) ||dL/dx_0[:, t]|| of the embedded input at each position
    attention_entropy: (depth, heads) mean entropy of the attention rows (nats)
    token_similarity: (depth,) mean cosine similarity between distinct positions of x_l (1: collapsed)
    readout_attention: (depth, heads, T) attention weight from the last position (the one read out) to each
        position t, averaged over the batch; each row sums to 1
    """

    step: int
    sublayer_grad_norm: dict
    residual_grad_norm: np.ndarray
    time_grad_norm: np.ndarray
    attention_entropy: np.ndarray
    token_similarity: np.ndarray
    readout_attention: np.ndarray

    @property
    def depth(self) -> int:
        return len(self.token_similarity)

    def block_values(self, name: str) -> np.ndarray:
        """(depth,) values of a sub-layer's ||dL/dW|| or, for RESIDUAL, of ||dL/dx_l||."""
        return self.residual_grad_norm if name == RESIDUAL else self.sublayer_grad_norm[name]


def applies(config) -> bool:
    """Whether the config's kind shows the Transformer views (the kind registry's word)."""
    return "attention_map" in kind_of(config).views


def measure_network(network, X, y, step: int = 0) -> TransformerView:
    """One forward (for the attention weights) and one forward-and-backward pass of ``network`` (a
    core.nn.transformer.Transformer) on X, y; nothing of the network changes."""
    with np.errstate(all="ignore"):
        _, (_, _, caches, _, _, _) = network._forward(X)   # the caches hold each block's attention A (B, H, T, T)
        readout = np.array([c[1][4][:, :, -1, :].mean(axis=0) for c in caches], dtype=float)
        r = network.backward(X, y)
    s = r.transformer
    return TransformerView(step=step,
                           sublayer_grad_norm={k: np.array(v, dtype=float) for k, v in s.sublayer_grad_norm.items()},
                           residual_grad_norm=np.array(s.residual_grad_norm[1:], dtype=float),
                           time_grad_norm=np.array(s.time_grad_norm, dtype=float),
                           attention_entropy=np.array(s.attention_entropy, dtype=float),
                           token_similarity=np.array(s.token_similarity, dtype=float),
                           readout_attention=readout)


def measure(trainer) -> TransformerView | None:
    """The view of ``trainer``'s network on its latest batch (the first batch before any step); None for a
    kind without these views."""
    if not applies(trainer.config):
        return None
    X, y = trainer._latest_batch()
    return measure_network(trainer.network, X, y, trainer.step)
