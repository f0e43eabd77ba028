import math
import warnings

import numpy as np
import pytest

from core import ConfigError, ExperimentConfig, Trainer
from core.training.statistics import LAYER_FIELDS


def small(**kw):
    base = dict(depth=3, width=8, samples=200, epochs=5, batch_size=32)
    return ExperimentConfig(**{**base, **kw})


def test_batch_statistics_mean_what_their_names_say():
    cfg = small(activation="tanh", init="xavier", optimizer="sgd", lr=0.05, init_gain=3.0)
    t = Trainer(cfg)
    X, y = t.data.X_train[:32], t.data.y_train[:32]
    net = t.network
    W_before = [W.copy() for W, _ in net.params]
    r = net.backward(X, y)
    grads = [(dW.copy(), db.copy()) for dW, db in r.grads]
    derivs = [d.copy() for d in r.derivs]
    s = t.train_on_batch(X, y)
    for k, ((dW, _), W0, (W1, _)) in enumerate(zip(grads, W_before, net.params)):
        assert s.grad_norm[k] == pytest.approx(np.linalg.norm(dW), rel=1e-12)
        assert s.grad_mean_abs[k] == pytest.approx(np.abs(dW).mean(), rel=1e-12)
        assert s.grad_max_abs[k] == pytest.approx(np.abs(dW).max(), rel=1e-12)
        assert s.weight_norm[k] == pytest.approx(np.linalg.norm(W1), rel=1e-12)
        assert s.update_ratio[k] == pytest.approx(np.linalg.norm(W1 - W0) / np.linalg.norm(W0), rel=1e-9)
        # SGD: the change is exactly lr * gradient
        np.testing.assert_allclose(W1 - W0, -cfg.lr * dW, rtol=1e-12, atol=1e-15)
    for k, d in enumerate(derivs):
        assert s.act_deriv_mean[k] == pytest.approx(d.mean(), rel=1e-12)
        assert s.saturation[k] == pytest.approx(np.mean(d <= 0.05 * 1.0))
    assert s.act_deriv_mean[-1] == 1.0 and s.saturation[-1] == 0.0  # linear output layer
    assert s.saturation[0] > 0.05  # gain 3 saturates tanh in the first layer
    assert [ls.layer for ls in s.layers] == [1, 2, 3, 4]


def test_epoch_statistics_fold_the_batches():
    t = Trainer(small(samples=250, batch_size=40))
    batches = []
    while True:
        b = t.step_batch()
        batches.append(b)
        if b.epoch_stats is not None:
            break
    e = b.epoch_stats
    assert len(batches) == t.batches_per_epoch == 5  # 200 training samples in batches of 40
    assert e.epoch == 1 and e.step == 5 and t.epoch == 1
    sizes = np.array([x.batch_size for x in batches])
    np.testing.assert_allclose(e.grad_norm, np.mean([x.grad_norm for x in batches], axis=0))
    np.testing.assert_allclose(e.grad_mean_abs, np.mean([x.grad_mean_abs for x in batches], axis=0))
    np.testing.assert_allclose(e.update_ratio, np.mean([x.update_ratio for x in batches], axis=0))
    np.testing.assert_allclose(e.grad_max_abs, np.max([x.grad_max_abs for x in batches], axis=0))
    np.testing.assert_allclose(e.weight_norm, batches[-1].weight_norm)
    np.testing.assert_allclose(e.act_deriv_mean,
                               np.average([x.act_deriv_mean for x in batches], axis=0, weights=sizes))
    assert e.train_loss == pytest.approx(np.average([x.loss for x in batches], weights=sizes))
    assert e.val_loss == pytest.approx(t.network.loss(t.data.X_val, t.data.y_val))
    assert 0.0 <= e.val_accuracy <= 1.0


def test_step_epoch_finishes_a_partly_done_epoch():
    t = Trainer(small())
    t.step_batch()
    t.step_batch()
    e = t.step_epoch()
    assert e.epoch == 1 and e.step == t.batches_per_epoch
    assert t.step_epoch().step == 2 * t.batches_per_epoch


