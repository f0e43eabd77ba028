"""The Transformer's stories (issue 22): each number their texts quote, checked against a fresh run."""
import functools

import numpy as np

from core import Trainer
from core.stories.presets import PRESETS, get_preset


@functools.lru_cache(maxsize=None)
def _run(name, overrides=()):
    t = Trainer(get_preset(name).config(**dict(overrides)))
    t.run()
    return t


def run(name, **overrides):
    return _run(name, tuple(sorted(overrides.items())))


@functools.lru_cache(maxsize=None)
def _initial(name, overrides=()):
    """The TransformerPass of one pass at initialisation (the first batch, nothing updated)."""
    return Trainer(get_preset(name).config(**dict(overrides))).measure()


def initial(name, **overrides):
    return _initial(name, tuple(sorted(overrides.items())))


def test_the_stories_are_listed_and_small():
    for name in ("transformer-post-ln", "transformer-warmup", "transformer-rank-collapse", "transformer-skips",
                 "attention-vs-rnn"):
        cfg = PRESETS[name].config()
        assert cfg.model == "transformer" and cfg.epochs * cfg.depth * cfg.width ** 2 <= 20 * 30 * 128 ** 2


def test_post_ln_has_large_gradients_near_the_output_at_initialisation():
    e = PRESETS["transformer-post-ln"].expect
    post = initial("transformer-post-ln").transformer.sublayer_grad_norm["W2"]
    pre = initial("transformer-post-ln", norm_position="pre").transformer.sublayer_grad_norm["W2"]
    assert round(post[-1] / pre[-1], 1) == e["post_over_pre"]
    assert round(post[-1] / post[0], 1) == e["last_over_first"]
    assert round(pre[-1] / pre[0], 2) == e["pre_last_over_first"]


def test_post_ln_does_not_learn_at_3e_3_without_warm_up_but_does_at_1e_3():
    e = PRESETS["transformer-post-ln"].expect
    t = run("transformer-post-ln")
    assert len(t.history) == e["epochs"] and not t.diverged
    assert t.history.scalar("train_loss").min() >= e["chance_loss_min"]
    assert t.history.scalar("val_accuracy").max() <= e["val_accuracy_max"]
    slow = run("transformer-post-ln", lr=0.001, epochs=2)
    assert slow.history.scalar("val_accuracy")[1] >= e["lr1e3_accuracy"]


def test_warm_up_makes_post_ln_learn():
    e = PRESETS["transformer-warmup"].expect
    t = run("transformer-warmup")
    assert t.batches_per_epoch == e["steps_per_epoch"]
    acc, loss = t.history.scalar("val_accuracy"), t.history.scalar("train_loss")
    assert acc[e["learned_epoch"] - 2] < 1.0 <= acc[e["learned_epoch"] - 1] and acc[e["learned_epoch"] - 1] >= \
        e["val_accuracy"]
    assert loss[e["epochs"] - 1] < e["final_loss_max"]
    assert run("transformer-post-ln").history.scalar("train_loss").min() > 0.5   # without it: chance


def test_without_skips_the_tokens_collapse_and_nothing_is_learned():
    e = PRESETS["transformer-rank-collapse"].expect
    none, skips = initial("transformer-rank-collapse").transformer, initial("transformer-skips").transformer
    assert none.token_similarity[-1] > e["similarity_min"]
    assert round(skips.token_similarity[-1], 3) == e["similarity_skips"]
    fall = skips.sublayer_grad_norm["Wq"][0] / none.sublayer_grad_norm["Wq"][0]
    assert e["wq_fall"] <= fall < e["wq_fall"] + 1
    t = run("transformer-rank-collapse")
    assert len(t.history) == e["epochs"] and t.history.scalar("train_loss").min() >= e["chance_loss_min"]


def test_with_skips_the_tokens_stay_apart_and_it_learns():
    e = PRESETS["transformer-skips"].expect
    assert round(initial("transformer-skips").transformer.token_similarity[-1], 3) == e["similarity"]
    acc = run("transformer-skips").history.scalar("val_accuracy")
    assert acc[e["learned_epoch"] - 2] < e["val_accuracy"] <= acc[e["learned_epoch"] - 1]


def test_attention_carries_the_gradient_to_the_first_position_where_the_rnn_loses_it():
    e = PRESETS["attention-vs-rnn"].expect
    g = initial("attention-vs-rnn").time_grad_norm
    assert len(g) == 100 and round(g[0] / g[-1], 3) == e["ratio"]
    r = Trainer(PRESETS["rnn-vanishing"].config()).measure().time_grad_norm
    assert e["rnn_ratio"] / 1.5 < r[0] / r[-1] < e["rnn_ratio"] * 1.5
    acc = run("attention-vs-rnn").history.scalar("val_accuracy")
    assert len(acc) == e["epochs"] and acc[-1] >= e["val_accuracy"]
    assert np.all(g > 0)


def test_pre_ln_learns_at_the_rate_where_post_ln_does_not():
    e = PRESETS["transformer-pre-ln"].expect
    W2 = initial("transformer-pre-ln").transformer.sublayer_grad_norm["W2"]
    assert round(W2[-1] / W2[0], 2) == e["last_over_first"]
    t = run("transformer-pre-ln")
    acc, loss = t.history.scalar("val_accuracy"), t.history.scalar("train_loss")
    assert acc[e["learned_epoch"] - 2] < e["val_accuracy"] <= acc[e["learned_epoch"] - 1]
    assert len(loss) == e["epochs"] and loss[-1] < e["final_loss_max"]
