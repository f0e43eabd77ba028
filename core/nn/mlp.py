"""A fully connected network whose parameters live in one flat buffer.

``params`` is a list of ``(W, b)`` views into that buffer (all W first, then all b),
so optimisers update every parameter with one vectorised operation and the trainer
measures per-layer statistics with a handful of segment reductions instead of a
Python loop per layer. Modify ``W`` and ``b`` in place; ``flat`` is the same memory.

Hidden layer l computes h_l = phi(h_{l-1} W_l + b_l), or with residual connections
(layers 2..depth) h_l = h_{l-1} + phi(h_{l-1} W_l + b_l). The output layer is linear:
one logit (binary cross-entropy), one logit per class (softmax cross-entropy) or a
value (mean squared error).

With a normalisation layer (``norm`` "batch" or "layer") each hidden layer's parameters are
``(W, b, gamma, beta)`` (``layer_params(k)``; gamma and beta follow the biases in ``flat``):

    z = h W + b,  z_hat = (z - mean) / sqrt(var + 1e-5),  h = phi(gamma z_hat + beta)

with the biased variance, taken over the batch (batch norm: each unit across the samples)
or over the features (layer norm: each sample across the units). Batch norm keeps running
averages of the batch mean and (biased) variance, momentum 0.1, and evaluates with them.
"""
from __future__ import annotations

import math

import numpy as np

from core.nn.activations import Activation
from core.nn.initializers import init_weights
from core.nn.losses import LOSSES

NORMS = ("none", "batch", "layer")
NORM_EPS = 1e-5
NORM_MOMENTUM = 0.1
_NORM_AXIS = {"batch": 0, "layer": 1}  # the axis the mean and variance are taken over


def mlp_sizes(n_in: int, depth: int, width: int, n_out: int = 1) -> list[int]:
    """Units per layer, input to output: ``depth`` hidden layers of ``width`` and ``n_out`` outputs
    (one logit or value; one per class for a multi-class task)."""
    return [n_in] + [width] * depth + [n_out]


from core.nn.model import Backward, LossFromBackward, check  # noqa: F401  (Backward re-exported: derivs here are (depth, N, width))


