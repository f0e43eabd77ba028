"""Recurrent networks (vanilla RNN, LSTM, GRU), many-to-one, with backpropagation through time.

The layouts and equations are PyTorch's, so results can be compared with it. Per layer, with
x_t the layer's input at step t (the sequence itself, or the hidden states of the layer below):

    rnn   (W_x (n_in, H), W_h (H, H), b (H,))
          h_t = phi(x_t W_x + h_{t-1} W_h + b)
    lstm  (W_x (n_in, 4H), W_h (H, 4H), b (4H,)), gates in the order i, f, g, o
          c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g),   h_t = sigma(o) * tanh(c_t)
    gru   (W_x (n_in, 3H), W_h (H, 3H), b_x (3H,), b_h (3H,)), gates r, z, n
          r, z = sigma(x W_r + b_xr + h W_hr + b_hr), sigma(... z ...)
          n = tanh(x W_n + b_xn + r * (h W_hn + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}

then the head ``(W_y (H, 1), b_y (1,))`` on the top layer's h_T: one logit or one value, as for the
MLP; h_0 = c_0 = 0. Parameters live in one flat buffer, all weights first (layer by layer: W_x then
W_h, the head's W_y last), then all biases, so each layer's weights are one contiguous segment for
the per-layer statistics, exactly as in ``MLP``.

Arrays inside are time-major, (T, N, units); ``X`` comes in as (N, T, n_in). Backpropagation
through time runs each layer's steps in reverse; each step's backward is written next to the
forward step it undoes (``_step`` / ``_step_back``). Gradients of the weights are summed over time
with one matrix product per layer after the loop, which is what the per-step sums equal.
"""
from __future__ import annotations

import math

import numpy as np

from core.nn.activations import ACTIVATIONS, Activation
from core.nn.initializers import init_recurrent, init_weights
from core.nn.losses import LOSSES
from core.nn.model import Backward, LossFromBackward, check

TANH = ACTIVATIONS["tanh"]
_sigmoid = ACTIVATIONS["sigmoid"].f
SIGMOID_MAX_DERIV = ACTIVATIONS["sigmoid"].max_deriv


class _RNNCell:
    """h_t = phi(x_t W_x + h_{t-1} W_h + b); caches z_t for phi'(z_t)."""

    gates, bias_vectors, kept_state_gate = 1, 1, None   # kept_state_gate: the block forget_bias starts

    def __init__(self, phi: Activation):
        self.phi = phi

    def forward(self, ZX, W_h, b_h):
        """ZX[t] = x_t W_x + b for every t; returns the hidden states H[0..T] (H[0] = h_0 = 0) and a cache."""
        T, N, n = ZX.shape
        H = np.zeros((T + 1, N, n), dtype=ZX.dtype)
        Z = ZX                                    # z_t is built in place of x_t W_x + b
        for t in range(T):
            Z[t] += H[t] @ W_h                    # z_t = x_t W_x + h_{t-1} W_h + b
            H[t + 1] = self.phi.f(Z[t])           # h_t = phi(z_t)
        return H, (Z,)

    @staticmethod
    def pre(cache):
        """What enters phi at every step: z_t (T, N, n)."""
        return cache[0]

    def backward(self, cache, H, dH_ext, W_h, derivs, dh_norms, dh_all):
        """BPTT through one layer. dH_ext[t] = dL/dh_t from above (or the head); returns dL/dz for the
        input side and the recurrent side (the same here), per step. dh_all[t] receives dL/dh_t."""
        (Z,) = cache
        D = self.phi.derivative_into(Z, H[1:], derivs)   # phi'(z_t), every t at once
        dZ = np.empty_like(Z)
        dh_next = np.zeros_like(H[0])             # dL/dh_t through h_{t+1}; none after the last step
        for t in range(len(Z) - 1, -1, -1):
            dh = dh_all[t]
            np.add(dH_ext[t], dh_next, out=dh)    # dL/dh_t: from above and from step t+1
            dh_norms[t] = math.sqrt(np.vdot(dh, dh))
            np.multiply(dh, D[t], out=dZ[t])      # dL/dz_t = dL/dh_t * phi'(z_t)
            dh_next = dZ[t] @ W_h.T               # dL/dh_{t-1} = dL/dz_t W_h^T
        return dZ, dZ, {}


