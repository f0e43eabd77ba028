"""Losses on the network's single output. Each returns (mean loss, dL/d output)."""
from __future__ import annotations

import numpy as np

from .activations import logistic


def bce_with_logits(logits: np.ndarray, y: np.ndarray):
    """Mean binary cross-entropy on the logit: log(1 + e^z) - y z, stable for any z."""
    loss = np.mean(np.logaddexp(0.0, logits) - y * logits)
    prob = logistic(logits)
    return float(loss), (prob - y) / logits.shape[0]


def mse(pred: np.ndarray, y: np.ndarray):
    """Mean squared error without the 1/2: mean((pred - y)^2)."""
    diff = pred - y
    return float(np.mean(diff * diff)), 2.0 * diff / pred.shape[0]


LOSSES = {"classification": bce_with_logits, "regression": mse}
