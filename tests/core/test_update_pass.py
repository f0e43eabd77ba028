"""Issue 25: the one-pass update (core/training/update_pass.py) gives the weights, ||W|| and lost_updates that the
separate passes give: weights bit for bit, counts exactly, norms to rounding."""
import numpy as np
import pytest

from core import ExperimentConfig, Trainer
from core.nn.precision import changed_share
from core.training.statistics import Segments
from core.training.update_pass import SGDUpdate, UpdatePass


def separate_passes(flat, update, grad, offsets, sizes):
    """What the trainer did before: keep W, add the update, compare, then the norms."""
    n = int(sizes.sum())
    before = flat[:n].copy()
    flat += update
    return Segments(offsets, sizes).norms(flat), changed_share(before, flat[:n], grad[:n], offsets, sizes)


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("sgd", [False, True])
def test_one_pass_equals_the_separate_passes(whole, sgd, monkeypatch):
    monkeypatch.setattr(UpdatePass, "CHUNK", 1000)   # several chunks per layer, and chunks that end mid-layer
    rng = np.random.default_rng(25)
    sizes = np.array([2 * 300, 300 * 300, 300 * 300, 300 * 1])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n = int(sizes.sum())
    scales = [1.0, 1e7, 1e8, 1e5, 1.0]   # |update| ~ 1e-9 is lost against weights near 1e8, partly near 1e7
    flat = rng.standard_normal(n + 601) * np.repeat(scales, np.append(sizes, 601))
    grad = rng.standard_normal(flat.size)
    grad[rng.random(flat.size) < 0.2] = 0.0   # weights without a gradient are not counted
    flat[5], flat[700] = np.nan, np.inf        # a non-finite weight is never "lost"
    lr = 1e-9
    update = -lr * grad
    expected_flat = flat.copy()
    expected = separate_passes(expected_flat, update, grad, offsets, sizes)
    got_update = np.full_like(flat, 7.0) if sgd else update.copy()
    p = UpdatePass(offsets, sizes, flat.dtype, whole=whole)
    got = p.apply(flat, got_update, grad, lr if sgd else None)
    flat[n:] += got_update[n:] if not sgd else -lr * grad[n:]
    assert np.array_equal(flat, expected_flat, equal_nan=True)          # the weights bit for bit
    assert np.array_equal(got[1], expected[1])                          # lost_updates exactly
    assert 0.3 < got[1][1] < 0.9 < got[1][2] < 1 and got[1][0] == 0     # some lost, not all: the test can fail
    assert np.allclose(got[0], expected[0], rtol=1e-13, equal_nan=True)  # ||W||, another order of summation
    if sgd:   # the pass forms w + (-lr g) in its scratch; the update is written on request, or read where asked
        assert np.all(got_update[:n] == 7.0)
        idx = rng.choice(n, 50)
        assert np.array_equal(SGDUpdate(grad, lr, n)[idx], update[idx])
        with pytest.raises(IndexError):
            SGDUpdate(grad, lr, n)[[0, n]]
        p.write_sgd_update(got_update, grad, lr)
        assert np.array_equal(got_update[:n], update[:n])               # SGD's update as SGD.update writes it


@pytest.mark.parametrize("size,dtype,mode", [
    ((10, 32, 32), "float64", "whole"), ((4, 600, 32), "float64", "chunked"), ((4, 600, 32), "float32", None),
    ((3, 40, 16), "float16", None)])
def test_the_trainer_picks_the_pass_by_size_and_format(size, dtype, mode):
    depth, width, batch = size
    t = Trainer(ExperimentConfig(depth=depth, width=width, batch_size=batch, dtype=dtype, samples=64))
    p = t._update_pass
    assert (None if p is None else "whole" if p.whole else "chunked") == mode


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_step_with_the_one_pass_equals_one_without(optimizer):
    """Two trainers from one seed, one with the pass switched off: the same weights and statistics each step."""
    cfg = ExperimentConfig(depth=3, width=400, batch_size=16, samples=80, optimizer=optimizer, lr=0.05)
    a, b = Trainer(cfg), Trainer(cfg)
    assert a._update_pass is not None and not a._update_pass.whole
    b._update_pass = None
    for _ in range(6):
        sa, sb = a.step_batch(), b.step_batch()
        assert np.array_equal(a.network.flat, b.network.flat)
        assert np.array_equal(sa.lost_updates, sb.lost_updates)
        for f in ("weight_norm", "update_ratio", "grad_norm"):
            assert np.allclose(getattr(sa, f), getattr(sb, f), rtol=1e-12, atol=0)


