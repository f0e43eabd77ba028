"""Issue 21: the Inside page's numbers for recurrent models and the Transformer mean what their names say.

Each recorded number is checked against a direct computation on a small model: the hidden states and
pre-activations from a forward pass written here from the equations, dL/dh_t and dL/dx_l by central finite
differences in float64 (perturbing h_t or x_l and running the rest of the network), and the bands against
np.percentile of every entry (these models are small enough that the sample is all of them)."""
from types import SimpleNamespace

import numpy as np
import pytest

from core import ExperimentConfig, Trainer
from core.measure.distributions import QUANTILES
from core.measure.sequence_inside import GATE_SATURATED, SequenceInsideRecorder
from core.nn.activations import get_activation
from core.nn.recurrent import RecurrentNetwork
from core.nn.transformer import Transformer
from core.runtime.inside_delta import InsideAssembler, InsideSender

STEP = SimpleNamespace(step=1, epoch=1, divergence=None, diverged=False)
sigmoid = get_activation("sigmoid").f


def _pct(a):
    return np.percentile(np.abs(np.asarray(a)).ravel(), QUANTILES)


def _rnn_forward(net, X, inject=None):
    """h_t = tanh(x_t W_x + h_{t-1} W_h + b) per layer, time-major; inject (layer, t, i, j, eps) adds eps to
    h_t[i, j] of that layer before anything reads it. Returns the loss's input (outputs), H and Z per layer."""
    U = X.transpose(1, 0, 2)
    Hs, Zs = [], []
    for l, (W_x, W_h, b) in enumerate(net.params[:-1]):
        T, N = U.shape[:2]
        h = np.zeros((N, net.width))
        H, Z = np.empty((T, N, net.width)), np.empty((T, N, net.width))
        for t in range(T):
            Z[t] = U[t] @ W_x + h @ W_h + b
            h = np.tanh(Z[t])
            if inject is not None and inject[:2] == (l, t):
                h = h.copy()
                h[inject[2], inject[3]] += inject[4]
            H[t] = h
        Hs.append(H), Zs.append(Z)
        U = H
    W_y, b_y = net.params[-1]
    return (U[-1] @ W_y + b_y)[:, 0], Hs, Zs


def test_rnn_signal_saturation_and_bands_are_those_of_the_hidden_states():
    rng = np.random.default_rng(3)
    net = RecurrentNetwork("rnn", 2, 2, 3, get_activation("tanh"), init_gain=2.5, recurrent_gain=1.5, rng=rng)
    X, y = rng.standard_normal((5, 4, 2)), (rng.random(5) > 0.5).astype(float)
    rec = SequenceInsideRecorder(net, 0, 4).measure(net.backward(X, y), X, STEP)
    _, Hs, Zs = _rnn_forward(net, X)
    for l in range(2):
        np.testing.assert_allclose(rec["signal"][l], [np.std(Hs[l][t]) for t in range(4)], rtol=1e-12)
        np.testing.assert_allclose(rec["saturation"][l], [np.mean(np.abs(Hs[l][t]) > 0.97) for t in range(4)])
        np.testing.assert_allclose(rec["act"][l], _pct(Hs[l]), rtol=1e-12)
        np.testing.assert_allclose(rec["pre"][l], _pct(Zs[l]), rtol=1e-12)
    assert 0 < rec["saturation"].max() < 1   # the gains make some units saturate and not others


def test_rnn_gradients_are_dL_dh_t_by_central_differences():
    rng = np.random.default_rng(4)
    net = RecurrentNetwork("rnn", 2, 2, 3, get_activation("tanh"), init_gain=1.5, rng=rng)
    X, y = rng.standard_normal((5, 4, 2)), (rng.random(5) > 0.5).astype(float)
    rec = SequenceInsideRecorder(net, 0, 4).measure(net.backward(X, y), X, STEP)
    eps = 1e-6
    for l in range(2):
        G = np.empty((4, 5, 3))
        for t, i, j in np.ndindex(4, 5, 3):
            up = net.loss_fn(_rnn_forward(net, X, (l, t, i, j, eps))[0], y)[0]
            down = net.loss_fn(_rnn_forward(net, X, (l, t, i, j, -eps))[0], y)[0]
            G[t, i, j] = (up - down) / (2 * eps)
        np.testing.assert_allclose(rec["grad_t"][l], np.sqrt((G ** 2).sum(axis=(1, 2))), rtol=1e-6)
        np.testing.assert_allclose(rec["grad"][l], _pct(G), rtol=1e-5, atol=1e-12)


def _lstm_gates(net, X):
    """One LSTM layer from the equations: gates i, f, g, o and h_t, time-major."""
    W_x, W_h, b = net.params[0]
    n = net.width
    U = X.transpose(1, 0, 2)
    h, c = np.zeros((len(X), n)), np.zeros((len(X), n))
    out = []
    for t in range(U.shape[0]):
        z = U[t] @ W_x + h @ W_h + b
        i, f, o = sigmoid(z[:, :n]), sigmoid(z[:, n:2 * n]), sigmoid(z[:, 3 * n:])
        g = np.tanh(z[:, 2 * n:3 * n])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append((z[:, 2 * n:3 * n], i, f, g, o, h))
    return out