class MLP(LossFromBackward):
    def __init__(self, n_in: int, depth: int, width: int, activation: Activation,
                 init: str = "xavier", init_gain: float = 1.0, residual: bool = False,
                 task: str = "classification", rng: np.random.Generator | None = None,
                 dtype=np.float64, norm: str = "none", n_out: int = 1, bias_std: float = 0.0):
        rng = rng if rng is not None else np.random.default_rng(0)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        self.activation = activation
        self.residual = residual
        self.task = task
        self.norm = norm
        self.loss_fn = LOSSES[task]
        self.dtype = np.dtype(dtype)
        self.sizes = mlp_sizes(n_in, depth, width, n_out)
        shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        w_sizes = [i * o for i, o in shapes]
        b_sizes = [o for _, o in shapes]
        # Offsets of each layer's W (then b) in the flat buffer, for segment reductions.
        self.w_offsets = np.concatenate([[0], np.cumsum(w_sizes)[:-1]]).astype(np.intp)
        self.n_weights = int(sum(w_sizes))
        self.b_offsets = (self.n_weights + np.concatenate([[0], np.cumsum(b_sizes)[:-1]])).astype(np.intp)
        n_wb = self.n_weights + sum(b_sizes)
        n_norm = depth * width if norm != "none" else 0
        # gamma of every hidden layer, then beta of every hidden layer, after the biases
        self.gamma_offsets = (n_wb + width * np.arange(depth if n_norm else 0)).astype(np.intp)
        self.beta_offsets = self.gamma_offsets + n_norm
        self.flat = np.zeros(n_wb + 2 * n_norm, dtype=self.dtype)
        self.params = self.views(self.flat)
        self.norm_params = self._norm_views(self.flat)
        for gamma, _ in self.norm_params:
            gamma[...] = 1.0
        self.running_mean = np.zeros((depth, width), dtype=self.dtype) if norm == "batch" else None
        self.running_var = np.ones((depth, width), dtype=self.dtype) if norm == "batch" else None
        self._skip = [self._is_skip(k) for k in range(self.n_layers)]
        self._grad_buffer, self._grad_views = None, None
        self._ones_cache: np.ndarray | None = None
        for (W, _), (fan_in, fan_out) in zip(self.params, shapes):
            W[...] = init_weights(init, rng, fan_in, fan_out, init_gain, self.dtype)
        if bias_std > 0:  # drawn after all weights, so bias_std = 0 leaves every earlier network unchanged
            for _, b in self.params:
                b[...] = bias_std * rng.standard_normal(b.shape)

    @property
    def n_layers(self) -> int:
        """Number of weight layers: depth hidden layers plus the output layer."""
        return len(self.sizes) - 1

    @property
    def n_out(self) -> int:
        return self.sizes[-1]

    def layer_params(self, k: int) -> tuple:
        """Layer k's parameters (0-based): (W, b), or (W, b, gamma, beta) for a normalised hidden layer."""
        if self.norm_params and k < self.n_layers - 1:
            return self.params[k] + self.norm_params[k]
        return self.params[k]

    def views(self, flat: np.ndarray):
        """[(W, b), ...] per weight layer as views into ``flat`` (or a buffer of its size)."""
        views = []
        for k, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            w0, b0 = self.w_offsets[k], self.b_offsets[k]
            views.append((flat[w0:w0 + fan_in * fan_out].reshape(fan_in, fan_out),
                          flat[b0:b0 + fan_out]))
        return views

    def _norm_views(self, flat: np.ndarray):
        width = self.sizes[1]
        return [(flat[g:g + width], flat[b:b + width]) for g, b in zip(self.gamma_offsets, self.beta_offsets)]

    def recurrent_weights(self) -> list:
        return []  # no recurrence: nothing for a spectral norm

    vanishing_bound = math.nan  # Pascanu's bound is about recurrent weights

    def _is_skip(self, k: int) -> bool:
        """Residual connections skip hidden layers 2..depth (0-based k = 1..depth-1)."""
        return self.residual and 0 < k < self.n_layers - 1

    # -- normalisation: forward, then its backward ----------------------------------------
    def _normalise(self, k: int, z):
        """Training mode: z_hat from this batch's statistics; returns gamma z_hat + beta and the cache
        (z_hat, 1 / std, mean, variance)."""
        axis = _NORM_AXIS[self.norm]
        gamma, beta = self.norm_params[k]
        n = z.shape[axis]
        # add.reduce and in-place steps: np.mean's overhead would double the cost at these sizes
        mean = np.add.reduce(z, axis=axis, keepdims=True) / n
        zc = np.subtract(z, mean)
        var = np.add.reduce(zc * zc, axis=axis, keepdims=True) / n   # biased: divided by n, not n - 1
        inv_std = 1.0 / np.sqrt(var + NORM_EPS)
        z_hat = np.multiply(zc, inv_std, out=zc)
        u = z_hat * gamma
        u += beta
        return u, (z_hat, inv_std, mean, var)

    def _normalise_backward(self, k: int, du, norm_cache, dgamma, dbeta):
        """dL/dz from dL/du, u = gamma z_hat + beta; writes dL/dgamma and dL/dbeta.

        With m the mean over the normalised axis: dz = (dz_hat - m(dz_hat) - z_hat m(dz_hat z_hat)) / std,
        because z_hat depends on z through the mean and the variance as well as directly."""
        axis = _NORM_AXIS[self.norm]
        z_hat, inv_std = norm_cache[:2]
        n = z_hat.shape[axis]
        np.add.reduce(du * z_hat, axis=0, out=dgamma)   # du/dgamma = z_hat
        np.add.reduce(du, axis=0, out=dbeta)            # du/dbeta = 1
        dz_hat = du * self.norm_params[k][0]            # du/dz_hat = gamma
        mean_dz_hat = np.add.reduce(dz_hat, axis=axis, keepdims=True) / n
        mean_dz_hat_z_hat = np.add.reduce(dz_hat * z_hat, axis=axis, keepdims=True) / n
        dz_hat -= mean_dz_hat
        dz_hat -= z_hat * mean_dz_hat_z_hat
        dz_hat *= inv_std
        return dz_hat

    def _normalise_eval(self, k: int, z):
        """Evaluation mode: batch norm uses the running statistics, layer norm each sample's own."""
        if self.norm == "layer":
            return self._normalise(k, z)[0]
        gamma, beta = self.norm_params[k]
        return (z - self.running_mean[k]) / np.sqrt(self.running_var[k] + NORM_EPS) * gamma + beta

    def _update_running(self, cache):
        """Fold the batch's mean and variance into the running averages; returns what puts them back."""
        before = self.running_mean.copy(), self.running_var.copy()

        def undo():
            self.running_mean[...], self.running_var[...] = before
        for k, (_, _, _, norm_cache) in enumerate(cache[:-1]):
            mean, var = norm_cache[2:4]
            self.running_mean[k] += NORM_MOMENTUM * (mean[0] - self.running_mean[k])
            self.running_var[k] += NORM_MOMENTUM * (var[0] - self.running_var[k])
        return undo

    # -- forward and backward ----------------------------------------------------------------
    def _output(self, z):
        return z[:, 0] if self.sizes[-1] == 1 else z

    def _forward(self, X, interrupt=None):
        """Training-mode forward pass: the output and the cache (see ``_forward_stacked``)."""
        out, cache, _, _, _ = self._forward_stacked(X, interrupt)
        return out, cache

    def _forward_stacked(self, X, interrupt=None):
        """Training-mode forward pass. Every hidden layer's z = h_in W + b, u (what enters phi: z itself, or with a
        norm layer gamma z_hat + beta) and phi(u) are rows of stacked (depth, N, width) arrays Z, U, A, so the
        backward pass takes phi' of all layers in one call; the cache holds, per layer, views
        (h_in, u, phi(u), norm cache), and (h_in, z, None, None) for the output layer. Returns out, cache, Z, U, A."""
        h = np.asarray(X, dtype=self.dtype)
        normed = self.norm != "none"
        Z = np.empty((len(self.params) - 1, len(h), self.sizes[1]), dtype=self.dtype)
        U, A = np.empty_like(Z) if normed else Z, np.empty_like(Z)
        phi = self.activation.f
        in_place = isinstance(phi, np.ufunc)   # np.tanh writes into A; others return a fresh array, copied in
        cache, skip, H = [], self._skip, len(Z)
        for k, (W, b) in enumerate(self.params):
            if interrupt is not None:
                check(interrupt)
            z = np.matmul(h, W, out=Z[k]) if k < H else h @ W
            z += b
            if k == H:
                cache.append((h, z, None, None))
                return self._output(z), cache, Z, U, A
            norm_cache = None
            if normed:
                U[k], norm_cache = self._normalise(k, z)
            if in_place:
                phi(U[k], out=A[k])
            else:
                A[k] = phi(U[k])
            cache.append((h, U[k], A[k], norm_cache))
            h = h + A[k] if skip[k] else A[k]

    # Rows evaluated at once by forward(): it keeps one layer's activations, not all of them.
    FORWARD_CHUNK = 8192

    def forward(self, X) -> np.ndarray:
        """The network's output for each row of X: logits or regression values, shape (N,), or (N, classes).

        Evaluation mode (batch norm uses its running statistics). Nothing is kept for a backward
        pass, and long inputs go through in chunks, so evaluating a large validation set needs
        memory for one layer of one chunk."""
        X = np.asarray(X, dtype=self.dtype)
        n = self.FORWARD_CHUNK
        if len(X) <= n:
            return self._predict(X)
        return np.concatenate([self._predict(X[i:i + n]) for i in range(0, len(X), n)])

    def _predict(self, h):
        phi = self.activation.f
        normed = self.norm != "none"
        for k, (W, b) in enumerate(self.params[:-1]):
            z = h @ W
            z += b
            if normed:
                z = self._normalise_eval(k, z)
            h = h + phi(z) if self._skip[k] else phi(z)
        W, b = self.params[-1]
        return self._output(h @ W + b)

    def _grad_views_for(self, grad_out):
        if grad_out is None:
            grad_flat = np.empty_like(self.flat)
            return grad_flat, self.views(grad_flat), self._norm_views(grad_flat)
        if grad_out is not self._grad_buffer:  # views of a reused buffer are made once
            self._grad_buffer = grad_out
            self._grad_views = (self.views(grad_out), self._norm_views(grad_out))
        return (grad_out,) + self._grad_views

    def backward(self, X, y, grad_out: np.ndarray | None = None, update_running: bool = False,
                 interrupt=None, stats_scratch: np.ndarray | None = None) -> Backward:
        """One forward and backward pass; the chain rule applied layer by layer, output first.

        The gradient is written into ``grad_out`` when given (the trainer reuses one buffer).
        ``update_running``: fold this batch's statistics into batch norm's running averages
        (a training step does; the inspector and gradient checks do not).
        ``interrupt``: checked before each layer's work; ``core.nn.model.Interrupted`` when it returns True
        (only ``grad_out`` has been written to by then).
        ``stats_scratch`` (n_weights values): measure each layer's ||dL/dW||^2, sum |dL/dW| and max |dL/dW|
        right after its dL/dW is computed, while it is still in cache (``Backward.grad_stats``); the
        scratch holds |dL/dW| meanwhile. Pays for large layers; small ones are cheaper measured all at once.
        """
        out, cache, Z, U, A = self._forward_stacked(X, interrupt)
        loss, dout = self.loss_fn(out, np.asarray(y, dtype=self.dtype))
        grad_flat, grads, norm_grads = self._grad_views_for(grad_out)
        L, H = len(self.params), len(Z)
        derivs = self.activation.derivative_into(U, A, np.empty_like(A))  # dh/du = phi'(u), every layer at once
        DZ = np.empty_like(A)                                              # dL/dz of every hidden layer
        delta_norms = np.empty(L)
        skip, ones = self._skip, self._ones(len(dout))
        dz = dout[:, None] if dout.ndim == 1 else dout
        dh = None  # dL/dh of the layer above; set at the end of each iteration
        grad_stats = np.empty((3, L)) if stats_scratch is not None else None
        batched = stats_scratch is None and not self.residual and self.norm == "none" and H > 2
        for k in range(L - 1, -1, -1):
            if interrupt is not None:
                check(interrupt)
            h_in, _, _, norm_cache = cache[k]
            if k < H:
                dz = np.multiply(dh, derivs[k], out=DZ[k])  # dL/du = dL/dh * phi'(u)
                if norm_cache is not None:
                    DZ[k] = self._normalise_backward(k, dz, norm_cache, *norm_grads[k])
            W, (dW, db) = self.params[k][0], grads[k]
            if not (batched and 0 < k < H):    # batched: the hidden-to-hidden layers' after the loop
                np.matmul(h_in.T, dz, out=dW)  # dL/dW = h_in^T dL/dz
            if k == H:                         # the output layer's; the hidden layers' after the loop
                np.matmul(ones, dz, out=db)    # dL/db = 1^T dL/dz
                delta_norms[k] = math.sqrt(np.vdot(dz, dz))
            if grad_stats is not None:
                self._measure_grad(k, dW, stats_scratch, grad_stats)
            if k > 0:   # dL/dh_in = dL/dz W^T; the skip path adds the identity
                dh = dz @ W.T + dh if skip[k] else dz @ W.T
        self._hidden_bias_grads_and_norms(DZ, ones, grad_flat, delta_norms, A if batched else None)
        undo = self._update_running(cache) if update_running and self.norm == "batch" else None
        return Backward(loss, grad_flat, grads, derivs, delta_norms, [cache[k + 1][0] for k in range(H)],
                        norm_grads=norm_grads or None, undo=undo, grad_stats=grad_stats, pre_activations=Z,
                        stacked_activations=None if self.residual else A)   # without skips, A's rows

    def _hidden_bias_grads_and_norms(self, DZ, ones, grad_flat, delta_norms, A=None) -> None:
        """Every hidden layer's dL/db = 1^T dL/dz (the bias folded into one batched product: 2-3x a column sum per
        layer) into grad_flat, and ||dL/dz|| into delta_norms[:-1] (rows of dot products), from the stacked dL/dz.
        ``A`` (the stacked activations, given without skips and norm layers): the hidden-to-hidden layers' dL/dW =
        h_in^T dL/dz as one batched product too (the same BLAS call per layer, one NumPy call; issue 25)."""
        H, _, width = DZ.shape
        if A is not None:
            w0, w1 = self.w_offsets[1], self.w_offsets[H]
            np.matmul(A[:H - 1].transpose(0, 2, 1), DZ[1:], out=grad_flat[w0:w1].reshape(H - 1, width, width))
        b0 = self.b_offsets[0]
        np.matmul(ones, DZ, out=grad_flat[b0:b0 + H * width].reshape(H, width))
        rows = DZ.reshape(H, -1)
        delta_norms[:H] = np.sqrt(np.matmul(rows[:, None, :], rows[:, :, None]).reshape(H))

    def _ones(self, n: int) -> np.ndarray:
        """A vector of n ones (1^T dL/dz sums dL/dz over the batch), kept for the next step of the same size."""
        if self._ones_cache is None or len(self._ones_cache) != n:
            self._ones_cache = np.ones(n, dtype=self.dtype)
        return self._ones_cache

    STATS_CHUNK = 1 << 15   # values: a layer larger than two of these is measured in chunks (issue 25)

    def _measure_grad(self, k: int, dW, scratch, out) -> None:
        """Layer k's ||dL/dW||^2, sum |dL/dW| and max |dL/dW| into out[:, k], read while dW is in cache. A layer
        larger than L2 goes in chunks, so that each chunk's |dL/dW| is summed and its maximum taken while the chunk
        is in cache (at width 1024, four passes over 8 MB from L3 were 4 ms per layer)."""
        v, c = dW.reshape(-1), self.STATS_CHUNK
        parts = [v] if v.size <= 2 * c else [v[a:a + c] for a in range(0, v.size, c)]
        sq, total, peak = 0.0, 0.0, np.float64(-np.inf)
        for part in parts:
            A = np.abs(part, out=scratch[:part.size])   # the same scratch for every layer: it stays in cache
            sq += np.vdot(part, part)
            total += np.add.reduce(A)
            peak = np.maximum(peak, np.maximum.reduce(A))   # NaN propagates
        out[:, k] = sq, total, peak


    def training_loss(self, X, y) -> float:
        """Mean loss as a training step computes it (batch norm: this batch's statistics); changes nothing."""
        return self.loss_fn(self._forward(X)[0], np.asarray(y, dtype=self.dtype))[0]

    def first_nonfinite_layer(self, X) -> int | None:
        """1-based index of the first layer whose output is not finite, or None."""
        _, cache = self._forward(X)
        for k, (_, z, _, _) in enumerate(cache):
            if not np.isfinite(z).all():
                return k + 1
        return None
