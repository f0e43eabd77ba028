"""The model kinds: one registry entry per kind of network says everything the rest of the program asks of it.

Each ``ModelKind`` gives its builder, whether it reads sequences, the config fields it uses (any other field
must keep its default: ``core.config`` refuses the rest with the reason given here), the theories that hold
for it (or why not), the views the window shows for it, its gates and its memory estimate. Nothing outside
this module compares the kind's name: code asks ``kind_of(config).sequences``, ``"time_steps" in kind.views``.

A new kind is one module (a network with the interface of ``core.nn.model``) plus one entry in ``KINDS``; the
fields only it uses (a transformer's heads, norm_position) go in FIELD_SPECS and in its ``fields``: the other kinds
refuse them with "only transformer uses it" unless their ``unused`` says more.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from core.nn.activations import get_activation
from core.nn.mixed_precision import MixedPrecisionMLP
from core.nn.mlp import MLP, mlp_sizes
from core.nn.precision import LOW_PRECISION
from core.nn.recurrent import CELLS, GATES, RecurrentNetwork

# The theories a readout may quote (core.measure.theory, core.measure.through_time).
MEAN_FIELD = "mean_field"   # chi_1 and the depth scale xi of a wide random feed-forward network
PASCANU = "pascanu"         # ||W_h||_2 < 1/gamma guarantees a vanilla RNN's gradient vanishes through time
MEAN_FIELD_SCOPE = "the theory is for feed-forward networks without residual connections or normalisation"

# Fields every kind uses: the data, the training, the width and depth of the stack, the first layer's init.
COMMON_FIELDS = ("depth", "width", "init", "init_gain", "optimizer", "lr", "batch_size", "epochs", "clip_norm",
                 "dataset", "samples", "noise", "val_fraction", "seed", "dtype", "model", "seq_len")
COMMON_FIELDS += ("warmup_steps",)   # issue 22: linear learning-rate warm-up, in the trainer for every kind
RECURRENT_FIELDS = ("recurrent_init", "recurrent_gain")
PRECISION_FIELDS = ("loss_scale", "master_weights")   # issue 24: emulated for the MLP only

# The views of gui/panels/recurrent/* (the per-step bars, the heatmap over steps, the chain through time, the
# spectral readout, the predictions over a sequence) and the Inside page (gui/panels/inside).
TIME_VIEWS = ("time_steps", "time_heatmap", "time_chain", "spectral", "sequence_prediction")


@dataclass(frozen=True)
class ModelKind:
    """What one kind of network is, uses, supports and costs.

    build(config, n_in, task, rng, dtype, n_out) -> a network with the interface of ``core.nn.model``.
    fields: the config fields it uses. ``unused`` gives, for fields it does not use, why (one clause, e.g.
    "it has no normalisation layers"); ``accepts`` extra values of an unused field that say what the kind
    does anyway (the gated cells' "tanh"). theories: theory -> None where it holds, else why not; a callable
    (config -> None or why) where it depends on other settings. memory(config, n_features, steps, item,
    optimizer_states, history_row) -> bytes by what needs them (core.runtime.resources adds them up).
    """

    name: str
    label: str
    article: str                 # "an MLP", "a GRU": for sentences
    build: Callable
    sequences: bool              # reads (N, T, n_in) input; False: one vector per sample
    fields: tuple
    unused: dict = field(default_factory=dict)
    accepts: dict = field(default_factory=dict)
    theories: dict = field(default_factory=dict)
    views: tuple = ()
    gates: int = 0
    memory: Callable | None = None
    dtypes: tuple = ("float64", "float32")   # the config dtypes it trains in (issue 24: low precision)

    def uses(self, name: str) -> bool:
        return name in self.fields

    def why_unused(self, name: str) -> str:
        """Why this kind does not use field ``name``: its own words, else which kinds do (a field a new kind
        brings, e.g. a transformer's heads, needs no entry in the other kinds)."""
        if name in self.unused:
            return self.unused[name]
        users = [k.name for k in KINDS.values() if k.uses(name)]
        return f"only {' and '.join(users)} use{'s' if len(users) == 1 else ''} it" if users else "no model uses it"

    def theory_reason(self, theory: str, config=None) -> str | None:
        """None when ``theory`` holds for this kind (and ``config``'s other settings), else one line why not."""
        why = self.theories.get(theory, f"the theory is not for {self.article}")
        return why(config) if callable(why) else why


def _build_mlp(config, n_in, task, rng, dtype, n_out=1):
    if config.dtype in LOW_PRECISION:   # issue 24: mixed precision, emulated in float32
        return MixedPrecisionMLP(n_in, config.depth, config.width, get_activation(config.activation), config.init,
                                 config.init_gain, config.residual, task, rng,
                                 norm=config.norm, n_out=n_out, bias_std=config.bias_std, fmt=config.dtype,
                                 master_weights=config.master_weights)
    return MLP(n_in, config.depth, config.width, get_activation(config.activation), config.init, config.init_gain,
               config.residual, task, rng, dtype, config.norm, n_out, config.bias_std)


def _build_recurrent(config, n_in, task, rng, dtype, n_out=1):
    return RecurrentNetwork(config.model, n_in, config.depth, config.width, get_activation(config.activation),
                            config.init, config.init_gain, config.recurrent_init, config.recurrent_gain,
                            config.forget_bias, task, rng, dtype)


def _mlp_mean_field(config) -> str | None:
    if config is None:
        return None
    if config.residual:
        return f"does not apply with residual connections ({MEAN_FIELD_SCOPE})"
    if config.norm != "none":
        return f"does not apply with {config.norm} norm ({MEAN_FIELD_SCOPE})"
    return None


OPTIMIZER_ARRAYS = 4   # parameters, gradient, update, |gradient| scratch (plus the optimiser's state)
ACTIVATION_ARRAYS = 5  # per hidden layer and sample during a step: h, z, phi(z), phi'(z), dL/dz
NORM_ARRAYS = 3        # and with a normalisation layer: z - mean, z_hat, gamma z_hat + beta


def _mlp_memory(config, n_features, steps, item, optimizer_states, history_row, n_out=1) -> dict:
    normed = config.norm != "none"
    n_features *= steps  # an MLP reads a sequence as one long input
    sizes = mlp_sizes(n_features, config.depth, config.width, n_out)
    weights = sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))
    params = weights + sum(sizes[1:]) + (2 * config.depth * config.width if normed else 0)
    batch = min(config.batch_size, config.samples - round(config.samples * config.val_fraction))
    return {
        "parameters": (OPTIMIZER_ARRAYS + optimizer_states) * params * item,
        "activations": (ACTIVATION_ARRAYS + NORM_ARRAYS * normed) * config.depth * batch * config.width * item,
        "evaluation": 3 * min(config.samples, 8192) * config.width * item,
        "data": config.samples * (n_features + 1) * item * 2,
        # every epoch's statistics in arrays that double when full: old and new together, up to 3 rows an epoch
        "history": 3 * config.epochs * history_row,
    }


