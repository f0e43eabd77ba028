"""Issue 12: percentile bands, forward signal, saturation, the network picture's blocks, history memory,
and the reference numbers of Glorot & Bengio (2010) and makemore."""
from types import SimpleNamespace

import numpy as np
import pytest

from core import ExperimentConfig, Trainer
from core.nn.activations import get_activation
from core.measure.distributions import QUANTILES, InsideRecorder, percentile_rows
from core.nn.mlp import MLP


def _measure(net, X, y, seed=0, samples=64):
    rec = InsideRecorder(net, seed, samples=samples)
    rec.every = 1
    r = net.backward(X, y)
    stats = SimpleNamespace(divergence=None, step=1, epoch=1)
    return rec, r, rec.measure(r, X, stats, net.flat, np.zeros_like(net.flat))


def test_percentile_rows_is_numpys_linear_rule():
    rng = np.random.default_rng(1)
    rows = np.full((3, 10), np.inf)
    counts = np.array([10, 7, 1])
    for i, c in enumerate(counts):
        rows[i, :c] = np.sort(rng.standard_normal(c))
    got = percentile_rows(rows, counts)
    for i, c in enumerate(counts):
        np.testing.assert_allclose(got[i], np.percentile(rows[i, :c], QUANTILES), rtol=1e-12)


@pytest.mark.parametrize("residual,norm,stack", [(False, "none", True), (True, "none", True),
                                                 (False, "batch", True), (True, "none", False),
                                                 (False, "none", False)])   # large, stacked by the pass (issue 25)
def test_bands_match_np_percentile_on_the_same_subsample(residual, norm, stack, monkeypatch):
    if not stack:   # the layer-by-layer path of large networks
        monkeypatch.setattr(InsideRecorder, "STACK_LIMIT", 0)
    rng = np.random.default_rng(0)
    net = MLP(3, 3, 40, get_activation("tanh"), "xavier", 1.5, residual, rng=rng, norm=norm)
    X, y = rng.standard_normal((20, 3)), (rng.random(20) > 0.5).astype(float)
    rec, r, out = _measure(net, X, y)
    k = rec.k
    idx = rec.grad_idx.reshape(net.n_layers, k)
    for l in range(net.n_layers):
        sample = np.abs(r.grad_flat[idx[l, :rec.grad_counts[l]]])
        np.testing.assert_allclose(out["grad"][l], np.percentile(sample, QUANTILES), rtol=1e-6)
    n_rows, pos = rec._positions(len(X), 40)
    h_in = X
    for l, h in enumerate(r.activations):
        np.testing.assert_allclose(out["act"][l], np.percentile(np.abs(h[:n_rows].ravel()[pos]), QUANTILES),
                                   rtol=1e-6)
        W, b = net.params[l]
        z = h_in @ W + b    # the whole batch, then the same positions
        np.testing.assert_allclose(out["pre"][l], np.percentile(np.abs(z[:n_rows].ravel()[pos]), QUANTILES),
                                   rtol=1e-5)
        np.testing.assert_allclose(out["act_std"][l], np.std(h), rtol=1e-5)
        h_in = h
    assert len(pos) == k and rec.grad_counts[1] == k and rec.grad_counts[-1] == 40   # a small layer: all of it


def test_tanh_saturation_is_makemores_rule_and_others_the_trainers():
    rng = np.random.default_rng(2)
    net = MLP(2, 3, 50, get_activation("tanh"), "normal", 1.0, rng=rng)   # N(0, 1) weights saturate tanh
    X, y = rng.standard_normal((30, 2)), (rng.random(30) > 0.5).astype(float)
    rec, r, out = _measure(net, X, y)
    want = [np.mean(np.abs(h) > 0.97) for h in r.activations]
    assert 0.2 < want[1] < 0.95, want        # a test that can fail: a real mix of saturated and not
    np.testing.assert_allclose(out["saturation"], want, rtol=1e-6)
    assert "0.97" in rec.layout.saturation_rule
    # node bands: the share over each band's units; their unit-weighted mean is the layer's share
    counts = np.diff(rec.layout.edges[1])
    nodes = out["node_saturation"].reshape(3, -1)
    np.testing.assert_allclose(nodes @ counts / counts.sum(), want, rtol=1e-6)

    t = Trainer(ExperimentConfig(activation="sigmoid", init="normal", depth=3, width=16))
    t.inside.every = 1
    b = t.step_batch()
    np.testing.assert_allclose(t.inside.last["saturation"], b.saturation[:-1], rtol=1e-6)
    assert "5%" in t.inside.layout.saturation_rule


