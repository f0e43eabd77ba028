"""Gradients through time: Hochreiter 1991, Bengio, Simard & Frasconi 1994, Pascanu, Mikolov & Bengio 2013,
Le, Jaitly & Hinton 2015. The activations are the simulator's own (core.nn.activations)."""
from __future__ import annotations

import math

import numpy as np

from core.nn.activations import get_activation
from core.nn.initializers import init_recurrent


def through_time_gain(activation: str, norm_w: float, width: int, steps: int, seed: int) -> float:
    """||dh_T/dh_0||_2^(1/T) of h_t = phi(h_{t-1} W + x_t U), W orthogonal scaled to ||W||_2 = norm_w,
    inputs x_t ~ N(0, 1) through U of variance 1/width; Jacobian dh_t/dh_{t-1} = W diag(phi'(u_t))."""
    act = get_activation(activation)
    rng = np.random.default_rng(seed)
    W = init_recurrent("orthogonal", rng, width, norm_w)
    U = rng.standard_normal((width, width)) / math.sqrt(width)
    h, J = np.zeros(width), np.eye(width)
    for _ in range(steps):
        u = h @ W + rng.standard_normal(width) @ U
        h = act.f(u)
        J = J @ (W * act.df(u, h)[None, :])
    return float(np.linalg.norm(J, 2) ** (1.0 / steps))


def pascanu(size: str) -> tuple:
    """The largest per-step gain over seeds, for tanh (gamma = 1) and sigmoid (gamma = 1/4) at ||W_h||_2 = 0.9 / gamma:
    the bound says at most 0.9, so the gradient vanishes."""
    width, steps, seeds = (128, 50, 5) if size == "full" else (16, 20, 2)
    out = []
    for activation in ("tanh", "sigmoid"):
        gamma = get_activation(activation).max_deriv
        out.append(max(through_time_gain(activation, 0.9 / gamma, width, steps, s) for s in range(seeds)))
    return tuple(out)


def bengio(size: str) -> tuple:
    """The latch h_t = tanh(2 h_{t-1}): its positive fixed point by iteration, the gain d h_t / d h_{t-1} there, and
    the product of 10 steps' gains."""
    tanh = get_activation("tanh")
    h = 1.0
    for _ in range(1000 if size == "full" else 200):
        h = float(np.tanh(2.0 * h))
    gain = 2.0 * float(tanh.df(np.array(2.0 * h), np.array(h)))
    return h, gain, gain ** 10


def hochreiter(size: str) -> tuple:
    """sup sigmoid' on a fine grid (the simulator's sigmoid), and the largest per-step factor |w sigmoid'(net_t)| of
    one self-connected sigmoid unit with w = 3.9 < 4 driven by random inputs (so every factor is below 1)."""
    sig = get_activation("sigmoid")
    z = np.linspace(-20, 20, 400_001 if size == "full" else 4001)
    top = float(np.max(sig.df(z, sig.f(z))))
    rng = np.random.default_rng(0)
    y, factors = 0.5, []
    for _ in range(1000 if size == "full" else 100):
        net = 3.9 * y + rng.standard_normal()
        y = float(sig.f(np.array(net)))
        factors.append(abs(3.9 * y * (1.0 - y)))
    return top, max(factors)


def adding_mse(recurrent_init: str, activation: str, seq_len: int, epochs: int, seed: int) -> float:
    """Validation MSE of the simulator's RNN on the adding problem after ``epochs`` (its Trainer, Adam)."""
    from core.config import ExperimentConfig
    from core.training.trainer import Trainer
    cfg = ExperimentConfig(model="rnn", dataset="adding", seq_len=seq_len, width=64, depth=1,
                           activation=activation, recurrent_init=recurrent_init, recurrent_gain=1.0,
                           optimizer="adam", lr=1e-3, batch_size=32, samples=3000, epochs=epochs, seed=seed,
                           clip_norm=1.0)
    t = Trainer(cfg)
    t.run()
    return float(t.last_epoch.val_loss)


def le(size: str) -> tuple:
    """Adding problem, T = 60 (scaled down from the paper's 150-750): validation MSE of the IRNN (ReLU, identity
    recurrent init) and of a tanh RNN with Gaussian recurrent weights of variance 1/N (the paper's baseline is a Gaussian-initialised
    tanh RNN; an orthogonal one learns more at this T),
    each over the MSE of always answering 1 (1/6 for the sum of two U[0, 1] numbers)."""
    T, epochs = (60, 15) if size == "full" else (8, 2)
    irnn = adding_mse("identity", "relu", T, epochs, 0)
    tanh = adding_mse("lecun", "tanh", T, epochs, 0)
    return irnn / (1 / 6), tanh / (1 / 6)