def test_vanishing_gradients_in_a_deep_sigmoid_network():
    t = Trainer(ExperimentConfig(depth=10, width=32, activation="sigmoid", init="xavier", seed=0))
    e = t.step_epoch()
    assert e.grad_norm[0] < 1e-3 * e.grad_norm[-1]
    assert (e.act_deriv_mean[:-1] <= 0.25).all()


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("momentum", 0.05), ("rmsprop", 0.005), ("adam", 0.005)])
def test_every_optimizer_reduces_the_loss(optimizer, lr):
    t = Trainer(ExperimentConfig(depth=2, width=16, activation="tanh", dataset="gaussians",
                                 optimizer=optimizer, lr=lr, samples=400, seed=3))
    first = t.step_epoch().train_loss
    for _ in range(15):
        last = t.step_epoch()
    assert last.train_loss < 0.7 * first
    assert last.val_accuracy > 0.85


def test_clipping_bounds_the_global_norm_and_keeps_its_direction():
    cfg = small(init="normal", init_gain=2.0, activation="relu", lr=0.01, clip_norm=0.5)
    t = Trainer(cfg)
    X, y = t.data.X_train[:32], t.data.y_train[:32]
    raw = t.network.backward(X, y)
    g = raw.grad_flat.copy()
    assert np.linalg.norm(g) > 0.5  # so clipping is active
    before = t.network.flat.copy()
    s = t.train_on_batch(X, y)
    # the statistics describe dL/dW itself, not the clipped step
    for k, (dW, _) in enumerate(raw.grads):
        assert s.grad_norm[k] == pytest.approx(np.linalg.norm(dW), rel=1e-12)
        assert s.grad_max_abs[k] == pytest.approx(np.abs(dW).max(), rel=1e-12)
        assert s.grad_mean_abs[k] == pytest.approx(np.abs(dW).mean(), rel=1e-12)
    step = (t.network.flat - before) / -cfg.lr
    assert s.clipped and s.grad_norm_total == pytest.approx(np.linalg.norm(g))
    assert np.linalg.norm(step) == pytest.approx(0.5, rel=1e-12)
    cos = step @ g / (np.linalg.norm(step) * np.linalg.norm(g))
    assert cos == pytest.approx(1.0, abs=1e-12)
    # below the threshold nothing changes
    t2 = Trainer(cfg.replace(clip_norm=1e6))
    b2 = t2.network.flat.copy()
    assert not t2.train_on_batch(X, y).clipped
    np.testing.assert_allclose((t2.network.flat - b2) / -cfg.lr, g, rtol=1e-9, atol=1e-12)


def test_same_seed_same_run_and_another_seed_differs():
    cfg = small(optimizer="adam", lr=0.01)
    a, b = Trainer(cfg), Trainer(cfg)
    for _ in range(3):
        ea, eb = a.step_epoch(), b.step_epoch()
        assert ea.to_record() == eb.to_record()
    np.testing.assert_array_equal(a.network.flat, b.network.flat)
    c = Trainer(cfg.replace(seed=1))
    assert c.step_epoch().train_loss != Trainer(cfg).step_epoch().train_loss


