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
