"""core.measure.transformer_view: what the window's Transformer views draw, checked against the equations."""
import math

import numpy as np

from core import ExperimentConfig
from core.measure import transformer_view
from core.nn.activations import get_activation
from core.nn.transformer import Transformer
from core.training.trainer import Trainer


def _net(depth=3, width=8, heads=2, T=6, norm_position="pre", branch_scale="one", seed=0):
    return Transformer(3, depth, width, heads, get_activation("relu"), "xavier", 1.0, norm_position, branch_scale,
                       "classification", np.random.default_rng(seed), np.float64, 1, T)


def _batch(T=6, n=5, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, T, 3)), (rng.random(n) > 0.5).astype(float)


def _readout_attention_block1(net, X):
    """Block 1's attention from the last position, by hand: pre-LN, LN1's gamma 1 and beta 0 as initialised."""
    p = dict(net.named_params())
    x0 = X @ p["embed.W"] + p["embed.b"] + net._P[:X.shape[1]]
    u = (x0 - x0.mean(-1, keepdims=True)) / np.sqrt(x0.var(-1, keepdims=True) + 1e-5)
    q, k = u @ p["block1.attn.Wq"] + p["block1.attn.bq"], u @ p["block1.attn.Wk"] + p["block1.attn.bk"]
    dh = net.width // net.heads
    out = []
    for h in range(net.heads):
        cols = slice(h * dh, (h + 1) * dh)
        scores = np.einsum("bd,btd->bt", q[:, -1, cols], k[:, :, cols]) / math.sqrt(dh)   # the last query sees all
        w = np.exp(scores - scores.max(axis=1, keepdims=True))
        out.append((w / w.sum(axis=1, keepdims=True)).mean(axis=0))
    return np.array(out)


def test_the_read_out_attention_is_block_ones_softmax_by_hand_and_rows_sum_to_one():
    net, (X, y) = _net(), _batch()
    view = transformer_view.measure_network(net, X, y, step=7)
    assert view.step == 7 and view.readout_attention.shape == (3, 2, 6) and view.depth == 3
    np.testing.assert_allclose(view.readout_attention[0], _readout_attention_block1(net, X), rtol=1e-12)
    np.testing.assert_allclose(view.readout_attention.sum(axis=-1), 1.0, rtol=1e-12)
    assert (view.readout_attention > 0).all()


def test_equal_scores_spread_the_last_position_evenly():
    net, (X, y) = _net(T=5), _batch(T=5)
    for name, v in net.named_params():
        if name.endswith(("Wq", "bq")):
            v[...] = 0.0
    view = transformer_view.measure_network(net, X, y)
    np.testing.assert_allclose(view.readout_attention, 1 / 5, rtol=1e-12)


def test_the_view_holds_the_passes_own_statistics_and_changes_nothing():
    net, (X, y) = _net(norm_position="post", branch_scale="rezero"), _batch()
    before = net.flat.copy()
    view = transformer_view.measure_network(net, X, y)
    assert np.array_equal(net.flat, before)
    r = net.backward(X, y).transformer
    for name in transformer_view.SUBLAYER_LABELS:
        np.testing.assert_array_equal(view.block_values(name), r.sublayer_grad_norm[name])
    np.testing.assert_array_equal(view.block_values(transformer_view.RESIDUAL), r.residual_grad_norm[1:])
    np.testing.assert_array_equal(view.time_grad_norm, r.time_grad_norm)
    np.testing.assert_array_equal(view.token_similarity, r.token_similarity)
    np.testing.assert_array_equal(view.attention_entropy, r.attention_entropy)


def test_without_skips_the_tokens_collapse_with_depth():
    """Rank collapse, as the meter shows it: no skip connections drive block L's similarity towards 1."""
    X, y = _batch(T=8, n=16)
    collapsed = transformer_view.measure_network(_net(depth=12, width=16, T=8, branch_scale="none"), X, y)
    skips = transformer_view.measure_network(_net(depth=12, width=16, T=8), X, y)
    assert collapsed.token_similarity[-1] > 0.99 > skips.token_similarity[-1]


def test_a_trainer_is_measured_on_its_latest_batch_and_other_kinds_not_at_all():
    cfg = ExperimentConfig(model="transformer", dataset="recall", seq_len=5, depth=2, width=8, heads=2,
                           activation="relu", samples=64, batch_size=16, epochs=1)
    tr = Trainer(cfg)
    first = transformer_view.measure(tr)
    assert first.step == 0 and first.readout_attention.shape == (2, 2, 5)
    tr.step_batch()
    after = transformer_view.measure(tr)
    r = tr.measure().transformer
    assert after.step == 1
    np.testing.assert_array_equal(after.token_similarity, r.token_similarity)
    assert transformer_view.measure(Trainer(ExperimentConfig(samples=64, epochs=1))) is None


def test_the_readmes_figures_for_the_window_screenshots():
    """README, 'The Transformer in the window': the numbers of docs/transformer-*.png, measured as the views do."""
    base = dict(model="transformer", dataset="recall", depth=6, width=32, heads=4, seq_len=16, activation="relu")
    t = Trainer(ExperimentConfig(branch_scale="none", epochs=2, **base))
    init = transformer_view.measure(t)
    assert round(init.token_similarity[0], 3) == 0.867 and round(init.token_similarity[-1], 3) == 0.999
    t.run()
    end = transformer_view.measure(t)
    assert end.step == 26 and all(round(s, 3) == 1.0 for s in end.token_similarity[2:])
    assert round(end.token_similarity[1], 3) < 1.0
    q = end.block_values("Wq")
    assert round(q[0] / q[-1]) == 139
    t = Trainer(ExperimentConfig(optimizer="adam", lr=1e-3, epochs=5, **base))
    t.run()
    end = transformer_view.measure(t)
    q = end.block_values("Wq")
    assert end.step == 65 and round(end.token_similarity[-1], 3) == 0.952 and round(q.max() / q.min(), 1) == 7.7
