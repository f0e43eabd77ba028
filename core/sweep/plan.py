"""What a sweep computes: the axes parsed from ``--sweep FIELD=VALUES``, the grid of configs, the CSV's
columns, and the checks that refuse a sweep before it starts."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields
from typing import Any, Iterable, Iterator

import numpy as np

from core.config import FIELD_SPECS, ConfigError, ExperimentConfig, allowed, parse_field
from core.runtime.resources import available_memory, check_fits


METRICS = ("train_loss", "val_loss", "val_accuracy", "diverged", "epoch_reached", "grad_gain")
MAX_CELLS = 1_000_000


@dataclass(frozen=True)
class Axis:
    field: str
    values: tuple

def parse_axis(spec: str) -> Axis:
    """'FIELD=V1,V2,...' or 'FIELD=START:STOP:COUNT' (COUNT points, both ends included; numbers only)."""
    name, sep, text = spec.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name or not text.strip():
        raise ConfigError("sweep", f"sweep: expected FIELD=V1,V2,... or FIELD=START:STOP:COUNT, got {spec!r}")
    if name not in FIELD_SPECS:
        raise ConfigError(name, f"sweep: unknown config field {name!r}; known fields: {', '.join(FIELD_SPECS)}")
    parts = text.split(":")
    if len(parts) == 1:
        values = [_value(name, t) for t in text.split(",")]
    elif len(parts) == 3:
        values = _range(name, *parts)
    else:
        raise ConfigError(name, f"sweep: {name} expects V1,V2,... or START:STOP:COUNT, got {text!r}")
    unique = list(dict.fromkeys(values))
    if len(unique) < len(values):
        raise ConfigError(name, f"sweep: {name} lists a value twice in {text!r}")
    return Axis(name, tuple(unique))

def _value(name: str, text: str):
    try:
        return parse_field(name, text)
    except ConfigError:
        raise ConfigError(name, f"sweep: {name} must be {allowed(name)}, got {text.strip()!r}") from None

def _range(name: str, start: str, stop: str, count: str) -> list:
    kind = FIELD_SPECS[name].kind
    if kind not in ("int", "float", "optional_float"):
        raise ConfigError(name, f"sweep: {name} is {allowed(name)}: list its values as V1,V2,..., "
                                f"START:STOP:COUNT is for numbers")
    try:
        n = int(count)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_CELLS:
        raise ConfigError(name, f"sweep: {name}'s COUNT must be an integer from 1 to {MAX_CELLS}, got {count!r}")
    lo, hi = _value(name, start), _value(name, stop)
    if lo is None or hi is None:
        raise ConfigError(name, f"sweep: {name}'s START and STOP must be numbers, got {start!r}:{stop!r}")
    points = np.linspace(lo, hi, n)
    if kind == "int":
        values = [int(round(p)) for p in points]
        if len(set(values)) < n:
            raise ConfigError(name, f"sweep: {name} takes integers: {n} points from {lo} to {hi} repeat some; "
                                    f"use a COUNT of at most {abs(hi - lo) + 1}")
        return values
    return [_value(name, repr(float(p))) for p in points]

def cell_text(value: Any) -> str:
    """A config value as a CSV cell that parse_field reads back to the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)

@dataclass(frozen=True)
class Plan:
    """What a sweep computes: a base config, the axes, and whether to train or only measure at initialisation."""
    base: ExperimentConfig
    axes: tuple
    init_only: bool = False

    @property
    def swept(self) -> tuple:
        return tuple(a.field for a in self.axes)

    @property
    def fixed(self) -> tuple:
        return tuple(f.name for f in fields(ExperimentConfig) if f.name not in self.swept)

    @property
    def header(self) -> list:
        return [*self.swept, *METRICS, *self.fixed]

    @property
    def size(self) -> int:
        return math.prod(len(a.values) for a in self.axes)

    def cells(self) -> Iterator[tuple]:
        return itertools.product(*(a.values for a in self.axes))

    def config(self, values: tuple) -> ExperimentConfig:
        return self.base.replace(**dict(zip(self.swept, values)))

    def fixed_text(self) -> list:
        """The non-swept fields as cells; epochs is 0 when only the initialisation is measured."""
        return ["0" if self.init_only and f == "epochs" else cell_text(getattr(self.base, f)) for f in self.fixed]

    def check(self) -> None:
        """Every cell must be a valid config that fits in memory: refuse the sweep before it starts."""
        if self.size > MAX_CELLS:
            raise ConfigError("sweep", f"sweep: {self.size} cells; at most {MAX_CELLS} are allowed")
        available = available_memory()  # read once: a grid can have a million cells
        for values in self.cells():
            try:
                check_fits(self.config(values), available=available)
            except ConfigError as e:
                cell = ", ".join(f"{f}={cell_text(v)}" for f, v in zip(self.swept, values))
                raise ConfigError(e.field, f"sweep: the cell {cell}: {e}") from None

def make_plan(base: ExperimentConfig, specs: Iterable[str], init_only: bool = False) -> Plan:
    axes = tuple(parse_axis(s) for s in specs)
    if not axes:
        raise ConfigError("sweep", "sweep: give at least one --sweep FIELD=VALUES")
    names = [a.field for a in axes]
    for n in names:
        if names.count(n) > 1:
            raise ConfigError(n, f"sweep: {n} is swept twice; give each field one --sweep")
    if init_only and "epochs" in names:
        raise ConfigError("epochs", "sweep: epochs cannot be swept when --epochs 0 measures at initialisation only")
    plan = Plan(base, axes, init_only)
    plan.check()
    return plan

def key_of(plan: Plan, row: list) -> tuple:
    """A row's cell: its swept values, parsed back."""
    return tuple(parse_field(f, t) for f, t in zip(plan.swept, row))
