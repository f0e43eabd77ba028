"""The Transformer's sub-layers, each backward written under its forward (micrograd style).

Arrays are (B, T, features), batch first. Every forward returns its output and a cache; every backward
takes dL/d(output) and that cache, writes the parameters' gradients into the given views (each parameter
is used once per pass, so they are written, not added) and returns dL/d(input).
"""
from __future__ import annotations

import math

import numpy as np

LN_EPS = 1e-5


def positions(T: int, d: int, dtype) -> np.ndarray:
    """The fixed sinusoidal positions: P[t, 2k] = sin(t / 10000^(2k/d)), P[t, 2k+1] = cos(the same)."""
    t = np.arange(T, dtype=np.float64)[:, None]
    angle = t / 10000.0 ** (2.0 * np.arange((d + 1) // 2) / d)
    P = np.empty((T, d))
    P[:, 0::2] = np.sin(angle)
    P[:, 1::2] = np.cos(angle[:, :d // 2])
    return P.astype(dtype)


# -- linear: y = x W + b ------------------------------------------------------------------------
def linear(x, W, b):
    y = (x.reshape(-1, x.shape[-1]) @ W).reshape(x.shape[:-1] + (W.shape[1],))   # one product, not one a sample
    y += b
    return y


def linear_back(dy, x, W, dW, db):
    """dL/dW = x^T dy and dL/db = 1^T dy over every (sample, position) row; returns dL/dx = dy W^T."""
    np.matmul(x.reshape(-1, x.shape[-1]).T, dy.reshape(-1, dy.shape[-1]), out=dW)
    np.add.reduce(dy.reshape(-1, dy.shape[-1]), axis=0, out=db)
    return (dy.reshape(-1, dy.shape[-1]) @ W.T).reshape(dy.shape[:-1] + (W.shape[0],))


# -- layer norm over the features: biased variance, eps 1e-5 -------------------------------------
def layer_norm(x, gamma, beta):
    """gamma (x - mean) / sqrt(var + eps) + beta, each token normalised across its d features."""
    d = x.shape[-1]
    mean = np.add.reduce(x, axis=-1, keepdims=True) / d
    xc = x - mean
    var = np.add.reduce(xc * xc, axis=-1, keepdims=True) / d   # biased: over d, not d - 1
    inv_std = 1.0 / np.sqrt(var + LN_EPS)
    x_hat = np.multiply(xc, inv_std, out=xc)
    y = x_hat * gamma
    y += beta
    return y, (x_hat, inv_std)


def layer_norm_back(dy, cache, gamma, dgamma, dbeta):
    """dx = (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)) / std, x_hat depending on x through the
    mean and the variance as well as directly; dL/dgamma = sum dy x_hat, dL/dbeta = sum dy."""
    x_hat, inv_std = cache
    d = x_hat.shape[-1]
    dy2 = dy.reshape(-1, d)
    np.add.reduce(dy2 * x_hat.reshape(-1, d), axis=0, out=dgamma)
    np.add.reduce(dy2, axis=0, out=dbeta)
    dx_hat = dy * gamma
    mean_dx_hat = np.add.reduce(dx_hat, axis=-1, keepdims=True) / d
    mean_dx_hat_x_hat = np.add.reduce(dx_hat * x_hat, axis=-1, keepdims=True) / d
    dx_hat -= mean_dx_hat
    dx_hat -= x_hat * mean_dx_hat_x_hat
    dx_hat *= inv_std
    return dx_hat


# -- causal multi-head attention ------------------------------------------------------------------
def _split(x, heads):
    """(B, T, d) -> (B, heads, T, d/heads): head h takes the contiguous columns h*d_h .. (h+1)*d_h - 1."""
    B, T, d = x.shape
    return x.reshape(B, T, heads, d // heads).transpose(0, 2, 1, 3)


def _merge(x):
    """(B, heads, T, d_h) -> (B, T, d): the heads concatenated in order."""
    B, H, T, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * dh)


def causal_softmax(S):
    """softmax(S + mask) over the keys, mask -inf where the key comes after the query."""
    T = S.shape[-1]
    S[..., np.triu(np.ones((T, T), dtype=bool), 1)] = -np.inf
    S -= S.max(axis=-1, keepdims=True)
    A = np.exp(S, out=S)
    A /= np.add.reduce(A, axis=-1, keepdims=True)
    return A


def attention(u, p, heads):
    """softmax(Q K^T / sqrt(d_h) + mask) V per head, heads concatenated, then W_o, b_o.
    ``p``: the block's parameters by name (Wq, bq, Wk, bk, Wv, bv, Wo, bo)."""
    q = _split(linear(u, p["Wq"], p["bq"]), heads)
    k = _split(linear(u, p["Wk"], p["bk"]), heads)
    v = _split(linear(u, p["Wv"], p["bv"]), heads)
    scale = 1.0 / math.sqrt(q.shape[-1])
    A = causal_softmax(np.matmul(q, k.transpose(0, 1, 3, 2)) * scale)
    cat = _merge(A @ v)
    return linear(cat, p["Wo"], p["bo"]), (u, q, k, v, A, cat, scale)


def attention_back(dout, cache, p, g, heads):
    """dL/du of ``attention``; the gradients of its eight parameters go into ``g`` (by name)."""
    u, q, k, v, A, cat, scale = cache
    dO = _split(linear_back(dout, cat, p["Wo"], g["Wo"], g["bo"]), heads)
    dA = dO @ v.transpose(0, 1, 3, 2)                                 # O = A V
    dv = A.transpose(0, 1, 3, 2) @ dO
    dS = dA - np.add.reduce(dA * A, axis=-1, keepdims=True)           # softmax: A (dA - sum(dA A))
    dS *= A                                                           # masked entries: A = 0
    dS *= scale
    dq, dk = dS @ k, dS.transpose(0, 1, 3, 2) @ q                     # S = Q K^T / sqrt(d_h)
    du = linear_back(_merge(dq), u, p["Wq"], g["Wq"], g["bq"])
    du += linear_back(_merge(dk), u, p["Wk"], g["Wk"], g["bk"])
    du += linear_back(_merge(dv), u, p["Wv"], g["Wv"], g["bv"])
    return du


def attention_entropy(A) -> np.ndarray:
    """-sum_j A_ij log A_ij per head, averaged over the batch and the query positions: (heads,)."""
    logA = np.zeros_like(A)
    np.log(A, out=logA, where=A > 0)
    return -np.add.reduce(A * logA, axis=-1).mean(axis=(0, 2))


# -- the MLP: phi(x W1 + b1) W2 + b2 --------------------------------------------------------------
def mlp(x, p, phi, derivs_out):
    """``derivs_out`` (B, T, 4d) receives phi'(z), kept for the backward pass and the saturation statistics."""
    z = linear(x, p["W1"], p["b1"])
    a = phi.f(z)
    phi.derivative_into(z, a, derivs_out)
    return linear(a, p["W2"], p["b2"]), (x, a, derivs_out)


def mlp_back(dout, cache, p, g):
    x, a, deriv = cache
    dz = linear_back(dout, a, p["W2"], g["W2"], g["b2"])
    dz *= deriv                                                       # dL/dz = dL/da phi'(z)
    return linear_back(dz, x, p["W1"], g["W1"], g["b1"])


def token_similarity(x) -> float:
    """The rank-collapse meter: the mean cosine similarity between the token representations of a sequence,
    over every pair of distinct positions and every sample (1 when all tokens point the same way)."""
    B, T, _ = x.shape
    if T < 2:
        return math.nan
    n = x / np.maximum(np.sqrt(np.add.reduce(x * x, axis=-1, keepdims=True)), np.finfo(x.dtype).tiny)
    G = n @ n.transpose(0, 2, 1)
    off_diagonal = np.add.reduce(G, axis=(1, 2)) - np.trace(G, axis1=1, axis2=2)
    return float(np.mean(off_diagonal) / (T * (T - 1)))
