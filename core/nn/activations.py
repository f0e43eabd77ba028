"""Activation functions, each with its derivative beside it.

``df(z, a)`` receives both the pre-activation ``z`` and the activation ``a = f(z)``
because several derivatives are cheapest in terms of ``a`` (sigmoid: a(1-a)).
``max_deriv`` is the largest value phi' takes (its supremum for SELU): the
saturation statistic counts units whose phi'(z) falls to 5% of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


@dataclass(frozen=True)
class Activation:
    name: str
    label: str
    f: Callable[[Array], Array]
    df: Callable[[Array, Array], Array]
    max_deriv: float
    note: str
    df_into: Callable | None = None  # df written into a given array, for the training loop's buffer

    def __call__(self, z: Array) -> Array:
        return self.f(z)

    def derivative_into(self, z: Array, a: Array, out: Array) -> Array:
        """phi'(z) written into ``out`` (saves the training loop a copy per layer)."""
        if self.df_into is not None:
            return self.df_into(z, a, out)
        out[...] = self.df(z, a)
        return out


def _sigmoid_df_into(z, a, out):
    np.subtract(1.0, a, out=out)
    return np.multiply(out, a, out=out)


def _tanh_df_into(z, a, out):
    np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


def _relu_df_into(z, a, out):
    return np.greater(z, 0.0, out=out, casting="unsafe")


def logistic(z):
    """The logistic function 1 / (1 + exp(-z)), the one copy in the project.
    0.5 * (1 + tanh(z / 2)) is exact and never overflows, unlike 1 / (1 + exp(-z))."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


_sigmoid = logistic


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_df(z, a):
    return (z > 0).astype(z.dtype)


def _leaky(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def _leaky_df(z, a):
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def _elu(z):
    return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _elu_df(z, a):
    # For z <= 0, phi'(z) = alpha * e^z = phi(z) + alpha.
    return np.where(z > 0, 1.0, a + ELU_ALPHA).astype(z.dtype)


def _gelu(z):
    return 0.5 * z * (1.0 + np.tanh(_GELU_C * (z + _GELU_K * (z * z * z))))


def _gelu_df(z, a):
    t = np.tanh(_GELU_C * (z + _GELU_K * (z * z * z)))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * z * z)


def _selu(z):
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _selu_df(z, a):
    return np.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA).astype(z.dtype)


def _softplus(z):
    return np.logaddexp(0.0, z)


def _softsign(z):
    return z / (1.0 + np.abs(z))


def _softsign_df(z, a):
    r = 1.0 / (1.0 + np.abs(z))  # squaring the reciprocal cannot overflow
    return r * r


def _silu(z):
    return z * _sigmoid(z)


def _silu_df(z, a):
    s = _sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def _grid_max(df) -> float:
    z = np.linspace(-10.0, 10.0, 200_001)
    return float(df(z, None).max())


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", "Sigmoid", _sigmoid, lambda z, a: a * (1.0 - a), 0.25,
                   "phi'(z) <= 0.25: every layer multiplies the gradient by a quarter or less.", _sigmoid_df_into),
        Activation("tanh", "Tanh", np.tanh, lambda z, a: 1.0 - a * a, 1.0,
                   "phi'(0) = 1 but falls fast: saturated units pass almost no gradient.", _tanh_df_into),
        Activation("relu", "ReLU", _relu, _relu_df, 1.0,
                   "phi' is 0 or 1: active units pass the gradient unchanged.", _relu_df_into),
        Activation("leaky_relu", "Leaky ReLU", _leaky, _leaky_df, 1.0,
                   "Like ReLU, with slope 0.01 for z < 0 so no unit dies completely."),
        Activation("elu", "ELU", _elu, _elu_df, 1.0,
                   "ReLU for z > 0, alpha (e^z - 1) below: smooth, mean closer to zero."),
        Activation("gelu", "GELU", _gelu, _gelu_df, _grid_max(_gelu_df),
                   "Smooth ReLU (tanh approximation); phi' peaks slightly above 1."),
        Activation("selu", "SELU", _selu, _selu_df, SELU_SCALE * SELU_ALPHA,
                   "Scaled ELU: keeps activations near mean 0, variance 1 with LeCun init."),
        Activation("softplus", "Softplus", _softplus, lambda z, a: _sigmoid(z), 1.0,
                   "log(1 + e^z): a smooth ReLU whose derivative is the sigmoid."),
        Activation("softsign", "Softsign", _softsign, _softsign_df, 1.0,
                   "z / (1 + |z|): like tanh but saturates polynomially, not exponentially."),
        Activation("silu", "SiLU (Swish)", _silu, _silu_df, _grid_max(_silu_df),
                   "z * sigmoid(z); phi' peaks near 1.1."),
        Activation("linear", "Linear", lambda z: z, lambda z, a: np.ones_like(z), 1.0,
                   "No non-linearity: a deep linear network, gradient set by the weights alone."),
    ]
}

IDENTITY = ACTIVATIONS["linear"]


def get_activation(name: str) -> Activation:
    return ACTIVATIONS[name]