class _LSTMCell:
    """Gates i, f, g, o in four blocks of H columns; c_t = f c_{t-1} + i g, h_t = o tanh(c_t)."""

    gates, bias_vectors, kept_state_gate = 4, 1, 1   # f, the second block

    def forward(self, ZX, W_h, b_h):
        T, N, n4 = ZX.shape
        n = n4 // 4
        H = np.zeros((T + 1, N, n), dtype=ZX.dtype)
        C = np.zeros((T + 1, N, n), dtype=ZX.dtype)    # C[0] = c_0 = 0
        A = np.empty_like(ZX)                           # the gates after their non-linearities
        TC = np.empty((T, N, n), dtype=ZX.dtype)        # tanh(c_t)
        Z = ZX
        for t in range(T):
            Z[t] += H[t] @ W_h                          # z_t = x_t W_x + h_{t-1} W_h + b
            a = A[t]
            a[...] = _sigmoid(Z[t])                     # i, f, o = sigma(z_i), sigma(z_f), sigma(z_o)
            a[:, 2 * n:3 * n] = np.tanh(Z[t, :, 2 * n:3 * n])  # g = tanh(z_g)
            i, f, g, o = a[:, :n], a[:, n:2 * n], a[:, 2 * n:3 * n], a[:, 3 * n:]
            C[t + 1] = f * C[t] + i * g                 # c_t = f c_{t-1} + i g
            TC[t] = np.tanh(C[t + 1])
            H[t + 1] = o * TC[t]                        # h_t = o tanh(c_t)
        return H, (A, C, TC, Z)

    @staticmethod
    def pre(cache):
        """What enters the cell's tanh at every step: z_g (T, N, n)."""
        Z = cache[3]
        n = Z.shape[-1] // 4
        return Z[..., 2 * n:3 * n]

    def backward(self, cache, H, dH_ext, W_h, derivs, dh_norms, dh_all):
        A, C, TC, _ = cache
        T, N, n4 = A.shape
        n = n4 // 4
        # Each gate's derivative, every step at once: sigma' = a (1 - a), tanh' = 1 - g^2 for g.
        D = A * (1.0 - A)
        G = A[..., 2 * n:3 * n]
        np.multiply(G, G, out=derivs)
        np.subtract(1.0, derivs, out=derivs)            # tanh'(z_g): the layer's phi'
        D[..., 2 * n:3 * n] = derivs
        dZ = np.empty_like(A)
        dh_next = np.zeros((N, n), dtype=A.dtype)       # dL/dh_t through step t+1
        dc_next = np.zeros((N, n), dtype=A.dtype)       # dL/dc_t through c_{t+1}
        for t in range(T - 1, -1, -1):
            i, f, g, o = A[t, :, :n], A[t, :, n:2 * n], A[t, :, 2 * n:3 * n], A[t, :, 3 * n:]
            dh = dh_all[t]
            np.add(dH_ext[t], dh_next, out=dh)          # dL/dh_t
            dh_norms[t] = math.sqrt(np.vdot(dh, dh))
            dc = dc_next + dh * o * (1.0 - TC[t] * TC[t])  # dL/dc_t: via c_{t+1} and via h_t = o tanh(c_t)
            dz = dZ[t]
            np.multiply(dc, g, out=dz[:, :n])           # dL/di = dc g
            np.multiply(dc, C[t], out=dz[:, n:2 * n])   # dL/df = dc c_{t-1}
            np.multiply(dc, i, out=dz[:, 2 * n:3 * n])  # dL/dg = dc i
            np.multiply(dh, TC[t], out=dz[:, 3 * n:])   # dL/do = dh tanh(c_t)
            dz *= D[t]                                  # through each gate's non-linearity
            dc_next = dc * f                            # dL/dc_{t-1} = dc f
            dh_next = dz @ W_h.T                        # dL/dh_{t-1} = dL/dz_t W_h^T
        sat = {"i": D[..., :n], "f": D[..., n:2 * n], "o": D[..., 3 * n:]}
        return dZ, dZ, sat


