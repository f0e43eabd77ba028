"""The step timeline's envelope (gui/panels/step_envelope.py): what a long run is drawn from must keep every step's
extremes, its gaps and its zeros, whether the steps arrived one frame at a time or all at once."""
from __future__ import annotations

import numpy as np
import pytest

from core.training.history import StepHistory
from gui.panels.step_envelope import Envelope, LogCache, thinned


def _brute(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each block's (lowest, highest), NaN only for an all-NaN block, the last block possibly short."""
    lo, hi = [], []
    for i in range(0, len(values), size):
        b = values[i:i + size]
        f = b[~np.isnan(b)]
        lo.append(f.min() if f.size else np.nan)
        hi.append(f.max() if f.size else np.nan)
    return np.array(lo), np.array(hi)


@pytest.mark.parametrize("n", [1, 7, 4096, 4097, 10_000, 123_457])
def test_the_envelope_is_each_blocks_lowest_and_highest_however_the_steps_arrived(n):
    rng = np.random.default_rng(n)
    values = rng.standard_normal(n)
    values[n // 3: n // 3 + 50] = np.nan            # a stretch without values
    x = np.arange(1, n + 1, dtype=float)
    at_once, in_frames = Envelope(), Envelope()
    at_once.update(values, n)
    done = 0
    while done < n:                                   # frames of 1 to 5000 steps
        done = min(n, done + int(rng.integers(1, 5000)))
        in_frames.update(values, done)
    assert at_once.size == in_frames.size
    assert n // at_once.size <= 2 * Envelope.BLOCKS
    for e in (at_once, in_frames):
        px, py = e.points(x, values, n)
        if e.size == 1:
            np.testing.assert_array_equal(px, x)
            np.testing.assert_array_equal(py, values)
            continue
        lo, hi = _brute(values, e.size)
        np.testing.assert_array_equal(py[0::2], lo)
        np.testing.assert_array_equal(py[1::2], hi)
        np.testing.assert_array_equal(px[0::2], x[::e.size])
        assert len(px) <= 2 * (2 * Envelope.BLOCKS + 1)


def test_a_single_spike_among_a_million_steps_is_drawn_at_its_height():
    n = 1_000_000
    values = np.zeros(n)
    values[654_321] = 5.0
    e = Envelope()
    e.update(values, n)
    _, y = e.points(np.arange(n, dtype=float), values, n)
    assert y.max() == 5.0 and len(y) < 10_000


def _steps(loss, norm, clipped=None) -> StepHistory:
    h = StepHistory(2, keep_deltas=False)
    n = len(loss)
    h.extend({"step": np.arange(1, n + 1, dtype=float), "loss": np.asarray(loss, float),
              "grad_norm_total": np.asarray(norm, float),
              "clipped": np.zeros(n, bool) if clipped is None else np.asarray(clipped)})
    return h


def test_zeros_go_to_the_floor_and_non_finite_steps_leave_gaps():
    c = LogCache()
    c.update(_steps([1.0, 0.0, 10.0, np.inf, np.nan], [0.1, 0.1, 0.1, 0.1, 0.1], [0, 1, 0, 0, 1]))
    x, y = c.curve(0, floor=-7.0)
    np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(y[:3], [0.0, -7.0, 1.0])
    assert np.isnan(y[3]) and np.isnan(y[4])
    assert c.zero == [True, False, False] and (c.lo, c.hi) == (-1.0, 1.0)
    np.testing.assert_array_equal(c.clipped_x, [2, 5])
    assert not c.scaled


def test_a_new_runs_shorter_history_starts_the_cache_over():
    c = LogCache()
    c.update(_steps(np.full(5000, 2.0), np.full(5000, 3.0)))
    c.update(_steps([0.5, 0.25], [1.0, 1.0]))
    x, y = c.curve(0, floor=-5.0)
    np.testing.assert_array_equal(x, [1, 2])
    np.testing.assert_allclose(y, np.log10([0.5, 0.25]))


def test_a_long_curve_given_whole_is_drawn_thinned_with_its_extremes_and_a_short_one_as_it_is():
    x = np.arange(1, 6, dtype=float)
    y = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    assert thinned(x, y)[0] is x and thinned(x, y)[1] is y
    n = 20_000
    x = np.arange(1, n + 1, dtype=float)
    y = np.linspace(1.0, 0.1, n)
    y[12_345] = 7.0
    y[n - 50:] = np.nan                       # diverged: the curve ends in a gap
    tx, ty = thinned(x, y)
    assert len(tx) <= 4 * Envelope.BLOCKS + 2
    assert np.nanmax(ty) == 7.0 and np.nanmin(ty) == np.nanmin(y) and np.isnan(ty[-1])


def test_the_loss_plot_of_a_long_run_hands_pyqtgraph_a_bounded_curve(qapp):
    from gui.panels.loss import LossCurves
    plot = LossCurves()
    n = 30_000
    epochs = np.arange(1, n + 1)
    train = np.exp(-epochs / 5000)
    plot.update(epochs, train, train * 1.1, accuracy=np.full(n, 0.5))
    assert len(plot.train.xData) <= 4 * Envelope.BLOCKS + 2 and plot.train.yData.max() == train.max()
    assert len(plot.accuracy.curve.xData) <= 4 * Envelope.BLOCKS + 2
