"""What a training step does and measures for low precision (issue 24), for every dtype.

- loss scaling: the backward pass takes the loss times ``scale`` (``scaled_loss`` gives the network a loss
  function whose gradient is scaled, for that pass: the networks need no parameter for it); the gradient is divided by it (multiplied
  by its float reciprocal, as GradScaler unscales), and so are the error signals' norms, before anything reads
  them; dynamic scaling skips a step whose gradient is not finite (``core.nn.precision.LossScaler``);
- without master weights the updated weights are rounded back to the format (``network.store``);
- per weight layer (W only, not the biases):
  - ``underflow``: share of dL/dW entries non-zero before rounding to the format and zero after;
  - ``overflow``: share finite before and inf after (both from ``MixedPrecisionMLP.rounding``; float64 and
    float32 round no gradient to another format: 0);
  - ``lost_updates``: among the weights whose gradient (as applied: unscaled, clipped) is non-zero, the share
    whose stored value is exactly the same after the step as before: w + update rounded back to w. NaN for a
    step that applied no update (skipped by dynamic loss scaling, or diverged).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from core.nn.precision import LOW_PRECISION, LossScaler, changed_share


class PrecisionStep:
    def __init__(self, config, network):
        self.scaler = LossScaler(config.loss_scale)
        self.network = network
        self._offsets = network.w_offsets
        self._sizes = np.diff(np.append(network.w_offsets, network.n_weights))
        self._before = np.empty(network.n_weights, dtype=network.flat.dtype)
        self._store = getattr(network, "store", None)
        self._loss_fn = getattr(network, "loss_fn", None)
        self.scale_used = 1.0     # the scale of the latest backward pass
        # every step's values go into the epoch's record only where steps differ in kind: a low-precision format
        # or loss scaling (float64/float32 records carry the epoch's means)
        self.detailed = config.dtype in LOW_PRECISION or config.loss_scale != "none"

    @contextmanager
    def scaled_loss(self):
        """During the backward pass: the network's loss function, its gradient times this step's scale (put
        back afterwards, also when the pass is interrupted)."""
        self.scale_used = scale = self.scaler.scale
        loss_fn = self._loss_fn
        if scale != 1.0:
            self.network.loss_fn = lambda out, y: _scaled(loss_fn(out, y), scale)
        try:
            yield
        finally:
            self.network.loss_fn = loss_fn

    def unscale(self, r) -> None:
        """After it: the gradient and the error signals' norms of the loss itself."""
        if self.scale_used != 1.0:
            r.grad_flat *= r.grad_flat.dtype.type(1.0 / self.scale_used)
            r.delta_norms /= self.scale_used

    def accept(self, total: float, update: np.ndarray) -> bool:
        """False when dynamic loss scaling skips this step (its gradient not finite); then ``update`` (the
        optimiser's buffer) is zeroed: nothing may read the previous step's update as this one's."""
        applied = self.scaler.update(bool(np.isfinite(total)))
        if not applied:
            update.fill(0.0)
        return applied

    @property
    def stores_as_computed(self) -> bool:
        """The weights are kept as w + update computes them (not rounded to a smaller format after the step)."""
        return self._store is None

    def keep(self, flat: np.ndarray) -> None:
        """Before the update: remember the stored weights."""
        np.copyto(self._before, flat[:self.network.n_weights])

    def stored(self) -> None:
        """After the update: without master weights, round the weights back to the format."""
        if self._store is not None:
            self._store()

    def lost_updates(self, flat: np.ndarray, g: np.ndarray) -> np.ndarray:
        n = self.network.n_weights
        return changed_share(self._before, flat[:n], g[:n], self._offsets, self._sizes)

    def rounding(self) -> tuple[np.ndarray, np.ndarray]:
        """(underflow, overflow) per layer of the latest backward pass."""
        r = getattr(self.network, "rounding", None)
        if r is None:
            z = np.zeros(self.network.n_layers)
            return z, z.copy()
        return r[0].copy(), r[1].copy()


def _scaled(loss_and_grad, scale: float):
    loss, dout = loss_and_grad
    return loss, dout * dout.dtype.type(scale)


def zeroed_by_underflow(stats) -> np.ndarray:
    """Per layer: True where every dL/dW entry of the step is 0 and some underflowed (the others are true zeros:
    0 in the pass without rounding too)."""
    return (np.asarray(stats.grad_max_abs) == 0) & (np.asarray(stats.underflow) > 0)


def widest_precision(trainer, widest: float) -> dict:
    """EpochStats fields of the precision part at their longest in a record (for the CLI's size bound)."""
    from core.training.statistics import PRECISION_FIELDS, PrecisionSteps
    n = trainer.network.n_layers
    out = {f: np.full(n, widest) for f in PRECISION_FIELDS}
    steps = None
    if trainer.precision.detailed:
        steps = PrecisionSteps()
        row = type("Row", (), {"step": 10 ** 12, "loss_scale": widest, "skipped": False, **out})
        for _ in range(trainer.batches_per_epoch):
            steps.add(row)
    return {**out, "loss_scale": widest, "skipped_steps": 10 ** 12, "precision_steps": steps}


def precision_columns(config) -> bool:
    """Whether a CSV of this run carries the precision columns: any run not in float64 or with loss scaling (a
    float64 run without scaling rounds nothing to another format: its CSV stays as it was)."""
    return config.dtype != "float64" or config.loss_scale != "none"