class _GRUCell:
    """Gates r, z, n in three blocks; the recurrent part h W_h + b_h is kept apart because r scales its n block."""

    gates, bias_vectors, kept_state_gate = 3, 2, 1   # b_x and b_h; z, the second block

    def forward(self, ZX, W_h, b_h):
        T, N, n3 = ZX.shape
        n = n3 // 3
        H = np.zeros((T + 1, N, n), dtype=ZX.dtype)
        ZH = np.empty_like(ZX)                          # h_{t-1} W_h + b_h
        A = np.empty_like(ZX)                           # r, z, n after their non-linearities
        PN = np.empty((T, N, n), dtype=ZX.dtype)        # what enters n's tanh: zx_n + r zh_n
        for t in range(T):
            zh = ZH[t]
            np.matmul(H[t], W_h, out=zh)
            zh += b_h                                   # zh_t = h_{t-1} W_h + b_h
            a = A[t]
            a[:, :2 * n] = _sigmoid(ZX[t, :, :2 * n] + zh[:, :2 * n])  # r, z = sigma(zx + zh)
            r, z = a[:, :n], a[:, n:2 * n]
            np.add(ZX[t, :, 2 * n:], r * zh[:, 2 * n:], out=PN[t])
            a[:, 2 * n:] = np.tanh(PN[t])               # n = tanh(zx_n + r zh_n)
            cand = a[:, 2 * n:]
            H[t + 1] = cand + z * (H[t] - cand)         # h_t = (1 - z) n + z h_{t-1}
        return H, (A, ZH, PN)

    @staticmethod
    def pre(cache):
        """What enters n's tanh at every step: zx_n + r zh_n (T, N, n)."""
        return cache[2]

    def backward(self, cache, H, dH_ext, W_h, derivs, dh_norms, dh_all):
        A, ZH, _ = cache
        T, N, n3 = A.shape
        n = n3 // 3
        D = A * (1.0 - A)                               # sigma' for r and z
        Nc = A[..., 2 * n:]
        np.multiply(Nc, Nc, out=derivs)
        np.subtract(1.0, derivs, out=derivs)            # tanh'(n's pre-activation): the layer's phi'
        dZX, dZH = np.empty_like(A), np.empty_like(A)
        dh_next = np.zeros((N, n), dtype=A.dtype)
        for t in range(T - 1, -1, -1):
            r, z, cand = A[t, :, :n], A[t, :, n:2 * n], A[t, :, 2 * n:]
            dh = dh_all[t]
            np.add(dH_ext[t], dh_next, out=dh)          # dL/dh_t
            dh_norms[t] = math.sqrt(np.vdot(dh, dh))
            dzx, dzh = dZX[t], dZH[t]                   # dL/d(zx_t) and dL/d(zh_t)
            dn = dzx[:, 2 * n:]
            np.multiply(dh * (1.0 - z), derivs[t], out=dn)  # dL/d(zx_n + r zh_n) = dh (1 - z) tanh'
            np.multiply(dn * ZH[t, :, 2 * n:], D[t, :, :n], out=dzx[:, :n])  # r's: dn zh_n sigma'(r)
            np.multiply(dh * (H[t] - cand), D[t, :, n:2 * n], out=dzx[:, n:2 * n])  # z's: dh (h_{t-1} - n) sigma'(z)
            dzh[:, :2 * n] = dzx[:, :2 * n]             # r and z add x's part and h's part alike
            np.multiply(dn, r, out=dzh[:, 2 * n:])      # n's recurrent part is scaled by r
            dh_next = dh * z + dzh @ W_h.T              # dL/dh_{t-1}: directly through z, and through W_h
        sat = {"r": D[..., :n], "z": D[..., n:2 * n]}
        return dZX, dZH, sat


CELLS = {"rnn": _RNNCell, "lstm": _LSTMCell, "gru": _GRUCell}
GATES = {kind: cell.gates for kind, cell in CELLS.items()}


