"""The Transformer of issue 22 written again in PyTorch from the same equations (torch.nn.functional and
autograd): the reference core/nn/transformer is checked against (tests) and timed against (benchmarks).
Test-only: it needs torch, which the project does not."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PHI = {"tanh": torch.tanh, "relu": F.relu, "sigmoid": torch.sigmoid, "linear": lambda z: z,
       "gelu": lambda z: F.gelu(z, approximate="tanh")}


def positions(T: int, d: int, dtype) -> torch.Tensor:
    t = torch.arange(T, dtype=torch.float64)[:, None]
    angle = t / 10000.0 ** (2.0 * torch.arange((d + 1) // 2, dtype=torch.float64) / d)
    P = torch.empty(T, d, dtype=torch.float64)
    P[:, 0::2] = torch.sin(angle)
    P[:, 1::2] = torch.cos(angle[:, :d // 2])
    return P.to(dtype)


def attention(u, p, heads):
    B, T, d = u.shape
    split = lambda x: x.reshape(B, T, heads, d // heads).transpose(1, 2)
    q, k, v = (split(F.linear(u, p[f"W{n}"].T, p[f"b{n}"])) for n in "qkv")
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    S = (q @ k.transpose(-1, -2) / math.sqrt(d // heads)).masked_fill(mask, float("-inf"))
    cat = (torch.softmax(S, dim=-1) @ v).transpose(1, 2).reshape(B, T, d)
    return F.linear(cat, p["Wo"].T, p["bo"])


def forward(params: dict, X, depth, heads, activation, norm_position, branch_scale, n_out=1):
    """The output for X (B, T, n_in); ``params``: name -> tensor, names as Transformer.named_params()."""
    d = params["embed.W"].shape[1]
    phi = PHI[activation]
    x = X @ params["embed.W"] + params["embed.b"] + positions(X.shape[1], d, X.dtype)
    ln = lambda z, p, n: F.layer_norm(z, (d,), p[f"{n}.gamma"], p[f"{n}.beta"], eps=1e-5)
    mlp = lambda z, p: F.linear(phi(F.linear(z, p["W1"].T, p["b1"])), p["W2"].T, p["b2"])
    for i in range(1, depth + 1):
        p = {k.split(".", 1)[1].replace("attn.", "").replace("mlp.", ""): v
             for k, v in params.items() if k.startswith(f"block{i}.")}
        s1, s2 = {"one": (1.0, 1.0), "depth": (1 / math.sqrt(2 * depth),) * 2,
                  "rezero": (p.get("alpha1"), p.get("alpha2")), "none": (None, None)}[branch_scale]
        add = lambda x, f, s: f if s is None else x + s * f
        if norm_position == "pre":
            x = add(x, attention(ln(x, p, "ln1"), p, heads), s1)
            x = add(x, mlp(ln(x, p, "ln2"), p), s2)
        else:
            x = ln(add(x, attention(x, p, heads), s1), p, "ln1")
            x = ln(add(x, mlp(x, p), s2), p, "ln2")
    h = x[:, -1]
    if norm_position == "pre":
        h = F.layer_norm(h, (d,), params["final_ln.gamma"], params["final_ln.beta"], eps=1e-5)
    z = h @ params["head.W"] + params["head.b"]
    return z[:, 0] if n_out == 1 else z


def loss_fn(task: str, out, y):
    """The project's losses (core/nn/losses.py): BCE on one logit, MSE without the 1/2, softmax CE."""
    if task == "classification":
        return F.binary_cross_entropy_with_logits(out, y)
    if task == "regression":
        return F.mse_loss(out, y)
    return F.cross_entropy(out, y.long())


def step_function(net, X, y):
    """A callable running forward, loss and backward in PyTorch from ``net``'s current weights; it returns
    the loss and {name: gradient} (numpy), so a test or a benchmark can compare and time it."""
    params = {n: torch.tensor(v.copy(), requires_grad=True) for n, v in net.named_params()}
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def step():
        for p in params.values():
            p.grad = None
        out = forward(params, Xt, net.depth, net.heads, net.activation.name, net.norm_position,
                      net.branch_scale, net.n_out)
        loss = loss_fn(net.task, out, yt)
        loss.backward()
        return loss.item(), {n: p.grad for n, p in params.items()}
    return step
