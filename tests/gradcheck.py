"""Central finite differences in float64: the reference every backward pass is checked against."""
import numpy as np


def numeric_grad(loss, P, eps=1e-6):
    """dL/dP by central differences: ``loss()`` is re-evaluated with each entry of ``P`` moved by +-eps
    (in place, then restored)."""
    G = np.zeros_like(P)
    for i in np.ndindex(P.shape):
        old = P[i]
        P[i] = old + eps
        up = loss()
        P[i] = old - eps
        down = loss()
        P[i] = old
        G[i] = (up - down) / (2 * eps)
    return G


def numeric_grads(net, X, y, eps=1e-6):
    """Central differences of ``net.loss(X, y)`` for every parameter, shaped like ``net.params``."""
    return [tuple(numeric_grad(lambda: net.loss(X, y), P, eps) for P in layer) for layer in net.params]