class RecurrentNetwork(LossFromBackward):
    """``depth`` stacked rnn, lstm or gru layers of ``width`` units, and a linear head on the last h_T."""

    FORWARD_ELEMENTS = 1 << 22   # forward() evaluates in chunks of rows holding about this many cached values

    def __init__(self, kind: str, n_in: int, depth: int, width: int, activation: Activation,
                 init: str = "xavier", init_gain: float = 1.0, recurrent_init: str = "orthogonal",
                 recurrent_gain: float = 1.0, forget_bias: float = 1.0, task: str = "classification",
                 rng: np.random.Generator | None = None, dtype=np.float64):
        if kind not in GATES:
            raise ValueError(f"kind must be one of {', '.join(GATES)}, got {kind!r}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.kind, self.depth, self.width = kind, depth, width
        cell = CELLS[kind]
        self._cell = cell(activation) if cell.kept_state_gate is None else cell()
        # the non-linearity whose phi' the per-layer statistics report: the RNN's phi, the gated cells' tanh
        self.activation = activation if cell.kept_state_gate is None else TANH
        self.task, self.loss_fn, self.dtype = task, LOSSES[task], np.dtype(dtype)
        G = cell.gates
        self.n_gates = G
        ins = [n_in] + [width] * (depth - 1)
        w_shapes = [[(i, G * width), (width, G * width)] for i in ins] + [[(width, 1)]]
        b_shapes = [[(G * width,)] * cell.bias_vectors for _ in ins] + [[(1,)]]
        self._shapes = (w_shapes, b_shapes)
        w_sizes = [sum(math.prod(s) for s in layer) for layer in w_shapes]
        b_sizes = [sum(math.prod(s) for s in layer) for layer in b_shapes]
        self.w_offsets = np.concatenate([[0], np.cumsum(w_sizes)[:-1]]).astype(np.intp)
        self.n_weights = int(sum(w_sizes))
        self.b_offsets = (self.n_weights + np.concatenate([[0], np.cumsum(b_sizes)[:-1]])).astype(np.intp)
        self.flat = np.zeros(self.n_weights + sum(b_sizes), dtype=self.dtype)
        self.params = self.views(self.flat)
        self._grad_buffer, self._grad_views = None, None
        self._init(rng, init, init_gain, recurrent_init, recurrent_gain, forget_bias)

    def _init(self, rng, init, init_gain, recurrent_init, recurrent_gain, forget_bias):
        """W_x and W_y by ``init``; each gate's (H, H) block of W_h by ``recurrent_init``; biases 0 except
        the gate that keeps the old state, the LSTM's f and the GRU's z (in b_x), which start at ``forget_bias``."""
        n, G = self.width, self.n_gates
        for layer in self.params[:-1]:
            W_x, W_h = layer[0], layer[1]
            for k in range(G):  # fans of one gate's block, as PyTorch initialises them
                W_x[:, k * n:(k + 1) * n] = init_weights(init, rng, W_x.shape[0], n, init_gain, self.dtype)
                W_h[:, k * n:(k + 1) * n] = init_recurrent(recurrent_init, rng, n, recurrent_gain, self.dtype)
            k = self._cell.kept_state_gate   # the gate that keeps the old state: the LSTM's f, the GRU's z
            if k is not None:
                layer[2][k * n:(k + 1) * n] = forget_bias
        W_y = self.params[-1][0]
        W_y[...] = init_weights(init, rng, n, 1, init_gain, self.dtype)

    @property
    def n_layers(self) -> int:
        """Layers the statistics are kept for: the recurrent layers, then the head."""
        return self.depth + 1

    def views(self, flat: np.ndarray) -> list:
        """[(W_x, W_h, b) or (W_x, W_h, b_x, b_h) per layer, ..., (W_y, b_y)] as views into ``flat``."""
        out = []
        for k, (ws, bs) in enumerate(zip(*self._shapes)):
            arrays, pos = [], int(self.w_offsets[k])
            for s in ws:
                arrays.append(flat[pos:pos + math.prod(s)].reshape(s))
                pos += math.prod(s)
            pos = int(self.b_offsets[k])
            for s in bs:
                arrays.append(flat[pos:pos + s[0]])
                pos += s[0]
            out.append(tuple(arrays))
        return out

    def layer_params(self, k: int) -> tuple:
        """Every parameter of layer k (0-based), as in ``params``."""
        return self.params[k]

    def recurrent_weights(self) -> list:
        """W_h of each recurrent layer, input side first."""
        return [layer[1] for layer in self.params[:-1]]

    @property
    def vanishing_bound(self) -> float:
        """Pascanu, Mikolov & Bengio (2013): with ||W_h||_2 < 1/gamma, gamma = max phi', every factor
        ||dh_t/dh_{t-1}|| <= ||W_h|| gamma is below 1 and the gradient must vanish back through time.
        The bound is for h_t = phi(...) only: the gated cells' paths bypass W_h, so NaN for them."""
        return 1.0 / self.activation.max_deriv if self._cell.kept_state_gate is None else math.nan

    # -- forward ------------------------------------------------------------------------------
    def _forward(self, X):
        """Every layer's hidden states H (T+1, N, width), with caches for the backward pass."""
        U = np.ascontiguousarray(np.asarray(X, dtype=self.dtype).transpose(1, 0, 2))  # (T, N, n_in)
        layers = []
        for layer in self.params[:-1]:
            W_x, W_h, b_x = layer[0], layer[1], layer[2]
            b_h = layer[3] if len(layer) == 4 else None
            ZX = U @ W_x
            ZX += b_x                                 # x_t W_x + b, every step in one product
            H, cache = self._cell.forward(ZX, W_h, b_h)
            layers.append((U, H, cache))
            U = H[1:]
        W_y, b_y = self.params[-1]
        out = (U[-1] @ W_y + b_y)[:, 0]               # the head on the top layer's h_T
        return out, layers

    def forward(self, X) -> np.ndarray:
        """Logits or values, shape (N,); evaluated in chunks of rows so memory stays bounded."""
        X = np.asarray(X, dtype=self.dtype)
        per_row = max(1, X.shape[1] * (self.n_gates + 3) * self.width * self.depth)
        n = max(1, self.FORWARD_ELEMENTS // per_row)
        return np.concatenate([self._forward(X[i:i + n])[0] for i in range(0, len(X), n)]) if len(X) else \
            np.empty(0, dtype=self.dtype)

    # -- backward -----------------------------------------------------------------------------
    norm_params: list = []  # no normalisation layers: nothing for gamma/beta statistics

    def backward(self, X, y, grad_out: np.ndarray | None = None, update_running: bool = False,
                 interrupt=None, stats_scratch=None) -> Backward:
        """Forward, loss, then the chain rule back through the head, the layers and the time steps.
        ``interrupt``: checked before each layer's backward (core.nn.model.Interrupted). ``stats_scratch`` is not
        used: the trainer measures the gradient afterwards (Backward.grad_stats stays None)."""
        out, layers = self._forward(X)
        loss, dout = self.loss_fn(out, np.asarray(y, dtype=self.dtype))
        if grad_out is None:
            grad_flat = np.empty_like(self.flat)
            grads = self.views(grad_flat)
        else:
            if grad_out is not self._grad_buffer:  # views of a reused buffer are made once
                self._grad_buffer, self._grad_views = grad_out, self.views(grad_out)
            grad_flat, grads = grad_out, self._grad_views
        T, N, n = layers[0][1].shape[0] - 1, len(dout), self.width
        derivs = np.empty((self.depth, T, N, n), dtype=self.dtype)
        dh_norms = np.empty((self.depth, T))
        delta_norms = np.empty(self.n_layers)
        W_y, _ = self.params[-1]
        dW_y, db_y = grads[-1]
        h_T = layers[-1][1][-1]
        dz = dout[:, None]
        np.matmul(h_T.T, dz, out=dW_y)                # the head: out = h_T W_y + b_y
        db_y[...] = dz.sum(axis=0)
        delta_norms[-1] = math.sqrt(np.vdot(dz, dz))
        dH = np.zeros((T, N, n), dtype=self.dtype)
        dH[-1] = dz @ W_y.T                           # only h_T feeds the head
        saturation = {}
        hidden_grads = [np.empty((T, N, n), dtype=self.dtype) for _ in range(self.depth)]   # dL/dh_t per layer
        for k in range(self.depth - 1, -1, -1):
            check(interrupt)
            U, H, cache = layers[k]
            W_x, W_h = self.params[k][0], self.params[k][1]
            dZX, dZH, gates = self._cell.backward(cache, H, dH, W_h, derivs[k], dh_norms[k], hidden_grads[k])
            g = grads[k]
            flat_x, flat_h = dZX.reshape(T * N, -1), dZH.reshape(T * N, -1)
            np.matmul(U.reshape(T * N, -1).T, flat_x, out=g[0])          # dL/dW_x = sum_t x_t^T dz_t
            np.matmul(H[:-1].reshape(T * N, n).T, flat_h, out=g[1])      # dL/dW_h = sum_t h_{t-1}^T dz_t
            np.add.reduce(flat_x, axis=0, out=g[2])
            if len(g) == 4:
                np.add.reduce(flat_h, axis=0, out=g[3])                 # the GRU's b_h
            delta_norms[k] = math.sqrt(np.vdot(dZX, dZX))
            for name, d in gates.items():
                saturation.setdefault(name, [None] * self.depth)[k] = d
            if k > 0:
                dH = dZX @ W_x.T                      # dL/dh_t of the layer below, every t
        return Backward(loss, grad_flat, grads, derivs, delta_norms, [L[1][1:] for L in layers],
                        layer_time_grad_norm=dh_norms, gate_derivs=saturation, hidden_grads=hidden_grads,
                        pre_activations=[self._cell.pre(L[2]) for L in layers])


    def first_nonfinite_layer(self, X) -> int | None:
        """1-based index of the first layer with a non-finite hidden state (the head: depth + 1), or None."""
        out, layers = self._forward(X)
        for k, (_, H, _) in enumerate(layers):
            if not np.isfinite(H).all():
                return k + 1
        return None if np.isfinite(out).all() else self.n_layers