def test_lstm_gate_saturation_candidate_and_hidden_states():
    rng = np.random.default_rng(5)
    net = RecurrentNetwork("lstm", 3, 1, 4, get_activation("tanh"), init_gain=3.0, recurrent_gain=2.0, rng=rng)
    X, y = 2 * rng.standard_normal((6, 5, 3)), (rng.random(6) > 0.5).astype(float)
    r = net.backward(X, y)
    rec = SequenceInsideRecorder(net, 0, 5).measure(r, X, STEP)
    steps = _lstm_gates(net, X)
    gate_sat = [np.mean([np.mean(s * (1 - s) <= GATE_SATURATED) for s in (i, f, o)]) for _, i, f, _, o, _ in steps]
    np.testing.assert_allclose(rec["gate_saturation"][0], gate_sat, rtol=1e-12)
    np.testing.assert_allclose(rec["saturation"][0], [np.mean(np.abs(s[3]) > 0.97) for s in steps])
    np.testing.assert_allclose(rec["signal"][0], [np.std(s[5]) for s in steps], rtol=1e-12)
    np.testing.assert_allclose(rec["pre"][0], _pct([s[0] for s in steps]), rtol=1e-12)
    np.testing.assert_allclose(np.sqrt((np.asarray(r.hidden_grads[0]) ** 2).sum(axis=(1, 2))), rec["grad_t"][0],
                               rtol=1e-12)
    assert 0 < max(gate_sat) <= 1


def test_gru_candidate_pre_activation_and_gates():
    rng = np.random.default_rng(6)
    net = RecurrentNetwork("gru", 2, 1, 3, get_activation("tanh"), init_gain=2.0, rng=rng)
    X, y = rng.standard_normal((4, 3, 2)), (rng.random(4) > 0.5).astype(float)
    rec = SequenceInsideRecorder(net, 0, 3).measure(net.backward(X, y), X, STEP)
    W_x, W_h, b_x, b_h = net.params[0]
    n, h, pre, sat = 3, np.zeros((4, 3)), [], []
    for t in range(3):
        zx, zh = X[:, t] @ W_x + b_x, h @ W_h + b_h
        r, z = sigmoid(zx[:, :n] + zh[:, :n]), sigmoid(zx[:, n:2 * n] + zh[:, n:2 * n])
        pre.append(zx[:, 2 * n:] + r * zh[:, 2 * n:])
        cand = np.tanh(pre[-1])
        h = (1 - z) * cand + z * h
        sat.append(np.mean([np.mean(s * (1 - s) <= GATE_SATURATED) for s in (r, z)]))
        assert rec["signal"][0, t] == pytest.approx(np.std(h), rel=1e-12)
    np.testing.assert_allclose(rec["pre"][0], _pct(pre), rtol=1e-12)
    np.testing.assert_allclose(rec["gate_saturation"][0], sat, rtol=1e-12)


def _transformer(norm_position, branch_scale="one"):
    rng = np.random.default_rng(7)
    net = Transformer(2, 2, 8, 2, get_activation("tanh"), init_gain=1.5, norm_position=norm_position,
                      branch_scale=branch_scale, rng=rng, seq_len=5)
    X, y = rng.standard_normal((3, 5, 2)), (rng.random(3) > 0.5).astype(float)
    return net, X, y


def _loss_from_input(net, x, l, y):
    """The loss with block l's input (0-based l: x_l, the embedded input for l = 0) replaced by x: block l and
    those after it, then the read-out."""
    for p in net._blocks[l:]:
        x, _ = net._block(p, x, np.empty(x.shape[:2] + (4 * net.width,)))
    h = x[:, -1]
    if net.pre:
        mu, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
        h = (h - mu) / np.sqrt(var + 1e-5) * net._rest["final_ln.gamma"] + net._rest["final_ln.beta"]
    return net.loss_fn((h @ net._rest["head.W"] + net._rest["head.b"])[:, 0], y)[0]


