"""Weight initialisers. Each returns W of shape (fan_in, fan_out); biases start at 0."""
from __future__ import annotations

import math

import numpy as np


def _normal(rng, fan_in, fan_out, gain):
    return gain * rng.standard_normal((fan_in, fan_out))


def _uniform(rng, fan_in, fan_out, gain):
    # Glorot & Bengio's "standard" init: U[-1/sqrt(n), 1/sqrt(n)], variance 1/(3n).
    limit = gain / math.sqrt(fan_in)
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def _xavier(rng, fan_in, fan_out, gain):
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal((fan_in, fan_out))


def _he(rng, fan_in, fan_out, gain):
    return gain * math.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))


def _lecun(rng, fan_in, fan_out, gain):
    return gain * math.sqrt(1.0 / fan_in) * rng.standard_normal((fan_in, fan_out))


def _orthogonal(rng, fan_in, fan_out, gain):
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q *= np.sign(np.diag(r))  # sign fix makes Q uniformly (Haar) distributed
    if fan_in < fan_out:
        q = q.T
    return gain * q


def _zeros(rng, fan_in, fan_out, gain):
    return np.zeros((fan_in, fan_out))


def _constant(rng, fan_in, fan_out, gain):
    # Every weight gain/fan_in: each unit gets the mean of its inputs. No randomness, so every
    # unit of a layer starts identical (the symmetry lesson).
    return np.full((fan_in, fan_out), gain / fan_in)


INITIALIZERS = {
    "normal": _normal,
    "uniform": _uniform,
    "xavier": _xavier,
    "he": _he,
    "lecun": _lecun,
    "orthogonal": _orthogonal,
    "zeros": _zeros,
    "constant": _constant,
}

INIT_LABELS = {
    "normal": "Normal N(0, 1)",
    "uniform": "Uniform ±1/√fan_in",
    "xavier": "Xavier (Glorot)",
    "he": "He (Kaiming)",
    "lecun": "LeCun",
    "orthogonal": "Orthogonal",
    "zeros": "Zeros",
    "constant": "Constant 1/fan_in",
}


def expected_std(name: str, fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """The standard deviation each initialiser's formula gives a weight."""
    return {
        "normal": gain,
        "uniform": gain / math.sqrt(3.0 * fan_in),
        "xavier": gain * math.sqrt(2.0 / (fan_in + fan_out)),
        "he": gain * math.sqrt(2.0 / fan_in),
        "lecun": gain / math.sqrt(fan_in),
        "orthogonal": gain / math.sqrt(max(fan_in, fan_out)),
        "zeros": 0.0,
        "constant": 0.0,  # no spread: every weight is the same
    }[name]


def init_weights(name: str, rng: np.random.Generator, fan_in: int, fan_out: int,
                 gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    return INITIALIZERS[name](rng, fan_in, fan_out, gain).astype(dtype, copy=False)


# The recurrent weights W_h (H, H) take any of the above or the identity (Le, Jaitly & Hinton 2015: IRNN).
RECURRENT_INITS = tuple(INITIALIZERS) + ("identity",)
RECURRENT_INIT_LABELS = {**INIT_LABELS, "identity": "Identity"}


def init_recurrent(name: str, rng: np.random.Generator, n: int, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """One (n, n) block of a recurrent weight matrix: gain * I for "identity", else as ``init_weights``."""
    if name == "identity":
        return (gain * np.eye(n)).astype(dtype, copy=False)
    return init_weights(name, rng, n, n, gain, dtype)
