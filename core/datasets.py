"""Small synthetic data sets: five 2-D binary classification problems and a 1-D regression.

Every generator takes a NumPy Generator, so a seed fixes the data exactly.
Inputs are kept in roughly [-1.5, 1.5] so no data set needs standardising.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # "classification" or "regression"
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


def _xor(rng, n, noise):
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    return X + noise * rng.standard_normal(X.shape), y


def _circles(rng, n, noise):
    y = (np.arange(n) % 2).astype(float)
    radius = np.where(y == 1, 0.5, 1.0)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X + noise * rng.standard_normal(X.shape), y


def _moons(rng, n, noise):
    y = (np.arange(n) % 2).astype(float)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = np.where(y[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    return X + noise * rng.standard_normal(X.shape), y


def _spirals(rng, n, noise):
    y = (np.arange(n) % 2).astype(float)
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 3 * np.pi  # sqrt: even density along the arm
    r = t / (3 * np.pi) * 1.4
    angle = t + np.pi * y
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return X + noise * rng.standard_normal(X.shape), y


def _gaussians(rng, n, noise):
    y = (np.arange(n) % 2).astype(float)
    centres = np.where(y[:, None] == 1, 0.6, -0.6)
    return centres + (0.35 + noise) * rng.standard_normal((n, 2)), y


def _sine(rng, n, noise):
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(X[:, 0]) + noise * rng.standard_normal(n)
    return X / np.pi * 1.5, y


GENERATORS = {
    "xor": _xor, "circles": _circles, "moons": _moons,
    "spirals": _spirals, "gaussians": _gaussians, "sine": _sine,
}
DATASETS = tuple(GENERATORS)
CLASSIFICATION = ("xor", "circles", "moons", "spirals", "gaussians")
DATASET_LABELS = {"xor": "XOR", "circles": "Circles", "moons": "Moons",
                  "spirals": "Spirals", "gaussians": "Two Gaussians", "sine": "Sine (regression)"}


def make_dataset(name: str, rng: np.random.Generator, samples: int, noise: float,
                 val_fraction: float, dtype=np.float64) -> Dataset:
    X, y = GENERATORS[name](rng, samples, noise)
    order = rng.permutation(samples)
    X, y = X[order].astype(dtype), y[order].astype(dtype)
    n_val = int(round(samples * val_fraction))
    task = "classification" if name in CLASSIFICATION else "regression"
    return Dataset(name, task, np.ascontiguousarray(X[n_val:]), y[n_val:],
                   np.ascontiguousarray(X[:n_val]), y[:n_val])
