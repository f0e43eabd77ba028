"""Small synthetic data sets: five 2-D binary classification problems, two multi-class ones
(three spiral arms; four gaussian blobs) and a 1-D regression.

Every generator takes a NumPy Generator, so a seed fixes the data exactly.
Inputs are kept in roughly [-1.5, 1.5] so no data set needs standardising.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # "classification" (binary), "multiclass" or "regression"
    X_train: np.ndarray
    y_train: np.ndarray  # 0/1, a class index 0..k-1 (as a float) or a target value
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int = 0   # 2 for binary, k for multi-class, 0 for regression
    class_names: tuple = ()       # what each class index stands for (the file's label values)
    feature_names: tuple = ()     # one per column of X; empty: x1, x2, ...
    source: dict | None = None    # a data file's {"path", "sha256"}; None for a built-in data set

    @property
    def n_outputs(self) -> int:
        """Units of the output layer: one per class for multi-class, else one."""
        return self.n_classes if self.task == "multiclass" else 1

    def feature_name(self, i: int) -> str:
        return self.feature_names[i] if i < len(self.feature_names) else f"x{i + 1}"

    @property
    def boundary_label(self) -> str:
        """What the decision-boundary picture's axes are, in words for the window."""
        d = self.n_features
        if d <= 2:
            return " vs ".join(self.feature_name(i) for i in range(d))
        return (f"{self.feature_name(0)} vs {self.feature_name(1)}: the first 2 of {d} features "
                f"(the other {d - 2} held at their training mean)")

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


def _spirals3(rng, n, noise):
    """Three interleaved spiral arms, one class each."""
    y = (np.arange(n) % 3).astype(float)
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 2 * np.pi
    r = t / (2 * np.pi) * 1.4
    angle = t + 2 * np.pi / 3 * y
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return X + noise * rng.standard_normal(X.shape), y


BLOB_CLASSES = 4  # the blobs data set has a fixed number of classes: its centres sit on a circle


def _blobs(rng, n, noise):
    """BLOB_CLASSES gaussian blobs with centres evenly spaced on a circle of radius 0.9."""
    y = (np.arange(n) % BLOB_CLASSES).astype(float)
    angle = 2 * np.pi * y / BLOB_CLASSES + np.pi / 4
    centres = 0.9 * np.column_stack([np.cos(angle), np.sin(angle)])
    return centres + (0.25 + noise) * rng.standard_normal((n, 2)), y


def _sine(rng, n, noise):
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(X[:, 0]) + noise * rng.standard_normal(n)
    return X / np.pi * 1.5, y


GENERATORS = {
    "xor": _xor, "circles": _circles, "moons": _moons,
    "spirals": _spirals, "gaussians": _gaussians, "spirals3": _spirals3, "blobs": _blobs, "sine": _sine,
}
DATASETS = tuple(GENERATORS)
CLASSIFICATION = ("xor", "circles", "moons", "spirals", "gaussians")  # binary
MULTICLASS = {"spirals3": 3, "blobs": BLOB_CLASSES}  # name -> number of classes
DATASET_LABELS = {"xor": "XOR", "circles": "Circles", "moons": "Moons",
                  "spirals": "Spirals", "gaussians": "Two Gaussians", "spirals3": "Spirals, 3 classes",
                  "blobs": f"Gaussian blobs, {BLOB_CLASSES} classes", "sine": "Sine (regression)"}


def make_dataset(name: str, rng: np.random.Generator, samples: int, noise: float,
                 val_fraction: float, dtype=np.float64) -> Dataset:
    X, y = GENERATORS[name](rng, samples, noise)
    order = rng.permutation(samples)
    X, y = X[order].astype(dtype), y[order].astype(dtype)
    n_val = int(round(samples * val_fraction))
    if name in MULTICLASS:
        task, n_classes = "multiclass", MULTICLASS[name]
    elif name in CLASSIFICATION:
        task, n_classes = "classification", 2
    else:
        task, n_classes = "regression", 0
    return Dataset(name, task, np.ascontiguousarray(X[n_val:]), y[n_val:],
                   np.ascontiguousarray(X[:n_val]), y[:n_val], n_classes,
                   tuple(str(c) for c in range(n_classes)))
