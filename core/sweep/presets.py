"""Named sweeps: a paper's grid, ready to run (``--sweep-preset NAME``, the phase diagram's button)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.config import ExperimentConfig
from core.sweep.plan import Plan, make_plan


@dataclass(frozen=True)
class SweepPreset:
    name: str
    summary: str
    fields: dict
    axes: tuple

    def plan(self, **overrides) -> Plan:
        return make_plan(ExperimentConfig.from_dict({**self.fields, **overrides}), self.axes)

SWEEP_PRESETS = {p.name: p for p in [
    SweepPreset(
        "deep-information-propagation",
        "Schoenholz et al. 2017: tanh, sigma_b^2 = 0.05, sigma_w^2 1 to 4 (init_gain = sigma_w, LeCun), depth 10 to 150",
        dict(activation="tanh", init="lecun", bias_std=math.sqrt(0.05), width=64, dataset="circles", samples=512,
             optimizer="sgd", lr=0.01, batch_size=32, epochs=10, seed=0),
        ("init_gain=" + ",".join(repr(math.sqrt(s)) for s in np.linspace(1.0, 4.0, 13)), "depth=10:150:15")),
]}