def test_link_blocks_are_rms_of_the_sampled_entries():
    t = Trainer(ExperimentConfig(depth=2, width=12, activation="tanh"))
    t.inside.every = 1
    b = t.step_batch()
    rec, lay = t.inside, t.inside.layout
    W = t.network.params[1][0]
    blocks = lay.links(rec.last["w_blocks"], 1)        # 12 units -> 8 bands each
    e_in, e_out = lay.edges[1], lay.edges[2]
    for i in range(len(e_in) - 1):
        for j in range(len(e_out) - 1):
            block = W[e_in[i]:e_in[i + 1], e_out[j]:e_out[j + 1]]   # 144 <= SAMPLES: every entry is sampled
            assert blocks[i, j] == pytest.approx(np.sqrt(np.mean(block ** 2)), rel=1e-6)
    # the gradient blocks are of dL/dW before the step; with SGD the update blocks are lr times them
    np.testing.assert_allclose(rec.last["u_blocks"], t.config.lr * rec.last["g_blocks"], rtol=1e-5)
    assert b.step == 1


def test_block_rms_is_each_blocks_own_and_nan_where_no_sample_falls():
    """Issue 25: the blocks' sums of squares as segments of the block-ordered samples; the same as block by block."""
    rng = np.random.default_rng(3)
    net = MLP(3, 2, 100, get_activation("tanh"), "xavier", 1.0, rng=rng)
    X, y = rng.standard_normal((20, 3)), (rng.random(20) > 0.5).astype(float)
    rec, r, out = _measure(net, X, y, samples=40)   # 40 samples of a 100 x 100 layer over 64 blocks
    expected = np.full((3, rec.n_blocks), np.nan)
    for blk in range(rec.n_blocks):
        chosen = rec.grad_idx[rec.block_id == blk]
        if len(chosen):
            expected[:2, blk] = [np.sqrt(np.mean(v[chosen] ** 2)) for v in (net.flat, r.grad_flat)]
            expected[2, blk] = 0.0   # _measure's update is zero
    assert np.isnan(expected).any() and np.isfinite(expected).sum() > 50   # empty blocks and full ones
    for i, name in enumerate(("w_blocks", "g_blocks", "u_blocks")):
        np.testing.assert_allclose(out[name], expected[i], rtol=1e-12, equal_nan=True)


