"""Transformers at initialisation, measured with the simulator's exact Transformer engine (core.nn.transformer):
Xiong et al. 2020 (where the layer norm goes) and Noci et al. 2022 (rank collapse)."""
from __future__ import annotations

import numpy as np

from core.nn.activations import get_activation

N_IN, HEADS = 8, 4


def _pass(depth: int, norm_position: str, branch_scale: str, width: int, seq_len: int, rows: int, seed: int):
    """One forward and backward pass at initialisation (Xavier, ReLU MLPs), random inputs and labels: its
    TransformerPass (per-block sub-layer gradient norms, token similarity)."""
    from core.nn.transformer.network import Transformer
    net = Transformer(N_IN, depth, width, HEADS, get_activation("relu"), init="xavier", norm_position=norm_position,
                      branch_scale=branch_scale, rng=np.random.default_rng(seed), seq_len=seq_len)
    X = np.random.default_rng(100 + seed).standard_normal((rows, seq_len, N_IN))
    y = (np.random.default_rng(200 + seed).random(rows) < 0.5).astype(float)
    return net.backward(X, y).transformer


def last_w2_gradient(depth: int, norm_position: str, width: int, seeds: int, size: str) -> float:
    """The last block's ||dL/dW2|| (its MLP's output weights), geometric mean over seeds."""
    T, rows = (16, 32) if size == "full" else (6, 8)
    g = [_pass(depth, norm_position, "one", width, T, rows, s).sublayer_grad_norm["W2"][-1] for s in range(seeds)]
    return float(np.exp(np.mean(np.log(g))))


def xiong(size: str) -> tuple:
    """Xiong et al.'s Theorem 1: the last layer's gradient is at most O(d sqrt(ln d)) for Post-LN, whatever the
    depth, and at most O(d sqrt(ln d / L)) for Pre-LN (upper bounds). Measured: its value at depth 12 over depth 3,
    for Pre-LN (the bound's rate: sqrt(3/12); checked as an upper bound, since that is what the theorem states: here
    it falls faster, about as 1/L) and Post-LN (does not shrink with depth: about 1)."""
    width, seeds, (shallow, deep) = (64, 4, (3, 12)) if size == "full" else (16, 1, (1, 4))
    out = []
    for position in ("pre", "post"):
        out.append(last_w2_gradient(deep, position, width, seeds, size) /
                   last_w2_gradient(shallow, position, width, seeds, size))
    return tuple(out)


def noci(size: str) -> tuple:
    """Rank collapse: mean cosine similarity between positions' representations after the last block, without skip
    connections (Noci et al.: tends to 1 with depth) and with them (Pre-LN, branch scale 1: stays away from 1)."""
    width, depth, seeds = (64, 12, 3) if size == "full" else (16, 6, 1)
    T, rows = (16, 32) if size == "full" else (6, 8)
    out = []
    for scale in ("none", "one"):
        out.append(float(np.mean([_pass(depth, "pre", scale, width, T, rows, s).token_similarity[-1]
                                  for s in range(seeds)])))
    return tuple(out)
