"""Normalisation layers and multi-class softmax: gradients against central differences in float64,
the forward pass against the issue's equations, running statistics, and the trainer's statistics."""
import numpy as np
import pytest

from tests.gradcheck import numeric_grad

from core import ExperimentConfig, MLP, Trainer, get_activation
from core.data.datasets import MULTICLASS, make_dataset
from core.nn.losses import softmax, softmax_cross_entropy
from core.nn.mlp import NORM_EPS


def _numeric_grad(net, X, y, P, eps=1e-6):
    """dL/dP by central differences of the training-mode loss (batch statistics, nothing updated)."""
    return numeric_grad(lambda: net.training_loss(X, y), P, eps)


def _rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12)


def _net(norm, residual, task="classification", n_out=1, activation="tanh", seed=1):
    rng = np.random.default_rng(seed)
    net = MLP(3, depth=3, width=5, activation=get_activation(activation), init="xavier", init_gain=1.5,
              residual=residual, task=task, rng=rng, norm=norm, n_out=n_out)
    for _, b in net.params:
        b[...] = 0.1 * rng.standard_normal(b.shape)
    for gamma, beta in net.norm_params:  # away from 1 and 0 so their gradients are tested in general position
        gamma[...] = 1.0 + 0.3 * rng.standard_normal(gamma.shape)
        beta[...] = 0.2 * rng.standard_normal(beta.shape)
    return net, rng


@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("norm", ["batch", "layer"])
@pytest.mark.parametrize("task", ["classification", "regression", "multiclass"])
def test_norm_backprop_matches_central_differences(norm, residual, task):
    n_out = 3 if task == "multiclass" else 1
    net, rng = _net(norm, residual, task, n_out, activation="sigmoid" if residual else "tanh")
    X = rng.standard_normal((7, 3))
    y = {"classification": (rng.random(7) > 0.5).astype(float), "regression": rng.standard_normal(7),
         "multiclass": rng.integers(0, 3, 7).astype(float)}[task]
    r = net.backward(X, y)
    assert r.loss == pytest.approx(net.training_loss(X, y), rel=1e-15)
    for k, (dW, db) in enumerate(r.grads):
        W, b = net.params[k]
        assert _rel_err(dW, _numeric_grad(net, X, y, W)) < 1e-6, f"layer {k + 1} dW"
        if norm != "batch" or k == net.n_layers - 1:  # batch norm removes b: its gradient is 0, checked below
            assert _rel_err(db, _numeric_grad(net, X, y, b)) < 1e-6, f"layer {k + 1} db"
    for k, (dgamma, dbeta) in enumerate(r.norm_grads):
        gamma, beta = net.norm_params[k]
        assert _rel_err(dgamma, _numeric_grad(net, X, y, gamma)) < 1e-6, f"layer {k + 1} dgamma"
        assert _rel_err(dbeta, _numeric_grad(net, X, y, beta)) < 1e-6, f"layer {k + 1} dbeta"
    if norm == "batch":  # subtracting the batch mean cancels b exactly: dL/db = 0 up to rounding
        assert all(np.abs(db).max() < 1e-12 for _, db in r.grads[:-1])


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_norm_forward_follows_the_equations(norm):
    net, rng = _net(norm, residual=False)
    X = rng.standard_normal((6, 3))
    h = X
    for k in range(net.n_layers - 1):
        W, b, gamma, beta = net.layer_params(k)
        z = h @ W + b
        axis = 0 if norm == "batch" else 1
        mean = z.mean(axis=axis, keepdims=True)
        var = ((z - mean) ** 2).sum(axis=axis, keepdims=True) / z.shape[axis]  # biased
        h = np.tanh(gamma * (z - mean) / np.sqrt(var + 1e-5) + beta)
    W, b = net.params[-1]
    out, _ = net._forward(X)
    np.testing.assert_allclose(out, (h @ W + b)[:, 0], rtol=1e-12)
    assert NORM_EPS == 1e-5


def test_batch_norm_running_statistics_use_momentum_0_1_and_drive_evaluation():
    net, rng = _net("batch", residual=False)
    X1, X2 = rng.standard_normal((8, 3)) + 2.0, rng.standard_normal((8, 3)) - 1.0
    y = np.zeros(8)
    np.testing.assert_array_equal(net.running_mean, 0.0)
    np.testing.assert_array_equal(net.running_var, 1.0)
    z1 = X1 @ net.params[0][0] + net.params[0][1]
    net.backward(X1, y)  # no update_running: an inspection changes nothing
    np.testing.assert_array_equal(net.running_mean, 0.0)
    net.backward(X1, y, update_running=True)
    np.testing.assert_allclose(net.running_mean[0], 0.1 * z1.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(net.running_var[0], 0.9 + 0.1 * z1.var(axis=0), rtol=1e-12)
    z2 = X2 @ net.params[0][0] + net.params[0][1]
    net.backward(X2, y, update_running=True)
    np.testing.assert_allclose(net.running_mean[0], 0.9 * 0.1 * z1.mean(axis=0) + 0.1 * z2.mean(axis=0),
                               rtol=1e-12)
    # evaluation of one sample uses the running statistics, not the (undefined) statistics of one row
    W, b, gamma, beta = net.layer_params(0)
    x = X2[:1]
    expect = np.tanh(gamma * (x @ W + b - net.running_mean[0]) / np.sqrt(net.running_var[0] + 1e-5) + beta)
    h = x
    for k in range(1):
        h = np.tanh(net._normalise_eval(k, h @ net.params[k][0] + net.params[k][1]))
    np.testing.assert_allclose(h, expect, rtol=1e-12)


def test_layer_norm_evaluation_equals_training_mode():
    net, rng = _net("layer", residual=True)
    X = rng.standard_normal((5, 3))
    np.testing.assert_allclose(net.forward(X), net._forward(X)[0], rtol=1e-13)


def test_softmax_cross_entropy_matches_its_definition_and_is_stable():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 4))
    y = np.array([0, 1, 2, 3, 1, 0], dtype=float)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss, grad = softmax_cross_entropy(z, y)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), y.astype(int)])), rel=1e-13)
    onehot = np.eye(4)[y.astype(int)]
    np.testing.assert_allclose(grad, (p - onehot) / 6, atol=1e-15)
    big_loss, big_grad = softmax_cross_entropy(z + 1000.0, y)  # a shift changes nothing, overflows nothing
    assert big_loss == pytest.approx(loss, rel=1e-12) and np.isfinite(big_grad).all()
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0)