def test_glorot_bengio_2010_standard_init_shrinks_backprop_gradients_normalized_keeps_them_level():
    """Tanh, 5 hidden layers of 1000 units (fewer samples than the paper's). Standard init U[-1/sqrt(n), 1/sqrt(n)]
    (variance 1/(3n)): activations shrink going up and back-propagated gradients dL/dz shrink going down by about
    sqrt(1/3) per layer; the normalized init (variance 2/(n_in + n_out) = 1/n) keeps both level. The weight
    gradients dL/dW = h^T dL/dz stay about level in both (the paper's observation)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 1000))
    y = (rng.random(32) > 0.5).astype(float)
    res = {}
    for init in ("uniform", "xavier"):
        net = MLP(1000, 5, 1000, get_activation("tanh"), init, rng=np.random.default_rng(1))
        rec, r, out = _measure(net, X, y, samples=256)
        deltas = r.delta_norms[:5]                 # hidden layers, input side first
        res[init] = (deltas[:-1] / deltas[1:], out["act_std"][1:] / out["act_std"][:-1], out["grad"][1:5, 3])
    back, fwd, med = res["uniform"]
    assert np.all(back < 0.6) and np.all(back > 0.4), back        # ~0.577 per layer toward the input
    assert np.prod(back) < 0.12, back                              # (1/sqrt(3))^4 = 0.111 over four layers
    assert np.all(fwd < 0.6) and np.all(fwd > 0.5), fwd
    back, fwd, med_n = res["xavier"]
    # level but for what tanh' < 1 takes where the activations are largest (layer 1, fed unit-variance inputs):
    # measured 0.69, 0.82, 0.90, 0.87 (the standard init: 0.46, 0.56, 0.57, 0.58)
    assert np.all(back > 0.65) and np.all(back[1:] > 0.8) and np.prod(back) > 0.4, back
    assert np.all(fwd > 0.75) and np.all(fwd[1:] > 0.8), fwd
    for m in (med, med_n):                                         # weight gradients: within 2x across layers
        assert m.max() / m.min() < 2.0, m


def test_history_memory_per_step_and_views():
    t = Trainer(ExperimentConfig(samples=128, batch_size=32))   # default network: depth 8, width 32
    t.inside.every = 1
    for _ in range(10):
        t.step_batch()
    h = t.inside.history
    assert h.timeline.n == 10 and h.epochs.n == 2 and h.current.n == 2      # 4 batches per epoch (96 train)
    per_step = sum(np.prod(s) for k, s in h.timeline.shapes.items()) * 4 + 12
    assert per_step < 400   # bytes: 100,000 steps of the timeline < 40 MB
    before = h.timeline.nbytes
    for _ in range(246):
        t.step_batch()
    assert h.timeline.nbytes <= 2 * before and h.timeline.nbytes == 256 * per_step   # capacity 256: full
    v = t.inside.view()
    # epochs 1..63 by their last step, then the 4 steps of epoch 64 (just ended: its last step ends it)
    assert len(v.epochs["step"]) == 63 and len(v.steps["step"]) == 4 and len(v) == 67
    rec, what = v.point(62)
    assert what == "end of epoch 63 (step 252)" and rec["grad"].dtype == np.float32
    assert v.point(-1)[1] == "step 256 (epoch 64)" and v.find(254) == 64 and v.find(0) is None
    assert list(v.series("step")[60:]) == [244, 248, 252, 253, 254, 255, 256]


def test_recorded_steps_include_every_epochs_last_and_keep_the_budgets_rhythm():
    t = Trainer(ExperimentConfig(depth=3, width=8, samples=2000, batch_size=10))
    r, n = t.inside, t.batches_per_epoch   # 150 batches per epoch
    assert r.batches_per_epoch == n and 1 < r.every < n
    steps = [s for s in range(1, 3 * n + 1) if r.recorded(s)]
    assert {n, 2 * n, 3 * n} <= set(steps) and all((n - s % n) % r.every == 0 for s in steps if s % n)
    for _ in range(3 * n):
        t.step_batch()
    assert list(r.history.timeline.step[:r.history.timeline.n]) == steps
    big = Trainer(ExperimentConfig(depth=2, width=512, samples=200, batch_size=100))
    assert big.inside.every == 1    # matrix products dominate: every step


def test_experiment_file_holds_the_epoch_records_and_still_opens(tmp_path):
    import json
    from core.io.records import experiment_json, load_experiment
    t = Trainer(ExperimentConfig(depth=2, width=8, samples=1000, batch_size=10, activation="tanh"))
    t.run(3)   # 80 batches per epoch: several recorded steps in each
    v = t.inside.view()
    doc = json.loads(experiment_json(t.config, t.history, inside=v))
    ins = doc["inside"]
    assert ins["version"] == 1 and ins["epoch"][-1] == 3 and len(ins["step"]) == len(v.epochs["step"]) + 1
    last, _ = v.point(-1)
    np.testing.assert_allclose(ins["grad"][-1], last["grad"], rtol=1e-5)
    np.testing.assert_allclose(ins["saturation"][-1], last["saturation"], rtol=1e-5, atol=1e-12)
    path = tmp_path / "e.json"
    path.write_text(json.dumps(doc))
    config, history = load_experiment(str(path))
    assert config == t.config and len(history) == 3


def test_recurrent_models_record_their_own_inside_and_train_as_before():
    """Issue 21: a recurrent model records per layer and time step (core.measure.sequence_inside), not the MLP's."""
    from core.data.datasets import SEQUENCE_DATASETS
    from core.measure.sequence_inside import SequenceInsideRecorder
    t = Trainer(ExperimentConfig(model="rnn", dataset=sorted(SEQUENCE_DATASETS)[0], depth=1, width=8, samples=64,
                                 seq_len=5))
    assert isinstance(t.inside, SequenceInsideRecorder)
    b = t.step_batch()
    assert b.step == 1 and np.isfinite(b.loss) and len(t.inside.view()) == 1


def test_pre_activations_are_the_steps_own_before_its_update():
    """z = h_in W + b with the weights the forward pass used, not the weights after the step's update."""
    t = Trainer(ExperimentConfig(depth=2, width=12, activation="tanh", lr=5.0))
    t.inside.every = 1
    X, y = t.data.X_train[:t.config.batch_size], t.data.y_train[:t.config.batch_size]
    before = [(W.copy(), b.copy()) for W, b in t.network.params]
    t.train_on_batch(X, y)
    rec = t.inside
    n_rows, pos = rec._positions(len(X), 12)
    h, moved = X, False
    for l, (W, b) in enumerate(before[:-1]):
        z = h @ W + b
        np.testing.assert_allclose(rec.last["pre"][l], np.percentile(np.abs(z[:n_rows].ravel()[pos]), QUANTILES),
                                   rtol=1e-6)
        after = h @ t.network.params[l][0] + t.network.params[l][1]
        moved |= not np.allclose(np.percentile(np.abs(after[:n_rows].ravel()[pos]), QUANTILES), rec.last["pre"][l],
                                 rtol=1e-3)
        h = np.tanh(z)
    assert moved   # the update changed z enough that the weights after it would have given other bands
