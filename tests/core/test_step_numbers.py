"""What a step measures, used as it is: the chain rule from the step's own numbers, and a step that a
pause interrupts between layers without changing anything."""
import copy

import numpy as np
import pytest

from core import ExperimentConfig, Trainer
from core.measure.inspector import chain_rule
from core.training.session import RunState, Session

SMALL = ExperimentConfig(depth=4, width=12, samples=96, batch_size=16, epochs=3, seed=2)


@pytest.mark.parametrize("changes", [dict(activation="tanh"), dict(activation="gelu"), dict(activation="silu"),
                                     dict(activation="relu", residual=True), dict(activation="tanh", norm="batch"),
                                     dict(activation="sigmoid", dataset="spirals3"), dict(model="lstm", depth=2, dataset="adding", seq_len=8)])
def test_chain_rule_from_the_step_equals_the_inspectors_pass_on_the_same_batch_and_weights(changes):
    t = Trainer(SMALL.replace(**changes))
    for _ in range(3):
        before = copy.deepcopy(t.network)          # the weights the step will see
        t.step_batch()
        X, y = t.data.X_train[t._last_idx], t.data.y_train[t._last_idx]
        expected = chain_rule(before, X, y)        # today's extra forward and backward pass
        got = t.chain_rule()                       # from b.delta_norms and b.act_deriv_abs_mean: no pass
        assert got.links == expected.links         # identical numbers, not approximately equal
        assert got.text() == expected.text()


def test_gelu_chain_quotes_mean_abs_phi_prime_not_mean_phi_prime():
    t = Trainer(SMALL.replace(activation="gelu", init_gain=3.0))
    b = t.step_batch()
    assert (b.act_deriv_abs_mean[:-1] > b.act_deriv_mean[:-1]).any()   # GELU's phi' dips below 0
    assert [l.deriv_abs_mean for l in t.chain_rule().links][::-1] == b.act_deriv_abs_mean.tolist()


class PauseAfter:
    """An interrupt that asks after ``n`` questions: a pause arriving at that point of the step."""

    def __init__(self, n):
        self.n, self.asked = n, 0

    def __call__(self):
        self.asked += 1
        return self.asked > self.n


def _state(s):
    t = s.a
    return (t.network.flat.copy(), t.step, t.epoch, len(t.steps), t.last_batch, len(t.history),
            None if getattr(t.network, "running_mean", None) is None else t.network.running_mean.copy())


@pytest.mark.parametrize("changes", [{}, dict(norm="batch"), dict(model="gru", depth=2, dataset="recall", seq_len=8)])
def test_a_step_interrupted_anywhere_changes_nothing_and_the_run_continues_identically(changes):
    cfg = SMALL.replace(**changes)
    plain = Session(cfg)
    plain.run_to(2)
    while plain.state is RunState.RUNNING:
        plain.train_one_batch()
    counter = PauseAfter(10**9)
    Session(cfg).step_batch(counter)
    n_questions = counter.asked
    assert n_questions >= Session(cfg).a.network.n_layers   # asked at least once per layer

    s = Session(cfg)
    s.run_to(2)
    while s.state is RunState.RUNNING:
        for k in range(n_questions):          # a pause arriving at each point of the step in turn
            before = _state(s)
            assert s.train_one_batch(PauseAfter(k)) is None
            after = _state(s)
            assert (after[0] == before[0]).all() and after[1:6] == before[1:6]
            assert before[6] is None or (after[6] == before[6]).all()      # batch norm's running averages too
        s.train_one_batch(PauseAfter(10**9))                                # Run again: the same batch
    assert s.a.step == plain.a.step and np.array_equal(s.a.network.flat, plain.a.network.flat)
    assert s.differences(plain.history()) == []


# -- the fast paths against the plain ones ------------------------------------------------------

@pytest.mark.parametrize("changes", [dict(width=200, depth=3), dict(width=200, depth=3, dtype="float32"),
                                     dict(width=12, activation="relu", norm="layer", optimizer="adam"),
                                     dict(width=200, depth=3, init_gain=100, activation="linear", lr=10.0)])
def test_gradient_statistics_measured_during_backward_equal_the_ones_measured_after(changes):
    cfg = SMALL.replace(**changes)
    fused, plain = Trainer(cfg), Trainer(cfg)
    fused.fused_stats, plain.fused_stats = True, False
    for _ in range(4):
        a, b = fused.step_batch(), plain.step_batch()
        for name in ("grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm", "update_ratio"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12 if cfg.dtype == "float64"
                                       else 1e-5, err_msg=name)
        assert np.array_equal(a.grad_max_abs, b.grad_max_abs)   # the same numbers, compared the same way
        assert a.diverged == b.diverged
        if a.diverged:
            break


def test_the_fused_path_is_chosen_by_layer_size():
    assert not Trainer(SMALL.replace(width=64)).fused_stats
    assert Trainer(SMALL.replace(width=256)).fused_stats
    # 128 x 128 layers: fused once the whole gradient outgrows the cache (2 MB), not before
    assert not Trainer(SMALL.replace(width=128, depth=10)).fused_stats
    assert Trainer(SMALL.replace(width=128, depth=30)).fused_stats
    assert not Trainer(SMALL.replace(width=64, depth=100)).fused_stats   # layers too small to pay for the calls

