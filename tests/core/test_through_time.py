"""core.measure.through_time: the chain through time and Pascanu's bound, as the window is sent them."""
import math

import numpy as np
import pytest

from core import ExperimentConfig
from core.measure.through_time import (GUARANTEED, NOT_APPLICABLE, NOT_FINITE, NOT_GUARANTEED, from_step, measure,
                               spectral_readout)
from core.training.trainer import Trainer

SMALL_RNN = dict(model="rnn", dataset="recall", seq_len=12, width=8, depth=1, samples=64, batch_size=16)


def test_an_mlp_has_nothing_through_time():
    assert measure(Trainer(ExperimentConfig(depth=2, width=4, samples=64))) is None


@pytest.mark.parametrize("gain, verdict", [(0.5, GUARANTEED), (1.5, NOT_GUARANTEED)])
def test_verdict_follows_the_bound_and_the_guarantee_holds(gain, verdict):
    """Orthogonal W_h scaled by ``gain`` has ||W_h||_2 = gain exactly; tanh's gamma is 1."""
    t = Trainer(ExperimentConfig(**SMALL_RNN, activation="tanh", recurrent_init="orthogonal", recurrent_gain=gain))
    m = measure(t)
    (r,) = m.spectral
    assert r.norm == pytest.approx(gain, rel=1e-9) and r.bound == 1.0 and r.verdict == verdict
    assert (verdict == GUARANTEED) == ("vanishing guaranteed" in r.text())
    if verdict == GUARANTEED:
        # what the text promises: every step back multiplies ||dL/dh|| by at most ||W_h||_2 * gamma
        factors = [link.factor for link in m.chain.links[1:]]
        assert max(factors) <= gain * 1.0 + 1e-12
        assert f"{gain:.3g}" in r.text()


def test_sigmoid_bound_is_four_and_gated_cells_are_not_judged():
    sig = measure(Trainer(ExperimentConfig(**SMALL_RNN, activation="sigmoid", recurrent_init="orthogonal",
                                           recurrent_gain=2.0)))
    assert sig.spectral[0].bound == pytest.approx(4.0) and sig.spectral[0].verdict == GUARANTEED
    for model in ("lstm", "gru"):
        m = measure(Trainer(ExperimentConfig(**{**SMALL_RNN, "model": model})))
        assert [r.verdict for r in m.spectral] == [NOT_APPLICABLE]
        assert "does not apply" in m.spectral[0].text() and "guaranteed" not in m.spectral[0].text()


def test_readout_of_diverged_weights_and_of_stacked_layers():
    (r,) = spectral_readout([math.nan], 1.0)
    assert r.verdict == NOT_FINITE and "not finite" in r.text()
    m = measure(Trainer(ExperimentConfig(**{**SMALL_RNN, "depth": 3})))
    assert [r.layer for r in m.spectral] == [1, 2, 3]


def test_chain_matches_the_measured_norms():
    t = Trainer(ExperimentConfig(**SMALL_RNN))
    m = measure(t)
    g = t.time_gradient_norms()
    np.testing.assert_allclose(m.time_grad_norm, g, rtol=1e-12)
    assert m.chain.total == pytest.approx(g[0] / g[-1], rel=1e-9)
    assert [link.step for link in m.chain.links] == list(range(len(g), 0, -1))


def test_the_readme_screenshots_captions():
    """README.md's captions of docs/rnn-vanishing.png and docs/lstm-fix.png (5 epochs of each story)."""
    import re
    from pathlib import Path

    from core.stories.presets import PRESETS
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    runs = {}
    for name in ("rnn-vanishing", "lstm-fix"):
        t = Trainer(PRESETS[name].config())
        t.run()
        runs[name] = (t.history.series("time_grad_norm")[-1], t.history.scalar("val_accuracy"))
    g, acc = runs["rnn-vanishing"]
    assert re.search(r"step 1 is 5e-21 of step 100's .* between 0\.44 and 0\.52\]\(docs/rnn-vanishing\.png", readme)
    assert f"{g[0] / g[-1]:.0e}" == "5e-21" and 0.44 <= acc.min() and acc.max() <= 0.52
    g, acc = runs["lstm-fix"]
    assert re.search(r"within 3e-3 of the largest, step 1's 0\.18 of step 100's, .* above 0\.98", readme)
    assert g.min() / g.max() >= 3e-3 and f"{g[0] / g[-1]:.2f}" == "0.18" and acc.min() > 0.98


def test_readout_lines_group_layers_with_the_same_verdict():
    from core.measure.through_time import readout_lines
    lines = readout_lines(spectral_readout([0.5, 0.7, 1.2, 1.3, math.nan], 1.0))
    assert lines == [
        "layers 1-2: ‖W_h‖₂ = 0.5 to 0.7 < 1/γ = 1: vanishing guaranteed (each step back through a layer "
        "multiplies the gradient by at most ‖W_h‖₂·γ = 0.7)",
        "layers 3-4: ‖W_h‖₂ = 1.2 to 1.3 ≥ 1/γ = 1: no guarantee (the gradient may still vanish, or explode)",
        "layer 5: ‖W_h‖₂ is not finite (the weights diverged)"]
    gated = readout_lines(spectral_readout([1.73] * 8, math.nan))
    assert gated == ["layers 1-8: ‖W_h‖₂ = 1.73: the bound does not apply (the gates carry the gradient past W_h)"]


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
def test_a_step_s_own_numbers_are_the_measured_chain(model):
    """The step's own ||dL/dh_t|| is what a separate pass on the same batch at the weights before the update
    measures (a twin trainer that has not stepped, pointed at the step's batch); its ||W_h||_2 is the one
    after the update."""
    import copy
    t = Trainer(ExperimentConfig(**{**SMALL_RNN, "model": model}))
    twin = copy.deepcopy(t)
    b = t.step_batch()
    twin._last_idx = t._last_idx.copy()   # the batch the step took
    before = measure(twin)
    own = from_step(b, t.network.vanishing_bound)
    np.testing.assert_allclose(own.time_grad_norm, before.time_grad_norm, rtol=1e-12)
    assert [link.factor for link in own.chain.links] == pytest.approx([link.factor for link in before.chain.links],
                                                                      rel=1e-12)
    after = measure(t)
    assert [r.norm for r in own.spectral] == pytest.approx([r.norm for r in after.spectral], rel=1e-12)
    assert [r.verdict for r in own.spectral] == [r.verdict for r in after.spectral]
    assert from_step(Trainer(ExperimentConfig(depth=2, width=4, samples=64)).step_batch(), 1.0) is None