def test_divergence_is_caught_located_and_stops_updates():
    cfg = ExperimentConfig(depth=6, width=64, activation="relu", init="normal", init_gain=4.0,
                           lr=1.0, epochs=5, seed=0)
    t = Trainer(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings may reach the console
        history = t.run()
    assert t.diverged and history[-1].diverged
    d = t.divergence
    assert d.epoch == history[-1].epoch and 1 <= d.layer <= t.network.n_layers
    assert d.quantity in ("loss", "gradient", "weights")
    assert f"epoch {d.epoch}" in str(d) and f"layer {d.layer}" in str(d)
    frozen = t.network.flat.copy()
    steps = t.step
    assert t.step_batch() is t.last_batch and t.step_epoch() is history[-1] is t.last_epoch
    assert t.step == steps
    np.testing.assert_array_equal(t.network.flat, frozen)
    assert len(t.history) == len(history) == history[-1].epoch
    assert t.history[-1].diverged and t.history[-1].divergence == d
    assert t.history[0].to_record() == history[0].to_record()


def test_nonfinite_gradient_with_finite_loss_is_reported_as_gradient():
    # A linear network whose forward pass stays finite (1e-200 * 1e200) while the backward pass
    # multiplies 1e200 * 1e200 on the way down: the gradient overflows at layer 2 first.
    t = Trainer(small(activation="linear", init="zeros", depth=3, width=8))
    X, y = t.data.X_train[:8], t.data.y_train[:8]
    for (W, _), value in zip(t.network.params, (1e-200, 1.0, 1e200, 1e200)):
        W[...] = value
    before = t.network.flat.copy()
    s = t.train_on_batch(X, y)
    assert math.isfinite(s.loss)
    assert s.diverged and s.divergence.quantity == "gradient" and s.divergence.layer == 2
    assert not np.isfinite(s.grad_norm[:2]).any() and np.isfinite(s.grad_norm[2:]).all()
    np.testing.assert_array_equal(t.network.flat, before)  # no update was applied


def test_grad_norm_is_exact_even_when_squares_overflow():
    from core.training.statistics import Segments, combined_norm, segment_norms
    v = np.array([3e200, 4e200, 1.0, 6.0, 8.0])
    assert segment_norms(v, [0], [3])[0] == pytest.approx(5e200)
    np.testing.assert_allclose(Segments([0, 3], [3, 2]).norms(v), [5e200, 10.0])
    assert combined_norm(np.array([3e200, 4e200])) == pytest.approx(5e200)


def test_live_settings_apply_without_rebuilding():
    t = Trainer(small())
    t.step_epoch()
    flat = t.network.flat.copy()
    t.apply(lr=0.01, optimizer="adam", clip_norm=1.0)
    assert t.optimizer.lr == 0.01 and type(t.optimizer).__name__ == "Adam"
    np.testing.assert_array_equal(t.network.flat, flat)
    assert t.config.clip_norm == 1.0 and t.epoch == 1
    with pytest.raises(ConfigError, match="depth"):
        t.apply(depth=4)
    with pytest.raises(ConfigError, match="lr must be"):
        t.apply(lr=-1)


def test_float32_runs_in_float32():
    t = Trainer(small(dtype="float32"))
    assert t.network.flat.dtype == np.float32 and t.data.X_train.dtype == np.float32
    e = t.step_epoch()
    assert math.isfinite(e.train_loss)


def test_regression_has_no_accuracy_and_fits_the_sine():
    t = Trainer(ExperimentConfig(dataset="sine", depth=2, width=32, activation="tanh", optimizer="adam",
                                 lr=0.01, samples=400, noise=0.05))
    records = [t.step_epoch() for _ in range(30)]
    assert records[-1].val_accuracy is None
    assert records[-1].val_loss < 0.1 < records[0].val_loss
    xs, ys, pred = t.prediction_grid(50)
    assert ys is None and pred.shape == (50,)


def test_prediction_grid_for_2d_data_is_a_probability_image():
    t = Trainer(small())
    xs, ys, P = t.prediction_grid(30)
    assert P.shape == (30, 30) and ((0 <= P) & (P <= 1)).all()


def test_records_turn_nonfinite_into_none():
    t = Trainer(small())
    e = t.step_epoch()
    e.grad_norm[0] = np.inf
    e.val_loss = math.nan
    r = e.to_record()
    assert r["layers"][0]["grad_norm"] is None and r["val_loss"] is None
    assert set(r["layers"][0]) == {"layer", *LAYER_FIELDS}


def test_gradient_norms_look_without_touching():
    t = Trainer(small())
    flat = t.network.flat.copy()
    g0 = t.gradient_norms()
    _, grads = t.network.loss_and_grads(t.data.X_train[:32], t.data.y_train[:32])
    np.testing.assert_allclose(g0, [np.linalg.norm(dW) for dW, _ in grads], rtol=1e-12)
    np.testing.assert_array_equal(t.network.flat, flat)
    assert t.step == 0
    t.step_batch()
    idx = t._last_idx
    _, grads = t.network.loss_and_grads(t.data.X_train[idx], t.data.y_train[idx])
    np.testing.assert_allclose(t.gradient_norms(), [np.linalg.norm(dW) for dW, _ in grads], rtol=1e-12)
