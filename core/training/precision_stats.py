"""Issue 24's per-epoch statistics: every step's underflow, overflow and lost updates per layer, the loss scale and
the skipped steps (``PrecisionSteps``), their epoch means, and the JSON record's "precision" entry."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.training.statistics import BatchStats, EpochStats


PRECISION_FIELDS = ("underflow", "overflow", "lost_updates")


@dataclass
class PrecisionSteps:
    """Every step of an epoch: step numbers, loss scales, skipped flags, and (steps, layers) arrays."""
    step: list = field(default_factory=list)
    loss_scale: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    rows: dict = field(default_factory=lambda: {f: [] for f in PRECISION_FIELDS})

    def add(self, b: "BatchStats") -> None:
        self.step.append(b.step)
        self.loss_scale.append(b.loss_scale)
        self.skipped.append(b.skipped)
        for f in PRECISION_FIELDS:
            self.rows[f].append(getattr(b, f))

    def finish(self, keep: bool) -> dict:
        """The epoch's EpochStats fields: means over its steps (lost_updates: over the steps that applied an
        update), the scale at the end, the steps skipped, and (``keep``) every step's values."""
        if not self.step:
            return {}
        rows = {f: np.array(v, dtype=float) for f, v in self.rows.items()}
        lost = rows["lost_updates"]
        applied = ~np.isnan(lost).all(axis=1)
        return {"underflow": rows["underflow"].mean(axis=0), "overflow": rows["overflow"].mean(axis=0),
                "lost_updates": lost[applied].mean(axis=0) if applied.any() else np.full(lost.shape[1], np.nan),
                "loss_scale": self.loss_scale[-1], "skipped_steps": int(sum(self.skipped)),
                "precision_steps": self if keep else None}


def precision_record(s: "EpochStats") -> dict:
    """The JSON record's "precision": the epoch's per-layer values, its scale, skipped steps and every step."""
    def clean(a):
        return [finite_or_none(v) for v in a]
    ps = s.precision_steps
    steps = None if ps is None else [
        {"step": st, "loss_scale": sc, "skipped": sk, **{f: clean(ps.rows[f][i]) for f in PRECISION_FIELDS}}
        for i, (st, sc, sk) in enumerate(zip(ps.step, ps.loss_scale, ps.skipped))]
    return {"loss_scale": finite_or_none(s.loss_scale), "skipped_steps": s.skipped_steps,
            "layers": [{"layer": i + 1, **{f: finite_or_none(getattr(s, f)[i]) for f in PRECISION_FIELDS}}
                       for i in range(len(s.lost_updates))],
            **({} if steps is None else {"steps": steps})}


def finite_or_none(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
