"""A data file's own units: the inverse of the standardisation core/data/userdata.py applies to its features.

The network trains on standardised features, z = (x - mean) / std per column with the training rows' statistics;
the window's prediction map is drawn in z. ``FeatureUnits`` says how to read z back in the file's units,
x = z * std + mean, and what the columns are called, so the map's axes can be labelled with the file's numbers
(the window maps the tick labels; the data is never recomputed). A regression's target is never standardised.

    units = data.units                   # None for a built-in data set
    units.original(0, z)                 # column 0's z values in the file's units
    units.standardised(0, x)             # and back
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FeatureUnits:
    names: tuple            # one per feature column (the header's, else x1, x2, ...)
    mean: tuple             # per feature: the value standardised to 0
    std: tuple              # per feature: the value of one standardised unit (1.0 for a constant column)
    target: str = "y"       # the label or target column's name

    def original(self, column: int, z):
        """Standardised values of ``column`` in the file's units."""
        return np.asarray(z, dtype=np.float64) * self.std[column] + self.mean[column]

    def standardised(self, column: int, x):
        """Values of ``column`` in the file's units, standardised as the network sees them."""
        return (np.asarray(x, dtype=np.float64) - self.mean[column]) / self.std[column]


def standardisation(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) per column with which core.data.userdata.standardise maps ``train``'s columns: its result is
    (x - mean) / std. Columns near the float64 limits are first divided by their largest value there, which
    folds into the same two numbers."""
    with np.errstate(all="ignore"):
        mean, std = train.mean(axis=0), train.std(axis=0)
    constant = train.min(axis=0) == train.max(axis=0)
    if np.isfinite(mean).all() and np.isfinite(std).all() and not np.any((std == 0) & ~constant):
        return np.where(constant, train[0], mean), np.where(std > 0, std, 1.0)
    scale = np.abs(train).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    mean, std = standardisation(train / scale)
    return mean * scale, std * scale


def feature_units(train: np.ndarray, names: list) -> FeatureUnits:
    """The units of a table's feature columns (``train``: the training rows' features before standardising),
    ``names``: the header's names, features then the label (or [])."""
    mean, std = standardisation(train)
    n = train.shape[1]
    columns = tuple(names[i] if i < len(names) and names[i] else f"x{i + 1}" for i in range(n))
    target = names[n] if len(names) > n and names[n] else "y"
    return FeatureUnits(columns, tuple(float(v) for v in mean), tuple(float(v) for v in std), target)
