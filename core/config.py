"""ExperimentConfig: every setting of a run, with defaults and validation.

Every error message names the field, the bad value and what is allowed, e.g.
``depth must be an integer from 1 to 100, got -1``.

``FIELD_SPECS`` is the one table the validator, the CLI and the window's editors read. A new
setting is one line there (with the helpers ``_int``, ``_float``, ``_choice``, ``_bool``,
``_optional_float``) plus its attribute on ``ExperimentConfig``; the window makes its editor.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from core.nn.activations import ACTIVATIONS
from core.data.datasets import CLASSIFICATION, DATASET_LABELS, MULTICLASS, SEQUENCE_DATASETS
from core.nn.initializers import INIT_LABELS, RECURRENT_INIT_LABELS
from core.nn.kinds import KINDS, kind_of
from core.nn.mlp import NORMS
from core.nn.optimizers import OPTIMIZER_LABELS
from core.nn.precision import LOW_PRECISION, parse_loss_scale

DTYPES = ("float64", "float32", "float16", "bfloat16")
STORAGE = {"float64": "float64", "float32": "float32", "float16": "float32", "bfloat16": "float32"}  # the arrays' dtype
SHOWN_CHARS = 200   # an error message quotes at most this much of a bad value


class ConfigError(ValueError):
    """A config value is malformed or out of range; the message names the field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def shown(value: Any) -> str:
    """``repr(value)``, cut to SHOWN_CHARS characters: a message quotes a bad value, not a whole file."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}… ({len(text)} characters)"


RECURRENT_GROUP = "Recurrent network"   # shown in the window when the kind or the data set uses a field of it
MODELS = {name: kind.label for name, kind in KINDS.items()}


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class FieldSpec:
    """What one config field accepts, and hints for its editor in the window.

    kind: "int", "float", "optional_float" (None or a number greater than lo), "bool" or "choice".
    label: the editor's caption; tip: its one-sentence tooltip; group: the panel box it goes in.
    decimals: the spin box's step precision; log: a log-scale slider spans [lo, log_hi] (float fields).
    widget: the editor's object name when it differs from the default (camelCase field + kind suffix).
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple = ()
    labels: tuple = ()        # display names of ``choices``, same order
    label: str = ""
    tip: str = ""
    group: str = "Training"
    decimals: int = 3
    log: tuple | None = None  # (lowest, highest) of a log slider
    widget: str = ""

    def allowed(self) -> str:
        """What the field accepts, in words."""
        if self.kind == "int":
            return f"an integer from {self.lo} to {self.hi}"
        if self.kind == "float":
            low, joiner = ("greater than", "and at most") if self.lo_open else ("from", "to")
            return f"a number {low} {_fmt(self.lo)} {joiner} {_fmt(self.hi)}"
        if self.kind == "optional_float":
            return f"null (no clipping) or a number greater than {_fmt(self.lo)}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "loss_scale":
            return "none, dynamic or a number greater than 0"
        return "one of " + ", ".join(self.choices)

    def check(self, name: str, value: Any) -> Any:
        """``value`` (of a JSON type) normalised, or ConfigError naming the field, the value and what is allowed."""
        bad = ConfigError(name, f"{name} must be {self.allowed()}, got {shown(value)}")
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
                raise bad
            if not self.lo <= int(value) <= self.hi:
                raise bad
            return int(value)
        if self.kind in ("float", "optional_float"):
            if self.kind == "optional_float" and value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad
            value = float(value)
            lo_open = self.lo_open or self.kind == "optional_float"
            if value < self.lo or (lo_open and value == self.lo) or value > self.hi:
                raise bad
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        if self.kind == "loss_scale":
            try:
                return parse_loss_scale(value)
            except ValueError:
                raise bad from None
        if not isinstance(value, str) or value not in self.choices:
            raise bad
        return value

    def parse(self, name: str, text: str) -> Any:
        """A command-line string turned into a value, then checked."""
        t = text.strip()
        value: Any = text
        if self.kind == "int":
            try:
                value = int(t)
            except ValueError:
                pass
        elif self.kind in ("float", "optional_float"):
            if self.kind == "optional_float" and t.lower() in ("none", "null", "off", ""):
                return None
            try:
                value = float(t)
            except ValueError:
                pass
        elif self.kind == "bool":
            value = {"true": True, "1": True, "yes": True, "on": True,
                     "false": False, "0": False, "no": False, "off": False}.get(t.lower(), text)
        elif self.kind == "loss_scale":
            value = t
        elif self.kind == "choice":
            value = t.lower() if t.lower() in self.choices else t.lower().replace("-", "_")
            if value not in self.choices:
                value = text
        return self.check(name, value)