def _recurrent_memory(config, n_features, steps, item, optimizer_states, history_row, n_out=1) -> dict:
    G, H, L = GATES[config.model], config.width, config.depth
    biases = CELLS[config.model].bias_vectors   # the GRU keeps b_h apart from b_x (r multiplies it)
    params = sum((n + H + biases) * G * H for n in [n_features] + [H] * (L - 1)) + H + 1
    batch = min(config.batch_size, config.samples - round(config.samples * config.val_fraction))
    per_unit = 4 * G + 5  # per layer, step, sample and unit during BPTT: caches, gates, their derivatives, dL/dz, dL/dh
    return {
        "parameters": (OPTIMIZER_ARRAYS + optimizer_states) * params * item,
        "activations": per_unit * L * steps * batch * H * item,
        "evaluation": 2 * min(config.samples * steps * (G + 3) * H * L, 1 << 22) * item,
        "data": config.samples * steps * (n_features + 1) * item * 2,
    }


_NO_RECURRENCE = "it has no recurrent weights"
_NO_FORGET_GATE = "it has no gate that keeps the old state (only lstm and gru have one)"
_NO_NORM = "it has no normalisation layers"
_NO_RESIDUAL = "skip connections are for the mlp's hidden layers"
_GATED_ACTIVATION = "its cells use sigmoid gates and tanh, as their equations say"
_MLP_ONLY_PRECISION = "low precision is emulated for the mlp only"
_GATED_BIAS = "its biases start at zero, the kept-state gate's at forget_bias"
PASCANU_GATED = "the gates carry the gradient past W_h"


def _recurrent_kind(name: str, label: str, article: str, gated: bool) -> ModelKind:
    fields = COMMON_FIELDS + RECURRENT_FIELDS + (("forget_bias",) if gated else ("activation",))
    unused = {"norm": _NO_NORM, "residual": _NO_RESIDUAL, "loss_scale": _MLP_ONLY_PRECISION,
              "master_weights": _MLP_ONLY_PRECISION,
              "bias_std": _GATED_BIAS if gated else "its biases start at zero"}
    unused.update({"activation": _GATED_ACTIVATION} if gated else {"forget_bias": _NO_FORGET_GATE})
    theories = {MEAN_FIELD: f"does not apply to {article} ({MEAN_FIELD_SCOPE})",
                PASCANU: PASCANU_GATED if gated else None}
    return ModelKind(name, label, article, _build_recurrent, True, fields, unused,
                     {"activation": ("tanh",)} if gated else {}, theories, TIME_VIEWS, GATES[name],
                     _recurrent_memory)


KINDS: dict[str, ModelKind] = {
    "mlp": ModelKind("mlp", "MLP (feed-forward)", "an MLP", _build_mlp, False,
                     COMMON_FIELDS + ("activation", "bias_std", "residual", "norm") + PRECISION_FIELDS,
                     {"recurrent_init": _NO_RECURRENCE, "recurrent_gain": _NO_RECURRENCE,
                      "forget_bias": "it has no gates"},
                     theories={MEAN_FIELD: _mlp_mean_field, PASCANU: "it has no recurrent weights"},
                     views=("inside", "jacobian", "precision"), memory=_mlp_memory,
                     dtypes=("float64", "float32") + LOW_PRECISION),
    "rnn": _recurrent_kind("rnn", "RNN (vanilla)", "an RNN", gated=False),
    "lstm": _recurrent_kind("lstm", "LSTM", "an LSTM", gated=True),
    "gru": _recurrent_kind("gru", "GRU", "a GRU", gated=True),
}


