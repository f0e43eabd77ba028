"""The batchnorm-fix and layernorm-fix stories: every number in their text is measured here.

Each test formats the measured value the way the text quotes it and checks the text says exactly that."""
from pathlib import Path

import numpy as np
import pytest

from core import Trainer
from core.stories.presets import get_preset


def trained(name, **overrides):
    t = Trainer(get_preset(name).config(**overrides))
    t.run()
    return t


@pytest.fixture(scope="module")
def runs():
    return {name: trained(name) for name in ("vanishing-sigmoid", "batchnorm-fix", "layernorm-fix")}


def grad_profile(t):
    return t.history.layer("grad_norm").mean(axis=0)  # per layer, mean over the 20 epochs


def text(name):
    p = get_preset(name)
    return p.summary + " " + p.happens + " " + p.why


def test_the_stories_are_the_deep_sigmoid_network_plus_a_norm():
    base = get_preset("vanishing-sigmoid").fields
    for name, norm in (("batchnorm-fix", "batch"), ("layernorm-fix", "layer")):
        assert get_preset(name).fields == {**base, "norm": norm}


def test_batchnorm_fix_claims(runs):
    t, plain = runs["batchnorm-fix"], runs["vanishing-sigmoid"]
    g, g0 = grad_profile(t), grad_profile(plain)
    s = text("batchnorm-fix")
    assert g[0] > g[-1]
    assert f"layer 1's gradient is {g[0] / g[-1]:.2g} times the output layer's" in s
    assert f"(vanishing-sigmoid: {g0[0] / g0[-1]:.2g} times)" in s
    assert f"within a factor of {g[:-1].max() / g[:-1].min():.2g} of each other" in s
    loss, acc = t.history.scalar("train_loss"), t.history.scalar("val_accuracy")
    assert f"falls from {loss[0]:.2f} to {loss[-1]:.2f} in 20 epochs, validation accuracy {acc[-1]:.2f}" in s
    assert len(loss) == 20 and loss[-1] < loss[0] - 0.1
    plain_loss, plain_acc = plain.history.scalar("train_loss")[-1], plain.history.scalar("val_accuracy")[-1]
    assert f"(vanishing-sigmoid: loss {plain_loss:.2f}, accuracy {plain_acc:.2f})" in s
    assert f"layer 1's gradient is {g[0] / g[-1]:.2g}x the output layer's" in get_preset("batchnorm-fix").summary
    row = readme_row("batchnorm-fix")
    assert f"layer 1's gradient is {g[0] / g[-1]:.2g}x the output layer's" in row
    assert f"the loss falls from {loss[0]:.2f} to {loss[-1]:.2f}" in row


def _first_batch_spread(name):
    """Mean over hidden layers and units of the spread of z that the norm divides by, and mean phi'."""
    t = Trainer(get_preset(name).config())
    X, y = t.data.X_train[:t.config.batch_size], t.data.y_train[:t.config.batch_size]
    _, cache = t.network._forward(X)
    spread = np.mean([np.mean(1.0 / norm_cache[1]) for _, _, _, norm_cache in cache[:-1]])
    return spread, float(t.network.backward(X, y).derivs.mean())


def test_batchnorm_fix_reason_uses_measured_spread_and_derivative():
    spread, dphi = _first_batch_spread("batchnorm-fix")
    s = text("batchnorm-fix")
    assert f"about {spread:.1f} here" in s and f"sigmoid' ({dphi:.2f} on average)" in s
    assert f"by about {1 / spread:.0f}," in s


def test_layernorm_fix_claims(runs):
    t, plain = runs["layernorm-fix"], runs["vanishing-sigmoid"]
    g, g0 = grad_profile(t), grad_profile(plain)
    s = text("layernorm-fix")
    assert g[0] / g[-1] > 100 * g0[0] / g0[-1]  # less vanishing than without a norm ...
    assert g[0] < 1e-3 * g[-1]                   # ... but still vanishing
    assert f"rises to {g[0] / g[-1]:.1e} of the output layer's (vanishing-sigmoid: {g0[0] / g0[-1]:.1e})" in s
    per_layer = (g[-1] / g[0]) ** (1 / (len(g) - 1))  # geometric mean shrink from one layer to the next
    assert f"shrinks about {per_layer:.1f}x per layer" in s
    loss, acc = t.history.scalar("train_loss"), t.history.scalar("val_accuracy")
    assert f"the loss stays at {loss[-1]:.2f}, validation accuracy {acc[-1]:.2f}" in s
    assert abs(loss[-5:].mean() - loss[-10:-5].mean()) < 0.01  # flat over the last 10 epochs


def readme_row(name):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1
    return rows[0]


def test_layernorm_fix_in_the_readme(runs):
    g, g0 = grad_profile(runs["layernorm-fix"]), grad_profile(runs["vanishing-sigmoid"])
    row = readme_row("layernorm-fix")
    assert f"{g[0] / g[-1]:.1e} of the output's instead of {g0[0] / g0[-1]:.1e}" in row
    assert f"the loss stays at {runs['layernorm-fix'].history.scalar('train_loss')[-1]:.2f}" in row


def test_layernorm_fix_reason_uses_measured_spread():
    spread, dphi = _first_batch_spread("layernorm-fix")
    s = text("layernorm-fix")
    assert f"about {spread:.1f} here" in s and f"sigmoid' about {dphi:.1f}" in s
    assert f"the layer's {get_preset('layernorm-fix').fields['width']} units" in s
    assert round(1 / spread) == 2  # "the backward signal is doubled"
    assert dphi / spread < 0.5     # "each layer still loses more than half of it"
