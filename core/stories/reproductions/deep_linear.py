"""Saxe, McClelland & Ganguli 2014: learning in deep linear networks, orthogonal against scaled Gaussian init."""
from __future__ import annotations

import math

import numpy as np

from core.nn.initializers import init_weights


def steps_to_learn(depth: int, init: str, width: int, seed: int, level: float = 0.05, most: int = 5000) -> float:
    """Full-batch gradient steps until a deep linear net W_1 ... W_depth (width x width, the simulator's initialiser)
    fits a random target map A (its singular values 1..2) to within ``level`` of the starting loss; whitened inputs, so
    the loss is ||W_1 ... W_depth - A||_F^2 / (2 width). The learning rate is 0.5 / depth: each of the depth layers
    moves the product, so this keeps the product's step the same at every depth. inf when it does not get there."""
    rng = np.random.default_rng(seed)
    Ws = [init_weights(init, rng, width, width) for _ in range(depth)]
    Q1, _ = np.linalg.qr(rng.standard_normal((width, width)))
    Q2, _ = np.linalg.qr(rng.standard_normal((width, width)))
    A = Q1 @ np.diag(np.linspace(1.0, 2.0, width)) @ Q2
    lr = 0.5 / depth
    start = None
    for step in range(most):
        prefix = [np.eye(width)]
        for W in Ws:
            prefix.append(prefix[-1] @ W)
        E = (prefix[-1] - A) / width
        loss = 0.5 * width * float(np.sum(E * E))
        start = loss if start is None else start
        if not math.isfinite(loss):
            return math.inf
        if loss <= level * start:
            return float(step)
        suffix = np.eye(width)
        for k in range(depth - 1, -1, -1):   # dL/dW_k = (W_1..W_{k-1})^T E (W_{k+1}..W_depth)^T
            grad = prefix[k].T @ E @ suffix.T
            suffix = Ws[k] @ suffix
            Ws[k] -= lr * grad
    return math.inf


def saxe(size: str) -> tuple:
    """Steps to learn at depth 8 over steps at depth 2, orthogonal init and scaled Gaussian (variance 1/N) init,
    median over seeds."""
    width, seeds = (32, 3) if size == "full" else (8, 1)
    out = []
    for init in ("orthogonal", "lecun"):
        ratios = [steps_to_learn(8, init, width, s) / steps_to_learn(2, init, width, s) for s in range(seeds)]
        out.append(float(np.median(ratios)))
    return tuple(out)
