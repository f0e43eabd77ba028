"""Where each Transformer parameter lives in the one flat buffer.

The statistics' "layers" are the blocks, then the head (``n_layers = depth + 1``). As in the MLP, layer k's
weight matrices are one contiguous segment, flat[w_offsets[k]:w_offsets[k + 1]] (the last ends at n_weights):
block k's Wq, Wk, Wv, Wo, W1, W2, and for the head W_y. Everything else (the embedding W_e and b_e, the
biases, the LayerNorms' gamma and beta, ReZero's alphas, the final LN, b_y) follows after n_weights, in name
order, as the MLP's biases follow its weights.

``params`` groups the views by layer and keeps the name order of ``named_params()``: layer 0 is
(embed.W, embed.b, block1's parameters), layers 1..depth-1 the other blocks, the last (final_ln.gamma,
final_ln.beta (pre-LN only), head.W, head.b). Flattening ``params`` therefore gives the names' order, though
the memory order differs (weights first); a gradient buffer of flat's size has the same layout.
"""
from __future__ import annotations

import math

import numpy as np

_MATRICES = ("Wq", "Wk", "Wv", "Wo", "W1", "W2")   # a block's weights: its layer's segment, in this order


def block_spec(d: int, rezero: bool) -> list[tuple[str, str, tuple]]:
    """(group, name, shape) of one block's parameters, in the issue's order."""
    attn = [("attn", n, s) for n, s in (("Wq", (d, d)), ("bq", (d,)), ("Wk", (d, d)), ("bk", (d,)),
                                        ("Wv", (d, d)), ("bv", (d,)), ("Wo", (d, d)), ("bo", (d,)))]
    ln1 = [("ln1", "gamma", (d,)), ("ln1", "beta", (d,))]
    mlp = [("mlp", "W1", (d, 4 * d)), ("mlp", "b1", (4 * d,)), ("mlp", "W2", (4 * d, d)), ("mlp", "b2", (d,))]
    ln2 = [("ln2", "gamma", (d,)), ("ln2", "beta", (d,))]
    alphas = [("", "alpha1", ()), ("", "alpha2", ())] if rezero else []
    return attn + ln1 + mlp + ln2 + alphas


class Layout:
    """Names, shapes and offsets of every parameter; ``views(buffer)`` and ``named(buffer)`` over a buffer."""

    def __init__(self, n_in: int, depth: int, d: int, n_out: int, pre: bool, rezero: bool):
        entries = [(0, "embed.W", (n_in, d), False), (0, "embed.b", (d,), False)]   # (layer, name, shape, weight)
        for i in range(depth):
            for group, name, shape in block_spec(d, rezero):
                full = f"block{i + 1}.{group}.{name}" if group else f"block{i + 1}.{name}"
                entries.append((i, full, shape, name in _MATRICES))
        if pre:
            entries += [(depth, "final_ln.gamma", (d,), False), (depth, "final_ln.beta", (d,), False)]
        entries += [(depth, "head.W", (d, n_out), True), (depth, "head.b", (n_out,), False)]
        self.n_layers = depth + 1
        self.n_weights = sum(math.prod(s) for _, _, s, w in entries if w)
        w_pos, t_pos = 0, self.n_weights
        self.entries, w_offsets = [], {}
        for layer, name, shape, weight in entries:
            size = math.prod(shape)
            if weight:
                w_offsets.setdefault(layer, w_pos)
                offset, w_pos = w_pos, w_pos + size
            else:
                offset, t_pos = t_pos, t_pos + size
            self.entries.append((layer, name, shape, offset))
        self.size = t_pos
        self.w_offsets = np.array([w_offsets[k] for k in range(self.n_layers)], dtype=np.intp)

    def named(self, buffer: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(name, view) of every parameter, in the issue's order."""
        return [(name, buffer[o:o + math.prod(s)].reshape(s)) for _, name, s, o in self.entries]

    def views(self, buffer: np.ndarray) -> list[tuple]:
        """Per layer, a tuple of views in name order (see the module's docstring)."""
        layers: list[list] = [[] for _ in range(self.n_layers)]
        for (layer, _, _, _), (_, view) in zip(self.entries, self.named(buffer)):
            layers[layer].append(view)
        return [tuple(v) for v in layers]

    def blocks(self, buffer: np.ndarray) -> tuple[dict, list[dict], dict]:
        """The views by short name: ({"W", "b"} of the embedding, one dict per block (Wq, bq, ..., ln1.gamma,
        ..., alpha1), the rest ({"final_ln.gamma", ..., "head.W", "head.b"}))."""
        embed, blocks, rest = {}, [], {}
        for name, view in self.named(buffer):
            if name.startswith("embed."):
                embed[name[6:]] = view
            elif name.startswith("block"):
                i, _, short = name.partition(".")
                if len(blocks) < int(i[5:]):
                    blocks.append({})
                blocks[-1][short.replace("attn.", "").replace("mlp.", "")] = view
            else:
                rest[name] = view
        return embed, blocks, rest
