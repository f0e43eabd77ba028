"""What the window's Transformer views draw, from core (issue 22): the read-out position's attention against the
equations, and the README's figures for docs/transformer-*.png as the window shows them (the last epoch's mean)."""
import math

import numpy as np

from core import ExperimentConfig
from core.nn.activations import get_activation
from core.nn.transformer import Transformer
from core.training.trainer import Trainer


def _net(T=6):
    return Transformer(3, 3, 8, 2, get_activation("relu"), "xavier", 1.0, "pre", "one", "classification",
                       np.random.default_rng(0), np.float64, 1, T)


def _batch(T=6, n=5):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, T, 3)), (rng.random(n) > 0.5).astype(float)


def _last_attention_block1(net, X):
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


def test_the_attention_map_is_block_ones_softmax_by_hand_and_rows_sum_to_one():
    net, (X, y) = _net(), _batch()
    a = net.backward(X, y).transformer.last_attention
    assert a.shape == (3, 2, 6)   # blocks x heads x positions
    np.testing.assert_allclose(a[0], _last_attention_block1(net, X), rtol=1e-12)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-12)


def test_equal_scores_spread_the_last_position_evenly():
    net, (X, y) = _net(T=5), _batch(T=5)
    for name, v in net.named_params():
        if name.endswith(("Wq", "bq")):
            v[...] = 0.0
    np.testing.assert_allclose(net.backward(X, y).transformer.last_attention, 1 / 5, rtol=1e-12)


def test_the_readmes_figures_for_the_window_screenshots():
    """README, 'The Transformer in the window': the numbers of docs/transformer-*.png."""
    base = dict(model="transformer", dataset="recall", depth=6, width=32, heads=4, seq_len=16, activation="relu")
    t = Trainer(ExperimentConfig(branch_scale="none", epochs=2, **base))
    init = t.transformer_measures()
    assert round(init.token_similarity[0], 3) == 0.867 and round(init.token_similarity[-1], 3) == 0.999
    end = t.run()[-1].transformer
    assert t.step == 26 and all(round(s, 3) == 1.0 for s in end.token_similarity[2:])
    assert round(end.token_similarity[1], 3) < 1.0
    q = end.sublayer_grad_norm["Wq"]
    assert round(q[0] / q[-1]) == 142
    t = Trainer(ExperimentConfig(optimizer="adam", lr=1e-3, epochs=5, **base))
    end = t.run()[-1].transformer
    q = end.sublayer_grad_norm["Wq"]
    assert t.step == 65 and round(end.token_similarity[-1], 3) == 0.956 and round(q.max() / q.min(), 1) == 9.9
