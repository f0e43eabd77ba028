"""Small synthetic data sets: five 2-D binary classification problems, two multi-class ones
(three spiral arms; four gaussian blobs), a 1-D regression, and two sequence tasks for recurrent
networks (inputs of shape (samples, seq_len, features)).

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
    units: object = None          # a data file's core.data.units.FeatureUnits (its columns' own units); None: built in

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
        """Inputs per sample, or per time step of a sequence."""
        return self.X_train.shape[-1]

    @property
    def is_sequence(self) -> bool:
        return self.X_train.ndim == 3

    def flattened(self) -> "Dataset":
        """Each sequence as one vector of seq_len * features inputs (how an MLP reads it)."""
        flat = lambda X: X.reshape(len(X), -1)
        return Dataset(self.name, self.task, flat(self.X_train), self.y_train, flat(self.X_val), self.y_val)


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


def _recall(rng, n, noise, seq_len):
    """The label is the sign of the first input (+1 or -1); steps 2..T are N(0, noise^2) distractors,
    so the answer has to travel seq_len - 1 steps through the recurrence."""
    y = (np.arange(n) % 2).astype(float)
    X = noise * rng.standard_normal((n, seq_len, 1))
    X[:, 0, 0] = 2.0 * y - 1.0
    return X, y


def _adding(rng, n, noise, seq_len):
    """Hochreiter & Schmidhuber's adding problem: channel 0 holds values from U(0, 1), channel 1 marks two
    steps with 1 (one in each half of the sequence when seq_len >= 2); the target is the sum of the two
    marked values (plus N(0, noise^2), as for the sine). Predicting 1 every time gives MSE 1/6."""
    values = rng.uniform(0.0, 1.0, (n, seq_len))
    half = max(seq_len // 2, 1)
    first = rng.integers(0, half, n)
    second = rng.integers(half, seq_len, n) if seq_len >= 2 else first
    markers = np.zeros((n, seq_len))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = values[rows, first] + (values[rows, second] if seq_len >= 2 else 0.0)
    return np.stack([values, markers], axis=-1), y + noise * rng.standard_normal(n)


GENERATORS = {
    "xor": _xor, "circles": _circles, "moons": _moons,
    "spirals": _spirals, "gaussians": _gaussians, "spirals3": _spirals3, "blobs": _blobs, "sine": _sine,
}
SEQUENCE_GENERATORS = {"recall": _recall, "adding": _adding}
SEQUENCE_DATASETS = tuple(SEQUENCE_GENERATORS)
DATASETS = tuple(GENERATORS) + SEQUENCE_DATASETS
CLASSIFICATION = ("xor", "circles", "moons", "spirals", "gaussians", "recall")  # binary
MULTICLASS = {"spirals3": 3, "blobs": BLOB_CLASSES}  # name -> number of classes
DATASET_LABELS = {"xor": "XOR", "circles": "Circles", "moons": "Moons",
                  "spirals": "Spirals", "gaussians": "Two Gaussians", "spirals3": "Spirals, 3 classes",
                  "blobs": f"Gaussian blobs, {BLOB_CLASSES} classes", "sine": "Sine (regression)",
                  "recall": "Recall the first input (sequence)", "adding": "Adding problem (sequence, regression)"}


def make_dataset(name: str, rng: np.random.Generator, samples: int, noise: float,
                 val_fraction: float, dtype=np.float64, seq_len: int = 1) -> Dataset:
    """``seq_len`` is the length of the sequence tasks' sequences; the other data sets have none."""
    if name in SEQUENCE_GENERATORS:
        X, y = SEQUENCE_GENERATORS[name](rng, samples, noise, seq_len)
    else:
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