@pytest.mark.parametrize("norm_position,branch_scale", [("pre", "one"), ("post", "one"), ("pre", "none")])
def test_transformer_residual_stream_branches_and_gradients(norm_position, branch_scale):
    net, X, y = _transformer(norm_position, branch_scale)
    rec = SequenceInsideRecorder(net, 0, 5).measure(net.backward(X, y), X, STEP)
    _, (_, xs, caches, derivs, _, _) = net._forward(X)
    eps = 1e-6
    for l in range(2):
        x = xs[l]   # block l + 1's input: the embedded input x_0, then block 1's output
        np.testing.assert_allclose(rec["signal"][l], [np.std(x[:, t]) for t in range(5)], rtol=1e-12)
        np.testing.assert_allclose(rec["act"][l], _pct(x), rtol=1e-12)
        a, m = caches[l][4], caches[l][5]
        np.testing.assert_allclose(rec["attn_signal"][l], [np.std(a[:, t]) for t in range(5)], rtol=1e-12)
        np.testing.assert_allclose(rec["mlp"][l], _pct(m), rtol=1e-12)
        np.testing.assert_allclose(rec["saturation"][l], (np.abs(np.tanh(caches[l][3][0] @ net._blocks[l]["W1"] +
                                   net._blocks[l]["b1"])) > 0.97).mean(axis=(0, 2)))
        G = np.empty_like(x)
        for idx in np.ndindex(*x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += eps
            xm[idx] -= eps
            G[idx] = (_loss_from_input(net, xp, l, y) - _loss_from_input(net, xm, l, y)) / (2 * eps)
        np.testing.assert_allclose(rec["grad_t"][l], np.sqrt((G ** 2).sum(axis=(0, 2))), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(rec["grad"][l], _pct(G), rtol=1e-5, atol=1e-10)
    r = net.backward(X, y)
    np.testing.assert_allclose(rec["grad_t"][0], r.time_grad_norm, rtol=1e-12)   # block 1's row: the position plot


def test_attention_output_is_attention_of_the_normalised_stream():
    """Pre-LN block 1: Attn(LN1(x_0)), computed here from the equations (one head at a time, causal softmax)."""
    net, X, y = _transformer("pre")
    r = net.backward(X, y)
    p = net._blocks[0]
    x0 = X @ net._embed["W"] + net._embed["b"] + net._P[:5]
    u = (x0 - x0.mean(-1, keepdims=True)) / np.sqrt(x0.var(-1, keepdims=True) + 1e-5) * p["ln1.gamma"] + p["ln1.beta"]
    q, k, v = u @ p["Wq"] + p["bq"], u @ p["Wk"] + p["bk"], u @ p["Wv"] + p["bv"]
    heads = []
    for h in range(2):
        s = slice(4 * h, 4 * h + 4)
        S = q[..., s] @ k[..., s].transpose(0, 2, 1) / 2.0 + np.triu(np.full((5, 5), -np.inf), 1)
        A = np.exp(S - S.max(-1, keepdims=True))
        heads.append((A / A.sum(-1, keepdims=True)) @ v[..., s])
    attn = np.concatenate(heads, -1) @ p["Wo"] + p["bo"]
    np.testing.assert_allclose(r.branch_outputs[0][0], attn, rtol=1e-10, atol=1e-12)
    rec = SequenceInsideRecorder(net, 0, 5).measure(r, X, STEP)
    np.testing.assert_allclose(rec["attn"][0], _pct(attn), rtol=1e-10)


def test_large_layers_use_a_fixed_sample_of_entries():
    rng = np.random.default_rng(8)
    net = RecurrentNetwork("rnn", 2, 1, 16, get_activation("tanh"), rng=rng)
    X, y = rng.standard_normal((10, 6, 2)), (rng.random(10) > 0.5).astype(float)
    recorder = SequenceInsideRecorder(net, 0, 6, samples=64)
    r = net.backward(X, y)
    rec = recorder.measure(r, X, STEP)
    pos = recorder.positions(6 * 10 * 16)
    assert len(pos) == 64 and np.array_equal(pos, recorder.positions(960))   # drawn once, then reused
    np.testing.assert_allclose(rec["act"][0], _pct(r.activations[0].reshape(-1)[pos]), rtol=1e-12)


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru", "transformer"])
def test_trainer_records_every_step_and_the_deltas_rebuild_the_view(model):
    cfg = ExperimentConfig(model=model, dataset="recall", depth=2, width=8, samples=96, batch_size=32, seq_len=6,
                           **({"heads": 2} if model == "transformer" else {}))
    t = Trainer(cfg)
    sender, assembler = InsideSender(), InsideAssembler()
    for _ in range(3):
        t.step_epoch()
        view = assembler.view(sender.delta(t.inside))
    whole = t.inside.view()
    assert len(view) == len(whole) and whole.layout.sequence and whole.layout.steps == 6
    for i in (0, len(whole) - 1):
        a, _ = view.point(i)
        b, _ = whole.point(i)
        assert set(a) == set(whole.layout.fields)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert whole.series("grad_t").shape == (len(whole), 2, 6) and whole.series("grad").shape == (len(whole), 2, 7)
    last = t.inside.last
    assert whole.find(int(whole.series("step")[-1])) == len(whole) - 1
    np.testing.assert_allclose(view.point(-1)[0]["signal"], last["signal"], rtol=1e-6)


def test_experiment_file_holds_a_sequence_models_records():
    import json
    from core.io.records import experiment_json
    t = Trainer(ExperimentConfig(model="lstm", dataset="recall", depth=1, width=8, samples=64, seq_len=5))
    t.run(2)
    v = t.inside.view()
    doc = json.loads(experiment_json(t.config, t.history, inside=v))["inside"]
    assert doc["model"] == "lstm" and doc["epoch"][-1] == 2
    np.testing.assert_allclose(doc["gate_saturation"][-1], v.point(-1)[0]["gate_saturation"], rtol=1e-5)
