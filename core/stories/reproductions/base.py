"""What a reproduction is: a published number, the band it must land in, and the function that measures it.

A ``Reproduction`` has one or more ``Check`` rows (a quantity, its published value and the band [low, high]) and
one ``measure(size)`` function, a module-level function (it is sent to worker processes) returning one value per
check. ``size`` is "full" (the setup documented in docs/REPRODUCTIONS.md) or "small" (a reduced size for the unit
tests: the same code, fewer units and seeds). A value outside its band fails, and is reported with its number.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

SIZES = ("full", "small")
CSV_COLUMNS = ("name", "paper", "quantity", "published", "measured", "low", "high", "pass", "seconds")


@dataclass(frozen=True)
class Check:
    quantity: str
    published: float
    low: float
    high: float

    def passes(self, measured: float) -> bool:
        return not math.isnan(measured) and self.low <= measured <= self.high   # inf passes only an open band


@dataclass(frozen=True)
class Reproduction:
    name: str
    paper: str                    # authors, year, and the figure / table / equation the number is from
    setup: str                    # what runs here; "scaled down: ..." where it is smaller than the paper's
    checks: tuple
    measure: Callable[[str], tuple]
    story: dict = field(default_factory=dict)   # config fields that open the setup as a story in the window


@dataclass(frozen=True)
class Row:
    """One check's result: the CSV row (``CSV_COLUMNS``)."""
    name: str
    paper: str
    quantity: str
    published: float
    measured: float
    low: float
    high: float
    passed: bool
    seconds: float

    def cells(self) -> list:
        return [self.name, self.paper, self.quantity, _num(self.published), _num(self.measured), _num(self.low),
                _num(self.high), "pass" if self.passed else "fail", f"{self.seconds:.2f}"]


def _num(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6g}"


def run_reproduction(rep: Reproduction, size: str = "full") -> list[Row]:
    """Measure ``rep`` and return its rows; a measuring function that raises fails every check, with NaN."""
    started = time.perf_counter()
    try:
        values = tuple(float(v) for v in rep.measure(size))
    except (ArithmeticError, ValueError, FloatingPointError):
        values = (math.nan,) * len(rep.checks)
    if len(values) != len(rep.checks):
        raise RuntimeError(f"{rep.name}: measured {len(values)} values for {len(rep.checks)} checks")
    seconds = time.perf_counter() - started   # the whole reproduction's, on each of its rows
    return [Row(rep.name, rep.paper, c.quantity, c.published, v, c.low, c.high, c.passes(v), seconds)
            for c, v in zip(rep.checks, values)]
