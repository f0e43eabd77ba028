"""The model interface: what the training loop, the statistics and the divergence checks need of a network.

Any network that offers this plugs into ``Trainer`` unchanged (``MLP`` and ``RecurrentNetwork`` do):

    flat                 every parameter in one buffer: all weights first, then all biases
    params               per layer, input side first: a tuple of views into ``flat`` (the head last)
    views(buffer)        the same tuples over another buffer of ``flat``'s size (a gradient, an update)
    layer_params(k)      every parameter of layer k (an MLP's normalised layer adds gamma and beta)
    n_layers             layers the statistics are kept for (hidden or recurrent layers, then the output)
    w_offsets, n_weights layer k's weights are flat[w_offsets[k]:w_offsets[k + 1]] (the last ends at n_weights)
    activation          the phi whose phi' ``Backward.derivs`` holds (saturation is judged against its max)
    task, loss_fn        "classification" (one logit) or "regression" (one value), and its loss
    forward(X)           outputs, shape (N,), nothing kept for a backward pass
    backward(X, y, grad_out=None, update_running=False, interrupt=None) -> Backward   (update_running: batch
                         norm's running statistics take this batch; a training step passes True, inspection passes
                         False; interrupt: a callable checked between layers, raising ``Interrupted`` when it
                         returns True, before anything of the network has changed; stats_scratch: an optional
                         buffer of n_weights values with which a network may measure its gradient statistics
                         during the pass, in ``Backward.grad_stats``; one that does not leaves it None)
    norm_params          [(gamma, beta), ...] views per normalised hidden layer; empty without normalisation
    loss_and_grads(X, y) the mean loss and gradients shaped like ``params``
    loss(X, y)
    first_nonfinite_layer(X)   1-based index of the first layer whose output is not finite, or None
    recurrent_weights()  W_h of each recurrent layer (none for the MLP), for their spectral norms
    vanishing_bound      Pascanu's 1/gamma for ||W_h||_2 (NaN where it does not apply)
    dtype, loss_fn       the parameters' dtype; the task's loss, loss_fn(outputs, y) -> (loss, dL/doutput)
    sizes                units per layer, input to output (read only with normalisation layers)
    gamma_offsets, beta_offsets   where each hidden layer's gamma and beta start in ``flat`` (empty arrays
                         without normalisation; read only when ``norm_params`` is not empty)
    norm                 the normalisation's name ("none", "batch", "layer"); read by the MLP's Inside recorder

This module holds only the interface: the networks (core.nn.mlp, core.nn.recurrent) import it, and the
registry of model kinds (core.nn.kinds) imports them and builds the one a config names (``build_model``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


class Interrupted(Exception):
    """A pass stopped between layers because its ``interrupt`` callable asked to (e.g. Pause pressed during
    a long step): nothing of the network changed; the caller treats the step as not taken."""


def check(interrupt) -> None:
    """Raise ``Interrupted`` when ``interrupt`` (None: never) returns True."""
    if interrupt is not None and interrupt():
        raise Interrupted()


@dataclass
class Backward:
    """Everything one forward and backward pass measured."""

    loss: float
    grad_flat: np.ndarray          # dL/d(flat parameters), same layout as the network's flat
    grads: list                    # per layer, views into grad_flat shaped like params
    derivs: np.ndarray             # phi'(z) of the hidden units, leading axis: hidden/recurrent layer
    delta_norms: np.ndarray        # ||dL/dz_l|| per layer, input side first (recurrent: over all steps)
    activations: list              # each hidden layer's output
    # recurrent networks only (empty otherwise):
    layer_time_grad_norm: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))  # ||dL/dh_t||, (layers, T)
    gate_derivs: dict = field(default_factory=dict)  # gate name -> per layer sigma'(z) of that gate
    # MLPs with normalisation layers only: [(dgamma, dbeta), ...] per hidden layer, views into grad_flat
    norm_grads: list | None = None
    # puts back what the pass changed in the network (batch norm's running averages), for an abandoned step
    undo: object = None
    # with backward(..., stats_scratch=...): (3, layers) ||dL/dW||^2, sum |dL/dW|, max |dL/dW|; None otherwise
    grad_stats: np.ndarray | None = None
    # MLPs: each hidden layer's pre-activation z = h_in W + b as the pass computed it (before any norm layer),
    # (hidden layers, N, width); empty otherwise
    pre_activations: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0)))
    # issue 21, the Inside page of sequence models: recurrent networks: per layer dL/dh_t (T, N, width) and (in
    # pre_activations, a list) what enters the layer's tanh/phi, (T, N, width); a Transformer: per block dL/dx of
    # its input x_{l-1} (N, T, d), and in branch_outputs per block (Attn(.), MLP(.)) before their branch scale
    hidden_grads: list = field(default_factory=list)
    branch_outputs: list = field(default_factory=list)
    # MLPs without residual connections: ``activations`` as the rows of one (hidden layers, N, width) array (issue
    # 25: the recorder reads them in a few calls instead of a few per layer); None otherwise
    stacked_activations: np.ndarray | None = None

    @property
    def time_grad_norm(self) -> np.ndarray:
        """||dL/dh_t|| of the top recurrent layer for t = 1..T (empty for an MLP)."""
        m = self.layer_time_grad_norm
        return m[-1] if len(m) else np.empty(0)


class LossFromBackward:
    """``loss_and_grads`` and ``loss`` written once from a network's ``backward``, ``forward`` and ``loss_fn``:
    every kind of network inherits them."""

    def loss_and_grads(self, X, y):
        """Mean loss and gradients shaped like ``params``."""
        r = self.backward(X, y)
        return r.loss, r.grads

    def loss(self, X, y) -> float:
        """Mean loss of ``forward`` (evaluation mode: batch norm uses its running statistics)."""
        return self.loss_fn(self.forward(X), np.asarray(y, dtype=self.dtype))[0]


@runtime_checkable
class Model(Protocol):
    """The interface above, for type checkers and ``isinstance`` (methods only)."""

    flat: np.ndarray
    params: list
    w_offsets: np.ndarray
    n_weights: int
    task: str
    dtype: np.dtype
    activation: object
    norm_params: list

    @property
    def vanishing_bound(self) -> float: ...
    def loss_fn(self, outputs, y): ...
    def layer_params(self, k: int) -> tuple: ...

    @property
    def n_layers(self) -> int: ...
    def views(self, flat: np.ndarray) -> list: ...
    def forward(self, X) -> np.ndarray: ...
    def backward(self, X, y, grad_out: np.ndarray | None = None) -> Backward: ...
    def loss_and_grads(self, X, y): ...
    def loss(self, X, y) -> float: ...
    def first_nonfinite_layer(self, X) -> int | None: ...
    def recurrent_weights(self) -> list: ...