# -- issue 22: the Transformer (core/nn/transformer) -------------------------------------------------------
TRANSFORMER_FIELDS = ("activation", "heads", "norm_position", "branch_scale")


def _build_transformer(config, n_in, task, rng, dtype, n_out=1):
    from core.nn.transformer import Transformer   # imported when built: the registry loads without it
    return Transformer(n_in, config.depth, config.width, config.heads, get_activation(config.activation),
                       config.init, config.init_gain, config.norm_position, config.branch_scale, task, rng, dtype,
                       n_out, config.seq_len)


def transformer_param_count(n_in: int, depth: int, d: int, n_out: int, pre: bool, rezero: bool) -> int:
    """Parameters of core.nn.transformer's layout: embedding, per block Q K V O (d x d + d each), two LNs,
    W1 (d x 4d) + b1, W2 (4d x d) + b2 (and two alphas with ReZero), the final LN (pre-LN), the head."""
    block = 4 * (d * d + d) + 4 * d + (4 * d * d + 4 * d) + (4 * d * d + d) + 2 * rezero
    return n_in * d + d + depth * block + 2 * d * pre + d * n_out + n_out


# per block, sample and position during a step: the LN caches, u, Q, K, V, the heads' output, the MLP's z, phi(z),
# phi'(z) (4d each), dL/d of these; and per head the attention matrix row and its gradient (T values each)
TRANSFORMER_TOKEN_ARRAYS = 40


def _transformer_memory(config, n_features, steps, item, optimizer_states, history_row, n_out=1) -> dict:
    d, L, T = config.width, config.depth, steps
    params = transformer_param_count(n_features, L, d, n_out, config.norm_position == "pre",
                                     config.branch_scale == "rezero")
    batch = min(config.batch_size, config.samples - round(config.samples * config.val_fraction))
    per_token = TRANSFORMER_TOKEN_ARRAYS * d + 3 * config.heads * T
    return {
        "parameters": (OPTIMIZER_ARRAYS + optimizer_states) * params * item,
        "activations": L * batch * T * per_token * item,
        # forward() evaluates in chunks of about 4M cached values (Transformer.FORWARD_ELEMENTS)
        "evaluation": min(config.samples * T * per_token * L, 1 << 22) * item * 2,
        "data": config.samples * T * (n_features + 1) * item * 2,
        "history": 3 * config.epochs * history_row,
    }


KINDS["transformer"] = ModelKind(
    "transformer", "Transformer (attention)", "a Transformer", _build_transformer, True,
    COMMON_FIELDS + TRANSFORMER_FIELDS,
    {"bias_std": "its biases start at zero", "residual": "its skip connections are set by branch_scale",
     "norm": "its LayerNorms are placed by norm_position", "recurrent_init": _NO_RECURRENCE,
     "recurrent_gain": _NO_RECURRENCE, "forget_bias": "it has no gates"},
    theories={MEAN_FIELD: f"does not apply to a Transformer (attention mixes positions and LayerNorm rescales; "
                          f"{MEAN_FIELD_SCOPE})",
              PASCANU: "it has no recurrent weights: attention reaches every earlier position in one step"},
    views=("time_steps", "time_heatmap", "sequence_prediction"), memory=_transformer_memory)

# issue 22, the window: the Transformer's own views (gui/panels/transformer): the gradient per block and sub-layer,
# the read-out position's attention per head, the token similarity per block (rank collapse)
TRANSFORMER_VIEWS = ("transformer_blocks", "attention_map", "token_similarity")
KINDS["transformer"] = replace(KINDS["transformer"], views=KINDS["transformer"].views + TRANSFORMER_VIEWS)

# issue 21: the Inside page of sequence models (core/measure/sequence_inside.py, gui/panels/inside/sequence_*.py):
# per layer or block and per time step or position, the forward signal, the distributions, the unrolled picture
SEQUENCE_INSIDE = "inside_time"
for _name in ("rnn", "lstm", "gru", "transformer"):
    KINDS[_name] = replace(KINDS[_name], views=KINDS[_name].views + (SEQUENCE_INSIDE,))


def kind_of(config_or_name) -> ModelKind:
    """The kind of a config (its ``model``) or of a kind's name; KeyError naming the known kinds otherwise."""
    name = config_or_name if isinstance(config_or_name, str) else config_or_name.model
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown model kind {name!r}; known kinds: {', '.join(KINDS)}") from None


def build_model(config, n_in: int, task: str, rng, dtype, n_out: int = 1):
    """The network a config describes: its kind's builder."""
    return kind_of(config).build(config, n_in, task, rng, dtype, n_out)