# One-line constructors for the table below (and for fields other branches add).
def _int(lo: int, hi: int, **hints) -> FieldSpec:
    return FieldSpec("int", lo, hi, **hints)


def _float(lo: float, hi: float, lo_open: bool = False, **hints) -> FieldSpec:
    return FieldSpec("float", lo, hi, lo_open=lo_open, **hints)


def _optional_float(lo: float, hi: float, **hints) -> FieldSpec:
    return FieldSpec("optional_float", lo, hi, lo_open=True, **hints)


def _bool(**hints) -> FieldSpec:
    return FieldSpec("bool", **hints)


def _choice(values, **hints) -> FieldSpec:
    """``values``: a sequence of names, or a dict name -> display label."""
    labels = tuple(values.values()) if isinstance(values, dict) else tuple(hints.pop("labels", values))
    return FieldSpec("choice", choices=tuple(values), labels=labels, **hints)


FIELD_SPECS: dict[str, FieldSpec] = {
    "depth": _int(1, 300, label="Hidden layers", group="Network", widget="depthSpin",
                  tip="Number of hidden layers. Deeper networks multiply more per-layer factors into each gradient."),
    "width": _int(1, 1024, label="Width", group="Network", tip="Units in each hidden layer."),
    "activation": _choice({k: a.label for k, a in ACTIVATIONS.items()}, label="Activation", group="Network",
                          tip="The non-linearity phi. Its derivative phi' is one factor per layer in the chain rule."),
    "init": _choice(INIT_LABELS, label="Initialisation", group="Network",
                    tip="How the weights start. Xavier suits sigmoid/tanh, He suits ReLU; N(0, 1) is the naive "
                        "choice that explodes wide networks."),
    "init_gain": _float(0.0, 100.0, lo_open=True, label="Init gain", group="Network", decimals=3, log=(1e-3, 100.0),
                        tip="Multiplies the initial weights' standard deviation."),
    "bias_std": _float(0.0, 100.0, label="Bias std", group="Network", decimals=3,
                       tip="sigma_b: initial biases are drawn from N(0, sigma_b^2) (0: all zero). Mean-field "
                           "theory's sigma_b^2 = bias_std^2."),
    "optimizer": _choice(OPTIMIZER_LABELS, label="Optimiser",
                         tip="The update rule. Applies to the running network without a reset."),
    "lr": _float(0.0, 100.0, lo_open=True, label="Learning rate", decimals=6, log=(1e-5, 100.0),
                 tip="Learning rate: w_new = w_old - lr * dL/dw. Applies at once."),
    "batch_size": _int(1, 100_000, label="Batch size", widget="batchSpin", tip="Samples per gradient step."),
    "epochs": _int(1, 1_000_000, label="Epochs", tip="Run trains until this epoch, then stops."),
    "clip_norm": _optional_float(0.0, 1e12, label="Clip gradient norm at", widget="clipSpin", decimals=3,
                                 tip="Largest global gradient norm allowed when clipping is on."),
    "residual": _bool(label="Residual connections", group="Network",
                      tip="Hidden layers 2..depth compute h + phi(hW + b): the identity path carries the gradient "
                          "past saturated units."),
    "norm": _choice(dict(zip(NORMS, ("None", "Batch norm", "Layer norm"))), label="Normalisation", group="Network",
                    tip="Normalise each hidden layer's pre-activation over the batch (batch norm) or over its units "
                        "(layer norm), then scale by gamma and shift by beta."),
    "dataset": _choice(DATASET_LABELS, label="Dataset",
                       tip="The problem to learn: five 2-D classification sets and a 1-D regression."),
    "samples": _int(10, 1_000_000, label="Samples", group="Data and precision",
                    tip="Points in the data set, training and validation together. Changing it rebuilds."),
    "noise": _float(0.0, 10.0, label="Noise", group="Data and precision", decimals=3,
                    tip="Standard deviation of the noise added to the data. Changing it rebuilds."),
    "val_fraction": _float(0.05, 0.5, label="Validation share", group="Data and precision", decimals=3,
                           tip="Share of the samples held out to measure the validation loss."),
    "seed": _int(0, 2**32 - 1, label="Seed", tip="Random seed for data, initial weights and batch order: "
                                                 "the same seed gives the same run."),
    "dtype": _choice(DTYPES, label="Precision", group="Data and precision",
                     tip="float64 (exact gradients) or float32 (half the memory, faster, rounds sooner); float16 and "
                         "bfloat16 train as mixed precision (float32 master weights, every result rounded)."),
    "model": _choice(MODELS, label="Model", group="Network",
                     tip="A feed-forward network, or a recurrent one (rnn, lstm, gru) that reads a sequence step by "
                         "step: depth stacks recurrent layers, width is the hidden size H."),
    "seq_len": _int(1, 1000, label="Sequence length", group=RECURRENT_GROUP, widget="seqLenSpin",
                    tip="Time steps T of a sequence task: the gradient must travel back through T steps."),
    "recurrent_init": _choice(RECURRENT_INIT_LABELS, label="Recurrent init", group=RECURRENT_GROUP,
                              tip="How W_h (hidden to hidden) starts; identity copies h_(t-1) (Le et al. 2015)."),
    "recurrent_gain": _float(0.0, 100.0, lo_open=True, label="Recurrent gain", group=RECURRENT_GROUP, decimals=3,
                             log=(1e-3, 100.0), tip="Multiplies W_h at initialisation: above 1 the gradient grows "
                                                    "back through time, below 1 it shrinks."),
    "forget_bias": _float(-100.0, 100.0, label="Forget bias", group=RECURRENT_GROUP, decimals=2,
                          tip="Initial bias of the LSTM forget gate (and the GRU update gate): sigma(bias) of the "
                              "old state passes each step."),
    # issue 24: low precision
    "loss_scale": FieldSpec("loss_scale", label="Loss scale", group="Data and precision", widget="lossScaleCombo",
                            tip="Multiply the loss by this before the backward pass (gradients too) and divide the "
                                "gradients after: none, a number (static), or dynamic (GradScaler's rules)."),
    "master_weights": _bool(label="float32 master weights", group="Data and precision",
                            tip="float16/bfloat16: update float32 copies of the weights; off, the weights are kept in "
                                "the format and w + update is rounded to it."),
}

