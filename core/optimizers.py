"""Optimisers, with PyTorch's update rules and default constants.

``updates(grads)`` returns the change to add to each parameter (the trainer adds
it and measures its norm for the update ratio). State is per parameter, created
on the first call, so an optimiser can be swapped mid-run.
"""
from __future__ import annotations

import numpy as np


class SGD:
    """w <- w - lr * g"""

    def __init__(self, lr: float):
        self.lr = lr

    def updates(self, grads):
        return [-self.lr * g for g in grads]


class Momentum:
    """v <- 0.9 v + g;  w <- w - lr * v"""

    def __init__(self, lr: float, momentum: float = 0.9):
        self.lr, self.momentum, self.velocity = lr, momentum, None

    def updates(self, grads):
        if self.velocity is None:
            self.velocity = [np.zeros_like(g) for g in grads]
        out = []
        for v, g in zip(self.velocity, grads):
            v *= self.momentum
            v += g
            out.append(-self.lr * v)
        return out


class RMSprop:
    """s <- 0.99 s + 0.01 g^2;  w <- w - lr * g / (sqrt(s) + 1e-8)"""

    def __init__(self, lr: float, alpha: float = 0.99, eps: float = 1e-8):
        self.lr, self.alpha, self.eps, self.square_avg = lr, alpha, eps, None

    def updates(self, grads):
        if self.square_avg is None:
            self.square_avg = [np.zeros_like(g) for g in grads]
        out = []
        for s, g in zip(self.square_avg, grads):
            s *= self.alpha
            s += (1.0 - self.alpha) * g * g
            out.append(-self.lr * g / (np.sqrt(s) + self.eps))
        return out


class Adam:
    """m, v: moving averages of g and g^2, bias-corrected;  w <- w - lr * m_hat / (sqrt(v_hat) + 1e-8)"""

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def updates(self, grads):
        if self.m is None:
            self.m = [np.zeros_like(g) for g in grads]
            self.v = [np.zeros_like(g) for g in grads]
        self.t += 1
        step = self.lr / (1.0 - self.beta1**self.t)
        root_bias2 = np.sqrt(1.0 - self.beta2**self.t)
        out = []
        for m, v, g in zip(self.m, self.v, grads):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            out.append(-step * m / (np.sqrt(v) / root_bias2 + self.eps))
        return out


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "rmsprop": "RMSprop", "adam": "Adam"}


def make_optimizer(name: str, lr: float):
    return OPTIMIZERS[name](lr)
