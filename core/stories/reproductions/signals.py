"""Forward and backward signal at initialisation, measured on the simulator's own MLP:
Glorot & Bengio 2010, He et al. 2015, De & Smith 2020, Hanin & Rolnick 2018."""
from __future__ import annotations

import math

import numpy as np

from core.nn.activations import get_activation
from core.nn.initializers import init_weights
from core.nn.mlp import MLP, NORM_EPS


def _net(n_in, depth, width, activation, init, seed, gain=1.0, residual=False, norm="none") -> MLP:
    return MLP(n_in, depth, width, get_activation(activation), init=init, init_gain=gain, residual=residual,
               rng=np.random.default_rng(seed), norm=norm)


def _inputs(n_rows: int, n_in: int, seed: int, std: float = 1.0) -> np.ndarray:
    return std * np.random.default_rng(10_000 + seed).standard_normal((n_rows, n_in))


def hidden_gradient_gain(net: MLP, X: np.ndarray, seed: int) -> float:
    """Geometric mean over hidden layers of ||dL/dz_l|| / ||dL/dz_{l+1}||, layers 1..depth (the output excluded)."""
    y = (np.random.default_rng(20_000 + seed).random(len(X)) < 0.5).astype(float)
    d = net.backward(X, y).delta_norms
    depth = len(d) - 1
    return math.exp((math.log(d[0]) - math.log(d[depth - 1])) / (depth - 1))


def glorot(size: str) -> tuple:
    """tanh, 5 hidden layers of 1000 (small: 200), standard U[+-1/sqrt(n)] and normalised (Xavier) init, in the
    linear regime the paper's argument assumes (inputs of std 0.1, so tanh' is about 1)."""
    width, seeds = (1000, 3) if size == "full" else (200, 2)
    out = []
    for init in ("uniform", "xavier"):
        gains = [hidden_gradient_gain(_net(width, 5, width, "tanh", init, s), _inputs(256, width, s, 0.1), s)
                 for s in range(seeds)]
        out.append(float(np.exp(np.mean(np.log(gains)))))
    return tuple(out)


def forward_std_ratio(net: MLP, X: np.ndarray) -> float:
    """std of the last hidden layer's pre-activations over the first's."""
    _, _, Z, _, _ = net._forward_stacked(X)
    return float(Z[-1].std() / Z[0].std())


def he(size: str) -> tuple:
    """31 hidden ReLU layers (30 between the first pre-activation and the last), width 512 (small: 64)."""
    width, seeds, depth = (512, 4, 31) if size == "full" else (64, 2, 31)
    out = []
    for init in ("xavier", "he"):
        r = [forward_std_ratio(_net(width, depth, width, "relu", init, s), _inputs(256, width, s))
             for s in range(seeds)]
        out.append(float(np.exp(np.mean(np.log(r)))))
    return tuple(out)


def he_with_training(size: str) -> tuple:
    """he-2015's four rows: the forward std ratios (Xavier, He), then He trains and Xavier stalls."""
    return he(size) + he_training(size)


def he_training(size: str) -> tuple:
    """"He trains, Xavier stalls": 30 hidden ReLU layers of 32 trained by the simulator's Trainer (SGD 0.01, circles,
    512 samples, 30 epochs); the median over seeds of the last epoch's training loss over ln 2 (the loss of a
    network that has learnt nothing), for He and for Xavier init. Scaled down from the paper's 30-layer conv net on
    ImageNet (Fig. 3: Xavier's does not converge, He's does)."""
    from core.config import ExperimentConfig
    from core.training.trainer import Trainer
    seeds, width, epochs, samples = (3, 32, 30, 512) if size == "full" else (1, 32, 30, 512)
    out = []
    for init in ("he", "xavier"):
        losses = []
        for s in range(seeds):
            t = Trainer(ExperimentConfig(depth=30, width=width, activation="relu", init=init, dataset="circles",
                                         optimizer="sgd", lr=0.01, epochs=epochs, samples=samples, seed=s))
            t.run()
            losses.append(t.last_epoch.train_loss / math.log(2.0))
        out.append(float(np.median(losses)))
    return tuple(out)


def residual_growth(size: str) -> tuple:
    """De & Smith's pre-activation residual block x_{l+1} = x_l + relu(n(x_l)) W, W He-initialised by the
    simulator's initialiser, n the identity or batch norm (this batch's statistics). Returns the per-block growth
    factor of Var(x_l) without normalisation (geometric mean over blocks) and Var(x_L) / (L + 1) with batch norm.

    The simulator's own residual MLP puts relu after the weights (x + relu(x W)): its branch has a positive mean
    and the variance grows about 2.8x per layer there, so the paper's block is built here from the same parts."""
    width, blocks, rows = (256, 20, 512) if size == "full" else (64, 10, 256)
    rng = np.random.default_rng(0)
    Ws = [init_weights("he", rng, width, width) for _ in range(blocks)]
    X = _inputs(rows, width, 0)
    relu = get_activation("relu").f
    out = []
    for normalise in (False, True):
        x, var = X, [float(np.var(X))]
        for W in Ws:
            u = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + NORM_EPS) if normalise else x
            x = x + relu(u) @ W
            var.append(float(np.var(x)))
        out.append(math.exp((math.log(var[-1]) - math.log(var[0])) / blocks) if not normalise
                   else var[-1] / (blocks + 1))
    return tuple(out)


def _hidden_outputs(net: MLP, X: np.ndarray) -> list:
    """h_1..h_depth (training mode): what each hidden layer passes on, the skip path included."""
    _, cache, _, _, _ = net._forward_stacked(X)
    return [cache[k + 1][0] for k in range(net.n_layers - 1)]


def log_length_variance(depth: int, width: int, seeds: int) -> float:
    """Variance over seeds of log(||h_depth||^2 / width) for one fixed input, ReLU, He init (Hanin & Rolnick's M_d)."""
    x = _inputs(1, width, 0) * math.sqrt(2.0)   # E[x^2] = 2: the first layer sees the same scale as the rest
    logs = []
    for s in range(seeds):
        h = _hidden_outputs(_net(width, depth, width, "relu", "he", 1000 + s), x)[-1]
        logs.append(math.log(float(np.sum(h * h)) / width))
    return float(np.var(logs, ddof=1))


def hanin(size: str) -> tuple:
    """Var[log M_d] against beta = sum_j 1/n_j over (depth, width) pairs: the slope of a least-squares line through
    the origin, and the line's R^2 (linear in beta)."""
    pairs, seeds = (((10, 100), (20, 100), (40, 100), (20, 50), (40, 50), (10, 25)), 300) if size == "full" \
        else (((4, 32), (8, 32), (8, 16)), 60)
    beta = np.array([d / w for d, w in pairs])
    var = np.array([log_length_variance(d, w, seeds) for d, w in pairs])
    slope = float(beta @ var / (beta @ beta))
    r2 = 1.0 - float(np.sum((var - slope * beta) ** 2) / np.sum((var - var.mean()) ** 2))
    return slope, r2