# -- issue 22: the Transformer's settings and the learning-rate warm-up -------------------------------------------
TRANSFORMER_GROUP = "Transformer"   # the window shows it for the transformer kind
FIELD_SPECS.update({
    "heads": _int(1, 256, label="Attention heads", group=TRANSFORMER_GROUP,
                  tip="Heads of each attention layer; each takes width/heads contiguous columns, so heads must "
                      "divide the width."),
    "norm_position": _choice({"pre": "Pre-LN", "post": "Post-LN"}, label="LayerNorm position",
                             group=TRANSFORMER_GROUP,
                             tip="Pre-LN: x + f(LN(x)), the skip path untouched; Post-LN: LN(x + f(x)), every "
                                 "block's norm on the skip path (the original Transformer; needs warm-up)."),
    "branch_scale": _choice({"one": "1", "depth": "1/sqrt(2 depth)", "rezero": "ReZero (learned, from 0)",
                             "none": "No skip connections"}, label="Branch scale", group=TRANSFORMER_GROUP,
                            tip="s in x + s f(x) for each attention and MLP branch; 'none' drops the skip "
                                "connection (x = f(x)), which makes the tokens collapse to one direction."),
    "warmup_steps": _int(0, 1_000_000, label="Warm-up steps", widget="warmupSpin",
                         tip="Linear learning-rate warm-up: step k uses lr * min(1, k / warmup_steps); 0: off."),
})


def allowed(name: str) -> str:
    """What a field accepts, in words."""
    return FIELD_SPECS[name].allowed()


def check_field(name: str, value: Any) -> Any:
    """Validate one field's value (already of a JSON type); return it normalised."""
    if name not in FIELD_SPECS:
        raise ConfigError(str(name)[:SHOWN_CHARS], f"unknown config field {shown(name)}; "
                                                   f"known fields: {', '.join(FIELD_SPECS)}")
    return FIELD_SPECS[name].check(name, value)


def parse_field(name: str, text: str) -> Any:
    """Turn a command-line string into a field value, then validate it."""
    spec = FIELD_SPECS.get(name)
    return check_field(name, text) if spec is None else spec.parse(name, text)


