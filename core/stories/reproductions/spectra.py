"""The Jacobian's spectrum and the edge of chaos, measured on the simulator's MLP: Pennington, Schoenholz &
Ganguli 2017; Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017."""
from __future__ import annotations

import math

import numpy as np

from core.measure.jacobian import jacobian_spectrum
from core.measure.theory import fixed_point
from core.nn.activations import Activation, get_activation
from core.nn.mlp import MLP
from core.stories.reproductions.signals import hidden_gradient_gain

LINEAR = Activation("linear", "Linear", lambda z: z, lambda z, a: np.ones_like(z), 1.0, "phi(z) = z")


def _spectrum_net(activation, init: str, sigma_w2: float, depth: int, width: int, seed: int,
                  sigma_b2: float = 0.0) -> MLP:
    act = activation if isinstance(activation, Activation) else get_activation(activation)
    net = MLP(width, depth, width, act, init=init, init_gain=math.sqrt(sigma_w2), rng=np.random.default_rng(seed),
              bias_std=math.sqrt(sigma_b2))
    return net


def eigenvalue_moments(activation, init: str, sigma_w2: float, n_layers: int, width: int, seeds: int,
                       rows: int, sigma_b2: float = 0.0) -> tuple[float, float]:
    """Mean and variance of the eigenvalues of JJ^T (J = dh_L/dh_1 over ``n_layers`` weight layers), pooled over
    seeds and input rows; inputs scaled so the first layer's pre-activations have the fixed point's variance."""
    name = getattr(activation, "name", activation)
    q = 1.0 if name == "linear" else fixed_point(name, sigma_w2, sigma_b2)
    lam = []
    for s in range(seeds):
        net = _spectrum_net(activation, init, sigma_w2, n_layers + 1, width, s, sigma_b2)
        X = np.random.default_rng(500 + s).standard_normal((rows, width)) * math.sqrt(max(q, 1e-12) / sigma_w2)
        lam.append(jacobian_spectrum(net, X) ** 2)
    lam = np.concatenate(lam)
    return float(lam.mean()), float(lam.var())


def pennington(size: str) -> tuple:
    """Linear Gaussian (variance 1/N): mean and variance of JJ^T's eigenvalues over L = 8 layers; linear orthogonal:
    the largest |s - 1|; ReLU orthogonal at sigma_w^2 = 2 and tanh orthogonal at its critical point
    (sigma_w^2 = 1.05, sigma_b^2 = 2.01e-5, q* about 1/64 as in the paper's Fig. 4): variance / L."""
    width, seeds, rows, L = (256, 4, 4, 8) if size == "full" else (48, 2, 2, 8)
    mean_g, var_g = eigenvalue_moments(LINEAR, "lecun", 1.0, L, width, seeds, 1)
    s_orth = jacobian_spectrum(_spectrum_net(LINEAR, "orthogonal", 1.0, L + 1, width, 0),
                               np.ones((1, width)))
    _, var_relu = eigenvalue_moments("relu", "orthogonal", 2.0, L, width, seeds, rows)
    _, var_tanh = eigenvalue_moments("tanh", "orthogonal", 1.05, L, width, seeds, rows, sigma_b2=2.01e-5)
    return mean_g, var_g, float(np.max(np.abs(s_orth - 1.0))), var_relu / L, var_tanh / L


def critical_point(size: str) -> tuple:
    """tanh, sigma_b^2 = 0.05: the sigma_w^2 where the measured per-layer gradient gain at initialisation crosses 1
    (Gaussian weights; log gain interpolated linearly between the grid's two points around the crossing)."""
    width, depth, seeds = (400, 40, 3) if size == "full" else (64, 16, 1)
    grid = np.linspace(1.5, 2.1, 7)
    log_gain = []
    for sw2 in grid:
        g = []
        for s in range(seeds):
            net = _spectrum_net("tanh", "lecun", sw2, depth, width, s, sigma_b2=0.05)
            q = fixed_point("tanh", sw2, 0.05)
            X = np.random.default_rng(700 + s).standard_normal((128, width)) * math.sqrt(q / sw2)
            g.append(math.log(hidden_gradient_gain(net, X, s)))
        log_gain.append(float(np.mean(g)))
    log_gain = np.array(log_gain)
    crossing = np.nonzero(np.diff(np.sign(log_gain)))[0]
    if len(crossing) == 0:
        return (math.nan,)
    i = int(crossing[0])
    x0, x1, y0, y1 = grid[i], grid[i + 1], log_gain[i], log_gain[i + 1]
    return (float(x0 - y0 * (x1 - x0) / (y1 - y0)),)


TRAINABLE_SIGMA_W2 = 0.8   # off criticality (ordered phase) at sigma_b^2 = 0.05: xi_c = 2.30, 6 xi_c = 13.8 layers


def trainable_depth(size: str) -> tuple:
    """Schoenholz et al.'s "trainable depth is about 6 xi_c": xi_c from the theory (core.measure.theory.depth_scale,
    tanh, sigma_w^2 = 0.8, sigma_b^2 = 0.05), then networks of depth round(0.5 x 6 xi_c) and round(2 x 6 xi_c)
    trained by the simulator's Trainer (circles, SGD 0.05, 30 epochs, width 64): the median over seeds of the last
    epoch's training loss over ln 2 (1: learnt nothing), shallow then deep. Scaled down from MNIST / CIFAR grids."""
    from core.config import ExperimentConfig
    from core.measure.theory import depth_scale
    from core.training.trainer import Trainer
    six_xi = 6.0 * depth_scale("tanh", TRAINABLE_SIGMA_W2, 0.05)
    seeds, width, epochs, samples = (3, 64, 30, 512) if size == "full" else (1, 64, 30, 512)
    out = []
    for depth in (round(0.5 * six_xi), round(2.0 * six_xi)):
        losses = []
        for s in range(seeds):
            t = Trainer(ExperimentConfig(depth=depth, width=width, activation="tanh", init="lecun",
                                         init_gain=math.sqrt(TRAINABLE_SIGMA_W2), bias_std=math.sqrt(0.05),
                                         dataset="circles", optimizer="sgd", lr=0.05, epochs=epochs,
                                         samples=samples, seed=s))
            t.run()
            losses.append(t.last_epoch.train_loss / math.log(2.0))
        out.append(float(np.median(losses)))
    return tuple(out)


def schoenholz(size: str) -> tuple:
    """The critical point, then the trainable depth's two rows."""
    return critical_point(size) + trainable_depth(size)