@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_multiclass_datasets_have_every_class_and_a_softmax_output(name):
    d = make_dataset(name, np.random.default_rng(0), 300, 0.1, 0.2)
    k = MULTICLASS[name]
    assert d.task == "multiclass" and d.n_classes == k == d.n_outputs
    assert set(np.unique(d.y_train)) == set(range(k)) and set(np.unique(d.y_val)) <= set(range(k))
    t = Trainer(ExperimentConfig(dataset=name, depth=2, width=16, activation="tanh", lr=0.5, epochs=1,
                                 samples=300))
    assert t.network.n_out == k
    loss0, acc0 = t.evaluate(t.data.X_val, t.data.y_val)
    assert loss0 == pytest.approx(np.log(k), rel=0.2)  # near-uniform probabilities before training
    xs, ys, P = t.prediction_grid(resolution=12)
    assert P.shape == (12, 12, k)
    np.testing.assert_allclose(P.sum(axis=2), 1.0)
    # accuracy is the share of argmax(logits) == label
    out = t.network.forward(t.data.X_val)
    assert acc0 == pytest.approx(np.mean(out.argmax(axis=1) == t.data.y_val))


def test_blobs_learns_beyond_chance():
    t = Trainer(ExperimentConfig(dataset="blobs", depth=2, width=16, activation="tanh", lr=0.3,
                                 optimizer="momentum", epochs=15, samples=400, batch_size=32))
    t.run()
    assert t.history.scalar("val_accuracy")[-1] > 0.8  # chance is 0.25


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_trainer_reports_gamma_and_beta_statistics(norm):
    cfg = ExperimentConfig(depth=3, width=8, norm=norm, optimizer="sgd", lr=0.1, samples=64, epochs=1,
                           batch_size=16)
    t = Trainer(cfg)
    net = t.network
    gamma_before = np.array([np.linalg.norm(g) for g, _ in net.norm_params])
    X, y = t.data.X_train[:16], t.data.y_train[:16]
    expect = net.backward(X, y)
    b = t.train_on_batch(X, y)
    ns = b.norm
    np.testing.assert_allclose(ns.gamma_grad_norm, [np.linalg.norm(dg) for dg, _ in expect.norm_grads], rtol=1e-12)
    np.testing.assert_allclose(ns.beta_grad_norm, [np.linalg.norm(db) for _, db in expect.norm_grads], rtol=1e-12)
    np.testing.assert_allclose(ns.gamma_norm, [np.linalg.norm(g) for g, _ in net.norm_params], rtol=1e-12)
    np.testing.assert_allclose(ns.gamma_update_ratio, 0.1 * ns.gamma_grad_norm / gamma_before, rtol=1e-10)
    assert (ns.beta_update_ratio == np.inf).all()  # beta starts at 0: any change is infinitely large relative
    e = t.step_epoch()
    assert e.norm is not None and len(e.norm.gamma_grad_norm) == 3
    record = e.to_record()["norm_layers"]
    assert [r["layer"] for r in record] == [1, 2, 3]
    assert all(r["beta_norm"] > 0 and r["gamma_grad_norm"] > 0 for r in record)


def test_norm_none_has_no_extra_parameters():
    t = Trainer(ExperimentConfig(depth=3, width=8, samples=64))
    assert t.network.norm_params == [] and t.train_on_batch(t.data.X_train[:8], t.data.y_train[:8]).norm is None
    with_norm = Trainer(ExperimentConfig(depth=3, width=8, samples=64, norm="layer")).network
    assert with_norm.flat.size == t.network.flat.size + 2 * 3 * 8


def test_mean_field_theory_makes_no_prediction_for_normalised_networks():
    from core.measure.theory import predicted_profile
    g = np.array([1e-3, 1e-2, 1e-1, 1.0])
    cfg = ExperimentConfig(depth=3, activation="tanh")
    assert np.isfinite(predicted_profile(cfg, g)[:3]).all()
    assert np.isnan(predicted_profile(cfg.replace(norm="batch"), g)).all()


def test_history_keeps_gamma_and_beta_statistics_per_epoch():
    t = Trainer(ExperimentConfig(depth=2, width=4, norm="batch", samples=40, batch_size=8, epochs=70))
    stats = t.run()  # 70 epochs: past the history's first capacity of 64
    g = t.history.norm_layer("gamma_grad_norm")
    assert g.shape == (70, 2)
    np.testing.assert_array_equal(g[-1], stats[-1].norm.gamma_grad_norm)
    np.testing.assert_array_equal(t.history[3].norm.beta_norm, stats[3].norm.beta_norm)
    assert Trainer(ExperimentConfig(depth=2, width=4, samples=40)).history.norm_layer("gamma_norm") is None
