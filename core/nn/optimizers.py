"""Optimisers, with PyTorch's update rules and default constants.

They work on the network's flat parameter vector: ``update(g, out)`` writes into
``out`` the change to add to the parameters (the trainer adds it and measures its
norm for the update ratio). Writing into a reused buffer keeps large networks from
paying for a fresh allocation, and its page faults, at every step.
"""
from __future__ import annotations

import numpy as np


class SGD:
    """w <- w - lr * g"""

    scales_gradient = True  # the update is -lr * g: its norm is lr * ||g||, no need to measure it

    def __init__(self, lr: float):
        self.lr = lr

    def update(self, g, out):
        return np.multiply(g, -self.lr, out=out)


class Momentum:
    """v <- 0.9 v + g;  w <- w - lr * v"""

    scales_gradient = False

    def __init__(self, lr: float, momentum: float = 0.9):
        self.lr, self.momentum, self.velocity = lr, momentum, None

    def update(self, g, out):
        if self.velocity is None:
            self.velocity = np.zeros_like(g)
        v = self.velocity
        v *= self.momentum
        v += g
        return np.multiply(v, -self.lr, out=out)


class RMSprop:
    """s <- 0.99 s + 0.01 g^2;  w <- w - lr * g / (sqrt(s) + 1e-8)"""

    scales_gradient = False

    def __init__(self, lr: float, alpha: float = 0.99, eps: float = 1e-8):
        self.lr, self.alpha, self.eps, self.square_avg = lr, alpha, eps, None

    def update(self, g, out):
        if self.square_avg is None:
            self.square_avg = np.zeros_like(g)
        s = self.square_avg
        s *= self.alpha
        np.multiply(g, g, out=out)
        out *= 1.0 - self.alpha
        s += out
        np.sqrt(s, out=out)
        out += self.eps
        np.divide(g, out, out=out)
        out *= -self.lr
        return out


class Adam:
    """m, v: moving averages of g and g^2, bias-corrected;  w <- w - lr * m_hat / (sqrt(v_hat) + 1e-8)"""

    scales_gradient = False

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def update(self, g, out):
        if self.m is None:
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        self.t += 1
        m, v = self.m, self.v
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        np.multiply(g, g, out=out)
        out *= 1.0 - self.beta2
        v += out
        np.sqrt(v, out=out)
        out /= np.sqrt(1.0 - self.beta2**self.t)   # sqrt(v_hat)
        out += self.eps
        np.divide(m, out, out=out)
        out *= -self.lr / (1.0 - self.beta1**self.t)  # m_hat = m / (1 - beta1^t)
        return out


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "rmsprop": "RMSprop", "adam": "Adam"}


def make_optimizer(name: str, lr: float):
    return OPTIMIZERS[name](lr)
