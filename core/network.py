"""A fully connected network whose parameters live in one flat buffer.

``params`` is a list of ``(W, b)`` views into that buffer (all W first, then all b),
so optimisers update every parameter with one vectorised operation and the trainer
measures per-layer statistics with a handful of segment reductions instead of a
Python loop per layer. Modify ``W`` and ``b`` in place; ``flat`` is the same memory.

Hidden layer l computes h_l = phi(h_{l-1} W_l + b_l), or with residual connections
(layers 2..depth) h_l = h_{l-1} + phi(h_{l-1} W_l + b_l). The output layer is linear
with one unit: a logit (binary cross-entropy) or a value (mean squared error).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .initializers import init_weights
from .losses import LOSSES


@dataclass
class Backward:
    """Everything one forward and backward pass measured."""

    loss: float
    grad_flat: np.ndarray          # dL/d(flat parameters), same layout as MLP.flat
    grads: list                    # [(dW, db), ...] views into grad_flat
    derivs: np.ndarray             # phi'(z) of the hidden layers, (depth, N, width)
    delta_norms: np.ndarray        # ||dL/dz_l|| per weight layer, input side first
    activations: list              # h_l per hidden layer (N, width) each


class MLP:
    def __init__(self, n_in: int, depth: int, width: int, activation: Activation,
                 init: str = "xavier", init_gain: float = 1.0, residual: bool = False,
                 task: str = "classification", rng: np.random.Generator | None = None,
                 dtype=np.float64, bias_std: float = 0.0):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.activation = activation
        self.residual = residual
        self.task = task
        self.loss_fn = LOSSES[task]
        self.dtype = np.dtype(dtype)
        self.sizes = [n_in] + [width] * depth + [1]
        shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        w_sizes = [i * o for i, o in shapes]
        b_sizes = [o for _, o in shapes]
        # Offsets of each layer's W (then b) in the flat buffer, for segment reductions.
        self.w_offsets = np.concatenate([[0], np.cumsum(w_sizes)[:-1]]).astype(np.intp)
        self.n_weights = int(sum(w_sizes))
        self.b_offsets = (self.n_weights + np.concatenate([[0], np.cumsum(b_sizes)[:-1]])).astype(np.intp)
        self.flat = np.zeros(self.n_weights + sum(b_sizes), dtype=self.dtype)
        self.params = self._views(self.flat)
        self._skip = [self._is_skip(k) for k in range(self.n_layers)]
        self._grad_buffer, self._grad_views = None, None
        for (W, _), (fan_in, fan_out) in zip(self.params, shapes):
            W[...] = init_weights(init, rng, fan_in, fan_out, init_gain, self.dtype)
        if bias_std > 0:  # drawn after all weights, so bias_std = 0 leaves every earlier network unchanged
            for _, b in self.params:
                b[...] = bias_std * rng.standard_normal(b.shape)

    @property
    def n_layers(self) -> int:
        """Number of weight layers: depth hidden layers plus the output layer."""
        return len(self.sizes) - 1

    def _views(self, flat: np.ndarray):
        views = []
        for k, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            w0, b0 = self.w_offsets[k], self.b_offsets[k]
            views.append((flat[w0:w0 + fan_in * fan_out].reshape(fan_in, fan_out),
                          flat[b0:b0 + fan_out]))
        return views

    def _is_skip(self, k: int) -> bool:
        """Residual connections skip hidden layers 2..depth (0-based k = 1..depth-1)."""
        return self.residual and 0 < k < self.n_layers - 1

    def _forward(self, X):
        h = np.asarray(X, dtype=self.dtype)
        cache = []
        phi = self.activation.f
        last = self.n_layers - 1
        for k, (W, b) in enumerate(self.params):
            z = h @ W
            z += b
            if k == last:
                cache.append((h, z, None))
                return z[:, 0], cache
            a = phi(z)
            cache.append((h, z, a))
            h = h + a if self._skip[k] else a

    # Rows evaluated at once by forward(): it keeps one layer's activations, not all of them.
    FORWARD_CHUNK = 8192

    def forward(self, X) -> np.ndarray:
        """The network's output for each row of X: logits or regression values, shape (N,).

        Nothing is kept for a backward pass, and long inputs go through in chunks, so evaluating
        a large validation set needs memory for one layer of one chunk."""
        X = np.asarray(X, dtype=self.dtype)
        n = self.FORWARD_CHUNK
        if len(X) <= n:
            return self._predict(X)
        return np.concatenate([self._predict(X[i:i + n]) for i in range(0, len(X), n)])

    def _predict(self, h):
        phi = self.activation.f
        for k, (W, b) in enumerate(self.params[:-1]):
            z = h @ W
            z += b
            h = h + phi(z) if self._skip[k] else phi(z)
        W, b = self.params[-1]
        return (h @ W + b)[:, 0]

    def backward(self, X, y, grad_out: np.ndarray | None = None) -> Backward:
        """One forward and backward pass; the chain rule applied layer by layer, output first.

        The gradient is written into ``grad_out`` when given (the trainer reuses one buffer).
        """
        out, cache = self._forward(X)
        loss, dout = self.loss_fn(out, np.asarray(y, dtype=self.dtype))
        if grad_out is None:
            grad_flat = np.empty_like(self.flat)
            grads = self._views(grad_flat)
        else:
            if grad_out is not self._grad_buffer:  # views of a reused buffer are made once
                self._grad_buffer, self._grad_views = grad_out, self._views(grad_out)
            grad_flat, grads = grad_out, self._grad_views
        derivs = np.empty((self.n_layers - 1, len(dout), self.sizes[1]), dtype=self.dtype)
        delta_norms = np.empty(self.n_layers)
        dphi = self.activation.derivative_into
        dz = dout[:, None]
        dh = None  # dL/dh of the layer above; set at the end of each iteration
        for k in range(self.n_layers - 1, -1, -1):
            h_in, z, a = cache[k]
            if k < self.n_layers - 1:
                d = dphi(z, a, derivs[k])  # dh/dz = phi'(z)
                dz = dh * d                # dL/dz = dL/dh * phi'(z)
            W = self.params[k][0]
            dW, db = grads[k]
            np.matmul(h_in.T, dz, out=dW)  # dL/dW = h_in^T dL/dz
            np.add.reduce(dz, axis=0, out=db)
            delta_norms[k] = math.sqrt(np.vdot(dz, dz))
            if k > 0:
                dh_in = dz @ W.T           # dL/dh_in = dL/dz W^T
                if self._skip[k]:
                    dh_in += dh            # the skip path adds the identity
                dh = dh_in
        activations = [cache[k + 1][0] for k in range(self.n_layers - 1)]
        return Backward(loss, grad_flat, grads, derivs, delta_norms, activations)

    def loss_and_grads(self, X, y):
        """Mean loss and [(dL/dW, dL/db), ...] per weight layer, input side first."""
        r = self.backward(X, y)
        return r.loss, r.grads

    def loss(self, X, y) -> float:
        return self.loss_fn(self.forward(X), np.asarray(y, dtype=self.dtype))[0]

    def first_nonfinite_layer(self, X) -> int | None:
        """1-based index of the first layer whose output is not finite, or None."""
        _, cache = self._forward(X)
        for k, (_, z, _) in enumerate(cache):
            if not np.isfinite(z).all():
                return k + 1
        return None
