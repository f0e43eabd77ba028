"""ExperimentConfig: every setting of a run, with defaults and validation.

Every error message names the field, the bad value and what is allowed, e.g.
``depth must be an integer from 1 to 100, got -1``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from .activations import ACTIVATIONS
from .datasets import CLASSIFICATION, DATASETS
from .initializers import INITIALIZERS
from .optimizers import OPTIMIZERS

DTYPES = ("float64", "float32")


class ConfigError(ValueError):
    """A config value is malformed or out of range; the message names the field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


# name -> (kind, details); the one table the validator, the CLI and the GUI read.
def _int(lo, hi):
    return ("int", lo, hi)


def _float(lo, hi, lo_open=False):
    return ("float", lo, hi, lo_open)


FIELD_SPECS: dict[str, tuple] = {
    "depth": _int(1, 300),
    "width": _int(1, 1024),
    "activation": ("choice", tuple(ACTIVATIONS)),
    "init": ("choice", tuple(INITIALIZERS)),
    "init_gain": _float(0.0, 100.0, lo_open=True),
    "bias_std": _float(0.0, 100.0),
    "optimizer": ("choice", tuple(OPTIMIZERS)),
    "lr": _float(0.0, 100.0, lo_open=True),
    "batch_size": _int(1, 100_000),
    "epochs": _int(1, 1_000_000),
    "clip_norm": ("optional_float", 0.0, 1e12),
    "residual": ("bool",),
    "dataset": ("choice", tuple(DATASETS)),
    "samples": _int(10, 1_000_000),
    "noise": _float(0.0, 10.0),
    "val_fraction": _float(0.05, 0.5),
    "seed": _int(0, 2**32 - 1),
    "dtype": ("choice", DTYPES),
}


def _fmt(x: float) -> str:
    return f"{x:g}"


def allowed(name: str) -> str:
    """What a field accepts, in words."""
    spec = FIELD_SPECS[name]
    kind = spec[0]
    if kind == "int":
        return f"an integer from {spec[1]:,} to {spec[2]:,}".replace(",", "")
    if kind == "float":
        low = "greater than" if spec[3] else "from"
        joiner = "and at most" if spec[3] else "to"
        return f"a number {low} {_fmt(spec[1])} {joiner} {_fmt(spec[2])}"
    if kind == "optional_float":
        return f"null (no clipping) or a number greater than {_fmt(spec[1])}"
    if kind == "bool":
        return "true or false"
    return "one of " + ", ".join(spec[1])


def check_field(name: str, value: Any) -> Any:
    """Validate one field's value (already of a JSON type); return it normalised."""
    if name not in FIELD_SPECS:
        raise ConfigError(name, f"unknown config field {name!r}; known fields: {', '.join(FIELD_SPECS)}")
    spec = FIELD_SPECS[name]
    kind = spec[0]
    bad = ConfigError(name, f"{name} must be {allowed(name)}, got {value!r}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise bad
        value = int(value)
        if not spec[1] <= value <= spec[2]:
            raise bad
        return value
    if kind in ("float", "optional_float"):
        if kind == "optional_float" and value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad
        value = float(value)
        lo_open = spec[3] if kind == "float" else True
        if value < spec[1] or (lo_open and value == spec[1]) or value > spec[2]:
            raise bad
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if not isinstance(value, str) or value not in spec[1]:
        raise bad
    return value


def parse_field(name: str, text: str) -> Any:
    """Turn a command-line string into a field value, then validate it."""
    spec = FIELD_SPECS.get(name)
    if spec is None:
        return check_field(name, text)
    kind = spec[0]
    value: Any = text
    t = text.strip()
    if kind == "int":
        try:
            value = int(t)
        except ValueError:
            pass
    elif kind in ("float", "optional_float"):
        if kind == "optional_float" and t.lower() in ("none", "null", "off", ""):
            return None
        try:
            value = float(t)
        except ValueError:
            pass
    elif kind == "bool":
        value = {"true": True, "1": True, "yes": True, "on": True,
                 "false": False, "0": False, "no": False, "off": False}.get(t.lower(), text)
    elif kind == "choice":
        value = t.lower().replace("-", "_") if name != "dtype" else t.lower()
        if value not in spec[1]:
            value = text
    return check_field(name, value)


@dataclass(frozen=True)
class ExperimentConfig:
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
    dataset: str = "circles"
    samples: int = 512
    noise: float = 0.1
    val_fraction: float = 0.2
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, check_field(f.name, getattr(self, f.name)))
        n_val = int(round(self.samples * self.val_fraction))
        if n_val < 1 or self.samples - n_val < 1:
            raise ConfigError("samples", f"samples must leave at least one training and one "
                                         f"validation point at val_fraction {self.val_fraction:g}, got {self.samples}")

    @property
    def task(self) -> str:
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
            raise ConfigError(str(unknown[0]), f"unknown config field {unknown[0]!r}; known fields: {', '.join(sorted(known))}")
        return cls(**d)

    def replace(self, **changes) -> "ExperimentConfig":
        return self.from_dict({**self.to_dict(), **changes})
