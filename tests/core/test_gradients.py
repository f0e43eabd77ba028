"""Backpropagation against central finite differences, in float64."""
import numpy as np
import pytest

from tests.gradcheck import numeric_grads

from core import ACTIVATIONS, MLP, get_activation


_finite_difference_grads = numeric_grads  # tests/gradcheck.py


def _rel_err(a, b):
    scale = max(np.linalg.norm(a), np.linalg.norm(b), 1e-12)
    return np.linalg.norm(a - b) / scale


@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_central_differences(activation, task, residual):
    rng = np.random.default_rng(1)
    net = MLP(2, depth=3, width=5, activation=get_activation(activation), init="xavier",
              init_gain=1.5, residual=residual, task=task, rng=rng)
    for _, b in net.params:  # non-zero biases so their gradients are tested in general position
        b[...] = 0.1 * rng.standard_normal(b.shape)
    X = rng.standard_normal((7, 2))
    y = (rng.random(7) > 0.5).astype(float) if task == "classification" else rng.standard_normal(7)
    loss, grads = net.loss_and_grads(X, y)
    assert loss == pytest.approx(net.loss(X, y), rel=1e-15)
    numeric = _finite_difference_grads(net, X, y)
    for layer, ((dW, db), (nW, nb)) in enumerate(zip(grads, numeric), start=1):
        assert _rel_err(dW, nW) < 1e-6, f"layer {layer} dW"
        assert _rel_err(db, nb) < 1e-6, f"layer {layer} db"


def test_residual_forward_adds_the_skip_path():
    rng = np.random.default_rng(0)
    act = get_activation("tanh")
    net = MLP(2, depth=3, width=4, activation=act, residual=True, rng=rng)
    X = rng.standard_normal((5, 2))
    (W1, b1), (W2, b2), (W3, b3), (Wo, bo) = net.params
    h1 = np.tanh(X @ W1 + b1)                 # layer 1: no skip
    h2 = h1 + np.tanh(h1 @ W2 + b2)
    h3 = h2 + np.tanh(h2 @ W3 + b3)
    np.testing.assert_allclose(net.forward(X), (h3 @ Wo + bo)[:, 0], rtol=1e-14)


def test_bce_is_stable_for_huge_logits():
    net = MLP(1, depth=1, width=1, activation=get_activation("linear"), init="zeros")
    W_out, b_out = net.params[1]
    b_out[...] = 800.0                       # logit 800 for every input
    loss, grads = net.loss_and_grads(np.zeros((4, 1)), np.zeros(4))
    assert loss == pytest.approx(800.0)       # log(1 + e^800) - 0 = 800, not inf
    assert np.isfinite(grads[1][1]).all()
    assert grads[1][1][0] == pytest.approx(1.0)  # sigmoid(800) - 0


def test_params_are_views_of_the_flat_buffer():
    net = MLP(2, depth=2, width=3, activation=get_activation("relu"), init="he")
    net.params[0][0][0, 0] = 42.0
    assert net.flat[0] == 42.0
    assert [W.shape for W, _ in net.params] == [(2, 3), (3, 3), (3, 1)]