def test_a_recorded_step_reads_the_update_that_the_whole_pass_left_unwritten():
    """Issue 25: with SGD the whole pass does not write the update of the weights; a step the Inside page records
    writes it first, and its record is the one the separate passes give."""
    cfg = ExperimentConfig(depth=20, width=64, batch_size=64, samples=400)
    a, b = Trainer(cfg), Trainer(cfg)
    assert a._update_pass.whole and a.inside.every > 1
    b._update_pass = None
    recorded = 0
    for _ in range(12):
        a.step_batch(), b.step_batch()
        if a.inside.last is not None and a.inside.recorded(a.step):
            recorded += 1
            for f in ("u_blocks", "w_blocks", "g_blocks"):
                np.testing.assert_array_equal(a.inside.last[f], b.inside.last[f])
            assert np.nanmax(a.inside.last["u_blocks"]) > 0   # an update was read, not zeros
    assert recorded >= 1


@pytest.mark.parametrize("dtype,smallest", [(np.float64, -22), (np.float32, -4)])
def test_every_weight_moves_only_when_no_weight_can_keep_its_value(dtype, smallest):
    """Issue 25: where every_weight_moves says so, w + (-lr g) differs from w for every weight (the pass then
    skips comparing); random scales put both answers, and weights that do keep their value, on either side."""
    rng = np.random.default_rng(7)
    said_yes = kept = 0
    for _ in range(400):
        w = (rng.standard_normal(500) * 10.0 ** rng.uniform(-3, 3)).astype(dtype)
        g = (rng.standard_normal(500) * 10.0 ** rng.uniform(smallest, 0)).astype(dtype)
        lr = 10.0 ** rng.uniform(-6, 0)
        unchanged = np.count_nonzero(w + g * -lr == w)   # as the pass adds: (-lr g) in the format, then w +
        kept += unchanged > 0
        norms = np.array([0.5, np.linalg.norm(w)], dtype=dtype)
        if UpdatePass.every_weight_moves(lr, np.min(np.abs(g)), norms, dtype):
            said_yes += 1
            assert unchanged == 0
    assert 40 < said_yes < 360 and kept > 40
    assert not UpdatePass.every_weight_moves(1e-3, 0.0, np.ones(3))              # a zero gradient entry
    assert not UpdatePass.every_weight_moves(1e-3, 1.0, np.array([1.0, np.nan]))  # non-finite norms


@pytest.mark.parametrize("settings,shortcut", [
    (dict(activation="tanh", init="xavier", lr=1e-3), True),   # bench_core's 20/64/64: no weight keeps its value
    ({}, False)])                                               # the defaults: gradients vanish, updates are lost
def test_the_whole_pass_adds_in_place_only_when_every_weight_moves(settings, shortcut, monkeypatch):
    """Issue 25: a 20/64/64 SGD step takes the shortcut (no comparison) where it may, and gives what the separate
    passes give either way."""
    cfg = ExperimentConfig(depth=20, width=64, batch_size=64, samples=400, **settings)
    a, b = Trainer(cfg), Trainer(cfg)
    b._update_pass = None
    taken = []
    real = UpdatePass._apply_whole
    monkeypatch.setattr(UpdatePass, "_apply_whole", lambda self, *x: taken.append(x[-1]) or real(self, *x))
    for _ in range(5):
        sa, sb = a.step_batch(), b.step_batch()
        assert np.array_equal(a.network.flat, b.network.flat)
        assert np.array_equal(sa.lost_updates, sb.lost_updates) and sa.lost_updates.any() != shortcut
        np.testing.assert_allclose(sa.weight_norm, sb.weight_norm, rtol=1e-13)
    assert taken == [shortcut] * 5
