"""Where a step first went non-finite: the loss, a layer's gradient or a layer's weights (the Trainer's checks).

The trainer stops at the first non-finite number and records a ``Divergence`` naming the quantity and the layer
where it started (a gradient: the layer nearest the output, since everything below inherits it; weights: the
first layer with a non-finite parameter).
"""
from __future__ import annotations

import math

import numpy as np

from core.training.statistics import Divergence


class DivergenceChecks:
    """A mixin of the Trainer: needs ``network``, ``epoch``, ``step``, ``_w_norms`` and ``_b_slice``."""

    def _check_loss_and_gradient(self, r, X, total: float) -> Divergence | None:
        net = self.network
        if not math.isfinite(r.loss):
            return self._diverged("loss", net.first_nonfinite_layer(X) or net.n_layers)
        if not math.isfinite(total):
            # it starts at the layer nearest the output: everything below inherits it
            grads = [g + (r.norm_grads[k] if r.norm_grads and k < len(r.norm_grads) else ())
                     for k, g in enumerate(r.grads)]
            bad = [k for k, gs in enumerate(grads) if not all(np.isfinite(x).all() for x in gs)]
            return self._diverged("gradient", bad[-1] + 1 if bad else net.n_layers)
        return None

    def _check_weights(self) -> Divergence | None:
        net, flat = self.network, self.network.flat
        if self._w_norms is not None:
            ok = np.isfinite(self._w_norms).all() and np.isfinite(flat[self._b_slice]).all()
        else:
            ok = math.isfinite(float(np.vdot(flat, flat))) or np.isfinite(flat).all()  # vdot may overflow
        if ok:
            return None
        bad = [k for k in range(net.n_layers) if not all(np.isfinite(p).all() for p in net.layer_params(k))]
        return self._diverged("weights", bad[0] + 1)

    def _diverged(self, quantity: str, layer: int) -> Divergence:
        self.divergence = Divergence(self.epoch + 1, self.step, int(layer), quantity)
        return self.divergence
