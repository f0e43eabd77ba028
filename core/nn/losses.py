"""Losses on the network's output. Each returns (mean loss, dL/d output)."""
from __future__ import annotations

import numpy as np

from core.nn.activations import logistic


def _mean(v: np.ndarray) -> float:
    """np.mean(v), the same number (its sum over the count) without np.mean's Python layer: a step calls it once
    on a few dozen values, where that layer was half the cost (float16 keeps np.mean's float32 sum)."""
    return float(np.add.reduce(v, axis=None) / v.size) if v.dtype.itemsize >= 4 else float(np.mean(v))


def bce_with_logits(logits: np.ndarray, y: np.ndarray):
    """Mean binary cross-entropy on the logit: log(1 + e^z) - y z, stable for any z."""
    loss = _mean(np.logaddexp(0.0, logits) - y * logits)
    prob = logistic(logits)
    return loss, (prob - y) / logits.shape[0]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from logits (N, k), row by row; shifting by the row maximum keeps exp finite."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray):
    """Mean of -log softmax(z)[y] over the rows of logits (N, k); y holds class indices 0..k-1.

    log softmax(z)_c = z_c - logsumexp(z); its gradient is softmax(z) - onehot(y)."""
    labels = y.astype(np.intp)
    rows = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    loss = _mean(log_norm - shifted[rows, labels])
    grad = np.exp(shifted - log_norm[:, None])
    grad[rows, labels] -= 1.0
    return loss, grad / logits.shape[0]


def mse(pred: np.ndarray, y: np.ndarray):
    """Mean squared error without the 1/2: mean((pred - y)^2)."""
    diff = pred - y
    return _mean(diff * diff), 2.0 * diff / pred.shape[0]


LOSSES = {"classification": bce_with_logits, "multiclass": softmax_cross_entropy, "regression": mse}


def chance_loss(task: str, y) -> float:
    """The loss of the best constant prediction, which ignores the input: the level a network that
    learns nothing sits at.

    classification (binary cross-entropy, natural log): the entropy of the label frequencies,
    -p ln p - (1 - p) ln(1 - p) with p the share of 1s; ln 2 = 0.693 for balanced labels.
    multiclass (softmax cross-entropy): the entropy of the class frequencies; ln k for k balanced classes.
    regression (mean squared error): the variance of the targets (predicting their mean).
    """
    y = np.asarray(y, dtype=float)
    if y.size == 0:
        raise ValueError("chance_loss needs at least one label")
    if task == "classification":
        p = float(np.mean(y))
        return float(-sum(q * np.log(q) for q in (p, 1.0 - p) if q > 0))
    if task == "multiclass":  # softmax cross-entropy: the entropy of the class frequencies
        freq = np.bincount(y.astype(np.int64)) / y.size
        return float(-sum(q * np.log(q) for q in freq if q > 0))
    if task == "regression":
        return float(np.var(y))
    raise ValueError(f"task must be 'classification', 'multiclass' or 'regression', got {task!r}")
