"""A Transformer encoder with causal attention, many-to-one, exact in NumPy (issue 22).

    x_0 = X W_e + b_e + P                         P: the fixed sinusoidal positions
    pre:  x = x + s1 Attn(LN1(x));  x = x + s2 MLP(LN2(x));   after the last block h = LN_f(x)
    post: x = LN1(x + s1 Attn(x));  x = LN2(x + s2 MLP(x));   h = x
    y = h[:, T-1] W_y + b_y                       one logit, one value, or one logit per class

branch_scale: "one" s = 1, "depth" s = 1/sqrt(2 depth), "rezero" s = alpha (learned, per branch, from 0),
"none" no skip connection (x = f(.) in place of x + f(.)). Attn and MLP are in ``layers``; the parameter
layout in ``layout``. X comes in as (N, T, n_in). Each block's backward is written under its forward.

What ``backward`` returns for the trainer's per-layer statistics (layers: the blocks, then the head):
derivs (depth, N, T, 4d) phi' of each block's MLP units; delta_norms ||dL/dx_l|| of each block's output x_l,
then ||dL/dy|| of the head's output; activations each block's x_l; layer_time_grad_norm (1, T) ||dL/dx_0[:, t]||
of the embedded input, so ``time_grad_norm`` is the issue's; ``transformer`` the pass's own TransformerPass.
"""
from __future__ import annotations

import math

import numpy as np

from core.nn.activations import Activation
from core.nn.initializers import init_weights
from core.nn.losses import LOSSES
from core.nn.model import LossFromBackward, check
from core.nn.transformer import layers as nn
from core.nn.transformer.layout import Layout
from core.nn.transformer.measures import (TransformerBackward, TransformerPass, position_norms,
                                          sublayer_norms)

NORM_POSITIONS = ("pre", "post")
BRANCH_SCALES = ("one", "depth", "rezero", "none")


def check_settings(width: int, heads: int, norm_position: str, branch_scale: str) -> None:
    """ValueError naming the setting, the value and what is allowed."""
    if not isinstance(heads, int) or heads < 1 or width % heads:
        raise ValueError(f"heads must be a positive integer that divides the width {width}, got {heads!r}")
    if norm_position not in NORM_POSITIONS:
        raise ValueError(f"norm_position must be one of {', '.join(NORM_POSITIONS)}, got {norm_position!r}")
    if branch_scale not in BRANCH_SCALES:
        raise ValueError(f"branch_scale must be one of {', '.join(BRANCH_SCALES)}, got {branch_scale!r}")