@dataclass(frozen=True)
class ExperimentConfig:
    """For a recurrent ``model``, ``depth`` counts stacked recurrent layers, ``width`` is their hidden size H,
    ``activation`` the vanilla RNN's phi (LSTM and GRU use sigma and tanh, as their equations say), ``init``
    and ``init_gain`` set W_x and the head, ``recurrent_init`` and ``recurrent_gain`` set W_h, ``forget_bias``
    the initial bias of the gate that keeps the old state (the LSTM's f, the GRU's z). ``seq_len`` is the
    length of the sequence tasks' sequences (an MLP reads one as seq_len * features inputs).

    Which fields a model uses is its kind's (``core.nn.kinds``): any other field must keep its default (the
    gated cells also accept activation "tanh", which they use anyway), or the config is refused naming the
    field, the value and the kind; ``for_kind`` changes the model and resets those fields."""
    depth: int = 8
    width: int = 32
    activation: str = "sigmoid"
    init: str = "xavier"
    init_gain: float = 1.0
    bias_std: float = 0.0  # sigma_b: biases start as N(0, sigma_b^2)
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 50
    clip_norm: float | None = None
    residual: bool = False
    norm: str = "none"
    dataset: str = "circles"
    samples: int = 512
    noise: float = 0.1
    val_fraction: float = 0.2
    seed: int = 0
    dtype: str = "float64"
    model: str = "mlp"
    seq_len: int = 20
    recurrent_init: str = "orthogonal"
    recurrent_gain: float = 1.0
    forget_bias: float = 1.0
    # issue 22
    heads: int = 4
    norm_position: str = "pre"
    branch_scale: str = "one"
    warmup_steps: int = 0
    loss_scale: Any = "none"        # issue 24: "none", "dynamic" or a number (static)
    master_weights: bool = True     # issue 24: float16/bfloat16 update float32 master weights

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, check_field(f.name, getattr(self, f.name)))
        kind = kind_of(self.model)
        if kind.sequences and self.dataset not in SEQUENCE_DATASETS:
            raise ConfigError("dataset", f"dataset must be a sequence task ({', '.join(SEQUENCE_DATASETS)}) "
                                         f"for model {self.model}, got {self.dataset!r}")
        self._refuse_unused(kind)
        if kind.uses("heads") and self.width % self.heads:
            raise ConfigError("heads", f"heads {self.heads} must divide the width {self.width} (each head takes "
                                       f"width/heads columns); allowed: a divisor of {self.width}")
        if self.dtype not in kind.dtypes:
            raise ConfigError("dtype", f"dtype {self.dtype!r} is not supported by model {self.model!r}; "
                                       f"allowed for {self.model}: {', '.join(kind.dtypes)}")
        if not self.master_weights and self.dtype not in LOW_PRECISION and kind.uses("master_weights"):
            raise ConfigError("master_weights", f"master_weights false needs dtype float16 or bfloat16 (float64 and "
                                                f"float32 weights are kept in their own format anyway), got dtype "
                                                f"{self.dtype!r}; allowed with {self.dtype}: true")
        if self.dtype in LOW_PRECISION and self.norm != "none":
            raise ConfigError("dtype", f"dtype {self.dtype!r} is not supported with norm {self.norm!r} "
                                       "(mixed precision is emulated for MLPs without normalisation layers); "
                                       "allowed with a norm layer: float64, float32")
        n_val = int(round(self.samples * self.val_fraction))
        if n_val < 1 or self.samples - n_val < 1:
            raise ConfigError("samples", f"samples must leave at least one training and one "
                                         f"validation point at val_fraction {self.val_fraction:g}, got {self.samples}")

    def _refuse_unused(self, kind) -> None:
        """ConfigError for the first field ``kind`` does not use that is set to anything but its default."""
        for f in fields(self):
            value = getattr(self, f.name)
            if kind.uses(f.name) or value == f.default or value in kind.accepts.get(f.name, ()):
                continue
            extra = tuple(kind.accepts.get(f.name, ()))
            allowed = shown(f.default) + (" (the default) or " + " or ".join(map(shown, extra)) if extra else "")
            raise ConfigError(f.name, f"{f.name} {shown(value)} does not apply to model {kind.name!r} "
                                      f"({kind.why_unused(f.name)}); allowed for {kind.name}: {allowed}")

    def for_kind(self, model: str) -> tuple["ExperimentConfig", list[str]]:
        """This config with ``model`` set and every field that kind does not use put back to its default
        (the window's way to change the kind without being refused); also the names of the fields reset."""
        kind = kind_of(check_field("model", model))
        reset = {f.name: f.default for f in fields(self) if not kind.uses(f.name) and f.name != "model"
                 and getattr(self, f.name) != f.default and getattr(self, f.name) not in kind.accepts.get(f.name, ())}
        return self.replace(**{**reset, "model": model}), list(reset)

    @property
    def task(self) -> str:
        if self.dataset in MULTICLASS:
            return "multiclass"
        return "classification" if self.dataset in CLASSIFICATION else "regression"

    @property
    def n_weight_layers(self) -> int:
        return self.depth + 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> "ExperimentConfig":
        if not isinstance(d, dict):
            raise ConfigError("config", f"config must be a JSON object of field: value pairs, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = [k for k in d if k not in known]
        if unknown:
            raise ConfigError(str(unknown[0])[:SHOWN_CHARS], f"unknown config field {shown(unknown[0])}; "
                                                              f"known fields: {', '.join(sorted(known))}")
        return cls(**d)

    def replace(self, **changes) -> "ExperimentConfig":
        return self.from_dict({**self.to_dict(), **changes})
