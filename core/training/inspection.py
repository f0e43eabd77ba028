"""What a trainer's network looks like now, measured without training: a pass on the latest batch, the chain
rule with its numbers, the spectral norms of the recurrent weights, the predictions over the input plane.
``Trainer`` inherits these; they read its ``network``, ``data``, ``config`` and latest batch and change nothing.
"""
from __future__ import annotations

import numpy as np

from core.data.datasets import SEQUENCE_DATASETS
from core.nn.activations import logistic
from core.nn.losses import softmax


class Inspection:
    """Measurements of a Trainer's network at its current weights (mixed into ``Trainer``)."""

    def spectral_norms(self) -> np.ndarray:
        """||W_h||_2, the largest singular value, of each recurrent layer (none for an MLP)."""
        weights = self.network.recurrent_weights()
        if not weights:
            return np.empty(0)
        with np.errstate(all="ignore"):
            return np.array([np.linalg.norm(W, 2) if np.isfinite(W).all() else np.nan for W in weights])

    def _latest_batch(self):
        """The samples of the latest batch (the first batch's size of samples before any step)."""
        idx = self._last_idx if self._last_idx is not None else np.arange(min(self.config.batch_size,
                                                                              len(self.data.y_train)))
        return self.data.X_train[idx], self.data.y_train[idx]

    def measure(self):
        """A forward and backward pass on the latest batch at the current weights, updating nothing:
        the network's ``Backward`` (what the gradient looks like before the first step, too)."""
        with np.errstate(all="ignore"):
            return self.network.backward(*self._latest_batch())

    def gradient_norms(self) -> np.ndarray:
        """||dL/dW|| per layer on the latest batch at the current weights, without updating anything."""
        with np.errstate(all="ignore"):
            return self._layers.norms(self.measure().grad_flat)

    def time_gradient_norms(self) -> np.ndarray:
        """||dL/dh_t|| of the top recurrent layer, t = 1..T, on the latest batch at the current weights
        (empty for an MLP)."""
        return self.measure().time_grad_norm

    def error_signal_norms(self) -> np.ndarray:
        """||dL/dz|| per layer on the latest batch at the current weights, without updating anything."""
        with np.errstate(all="ignore"):
            return np.asarray(self.measure().delta_norms, dtype=float)

    def initial_measures(self) -> tuple:
        """(gradient_norms, error_signal_norms, transformer_measures) from one pass, as the three would give."""
        from core.training.transformer_stats import from_pass
        r = self.measure()
        with np.errstate(all="ignore"):
            grad, delta = self._layers.norms(r.grad_flat), np.asarray(r.delta_norms, dtype=float)
        tpass = getattr(r, "transformer", None)
        return grad, delta, None if tpass is None else from_pass(self.network, tpass, None, applied=False)

    def transformer_measures(self):
        """A transformer's TransformerStats on the latest batch at the current weights, nothing updated (update
        ratios 0); None for another kind."""
        from core.training.transformer_stats import from_pass
        tpass = getattr(self.measure(), "transformer", None)
        return None if tpass is None else from_pass(self.network, tpass, None, applied=False)

    def chain_rule(self):
        """The chain rule with this network's numbers: the latest step's own ||dL/dz_l|| and mean |phi'| (the
        weights before its update), without another pass; before any step, a pass on the first batch."""
        from core.measure.inspector import chain_from_step, chain_rule
        if self.last_batch is not None:
            return chain_from_step(self.last_batch.delta_norms, self.last_batch.act_deriv_abs_mean)
        return chain_rule(self.network, *self._latest_batch())

    def time_chain(self):
        """The chain rule back through time for the latest batch: per-step factors and their running product
        (None for an MLP)."""
        from core.measure.inspector import chain_through_time
        return chain_through_time(self.time_gradient_norms())

    # -- what the network predicts, for pictures --------------------------------------
    def _forward_chunks(self, X, interrupt):
        """network.forward(X) in chunks of rows, asking ``interrupt`` between them (None when it asks)."""
        if interrupt is None:
            return self.network.forward(X)
        rows = max(8, int(1e9 / max(self.network.flat.size, 1)))
        parts = []
        for i in range(0, len(X), rows):
            if interrupt():
                return None
            parts.append(self.network.forward(X[i:i + rows]))
        return np.concatenate(parts)

    def prediction_grid(self, resolution: int = 80, interrupt=None):
        """The network's output over the input space.

        2-D data: (xs, ys, P) with P[i, j] the predicted probability of class 1 at (xs[j], ys[i]);
        multi-class: P[i, j, c] the probability of class c (argmax over c is the predicted class);
        regression on 2 or more features: the predicted value. More than 2 features: the grid
        spans the first two, the others held at their training mean 0 (``data.boundary_label``
        says so). 1-D data: (xs, None, predictions).
        None for a sequence task: its inputs do not span a plane.
        ``interrupt`` (a callable): checked between chunks of the grid (each about 1e9 multiply-adds);
        None when it asked.
        """
        if self.data.name in SEQUENCE_DATASETS:
            return None
        X = np.concatenate([self.data.X_train[:, :2], self.data.X_val[:, :2]])
        lo, hi = X.min(axis=0) - 0.25, X.max(axis=0) + 0.25
        xs = np.linspace(lo[0], hi[0], resolution)
        n_features = self.data.n_features
        with np.errstate(all="ignore"):
            if n_features == 1:
                return xs, None, self.network.forward(xs[:, None])
            ys = np.linspace(lo[1], hi[1], resolution)
            gx, gy = np.meshgrid(xs, ys)
            grid = np.zeros((resolution * resolution, n_features), dtype=self.network.dtype)
            grid[:, 0], grid[:, 1] = gx.ravel(), gy.ravel()
            out = self._forward_chunks(grid, interrupt)
            if out is None:
                return None
            if self.data.task == "multiclass":
                return xs, ys, softmax(out).reshape(resolution, resolution, -1)
            if self.data.task == "classification":
                out = logistic(out)
        return xs, ys, out.reshape(resolution, resolution)