class Transformer(LossFromBackward):
    """``depth`` blocks of width d = ``width``, ``heads`` heads, on sequences of ``seq_len`` positions."""

    FORWARD_ELEMENTS = 1 << 22   # forward() evaluates in chunks of rows holding about this many cached values

    def __init__(self, n_in: int, depth: int, width: int, heads: int, activation: Activation,
                 init: str = "xavier", init_gain: float = 1.0, norm_position: str = "pre",
                 branch_scale: str = "one", task: str = "classification",
                 rng: np.random.Generator | None = None, dtype=np.float64, n_out: int = 1, seq_len: int = 20):
        check_settings(width, heads, norm_position, branch_scale)
        rng = rng if rng is not None else np.random.default_rng(0)
        self.depth, self.width, self.heads, self.seq_len = depth, width, heads, seq_len
        self.activation, self.task, self.loss_fn = activation, task, LOSSES[task]
        self.norm_position, self.branch_scale = norm_position, branch_scale
        self.dtype, self.n_out = np.dtype(dtype), n_out
        self.layout = Layout(n_in, depth, width, n_out, norm_position == "pre", branch_scale == "rezero")
        self.w_offsets, self.n_weights = self.layout.w_offsets, self.layout.n_weights
        self.flat = np.zeros(self.layout.size, dtype=self.dtype)
        self.params = self.views(self.flat)
        self._embed, self._blocks, self._rest = self.layout.blocks(self.flat)
        self._grad_buffer, self._grad_blocks = None, None
        self._P = nn.positions(seq_len, width, self.dtype)
        self._init(rng, init, init_gain)

    def _init(self, rng, init, gain):
        """Every W by ``init`` (in name order), biases and betas 0, gammas 1, ReZero's alphas 0."""
        for name, view in self.named_params():
            if view.ndim == 2:
                view[...] = init_weights(init, rng, *view.shape, gain, self.dtype)
            elif name.endswith("gamma"):
                view[...] = 1.0

    # -- the model interface --------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        """Layers the statistics are kept for: the blocks, then the head."""
        return self.depth + 1

    def views(self, flat: np.ndarray) -> list:
        return self.layout.views(flat)

    def named_params(self) -> list[tuple[str, np.ndarray]]:
        """(name, live view) of every parameter, in the order flattening ``params`` gives."""
        return self.layout.named(self.flat)

    def layer_params(self, k: int) -> tuple:
        return self.params[k]

    def sublayer_norms(self, buffer: np.ndarray) -> dict:
        """name (SUBLAYERS) -> (depth,) norm of each block's sub-layer in a buffer of flat's layout: of a
        gradient, an update or ``flat`` itself (update ratios: sublayer_norms(update) / sublayer_norms(flat))."""
        return sublayer_norms(self.layout.blocks(buffer)[1])

    norm_params: list = []   # the LayerNorms' statistics are the Transformer's own (TransformerPass)

    def recurrent_weights(self) -> list:
        return []            # no recurrence: nothing for a spectral norm

    vanishing_bound = math.nan   # Pascanu's bound is about recurrent weights

    @property
    def pre(self) -> bool:
        return self.norm_position == "pre"

    def _scales(self, p):
        """(s1, s2) of a block; None where there is no skip connection."""
        if self.branch_scale == "none":
            return None, None
        if self.branch_scale == "rezero":
            return p["alpha1"], p["alpha2"]
        s = 1.0 if self.branch_scale == "one" else 1.0 / math.sqrt(2.0 * self.depth)
        return s, s

    # -- a block: forward, then its backward ------------------------------------------------------
    def _branch(self, x, f, s):
        """x + s f, or f alone without a skip (s None); s = 1 costs no multiply."""
        if s is None:
            return f
        return x + (f if isinstance(s, float) and s == 1.0 else s * f)

    def _block(self, p, x, derivs):
        """One block's output and its cache; ``derivs`` (N, T, 4d) receives the MLP's phi'."""
        s1, s2 = self._scales(p)
        if self.pre:
            u, c_ln1 = nn.layer_norm(x, p["ln1.gamma"], p["ln1.beta"])
            a, c_attn = nn.attention(u, p, self.heads)
            x1 = self._branch(x, a, s1)
            v, c_ln2 = nn.layer_norm(x1, p["ln2.gamma"], p["ln2.beta"])
            m, c_mlp = nn.mlp(v, p, self.activation, derivs)
            x2 = self._branch(x1, m, s2)
        else:
            a, c_attn = nn.attention(x, p, self.heads)
            x1, c_ln1 = nn.layer_norm(self._branch(x, a, s1), p["ln1.gamma"], p["ln1.beta"])
            m, c_mlp = nn.mlp(x1, p, self.activation, derivs)
            x2, c_ln2 = nn.layer_norm(self._branch(x1, m, s2), p["ln2.gamma"], p["ln2.beta"])
        return x2, (c_ln1, c_attn, c_ln2, c_mlp, a, m)

    def _block_back(self, p, g, cache, dx2):
        """dL/dx of the block's input from dL/dx2 of its output; the block's gradients go into ``g``."""
        c_ln1, c_attn, c_ln2, c_mlp, a, m = cache
        s1, s2 = self._scales(p)
        if self.pre:
            dx1 = self._branch_back(dx2, s2, m, g, "alpha2", lambda dm: nn.layer_norm_back(
                nn.mlp_back(dm, c_mlp, p, g), c_ln2, p["ln2.gamma"], g["ln2.gamma"], g["ln2.beta"]))
            return self._branch_back(dx1, s1, a, g, "alpha1", lambda da: nn.layer_norm_back(
                nn.attention_back(da, c_attn, p, g, self.heads), c_ln1, p["ln1.gamma"], g["ln1.gamma"],
                g["ln1.beta"]))
        dr2 = nn.layer_norm_back(dx2, c_ln2, p["ln2.gamma"], g["ln2.gamma"], g["ln2.beta"])
        dx1 = self._branch_back(dr2, s2, m, g, "alpha2", lambda dm: nn.mlp_back(dm, c_mlp, p, g))
        dr1 = nn.layer_norm_back(dx1, c_ln1, p["ln1.gamma"], g["ln1.gamma"], g["ln1.beta"])
        return self._branch_back(dr1, s1, a, g, "alpha1", lambda da: nn.attention_back(da, c_attn, p, g,
                                                                                        self.heads))

    def _branch_back(self, dy, s, f, g, alpha, f_back):
        """Backward of y = x + s f(x) (or y = f(x) without a skip): dL/dx = dy + f_back(s dy); with ReZero
        dL/dalpha = sum dy * f."""
        if s is None:
            return f_back(dy)
        if self.branch_scale == "rezero":
            g[alpha][...] = np.vdot(dy, f)
        scaled = dy if isinstance(s, float) and s == 1.0 else s * dy
        return dy + f_back(scaled)

    # -- the whole network ------------------------------------------------------------------------
    def _forward(self, X, interrupt=None):
        """The output and what the backward pass needs: the residual stream x_0..x_depth, caches, phi'."""
        X = np.asarray(X, dtype=self.dtype)
        N, T, _ = X.shape
        if T > len(self._P):   # positions are fixed, so a longer sequence only needs more rows of P
            self._P = nn.positions(T, self.width, self.dtype)
        x = nn.linear(X, self._embed["W"], self._embed["b"])
        x += self._P[:T]
        xs, caches = [x], []
        derivs = np.empty((self.depth, N, T, 4 * self.width), dtype=self.dtype)
        for p, D in zip(self._blocks, derivs):
            check(interrupt)
            x, cache = self._block(p, x, D)
            xs.append(x)
            caches.append(cache)
        h_last, c_final = x[:, -1], None
        if self.pre:   # LN_f acts on each position alone: only the last one is read out
            h_last, c_final = nn.layer_norm(h_last, self._rest["final_ln.gamma"], self._rest["final_ln.beta"])
        z = nn.linear(h_last, self._rest["head.W"], self._rest["head.b"])
        return (z[:, 0] if self.n_out == 1 else z), (X, xs, caches, derivs, h_last, c_final)

    def forward(self, X) -> np.ndarray:
        """Outputs, shape (N,) or (N, classes); evaluated in chunks of rows so memory stays bounded."""
        X = np.asarray(X, dtype=self.dtype)
        per_row = max(1, X.shape[1] * 16 * self.width * self.depth)
        n = max(1, self.FORWARD_ELEMENTS // per_row)
        if not len(X):
            return np.empty((0,) if self.n_out == 1 else (0, self.n_out), dtype=self.dtype)
        return np.concatenate([self._forward(X[i:i + n])[0] for i in range(0, len(X), n)])

    def _grad_views(self, grad_out):
        if grad_out is None:
            grad_out = np.empty_like(self.flat)
            return grad_out, self.views(grad_out), self.layout.blocks(grad_out)
        if grad_out is not self._grad_buffer:   # views of a reused buffer are made once
            self._grad_buffer = grad_out
            self._grad_blocks = (self.views(grad_out), self.layout.blocks(grad_out))
        return (grad_out,) + self._grad_blocks

    def backward(self, X, y, grad_out: np.ndarray | None = None, update_running: bool = False,
                 interrupt=None, stats_scratch=None) -> TransformerBackward:
        """Forward, loss, then the chain rule back through the head, the blocks (last first) and the
        embedding. ``update_running`` and ``stats_scratch`` do not apply (no running statistics; the trainer
        measures the gradient afterwards). ``interrupt``: checked before each block (core.nn.model.Interrupted)."""
        out, (X, xs, caches, derivs, h_last, c_final) = self._forward(X, interrupt)
        loss, dout = self.loss_fn(out, np.asarray(y, dtype=self.dtype))
        grad_flat, grads, (g_embed, g_blocks, g_rest) = self._grad_views(grad_out)
        dz = dout[:, None] if dout.ndim == 1 else dout
        delta_norms = np.empty(self.n_layers)
        delta_norms[-1] = math.sqrt(np.vdot(dz, dz))
        dh_last = nn.linear_back(dz, h_last, self._rest["head.W"], g_rest["head.W"], g_rest["head.b"])
        if self.pre:
            dh_last = nn.layer_norm_back(dh_last, c_final, self._rest["final_ln.gamma"],
                                         g_rest["final_ln.gamma"], g_rest["final_ln.beta"])
        dx = np.zeros_like(xs[-1])
        dx[:, -1] = dh_last                         # only the last position feeds the head
        position_grad = np.empty((self.depth + 1, xs[0].shape[1]))
        hidden_grads = [None] * self.depth           # dL/dx of each block's input, x_0 .. x_{L-1} (fresh arrays)
        for l in range(self.depth - 1, -1, -1):
            check(interrupt)
            position_grad[l + 1] = position_norms(dx)
            delta_norms[l] = math.sqrt(float(position_grad[l + 1] @ position_grad[l + 1]))
            dx = hidden_grads[l] = self._block_back(self._blocks[l], g_blocks[l], caches[l], dx)
        position_grad[0] = position_norms(dx)
        nn.linear_back(dx, X, self._embed["W"], g_embed["W"], g_embed["b"])
        stats = self._measures(g_blocks, position_grad, xs, caches)
        return TransformerBackward(loss, grad_flat, grads, derivs, delta_norms, xs[1:],
                                   layer_time_grad_norm=position_grad[:1], transformer=stats,
                                   hidden_grads=hidden_grads, branch_outputs=[(c[4], c[5]) for c in caches],
                                   embedded=xs[0])

    def _measures(self, g_blocks, position_grad, xs, caches) -> TransformerPass:
        return TransformerPass(
            sublayer_grad_norm=sublayer_norms(g_blocks),
            residual_grad_norm=np.sqrt(np.einsum("lt,lt->l", position_grad, position_grad)),
            position_grad_norm=position_grad,
            attention_entropy=np.array([nn.attention_entropy(c[1][4]) for c in caches]).reshape(self.depth,
                                                                                                 self.heads),
            token_similarity=np.array([nn.token_similarity(x) for x in xs[1:]]),
            last_attention=np.array([c[1][4][:, :, -1].mean(axis=0) for c in caches]))


    def first_nonfinite_layer(self, X) -> int | None:
        """1-based index of the first block whose output is not finite (the embedding counts with block 1;
        the head: depth + 1), or None."""
        with np.errstate(all="ignore"):   # the point is to find where values stopped being finite
            out, (_, xs, _, _, _, _) = self._forward(X)
        for k, x in enumerate(xs[1:]):
            if not (np.isfinite(x).all() and np.isfinite(xs[0]).all()):
                return k + 1
        return None if np.isfinite(out).all() else self.n_layers
