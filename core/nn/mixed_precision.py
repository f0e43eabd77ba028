"""The MLP trained in float16 or bfloat16 as mixed precision, every rounding emulated exactly in float32.

``flat`` holds float32 master weights (``master_weights``), or the weights themselves in the format (then the
trainer rounds w + update back to the format). Each step:

- the weights are rounded to the format (``W_q``, ``b_q``); the input too;
- every product takes rounded inputs, accumulates in float32 and rounds its result: a layer's z = r(h W_q + b_q)
  is one product with the bias accumulated, as PyTorch's Linear (addmm) computes it in float16; every
  elementwise result is rounded (r(phi(z)), r(h + phi(z)), r(phi'(z)));
- the loss is taken in float32 from the rounded output; dL/d(output) is multiplied by the loss scale and rounded;
- gradients are rounded as they flow back: dL/dz = r(dL/dh * phi'), dL/dh_in = r(dL/dz W_q^T);
- weight gradients are accumulated in float32 and rounded (dL/dW = r(h_in^T dL/dz)), then stored in float32:
  the trainer unscales them and updates the master weights.

Alongside, the same backward pass without rounding the gradients (the same rounded weights, activations and
phi') gives each weight gradient "before rounding": ``rounding`` holds per layer the share of dL/dW entries
that are non-zero (below the format's smallest normal number) there and zero in the format (underflow), and
finite there and inf in the format (overflow).
"""
from __future__ import annotations

import math

import numpy as np

from core.nn.mlp import MLP
from core.nn.model import Backward, check
from core.nn.precision import rounder, rounding_shares


class MixedPrecisionMLP(MLP):
    def __init__(self, *args, fmt: str = "float16", master_weights: bool = True, **kwargs):
        kwargs["dtype"] = np.float32
        super().__init__(*args, **kwargs)
        self.fmt = fmt
        self.round = rounder(fmt)   # (x, out=None) for float32 arrays
        self.master_weights = master_weights
        if not master_weights:
            self.round(self.flat, out=self.flat)   # the weights are stored in the format
        self.rounding = np.zeros((2, self.n_layers))   # underflow, overflow of the latest backward pass
        self._q_flat = np.empty_like(self.flat)
        self._exact, self._exact_w = None, None

    def store(self) -> None:
        """After an update: without master weights the weights themselves are kept in the format."""
        if not self.master_weights:
            self.round(self.flat, out=self.flat)

    def _quantised_params(self):
        self.round(self.flat, out=self._q_flat)
        return self.views(self._q_flat)

    def _forward_stacked(self, X, interrupt=None):
        R = self.round
        params = self._quantised_params()
        h = R(np.ascontiguousarray(X, dtype=np.float32))
        H = len(params) - 1
        Z = np.empty((H, len(h), self.sizes[1]), dtype=np.float32)
        A = np.empty_like(Z)
        cache = []
        for k, (W, b) in enumerate(params):
            if interrupt is not None:
                check(interrupt)
            z = h @ W
            z += b
            z = R(z, out=z)         # one product with the bias accumulated, rounded once (as torch's addmm)
            if k == H:
                cache.append((h, z, None, None))
                self._params_q = params
                return self._output(z), cache, Z, Z, A
            Z[k] = z
            A[k] = R(self.activation.f(z))
            cache.append((h, Z[k], A[k], None))
            h = R(h + A[k]) if self._skip[k] else A[k]

    def _predict(self, h):
        R = self.round
        params = self._quantised_params()
        h = R(np.ascontiguousarray(h, dtype=np.float32))
        for k, (W, b) in enumerate(params[:-1]):
            a = R(self.activation.f(R(h @ W + b)))
            h = R(h + a) if self._skip[k] else a
        W, b = params[-1]
        return self._output(R(h @ W + b))

    def backward(self, X, y, grad_out=None, update_running=False, interrupt=None, stats_scratch=None) -> Backward:
        """As MLP.backward, in the format (with loss scaling, ``loss_fn``'s gradient is already scaled: see
        core/training/precision_step.py, which also unscales the gradient and ``delta_norms``). Each layer's dL/dW = h_in^T dL/dz and
        dL/db = 1^T dL/dz are accumulated in float32 and all rounded at once after the loop (the same values as
        rounding each as it is made; fewer calls); the pass without rounding fills ``self._exact``."""
        R = self.round
        out, cache, Z, U, A = self._forward_stacked(X, interrupt)
        loss, dout = self.loss_fn(out, np.asarray(y, dtype=np.float32))
        grad_flat, grads, _ = self._grad_views_for(grad_out)
        exact_grads = self._exact_views()
        L, H = len(self.params), len(Z)
        derivs = R(self.activation.derivative_into(U, A, np.empty_like(A)))
        DZ = np.empty_like(A)
        delta_norms = np.empty(L)
        ones = self._ones(len(dout))
        dz = R(dout[:, None] if dout.ndim == 1 else dout)
        dz_x = dz                                   # the same pass without rounding the gradients
        dh = dh_x = None
        for k in range(L - 1, -1, -1):
            if interrupt is not None:
                check(interrupt)
            h_in = cache[k][0]
            if k < H:
                dz = R(np.multiply(dh, derivs[k], out=DZ[k]), out=DZ[k])
                dz_x = dh_x * derivs[k]
            W = self._params_q[k][0]
            dW, db = grads[k]
            np.matmul(h_in.T, dz_x, out=exact_grads[k])
            np.matmul(h_in.T, dz, out=dW)           # accumulated in float32; rounded after the loop
            np.matmul(ones, dz, out=db)
            if k == H:
                delta_norms[k] = math.sqrt(np.vdot(dz, dz.astype(np.float64)))
            if k > 0:
                dh_new, dh_x_new = R(dz @ W.T), dz_x @ W.T
                if self._skip[k]:
                    dh_new, dh_x_new = R(dh_new + dh), dh_x_new + dh_x
                dh, dh_x = dh_new, dh_x_new
        rows = DZ.reshape(H, -1).astype(np.float64)   # every hidden layer's ||dL/dz|| in one call
        delta_norms[:H] = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        R(grad_flat, out=grad_flat)                 # every dL/dW and dL/db rounded to the format
        n = self.n_weights
        self.rounding[...] = rounding_shares(self._exact, grad_flat[:n], self.w_offsets, self.fmt)
        activations = [cache[k + 1][0] for k in range(H)]
        return Backward(loss, grad_flat, grads, derivs, delta_norms, activations, norm_grads=None,
                        undo=None, grad_stats=None, pre_activations=Z)

    def _exact_views(self):
        """Each layer's dL/dW of the pass without rounding, as views of one float32 buffer (made once)."""
        if self._exact is None:
            self._exact = np.empty(self.n_weights, dtype=np.float32)
            self._exact_w = [self._exact[o:o + i * n].reshape(i, n)
                             for o, i, n in zip(self.w_offsets, self.sizes[:-1], self.sizes[1:])]
        return self._exact_w
